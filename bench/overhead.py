"""Per-chunk cost of nbswarm's own path: events + callback + run fan-out.

A provider replays pre-built chunks with no waiting, so what is measured is
nbswarm, not a model. The baseline is the same chunks consumed by a bare
``async for`` that calls the same callback, timed in the same run. At 2,000
and 20,000 chunks: the per-chunk cost must not grow with the text so far.

    .venv/bin/python bench/overhead.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from nbswarm import Agent
from nbswarm.models import Completion


class Replay:
    """Streams pre-built chunks as fast as it can."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    async def stream(self, request):  # type: ignore[no-untyped-def]
        for piece in self.pieces:
            yield piece
        yield Completion(output_tokens=len(self.pieces))


def pieces(n: int) -> list[str]:
    return [f" w{i % 997}" for i in range(n)]


def baseline(chunks: list[str]) -> float:
    sink: list[str] = []

    async def consume() -> None:
        async for piece in Replay(chunks).stream(None):
            if isinstance(piece, str):
                sink.append(piece)

    start = time.perf_counter()
    asyncio.run(consume())
    return time.perf_counter() - start


def nbswarm_sync(chunks: list[str]) -> float:
    sink: list[str] = []
    agent = Agent(agent_name="A", provider=Replay(chunks), streaming_on=True, print_on=False)
    start = time.perf_counter()
    agent.run("task", streaming_callback=sink.append)
    elapsed = time.perf_counter() - start
    assert len(sink) == len(chunks)
    return elapsed


def nbswarm_async(chunks: list[str]) -> float:
    sink: list[str] = []
    agent = Agent(agent_name="A", provider=Replay(chunks), streaming_on=True, print_on=False)

    async def main() -> None:
        await agent.arun("task", streaming_callback=sink.append)

    start = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - start
    assert len(sink) == len(chunks)
    return elapsed


def best(fn, chunks: list[str], repeats: int = 5) -> float:
    fn(chunks)  # warm up
    return min(fn(chunks) for _ in range(repeats))


def import_seconds() -> float:
    """``import nbswarm`` in a fresh process (it must not import litellm)."""
    code = "import sys, time; t = time.perf_counter(); import nbswarm; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(3)]
    return min(runs)


# --- the sim model's own cost per token (issue 15; owned by the sim, kept apart from the rest) ----
def sim_us_per_token(n: int, task: str, model: str = "gpt-4o-mini") -> float:
    """Microseconds per token for the sim to write and tokenise ``n`` tokens (fill mode, no waits)."""
    from nbswarm.models.base import ModelRequest
    from nbswarm.models.sim import SimProfile, sim_items

    profile = SimProfile(delay_scale=0, fill=True)
    request = ModelRequest(model=model, messages=[{"role": "user", "content": task}], max_tokens=n)
    sim_items(request, profile)  # warm: tokenizer and price map loaded
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        _, _, tokens = sim_items(request, profile)
        runs.append((time.perf_counter() - start) / tokens * 1e6)
    return min(runs)


def sim_rows(engine_us: float) -> None:
    """The sim's cost per token beside the engine's per-chunk cost measured above."""
    for label, task in (
        ("report", "Analyze the lithium battery supply chain in Chile and identify export risks."),
        ("story", "Write a story about a robot learning to paint"),
        ("Chinese", "请写一篇关于人工智能在医疗领域应用的文章"),
    ):
        sim = sim_us_per_token(20_000, task)
        ratio = sim / engine_us
        print(f"sim text, {label:>7}: {sim:6.2f} us/token = {ratio:4.2f}x the engine's run() per chunk")


# --- end of the sim's section ---------------------------------------------------------------------


def main() -> None:
    print(f"import nbswarm in a fresh process: {import_seconds() * 1000:.0f} ms (best of 3)")
    print(
        f"{'chunks':>7} {'baseline us/chunk':>18} {'run() us/chunk':>15} {'ratio':>6} "
        f"{'arun() us/chunk':>16} {'ratio':>6}"
    )
    per_chunk = {}
    for n in (2_000, 20_000):
        chunks = pieces(n)
        base = best(baseline, chunks) / n * 1e6
        sync = best(nbswarm_sync, chunks) / n * 1e6
        asyn = best(nbswarm_async, chunks) / n * 1e6
        per_chunk[n] = (sync, asyn)
        print(f"{n:>7} {base:>18.2f} {sync:>15.2f} {sync / base:>6.1f} {asyn:>16.2f} {asyn / base:>6.1f}")
    growth = [per_chunk[20_000][i] / per_chunk[2_000][i] for i in (0, 1)]
    print(
        f"per-chunk cost at 20,000 / at 2,000: run() {growth[0]:.2f}, arun() {growth[1]:.2f} "
        f"(1.0 = linear; the median of both {statistics.median(growth):.2f})"
    )
    sim_rows(per_chunk[20_000][0])  # the sim's section, above


if __name__ == "__main__":
    main()
