"""Replay a recorded run as a new live Run, with its original timing or faster or slower.

``nbswarm.replay(rec, speed=2)`` is an ordinary Run whose body re-emits the
recorded events at ``t / speed`` on its own clock, so anything that follows
a live run follows a replay: the live view, a printer, callbacks, another
recorder. For teaching demos and for looking at a stream again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import pandas as pd

from . import _frame
from .events import EVENT_TYPES, AgentStart, Event, Metadata
from .recorder import Recorder
from .run import Run

__all__ = ["replay", "replay_to_terminal"]

Source = Recorder | pd.DataFrame | Run | str | Path | Iterable[Event]


def replay(
    source: Source,
    run_id: str | None = None,
    *,
    speed: float = 1.0,
    show: bool = False,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> Run:
    """A new Run that re-emits one recorded run's events with their timing divided by ``speed``.

    ``source``: a Recorder, a recorder DataFrame, a saved recording's path (``.parquet``/``.jsonl``),
    a Run, or events. ``run_id`` picks the run when the source holds several. ``speed=2`` is twice
    as fast; ``0`` or ``inf`` replays with no waiting. ``show=True`` displays it as agents' output
    is shown (the live view in a notebook, printing in a terminal). ``clock``/``sleep`` replace
    the run's clock and ``asyncio.sleep`` (tests use a fake pair to check the waits exactly).
    The replay gets a new run_id; its metadata's ``job_id`` follows it.
    """
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or math.isnan(speed) or speed < 0:
        raise ValueError(f"speed must be a number >= 0 (0 or inf: no waiting), got {speed!r}")
    if sleep is not None and not callable(sleep):
        raise TypeError("sleep must be an async function taking seconds, like asyncio.sleep")
    events = _events(source, run_id)
    wait = 0 < speed < math.inf
    pause = sleep or asyncio.sleep

    async def body(run: Run) -> None:
        for event in events:
            if wait:
                delay = event.t / speed - run.elapsed()
                if delay > 0:
                    await pause(delay)
            if isinstance(event, Metadata):
                event = dataclasses.replace(event, job_id=run.run_id)
            run.forward(event)

    run = Run(body, clock=clock)
    if show:
        from .display import attach_output

        loops: dict[str, int] = {}
        for event in events:
            if isinstance(event, AgentStart):
                loops[event.agent] = max(loops.get(event.agent, 0), event.loop + 1)
        attach_output(run, loops, live=True)
    return run


def replay_to_terminal(path: str | Path, *, speed: float = 1.0) -> int:
    """``nbswarm replay PATH``: show every run of a recording as it streamed, in the per-agent
    dashboard of a live run (parallel agents never share a line); returns an exit code."""
    from .display import attach_dashboard

    try:
        recording = Recorder.load(path)
        for run_id in recording.runs:
            run = replay(recording, run_id, speed=speed)
            attach_dashboard(run)
            run.result()
    except (FileNotFoundError, ValueError) as exc:
        print(f"nbswarm replay: {exc}", file=sys.stderr)
        return 2
    return 0


def _events(source: Source, run_id: str | None) -> list[Event]:
    """The chosen run's events, in stream order."""
    if isinstance(source, (str, Path)):
        events = Recorder.load(source).events()
    elif isinstance(source, Recorder):
        events = source.events()
    elif isinstance(source, pd.DataFrame):
        events = _frame.from_frame(source)
    elif isinstance(source, Run):
        events = list(source.events)
    elif isinstance(source, Iterable) and not isinstance(source, bytes):
        events = list(source)
        bad = next((e for e in events if not isinstance(e, tuple(EVENT_TYPES.values()))), None)
        if bad is not None:
            raise TypeError(f"replay() takes nbswarm events, got a {type(bad).__name__}")
    else:
        raise TypeError(
            f"replay() takes a Recorder, a DataFrame, a path, a Run or events, got {type(source).__name__}"
        )
    runs = list(dict.fromkeys(e.run_id for e in events))
    if run_id is None:
        if len(runs) > 1:
            raise ValueError(f"the recording holds {len(runs)} runs: pass run_id= one of {runs}")
        if not runs:
            raise ValueError("nothing to replay: the recording has no events")
    elif run_id not in runs:
        raise KeyError(f"no run {run_id!r} in the recording; runs: {runs}")
    else:
        events = [e for e in events if e.run_id == run_id]
    return sorted(events, key=lambda e: e.seq)
