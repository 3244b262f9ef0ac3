"""Kernel memory over a long session: 200 runs shown as live views in one real kernel.

A teacher runs swarm after swarm in one kernel. Each displayed run's widget lives as long as the
kernel (ipywidgets keeps every open widget), so what a finished view holds is what the session
accumulates. Measured in a real ipykernel (this venv's python), RSS read from /proc:

* baseline -- the same 200 runs with no display at all (what running them costs anyway);
* views    -- each run shown with ``nbswarm.show(run)``, every view kept;
* released -- the same, calling ``nbswarm.release_views(keep=5)`` after each run.

Printed per mode: RSS growth over the runs, and the Python memory still held after them
(tracemalloc: the growth per run between traced sessions of N/8 and N/4 runs in the same kernel,
each from before its first run to after its last and a ``gc.collect()``, times N): what the
session keeps, without the memory the allocator holds on to after freeing it.

    .venv/bin/python bench/widget_memory.py            # 200 runs x 3 agents x 2,000 tokens
    .venv/bin/python bench/widget_memory.py --runs 50  # quicker
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SETUP = r"""
import asyncio, gc, os, time
import nbswarm
from IPython.display import display
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Metadata, Start, Usage

def make_run(tokens, names):
    pieces = [f" w{i}" + ("\n" if i % 12 == 11 else "") for i in range(tokens)]
    async def body(run):
        run.emit(Metadata, job_id=run.run_id, name="memory", swarm_type="ConcurrentWorkflow",
                 number_of_agents=len(names), agents=tuple(names))
        run.emit(Start)
        for name in names:
            run.emit(AgentStart, agent=name)
        for i, piece in enumerate(pieces):
            for name in names:
                run.emit(Chunk, agent=name, content=piece, index=i)
            if i % 200 == 199:
                await asyncio.sleep(0)
        for name in names:
            run.emit(AgentEnd, agent=name, output="".join(pieces))
            run.emit(Usage, agent=name, output_tokens=tokens, total_tokens=tokens)
        run.emit(End, execution_time=run.elapsed(), output="")
    return nbswarm.Run(body)

def rss_mb():
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def session(mode, runs, tokens, agents, trace=False):
    import tracemalloc
    names = [f"Agent-{i}" for i in range(agents)]
    gc.collect()
    if trace:
        tracemalloc.start()
    traced = tracemalloc.get_traced_memory()[0]
    start = rss_mb()
    for _ in range(runs):
        run = make_run(tokens, names)
        if mode != "baseline":
            nbswarm.show(run)
        run.result()
        if mode == "released":
            nbswarm.release_views(keep=5)
    time.sleep(1.5)  # a finished run's driver lets go of it within its polling back-off (<= 1 s)
    gc.collect()
    end = rss_mb()
    held = (tracemalloc.get_traced_memory()[0] - traced) / 1e6
    tracemalloc.stop()
    return [start, end, held]
"""


def measure(mode: str, runs: int, tokens: int, agents: int) -> tuple[float, float, float]:
    """One fresh kernel per mode, so one mode's garbage never counts for another."""
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    km, kc = start_new_kernel(kernel_name="python3", env=env, startup_timeout=60)
    try:
        kc.execute_interactive(SETUP, timeout=60, output_hook=lambda msg: None)
        kc.execute_interactive(
            f"session({mode!r}, 3, {tokens}, {agents})", timeout=120, output_hook=lambda msg: None
        )  # warm up
        out = []
        few = max(1, runs // 8)
        for expression in (  # RSS untraced; then what stays held per run, traced (tracemalloc costs
            # memory): the slope between sessions of `few` and `2 * few` runs, so fixed costs cancel
            f"session({mode!r}, {runs}, {tokens}, {agents})",
            f"session({mode!r}, {few}, {tokens}, {agents}, trace=True)",
            f"session({mode!r}, {2 * few}, {tokens}, {agents}, trace=True)",
        ):
            reply = kc.execute_interactive(
                "", timeout=1800, user_expressions={"r": expression}, output_hook=lambda msg: None
            )
            data = reply["content"]["user_expressions"]["r"]
            if data.get("status") != "ok":
                raise RuntimeError(f"{mode} failed in the kernel: {data}")
            out.append(ast.literal_eval(data["data"]["text/plain"]))
        (start, end, _), (_, _, held_few), (_, _, held_twice) = out
        return start, end, (held_twice - held_few) / few * runs
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=3)
    args = parser.parse_args()
    text_mb = args.runs * args.agents * len("".join(f" w{i}" for i in range(args.tokens))) / 1e6
    print(
        f"{args.runs} runs x {args.agents} agents x {args.tokens:,} tokens in one kernel "
        f"({text_mb:.1f} MB of text in all); {sys.executable}"
    )
    held: dict[str, float] = {}
    for mode in ("baseline", "views", "released"):
        started = time.perf_counter()
        start, end, held[mode] = measure(mode, args.runs, args.tokens, args.agents)
        per_run = (end - start) / args.runs * 1000
        print(
            f"  {mode:9s} RSS {start:6.1f} -> {end:6.1f} MB (+{per_run:4.0f} kB/run); "
            f"Python objects still held after the runs: {held[mode]:6.2f} MB "
            f"({held[mode] / args.runs * 1000:5.1f} kB/run); {time.perf_counter() - started:5.1f} s",
            flush=True,
        )
    print(
        f"held per run vs the text of a run ({text_mb / args.runs * 1000:.0f} kB): "
        f"views {held['views'] / text_mb:.2f}x, released {held['released'] / text_mb:.2f}x "
        "(RSS also counts memory the allocator keeps after freeing it)"
    )


if __name__ == "__main__":
    main()
