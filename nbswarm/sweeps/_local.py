"""The local backend: every run on nbswarm's engine loop in this process (no new dependency).

Each run's events go straight to the Recorder and the tracker as run sinks, inline on the engine
loop: nothing is serialized and nothing can be lost. One core carries ~500 concurrent streaming sim
agents, or ~35-40 real-model ones (litellm's per-chunk cost), see the README.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from .. import _engine_loop
from ..events import Event
from ..run import Run
from ._tracker import WORKER_LOST
from ._worker import build_run

if TYPE_CHECKING:
    from ._api import Sweep

__all__ = ["LocalBackend"]


class _Sink:
    """One run's events to the Recorder and the tracker; the run's wall start from its own clock
    (events reach sinks in batches, so the first one's arrival is a little late for that)."""

    def __init__(self, run: Run, recorder: Any, tracker: Any) -> None:
        self.run, self.recorder, self.tracker = run, recorder, tracker
        self.first = True

    def __call__(self, event: Event) -> None:
        if self.first:
            self.first = False
            self.recorder.add_batch([], {event.run_id: time.time() - self.run.elapsed()})
        self.recorder(event)
        self.tracker(event)

    def flush(self) -> None:
        self.recorder.flush()

    def close(self) -> None:
        self.recorder.close()


class LocalBackend:
    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self.runs: dict[str, Run] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._loop = _engine_loop.get_loop()
        self._future: Any = None

    def start(self) -> None:
        self._future = _engine_loop.submit(self._main())
        self._future.add_done_callback(self._ended)

    def _ended(self, future: Any) -> None:
        error = None if future.cancelled() else future.exception()
        self.sweep.finished(error)

    async def _main(self) -> None:
        sw = self.sweep
        limit = asyncio.Semaphore(sw.concurrency)
        for spec in sw.specs:
            await limit.acquire()
            if not sw.may_start():
                limit.release()
                sw.tracker.skip(spec.run_id)
                continue
            task = asyncio.get_running_loop().create_task(self._one(spec))
            self.tasks.add(task)
            task.add_done_callback(lambda t: (limit.release(), self.tasks.discard(t)))
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _one(self, spec: Any) -> None:
        sw = self.sweep
        run = build_run(sw.make, spec, sw.cache)
        self.runs[spec.run_id] = run
        run.add_sink(_Sink(run, sw.recorder, sw.tracker))
        sw.tracker.started(spec.run_id, "local")
        try:
            await run
        except asyncio.CancelledError:  # stopped hard: close what it emitted
            self._close(spec.run_id, "Cancelled", "the sweep was cancelled", "cancelled")
            raise
        except Exception as exc:  # the body failed outside any agent
            self._close(spec.run_id, type(exc).__name__, str(exc), "failed")
        else:
            self._close(spec.run_id, WORKER_LOST, "the run ended without an end event", "failed")

    def _close(self, run_id: str, reason: str, message: str, status: str) -> None:
        events = self.sweep.tracker.close_run(run_id, reason, message, status)
        if events:
            self.sweep.recorder.add_batch(events)

    def cancel(self, hard: bool = False) -> None:
        def stop() -> None:
            if hard:
                for task in list(self.tasks):
                    task.cancel()
            else:
                for run in list(self.runs.values()):
                    run.cancel()

        self._loop.call_soon_threadsafe(stop)

    def local_run(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)
