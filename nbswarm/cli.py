"""The ``nbswarm`` command: ``demo`` (offline, on the sim), ``serve`` (the SSE API), ``replay``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nbswarm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="stream an agent and a parallel swarm offline on the sim model")
    demo.add_argument("--fast", action="store_true", help="no simulated latency (NBSWARM_SIM_DELAY_SCALE=0)")

    serve = commands.add_parser("serve", help="serve the Swarms-style SSE API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--api-key", default=None, help="require this x-api-key header (default: env NBSWARM_API_KEY)"
    )
    serve.add_argument("--max-agents", type=int, default=None, help="most agents allowed in one swarm")
    serve.add_argument(
        "--max-tokens", type=int, default=None, help="largest max_tokens a request may ask for"
    )
    serve.add_argument(
        "--real-models",
        action="store_true",
        help="send model names to litellm (default: every model is served by the offline sim)",
    )

    replay = commands.add_parser("replay", help="replay a recorded run (.jsonl or .parquet) in the terminal")
    replay.add_argument("path")
    replay.add_argument("--speed", type=float, default=1.0, help="2 = twice as fast, 0 = no waiting")

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        # Ctrl+C: the run was cancelled and its display closed; one line, no traceback.
        sys.stdout.flush()
        print(f"\nnbswarm {args.command}: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(fast=args.fast)
    if args.command == "serve":
        from .sse.server import serve as run_server

        return run_server(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            max_agents=args.max_agents,
            max_tokens=args.max_tokens,
            simulate=False if args.real_models else None,
        )
    from ._replay import replay_to_terminal

    return replay_to_terminal(args.path, speed=args.speed)


if __name__ == "__main__":
    sys.exit(main())
