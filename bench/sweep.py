"""Sweep throughput, driver cost and latency per backend, against inline asyncio in the same run.

Workload (as in SCALE-OUT.md): sim runs of four shapes -- a single agent, Sequential A->B->C,
Concurrent A,B,C and Rearrange "A, B -> C" -- on one task.

* Throughput, sim delay 0: events/s end to end (first run started to last event recorded) and the
  driver's CPU per event (this process's CPU time over the events it recorded; for ``local`` the
  driver runs everything), for inline asyncio (the same runs awaited on nbswarm's engine loop with
  the Recorder as a sink: the baseline), the local backend, and the process and Ray backends with 1
  and 2 workers.
* Latency, realistic sim timing (delay 1): from an event's creation in its worker (its run's wall
  start + ``t``) to the driver recording it, p50 and p99, runs 100 at a time.

Ratios are against the baseline measured in the same run; absolute figures move with machine load.

    .venv/bin/python bench/sweep.py            # 1,000 runs for throughput, 200 for latency
    .venv/bin/python bench/sweep.py --quick    # 200 and 60
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback-only local Ray; writes no ~/.ray token
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only (read when Ray is imported)

from nbswarm import Agent, AgentRearrange, ConcurrentWorkflow, SequentialWorkflow, _engine_loop, grid, sweep
from nbswarm.events import Event
from nbswarm.models.sim import SimProfile, SimProvider
from nbswarm.recorder import Recorder

TASK = "Compare server-sent events and WebSockets for streaming LLM output"
SHAPES = ("agent", "sequential", "concurrent", "rearrange")


def make(variant: dict[str, Any]) -> Any:
    profile = SimProfile(delay_scale=variant["delay"], length=60)

    def agent(name: str) -> Agent:
        return Agent(agent_name=name, max_tokens=64, seed=variant["n"], provider=SimProvider(profile))

    shape = variant["shape"]
    if shape == "agent":
        return agent("Solo")
    agents = [agent(n) for n in ("A", "B", "C")]
    if shape == "sequential":
        return SequentialWorkflow(agents=agents)
    if shape == "concurrent":
        return ConcurrentWorkflow(agents=agents)
    return AgentRearrange(agents=agents, flow="A, B -> C")


def variants(runs: int, delay: float) -> list[dict[str, Any]]:
    return grid(shape=list(SHAPES), n=list(range(runs // len(SHAPES))), delay=[delay])


class LatencyRecorder(Recorder):
    """A Recorder that notes, for each event, now minus when it was created (wall start + t)."""

    def __init__(self) -> None:
        super().__init__()
        self.latencies: list[float] = []

    def __call__(self, event: Event) -> None:
        super().__call__(event)
        self.latencies.append(time.time() - self._wall_starts[event.run_id] - event.t)

    def add_batch(self, events: Any, wall_starts: Any = None) -> int:
        now = time.time()
        added = super().add_batch(events, wall_starts)
        starts = self._wall_starts
        self.latencies.extend(now - starts[e.run_id] - e.t for e in events)
        return added


def inline(items: list[dict[str, Any]], concurrency: int, rec: Recorder) -> None:
    """The baseline: every run awaited on one asyncio loop here, the Recorder as a sink."""

    async def main() -> None:
        limit = asyncio.Semaphore(concurrency)

        async def one(variant: dict[str, Any]) -> None:
            async with limit:
                target = make(variant)
                for a in getattr(target, "agents", [target]):
                    a.print_on = False
                await target.stream(TASK, recorder=rec)

        await asyncio.gather(*(one(v) for v in items))

    _engine_loop.submit(main()).result()  # on nbswarm's loop, so each body runs inline with its sinks


def measure(label: str, items: list[dict[str, Any]], concurrency: int, rec: Recorder, **kwargs: Any) -> dict:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    if label == "inline asyncio":
        inline(items, concurrency, rec)
    else:
        sw = sweep(items, make, TASK, recorder=rec, concurrency=concurrency, **kwargs)
        sw.wait(1800)
        assert set(sw.table["status"]) == {"completed"}, sw.table["status"].value_counts()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert not rec.gaps
    n = len(rec)
    out = {"label": label, "events": n, "seconds": wall, "rate": n / wall, "driver_us": cpu / n * 1e6}
    latencies = getattr(rec, "latencies", None)
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        out.update(p50=q[49] * 1e3, p99=q[98] * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 runs for throughput, 60 for latency")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray backend")
    args = parser.parse_args()
    runs, slow_runs = (200, 60) if args.quick else (1000, 200)
    have_ray = not args.no_ray
    if have_ray:
        import importlib.util

        have_ray = importlib.util.find_spec("ray") is not None
    ray_folder = None
    fast = variants(runs, 0.0)
    configs: list[tuple[str, dict[str, Any]]] = [
        ("inline asyncio", {}),
        ("local", {}),
        ("process, 1 worker", {"backend": "process", "workers": 1}),
        ("process, 2 workers", {"backend": "process", "workers": 2}),
    ]
    if have_ray:
        import tempfile

        from nbswarm.sweeps._ray import connect

        if "RAY_TMPDIR" not in os.environ:  # its own folder, not a shared default; removed at the end
            ray_folder = tempfile.mkdtemp(prefix="nb", dir="/tmp")
            os.environ["RAY_TMPDIR"] = ray_folder

        start = time.perf_counter()
        connect(None)
        print(f"(a local Ray started in {time.perf_counter() - start:.1f} s)")
        configs += [
            ("ray, 1 actor", {"backend": "ray", "workers": 1}),
            ("ray, 2 actors", {"backend": "ray", "workers": 2}),
        ]
    # Warm up: worker processes and Ray actors start (and import nbswarm) once, outside the timing.
    for _label, kwargs in configs[2:]:
        sweep(variants(8, 0.0), make, TASK, **kwargs).wait(300)
    rows = [measure(label, fast, 200, Recorder(), **kwargs) for label, kwargs in configs]
    base = rows[0]
    print(f"\nThroughput: {runs} sim runs at delay 0, {base['events']:,} events, 200 in flight")
    print(f"{'backend':<20} {'events/s':>10} {'x inline':>9} {'driver us/ev':>13} {'x inline':>9} {'s':>6}")
    for r in rows:
        print(
            f"{r['label']:<20} {r['rate']:>10,.0f} {r['rate'] / base['rate']:>9.2f} {r['driver_us']:>13.1f} "
            f"{r['driver_us'] / base['driver_us']:>9.2f} {r['seconds']:>6.1f}"
        )
    by = {r["label"]: r for r in rows}
    scaling = [("process", "process, 1 worker", "process, 2 workers")]
    if have_ray:
        scaling.append(("ray", "ray, 1 actor", "ray, 2 actors"))
    print(
        "scaling 1 -> 2 workers (events/s ratio): "
        + ", ".join(f"{n} {by[b]['rate'] / by[a]['rate']:.2f}" for n, a, b in scaling)
    )

    slow = variants(slow_runs, 1.0)
    latency_configs = [("local", {}), ("process, 2 workers", {"backend": "process", "workers": 2})]
    if have_ray:
        latency_configs.append(("ray, 2 actors", {"backend": "ray", "workers": 2}))
    print(f"\nLatency: {slow_runs} runs at realistic sim timing, 100 in flight (event created -> recorded)")
    print(f"{'backend':<20} {'p50 ms':>8} {'p99 ms':>8} {'events':>8} {'seconds':>8}")
    for label, kwargs in latency_configs:
        r = measure(label, slow, 100, LatencyRecorder(), **kwargs)
        p50, p99 = max(r["p50"], 0.0), max(r["p99"], 0.0)  # local: recorded inline, 0 up to clock jitter
        print(f"{label:<20} {p50:>8.1f} {p99:>8.1f} {r['events']:>8,} {r['seconds']:>8.1f}")
    print("(ratios are measured in the same run; absolute figures move with machine load)")
    if have_ray:
        import shutil

        import ray

        ray.shutdown()
        if ray_folder:
            shutil.rmtree(ray_folder, ignore_errors=True)


if __name__ == "__main__":
    main()
