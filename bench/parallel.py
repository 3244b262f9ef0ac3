"""Is parallel streaming really parallel, and how many agents can one kernel stream on time?

1. CPU-bound (sim at zero latency): 3 agents x 2,000 chunks as one ConcurrentWorkflow vs the
   same three agents run one after another. Asyncio concurrency must not be slower than serial
   (the swarms library's threaded ConcurrentWorkflow is 0.75x of serial there, from the GIL).
2. Realistic latency (~0.3 s to first token, 80 tokens/s): with 10 to 1,000 concurrent agents,
   how late is each chunk delivered to a callback in the calling thread? Two lags, in ms:
   * vs schedule: against when the sim scheduled the chunk (end to end: includes the sim's own
     work, ~1 us per token, and a loop that falls behind its timers);
   * engine: against when the provider yielded the chunk -- what nbswarm itself adds (the event,
     the batch hand-over to the caller's thread, the callback). Target: p99 <= 50 ms at 1,000.
3. The same timing from a provider that costs nothing but its own waiting (pre-built pieces, the
   schedule drawn before the run): the lag vs schedule is then what nbswarm and asyncio add.

Beside each lag, what CPU the process had, so a starved run is recognisable:
* CPU/wall: the process's CPU time over the wall time. Near 1.0 the process is CPU-bound (one
  loop thread, one GIL) and every lag grows; low on its own means idle *or* starved.
* wait/wall: how long the process's threads were ready to run but waited for a core (Linux
  schedstat, summed over threads), over the wall time. Near 0 the process got the CPU it asked
  for; at 0.3 it was kept off the CPU for 0.3 s per second -- lag from the machine, not nbswarm.
* others: the CPU the rest of the machine used meanwhile, in cores (of ``os.cpu_count()``).
* gc: the collector's pauses (every thread stops): full collections and the longest pause, ms.
  A run keeps every event, so each full collection walks ~120,000 chunks at 1,000 agents.

The task is "Report on the quarter": a report is ~120 tokens at ``length=120`` (a summary is a
third of that, and would stream fewer chunks than this header says).

    .venv/bin/python bench/parallel.py                       # everything
    .venv/bin/python bench/parallel.py --agents 500 1000 --mode paced --no-cpu-bound
    .venv/bin/python bench/parallel.py --agents 1000 --no-cpu-bound --hold-full-gc   # GC's share
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import glob
import math
import os
import random
import statistics
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from nbswarm import Agent, ConcurrentWorkflow
from nbswarm.models import Completion, Text
from nbswarm.models.sim import SimProfile, SimProvider, sim_schedule
from nbswarm.models.speaker import SPEAKER, Speaker

CHUNKS = 2_000
TASK = "Report on the quarter"
"""A report: ~120 tokens at ``length=120`` ("Summarise ..." would be a ~40-token summary)."""


def cpu_agents() -> list[Agent]:
    provider = SimProvider(SimProfile(delay_scale=0, fill=True))
    return [
        Agent(
            agent_name=f"A{i}",
            provider=provider,
            max_tokens=CHUNKS,
            print_on=False,
            system_prompt=f"Agent {i}",
        )
        for i in range(3)
    ]


def concurrent_seconds() -> float:
    workflow = ConcurrentWorkflow(agents=cpu_agents())
    start = time.perf_counter()
    run = workflow.stream("Write a long report")
    run.result()
    elapsed = time.perf_counter() - start
    assert sum(e.type == "chunk" for e in run.events) == 3 * CHUNKS
    return elapsed


def serial_seconds() -> float:
    agents = cpu_agents()
    start = time.perf_counter()
    for agent in agents:
        agent.run("Write a long report")
    return time.perf_counter() - start


class ScheduledSim:
    """The sim, noting when each agent's chunks are due (wall clock, perf_counter).

    The schedule is worked out after the run (``settle``): drawing it means writing the agent's
    whole answer, ~0.3 ms each, which on the loop would delay everyone's first tokens."""

    def __init__(self, profile: SimProfile) -> None:
        self.profile = profile
        self.sim = SimProvider(profile)
        self.due: dict[str, list[float]] = {}
        self.yielded: dict[str, list[float]] = {}
        self._started: dict[str, tuple[object, Speaker | None, float]] = {}

    async def stream(self, request):  # type: ignore[no-untyped-def]
        agent = request.messages[0]["content"].split()[-1]
        self._started[agent] = (request, SPEAKER.get(), time.perf_counter())
        yielded = self.yielded[agent] = []
        async for item in self.sim.stream(request):
            if isinstance(item, (str, Text)) and (item if isinstance(item, str) else item.content):
                yielded.append(time.perf_counter())
            yield item

    def settle(self) -> None:
        scale = self.profile.effective_delay_scale()
        for agent, (request, speaker, start) in self._started.items():
            times = sim_schedule(request, self.profile, speaker=speaker)  # type: ignore[arg-type]
            self.due[agent] = [start + t * scale for t in times]


class Paced:
    """~120 pre-built pieces per agent at sim-like timing (0.3 s +-20 % to the first, 80 tokens/s with
    exponential gaps), drawn before the run: the provider itself costs only its sleeps."""

    def __init__(self, n_agents: int, tokens: int = 120, rate: float = 80.0) -> None:
        rng = random.Random(7)
        self.pieces = [f" w{i}" for i in range(tokens)]
        self.offsets: dict[str, list[float]] = {}
        for i in range(n_agents):
            t = 0.3 * rng.uniform(0.8, 1.2)
            times = []
            for _ in range(tokens):
                times.append(t)
                t += rng.expovariate(rate)
            self.offsets[f"A{i}"] = times
        self.due: dict[str, list[float]] = {}
        self.yielded: dict[str, list[float]] = {}

    async def stream(self, request):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        agent = request.messages[0]["content"].split()[-1]
        due = self.due[agent] = [start + t for t in self.offsets[agent]]
        yielded = self.yielded[agent] = []
        for piece, at in zip(self.pieces, due, strict=True):
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            yielded.append(time.perf_counter())
            yield piece
        yield Completion(output_tokens=len(self.pieces))


def _ready_wait_ns() -> int | None:
    """Nanoseconds this process's live threads spent runnable but waiting for a core (Linux)."""
    total = 0
    try:
        for path in glob.glob("/proc/self/task/*/schedstat"):
            with open(path) as f:
                total += int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return total or None


def _machine_busy() -> float | None:
    """Seconds of CPU the whole machine has used (all cores, /proc/stat), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """What CPU the process had over a span: CPU/wall, ready-but-waiting/wall, others' cores,
    and the garbage collector's pauses."""

    def __enter__(self) -> CpuMeter:
        self.full_collections, self.longest_gc, self._gc_start = 0, 0.0, 0.0
        gc.callbacks.append(self._on_gc)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.wait, self.machine = _ready_wait_ns(), _machine_busy()
        return self

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        self.longest_gc = max(self.longest_gc, time.perf_counter() - self._gc_start)
        self.full_collections += info["generation"] == 2

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        self.cpu_per_wall = cpu / wall
        wait, machine = _ready_wait_ns(), _machine_busy()
        self.wait_per_wall = (
            (wait - self.wait) / 1e9 / wall if wait is not None and self.wait is not None else math.nan
        )
        self.others = (
            max(0.0, (machine - self.machine - cpu) / wall)
            if machine is not None and self.machine is not None
            else math.nan
        )

    def __str__(self) -> str:
        return (
            f"{self.cpu_per_wall:>8.2f} {self.wait_per_wall:>9.2f} {self.others:>6.2f}"
            f" | {self.full_collections:>4} {1000 * self.longest_gc:>6.1f}"
        )


def lag_ms(
    n_agents: int, paced: bool = False, hold_full_gc: bool = False
) -> tuple[list[float], list[float], CpuMeter]:
    provider = Paced(n_agents) if paced else ScheduledSim(SimProfile(length=120, delay_scale=1.0))
    agents = [
        Agent(agent_name=f"A{i}", system_prompt=f"You are A{i}", provider=provider, print_on=False)
        for i in range(n_agents)
    ]
    received: list[tuple[str, int, float]] = []

    def on_chunk(agent: str, chunk: str, is_final: bool) -> None:
        if not is_final:
            received.append((agent, counts.setdefault(agent, 0), time.perf_counter()))
            counts[agent] += 1

    counts: dict[str, int] = {}
    gc.collect()  # each run starts from a clean heap, not walking the last run's garbage
    thresholds = gc.get_threshold()
    if hold_full_gc:  # diagnostic: no full collection during the run (young ones go on)
        gc.set_threshold(thresholds[0], thresholds[1], 1_000_000)
    try:
        with CpuMeter() as meter:
            ConcurrentWorkflow(agents=agents).run(TASK, streaming_callback=on_chunk)
    finally:
        gc.set_threshold(*thresholds)
    if isinstance(provider, ScheduledSim):
        provider.settle()
    scheduled = sorted((at - provider.due[agent][i]) * 1000 for agent, i, at in received)
    engine = sorted((at - provider.yielded[agent][i]) * 1000 for agent, i, at in received)
    return scheduled, engine, meter


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def cpu_bound() -> None:
    concurrent_seconds(), serial_seconds()  # warm up
    conc = min(concurrent_seconds() for _ in range(3))
    serial = min(serial_seconds() for _ in range(3))
    print(f"3 agents x {CHUNKS} chunks, sim at zero latency (CPU-bound), best of 3:")
    print(f"  serial      {serial:.3f} s")
    print(
        f"  concurrent  {conc:.3f} s   speed vs serial: {serial / conc:.2f}x (>= 1.0: not slower than serial)"
    )
    print()


MODES = {
    "sim": ("realistic sim (0.3 s TTFT, 80 tok/s, ~120 tokens each)", False),
    "paced": ("paced pre-built pieces (same timing, no generation cost)", True),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50, 200, 500, 1000])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--no-cpu-bound", action="store_true", help="skip part 1 (3 agents x 2,000 chunks)")
    parser.add_argument(
        "--hold-full-gc",
        action="store_true",
        help="diagnostic: hold off full garbage collections during each run, to see their share of the lag",
    )
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.agents):
        parser.error("--agents must be positive")
    if not args.no_cpu_bound:
        cpu_bound()
    held = "; full garbage collections held off during each run" if args.hold_full_gc else ""
    print(f"{os.cpu_count()} cores; task {TASK!r}{held}")
    for mode in MODES if args.mode == "both" else [args.mode]:
        title, paced = MODES[mode]
        print()
        print(f"{title}: delivery lag to the caller's thread, ms")
        print(
            f"  {'agents':>6} {'chunks':>7} | vs schedule: {'p50':>6} {'p99':>7}"
            f" | engine: {'p50':>6} {'p99':>6} {'max':>6} | CPU/wall wait/wall others"
            f" | gc: full longest"
        )
        lag_ms(10, paced)  # warm up: the sim's tokenizer and price map, the engine loop
        for n in args.agents:
            scheduled, engine, meter = lag_ms(n, paced, args.hold_full_gc)
            print(
                f"  {n:>6} {len(engine):>7} | {'':>12} {statistics.median(scheduled):>6.1f}"
                f" {pct(scheduled, 0.99):>7.1f}"
                f" | {'':>7} {statistics.median(engine):>6.1f} {pct(engine, 0.99):>6.1f} {engine[-1]:>6.1f}"
                f" | {meter}"
            )


if __name__ == "__main__":
    main()
