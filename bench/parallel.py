"""Is parallel streaming really parallel, and how many agents can one kernel stream on time?

1. CPU-bound (sim at zero latency): 3 agents x 2,000 chunks as one ConcurrentWorkflow vs the
   same three agents run one after another. Asyncio concurrency must not be slower than serial
   (the swarms library's threaded ConcurrentWorkflow is 0.75x of serial there, from the GIL).
2. Realistic latency (~0.3 s to first token, 80 tokens/s): with 10 to 1,000 concurrent agents,
   how late is each chunk delivered to a callback in the calling thread? Two lags, in ms:
   * vs schedule: against when the sim scheduled the chunk (end to end: includes the sim's own
     work, which today generates each whole answer before its first token, ~0.45 ms per agent);
   * engine: against when the provider yielded the chunk -- what nbswarm itself adds (the event,
     the batch hand-over to the caller's thread, the callback). Target: p99 <= 50 ms at 1,000.
3. The same timing from a provider that costs nothing but its own waiting (pre-built pieces, the
   schedule drawn before the run): the lag vs schedule is then what nbswarm and asyncio add.
   CPU/wall is the process's CPU time over the wall time: near 1.0 the process is CPU-bound (one
   loop thread, one GIL) and every lag grows; well under 1.0 on a busy machine, it was starved.

    .venv/bin/python bench/parallel.py
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from nbswarm import Agent, ConcurrentWorkflow
from nbswarm.models import Completion, Text
from nbswarm.models.sim import SimProfile, SimProvider, sim_schedule

CHUNKS = 2_000


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
    """The sim, noting when each agent's chunks are due (wall clock, perf_counter)."""

    def __init__(self, profile: SimProfile) -> None:
        self.profile = profile
        self.sim = SimProvider(profile)
        self.due: dict[str, list[float]] = {}
        self.yielded: dict[str, list[float]] = {}

    async def stream(self, request):  # type: ignore[no-untyped-def]
        scale = self.profile.effective_delay_scale()
        start = time.perf_counter()
        agent = request.messages[0]["content"].split()[-1]
        self.due[agent] = [start + t * scale for t in sim_schedule(request, self.profile)]
        yielded = self.yielded[agent] = []
        async for item in self.sim.stream(request):
            if isinstance(item, (str, Text)) and (item if isinstance(item, str) else item.content):
                yielded.append(time.perf_counter())
            yield item


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


def lag_ms(n_agents: int, paced: bool = False) -> tuple[list[float], list[float], float]:
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
    wall, cpu = time.perf_counter(), time.process_time()
    ConcurrentWorkflow(agents=agents).run("Summarise the quarter", streaming_callback=on_chunk)
    busy = (time.process_time() - cpu) / (time.perf_counter() - wall)
    scheduled = sorted((at - provider.due[agent][i]) * 1000 for agent, i, at in received)
    engine = sorted((at - provider.yielded[agent][i]) * 1000 for agent, i, at in received)
    return scheduled, engine, busy


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    concurrent_seconds(), serial_seconds()  # warm up
    conc = min(concurrent_seconds() for _ in range(3))
    serial = min(serial_seconds() for _ in range(3))
    print(f"3 agents x {CHUNKS} chunks, sim at zero latency (CPU-bound), best of 3:")
    print(f"  serial      {serial:.3f} s")
    print(
        f"  concurrent  {conc:.3f} s   speed vs serial: {serial / conc:.2f}x (>= 1.0: not slower than serial)"
    )
    print()
    for title, paced in (
        ("realistic sim (0.3 s TTFT, 80 tok/s, ~120 tokens each)", False),
        ("paced pre-built pieces (same timing, no generation cost)", True),
    ):
        print()
        print(f"{title}: delivery lag to the caller's thread, ms")
        print(
            f"  {'agents':>6} {'chunks':>7} | vs schedule: {'p50':>6} {'p99':>7}"
            f" | engine: {'p50':>6} {'p99':>6} {'max':>6} | CPU/wall"
        )
        for n in (10, 50, 200, 500, 1000):
            scheduled, engine, busy = lag_ms(n, paced)
            print(
                f"  {n:>6} {len(engine):>7} | {'':>12} {statistics.median(scheduled):>6.1f}"
                f" {pct(scheduled, 0.99):>7.1f}"
                f" | {'':>7} {statistics.median(engine):>6.1f} {pct(engine, 0.99):>6.1f} {engine[-1]:>6.1f}"
                f" | {busy:>8.2f}"
            )


if __name__ == "__main__":
    main()
