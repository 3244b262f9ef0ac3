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
    serve.add_argument("--max-turns", type=int, default=None, help="most agent turns in one request (64)")
    serve.add_argument(
        "--max-total-tokens", type=int, default=None, help="most tokens (sum of max_tokens) in one request"
    )
    serve.add_argument("--max-runs", type=int, default=None, help="runs going at once; then 429 (64)")
    serve.add_argument(
        "--max-connections", type=int, default=None, help="open connections; then 503 (1000, or the fd limit)"
    )
    serve.add_argument(
        "--client-buffer",
        type=int,
        default=None,
        help="bytes of frames buffered per streaming client; when full its frames wait (1 MiB)",
    )
    serve.add_argument(
        "--max-lag",
        type=float,
        default=None,
        help="seconds a client may lag its run before it is dropped (30)",
    )
    serve.add_argument("--retain-mb", type=int, default=None, help="memory for finished runs kept (64)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        help="a Host name to answer to, repeatable ('*': any; default: loopback names and --host)",
    )
    serve.add_argument(
        "--cors-origin", action="append", default=None, help="a browser origin allowed to call, repeatable"
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
        from .sse._payload import Limits
        from .sse.server import serve as run_server

        budget = {"max_turns": args.max_turns, "max_total_tokens": args.max_total_tokens}
        settings = {
            "max_runs": args.max_runs,
            "client_buffer": args.client_buffer,
            "max_lag": args.max_lag,
            "retain_bytes": None if args.retain_mb is None else args.retain_mb << 20,
            "allowed_hosts": args.allowed_host,
            "cors_origins": args.cors_origin,
        }
        try:
            limits = Limits(**{k: v for k, v in budget.items() if v is not None})
        except ValueError as exc:
            print(f"nbswarm serve: {exc}", file=sys.stderr)
            return 2
        return run_server(
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            max_agents=args.max_agents,
            max_tokens=args.max_tokens,
            simulate=False if args.real_models else None,
            max_connections=args.max_connections,
            limits=limits,
            **{k: v for k, v in settings.items() if v is not None},
        )
    from ._replay import replay_to_terminal

    return replay_to_terminal(args.path, speed=args.speed)


if __name__ == "__main__":
    sys.exit(main())
