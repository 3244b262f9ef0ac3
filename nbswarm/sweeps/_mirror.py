"""A remote run as a local Run: what arrived so far, then each batch as it comes (for the live view)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..events import Event
from ..run import Run

if TYPE_CHECKING:
    from ._api import Sweep

__all__ = ["mirror_run"]

IDLE_TIMEOUT = 3600.0
"""A mirror stops waiting after an hour without a single event of its run."""


def mirror_run(sweep: Sweep, run_id: str) -> Run:
    """A Run that re-emits the events of ``run_id`` (times are the mirror's own clock)."""
    tracker, recorder = sweep.tracker, sweep.recorder

    async def body(run: Run) -> None:
        loop = asyncio.get_running_loop()
        arrived: asyncio.Queue[list[Event]] = asyncio.Queue()
        with tracker.lock:  # the driver records and notifies under this lock: nothing falls between
            past = recorder.events(run_id) if run_id in recorder.runs else []
            closed = tracker.rows[run_id].closed
            if not closed:
                tracker.watch(run_id, lambda events: loop.call_soon_threadsafe(arrived.put_nowait, events))
        last = -1
        for event in past:
            run.forward(event)
            last = event.seq
        while not closed:
            events = await asyncio.wait_for(arrived.get(), IDLE_TIMEOUT)
            for event in events:
                if event.seq > last:
                    run.forward(event)
                    last = event.seq
                    closed = closed or event.type == "end"

    return Run(body, run_id=run_id)
