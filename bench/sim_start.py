"""Do a thousand sim agents started together all start on time?

1,000 ``SimProvider`` streams start at once on one event loop (time to first token 0.3 s, 80
tokens/s, ~300-token answers, each agent with its own system prompt). For each, how late is its
first token compared with when it was due (the loop's start + 0.3 s)? The old sim wrote each
whole answer before its first token (~0.45 ms an agent, one after another), so the last agents
started late; the sim now writes a sentence at a time. Both are measured in this run: the same
function runs in a fresh process on this checkout and on the code before the change
(``--before PATH``, default ``/work/base`` if it exists).

    .venv/bin/python bench/sim_start.py [--agents 1000] [--before /work/base] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
TASK = "Analyze the lithium battery supply chain in Chile and identify export risks."


class Floor:
    """No text at all: each stream sleeps until its first token is due and yields a word. What
    asyncio itself costs to wake a thousand streams at one instant."""

    async def stream(self, request):  # type: ignore[no-untyped-def]
        import asyncio

        await asyncio.sleep(0.3)
        for _ in range(20):
            yield " word"
            await asyncio.sleep(1 / 80)


def measure(agents: int, floor: bool = False) -> dict[str, float]:
    """First-token lateness (ms) of ``agents`` concurrent sim streams, in this process."""
    import asyncio

    from nbswarm.models.base import ModelRequest
    from nbswarm.models.sim import SimProfile, SimProvider, sim_answer

    profile = SimProfile(ttft=0.3, tokens_per_second=80.0, length=300, delay_scale=1.0)
    provider = Floor() if floor else SimProvider(profile)
    warm = ModelRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": "warm up"}])
    sim_answer(warm, SimProfile(delay_scale=0))  # load prices and tokenizer outside the clock
    try:  # what making an Agent does today (the code before had nothing to prefetch)
        from nbswarm.models.sim import _warming

        _warming("gpt-4o-mini", "auto").result(timeout=60)
    except ImportError:
        pass

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        lateness: list[float] = []

        async def agent(i: int) -> None:
            messages = [
                {"role": "system", "content": f"You are analyst number {i}, a careful market researcher."},
                {"role": "user", "content": TASK},
            ]
            stream = provider.stream(ModelRequest(model="gpt-4o-mini", messages=messages))
            count = 0
            async for _ in stream:
                if count == 0:
                    lateness.append((loop.time() - (start + profile.ttft)) * 1000)
                count += 1
                if count == 20:  # a few tokens each: the start is what is measured
                    break
            await stream.aclose()

        await asyncio.gather(*(agent(i) for i in range(agents)))
        return lateness

    late = sorted(asyncio.run(main()))
    return {
        "median_ms": statistics.median(late),
        "p99_ms": late[int(0.99 * (len(late) - 1))],
        "last_ms": late[-1],
    }


def run_in(path: Path, agents: int, floor: bool = False) -> dict[str, float]:
    code = f"import sys; sys.path.insert(0, {str(HERE / 'bench')!r}); import sim_start, json, nbswarm; "
    code += f"assert nbswarm.__file__.startswith({str(path)!r}), nbswarm.__file__; "
    code += f"print(json.dumps(sim_start.measure({agents}, {floor})))"
    env = {**os.environ, "PYTHONPATH": str(path), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("NBSWARM_SIM_DELAY_SCALE", None)
    # cwd=path: with "-c" the working directory comes first on sys.path, before PYTHONPATH
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=path, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--before", type=Path, default=Path("/work/base"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [("floor", HERE, True), ("now", HERE, False)]
    if args.before.is_dir():
        rows.insert(1, ("before", args.before, False))
    print(f"{args.agents} sim agents started together; first token due at 0.3 s; lateness of the first token")
    print(f"{'code':>8} {'median ms':>10} {'p99 ms':>8} {'last ms':>8}   (medians of {args.repeats} runs)")
    runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in rows}
    for _ in range(args.repeats):  # interleaved, so a busy moment on a shared machine hits every row
        for label, path, floor in rows:
            runs[label].append(run_in(path, args.agents, floor))
    results = {}
    for label, _, _ in rows:
        results[label] = r = {k: statistics.median(run[k] for run in runs[label]) for k in runs[label][0]}
        print(f"{label:>8} {r['median_ms']:>10.1f} {r['p99_ms']:>8.1f} {r['last_ms']:>8.1f}")
    print("floor: streams that only sleep and yield (what asyncio costs to wake them all at one instant)")
    if "before" in results:
        ratio = results["before"]["last_ms"] / max(results["now"]["last_ms"], 0.1)
        print(
            f"the last agent's first token: {ratio:.1f}x less late than before; "
            f"{results['now']['last_ms'] / max(results['floor']['last_ms'], 0.1):.2f}x the floor"
        )


if __name__ == "__main__":
    main()
