"""The driver of the backends that run elsewhere (worker processes, Ray actors).

One driver thread hands chunks of attempts to workers, feeds the batches they send into the tracker
and the Recorder (one lock a batch), and owns failure: a worker that dies leaves its runs closed as
``failed`` at the seq they reached (partial text kept) and started again as new attempts, with new
run ids, on a live worker. Attempts of which nothing arrived are simply sent again. Retrying here
rather than in Ray/the pool is deliberate: a resumed LLM stream would be spliced (SCALE-OUT.md).
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from ._spec import RunSpec
from ._tracker import WORKER_LOST
from ._worker import Batch

if TYPE_CHECKING:
    from ._api import Sweep

__all__ = ["Pool", "RemoteDriver"]

logger = logging.getLogger("nbswarm")

Outcome = tuple[str, int, Any]
"""``("batch", chunk, Batch)``, ``("done", chunk, None)``, ``("lost", chunk, message)`` (its worker
died: run again) or ``("failed", chunk, message)`` (the chunk itself cannot run, e.g. ``make`` does
not unpickle there: running it again would fail again)."""

MAX_RESENDS = 3
"""Times an attempt of which nothing arrived is sent again before it counts as failed."""


class Pool(Protocol):
    """What the driver needs from a backend's workers."""

    def open_slots(self) -> int: ...
    def chunk_size(self) -> int: ...
    def submit(self, chunk: int, specs: list[RunSpec]) -> None: ...
    def poll(self, timeout: float) -> list[Outcome]: ...
    def cancel(self) -> None: ...
    def kill(self) -> None: ...
    def close(self) -> None: ...


class RemoteDriver:
    def __init__(self, sweep: Sweep, pool: Pool) -> None:
        self.sweep = sweep
        self.pool = pool
        self.pending: collections.deque[RunSpec] = collections.deque(sweep.specs)
        self.chunks: dict[int, list[RunSpec]] = {}
        self._ids = itertools.count()
        self._hard = threading.Event()
        self.lost_workers = 0
        self.resent: collections.Counter[str] = collections.Counter()

    def start(self) -> None:
        threading.Thread(target=self._main, name=f"nbswarm-{self.sweep.sweep_id}-driver", daemon=True).start()

    def cancel(self, hard: bool = False) -> None:
        if hard:
            self._hard.set()
        else:
            self.pool.cancel()

    def _main(self) -> None:
        error: BaseException | None = None
        try:
            self._loop()
        except BaseException as exc:
            logger.error("sweep %s: the driver failed: %r", self.sweep.sweep_id, exc)
            error = exc
        finally:
            try:
                self.pool.close()
            finally:
                self.sweep.finished(error)

    def _loop(self) -> None:
        sw = self.sweep
        killed = False
        while self.pending or self.chunks:
            if self._hard.is_set() and not killed:
                killed = True
                self.pool.kill()
            self._fill()
            for kind, chunk, value in self.pool.poll(0.05):
                if kind == "batch":
                    self._batch(value)
                elif kind == "done":
                    self._done(chunk)
                else:
                    self._lost(chunk, value, cancelled=killed, fatal=kind == "failed")
        if sw.cancelling:  # nothing in flight: whatever is left never started
            for spec in self.pending:
                sw.tracker.skip(spec.run_id)

    def _fill(self) -> None:
        sw, pool = self.sweep, self.pool
        while self.pending and pool.open_slots() > 0:
            size = pool.chunk_size()
            specs: list[RunSpec] = []
            while self.pending and len(specs) < size:
                spec = self.pending.popleft()
                if sw.may_start():
                    specs.append(spec)
                else:
                    sw.tracker.skip(spec.run_id)
            if not specs:
                return
            chunk = next(self._ids)
            self.chunks[chunk] = specs
            pool.submit(chunk, specs)

    def _batch(self, batch: Batch) -> None:
        sw = self.sweep
        tracker = sw.tracker
        with tracker.lock:  # a mirror (sw.run(i)) reads the recorder and subscribes under this lock
            for run_id, where in batch.started.items():
                tracker.started(run_id, where)
            if batch.events:
                kept = tracker.feed(batch.events)
                sw.recorder.add_batch(kept, batch.wall_starts)
                tracker.notify(kept)
            for run_id in batch.finished:
                row = tracker.rows.get(run_id)
                if row is None or row.closed:
                    continue
                if row.events == 0 and row.worker is None:
                    tracker.skip(run_id)  # cancelled before it started
                else:  # its body ended without ``end`` (failed outside any agent)
                    self._close(run_id, WORKER_LOST, "the run ended without an end event", "failed")

    def _done(self, chunk: int) -> None:
        specs = self.chunks.pop(chunk, [])
        open_ = [s for s in specs if not self.sweep.tracker.rows[s.run_id].closed]
        if open_:  # a worker that returned without reporting every run: treat them as lost
            self.chunks[chunk] = open_
            self._lost(chunk, "the worker returned before its runs ended", cancelled=False)

    def _lost(self, chunk: int, message: str, *, cancelled: bool, fatal: bool = False) -> None:
        """A chunk's worker died (or was stopped hard): close what ran, send again what did not."""
        sw = self.sweep
        tracker = sw.tracker
        self.lost_workers += not (cancelled or fatal)
        again: list[RunSpec] = []
        with tracker.lock:
            for spec in self.chunks.pop(chunk, []):
                row = tracker.rows[spec.run_id]
                if row.closed:
                    continue
                if row.events == 0 and row.worker is None and not fatal:
                    self.resent[spec.run_id] += 1
                    if cancelled:
                        tracker.skip(spec.run_id)
                    elif self.resent[spec.run_id] <= MAX_RESENDS:
                        again.append(spec)  # nothing of it arrived: the same attempt, sent again
                    else:
                        self._close(spec.run_id, WORKER_LOST, message, "failed")
                    continue
                if fatal:
                    self._close(spec.run_id, "SweepError", message, "failed")
                    continue
                if cancelled:
                    self._close(spec.run_id, "Cancelled", message, "cancelled")
                    continue
                self._close(spec.run_id, WORKER_LOST, message, "failed")
                if spec.attempt <= sw.retries and not sw.cancelling:
                    retry = spec.retry()
                    tracker.add(retry)
                    again.append(retry)
        logger.warning("sweep %s: %s; %d run(s) sent again", sw.sweep_id, message.splitlines()[0], len(again))
        self.pending.extendleft(reversed(again))

    def _close(self, run_id: str, reason: str, message: str, status: str) -> None:
        events = self.sweep.tracker.close_run(run_id, reason, message, status)
        if events:
            self.sweep.recorder.add_batch(events)
            self.sweep.tracker.notify(events)


def wait_until(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (for waits with nothing to wait on)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
