"""Per-chunk cost of nbswarm's own path (events + callback + run fan-out), against swarms'.

The provider replays pre-built chunks and awaits the event loop once per chunk
(``await asyncio.sleep(0)``), as every network provider and the sim do: a
provider that never yields would hide the real path (a wake-up of the loop
per chunk, and the hand-over to the caller's thread). The baseline is the same
provider consumed by a bare ``async for`` that calls the same callback, timed
in the same run; nbswarm's own share is the difference, per chunk, at 2,000
and 20,000 chunks (it must be flat: no per-chunk work that grows with the text).

If a Python with the swarms library is given (``NBSWARM_BENCH_SWARMS_PYTHON``,
e.g. a throwaway ``python -m venv /tmp/swarmsvenv && /tmp/swarmsvenv/bin/pip
install swarms``), ``bench/swarms_per_chunk.py`` measures swarms' own per-chunk
cost in the same run, and the target is nbswarm's share <= half of swarms'.

    NBSWARM_BENCH_SWARMS_PYTHON=/tmp/swarmsvenv/bin/python .venv/bin/python bench/overhead.py
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from nbswarm import Agent
from nbswarm.models import Completion

SIZES = (2_000, 20_000)


class Replay:
    """Streams pre-built chunks, yielding to the event loop before each, like a network stream."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    async def stream(self, request):  # type: ignore[no-untyped-def]
        for piece in self.pieces:
            await asyncio.sleep(0)
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

    start = time.process_time()
    asyncio.run(consume())
    return time.process_time() - start


def nbswarm_sync(chunks: list[str]) -> float:
    sink: list[str] = []
    agent = Agent(agent_name="A", provider=Replay(chunks), streaming_on=True, print_on=False)
    start = time.process_time()
    agent.run("task", streaming_callback=sink.append)
    elapsed = time.process_time() - start
    assert len(sink) == len(chunks)
    return elapsed


def nbswarm_async(chunks: list[str]) -> float:
    sink: list[str] = []
    agent = Agent(agent_name="A", provider=Replay(chunks), streaming_on=True, print_on=False)

    async def main() -> None:
        await agent.arun("task", streaming_callback=sink.append)

    start = time.process_time()
    asyncio.run(main())
    elapsed = time.process_time() - start
    assert len(sink) == len(chunks)
    return elapsed


def best(fn, chunks: list[str], repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn(chunks)  # warm up
    return min(fn(chunks) for _ in range(repeats))


def import_seconds() -> float:
    """``import nbswarm`` in a fresh process (it must not import litellm)."""
    code = "import sys, time; t = time.perf_counter(); import nbswarm; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(3)]
    return min(runs)


def swarms_us_per_chunk() -> float | None:
    python = os.environ.get("NBSWARM_BENCH_SWARMS_PYTHON")
    if not python:
        return None
    script = Path(__file__).with_name("swarms_per_chunk.py")
    out = subprocess.run([python, str(script)], capture_output=True, text=True, timeout=600, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["swarms_us_per_chunk"])


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
    """The sim's cost per token beside the engine's own per-chunk cost (run(), 20,000 chunks) above."""
    for label, task in (
        ("report", "Analyze the lithium battery supply chain in Chile and identify export risks."),
        ("story", "Write a story about a robot learning to paint"),
        ("Chinese", "请写一篇关于人工智能在医疗领域应用的文章"),
    ):
        sim = sim_us_per_token(20_000, task)
        ratio = sim / engine_us
        print(f"sim text, {label:>7}: {sim:6.2f} us/token = {ratio:4.2f}x the engine's own run() per chunk")


# --- end of the sim's section ---------------------------------------------------------------------


def main() -> None:
    print(f"import nbswarm in a fresh process: {import_seconds() * 1000:.0f} ms (best of 3)")
    print(f"{'chunks':>7} {'baseline us/chunk':>18} {'run() own us/chunk':>19} {'arun() own us/chunk':>20}")
    own: dict[int, tuple[float, float]] = {}
    for n in SIZES:
        chunks = pieces(n)
        base = best(baseline, chunks) / n * 1e6
        sync = best(nbswarm_sync, chunks) / n * 1e6 - base
        asyn = best(nbswarm_async, chunks) / n * 1e6 - base
        own[n] = (sync, asyn)
        print(f"{n:>7} {base:>18.2f} {sync:>19.2f} {asyn:>20.2f}")
    small, large = own[SIZES[0]], own[SIZES[1]]
    print(
        f"own share at 20,000 / at 2,000: run() {large[0] / small[0]:.2f}, arun() {large[1] / small[1]:.2f} "
        "(about 1.0: flat)"
    )
    sim_rows(large[0])  # the sim's section, above
    swarms = swarms_us_per_chunk()
    if swarms is None:
        print("swarms not measured (set NBSWARM_BENCH_SWARMS_PYTHON to a Python with swarms installed)")
        return
    worst = max(large[0], large[1], small[0], small[1])
    print(
        f"swarms' own per-chunk cost, same run: {swarms:.2f} us; nbswarm's worst own share {worst:.2f} us "
        f"= {worst / swarms:.2f} of swarms' (target <= 0.50)"
    )


if __name__ == "__main__":
    main()
