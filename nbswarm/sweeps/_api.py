"""``nbswarm.sweep``: run every variant on every task, live, into one Recorder; compare the results.

A sweep returns at once. Its runs execute on a *backend* -- ``"local"`` (asyncio on nbswarm's engine
loop in this kernel: the default, ~500 concurrent sim streams a core, ~35-40 real-model streams),
``"process"`` (a pool of spawned worker processes on this machine) or ``"ray"`` (async actors on a Ray
cluster) -- and every event of every run comes back to the one Recorder, losslessly: the sweep's table
(one row per attempt) joins ``rec.df`` on ``run_id``.

Failures are handled here, not by the backend: a worker that dies leaves its runs closed as
``failed`` (partial text kept) and runs them again as new attempts with new run ids on a live
worker; ``(run_id, seq)`` makes a duplicate impossible. ``max_cost`` stops starting runs when the
money spent plus what the running ones are expected to cost reaches it, and cancels the running ones
once the spent money alone reaches it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidArgument
from ..recorder import Recorder
from ..run import Run
from ._cache import StreamCache, cache_of
from ._spec import RunSpec, check_make, items_of, tasks_of, variants_of
from ._tracker import Tracker

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BACKENDS", "Sweep", "sweep"]

BACKENDS = ("local", "process", "ray")
CANCEL_GRACE = 5.0
"""Seconds a cooperative cancel gets before runs are stopped hard (and closed by the driver)."""


def sweep(
    variants: Any,
    make: Callable[[dict[str, Any]], Any],
    task_or_tasks: str | list[str],
    *,
    backend: str = "local",
    recorder: Recorder | None = None,
    concurrency: int = 64,
    retries: int = 1,
    max_cost: float | None = None,
    cache: bool | str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    name: str | None = None,
) -> Sweep:
    """Run ``make(variant).stream(task)`` for every variant and task; returns a live ``Sweep`` at once.

    ``variants``: a list of dicts (``nbswarm.grid(...)``) or a DataFrame, one variant a row.
    ``make(variant)``: builds the Agent or workflow for one variant, where the run runs (a worker
    process or Ray actor for those backends: it must be picklable, a notebook function is).
    ``concurrency``: runs in flight at once, over all workers. ``retries``: new attempts of a run
    whose worker died. ``max_cost``: the budget in dollars. ``cache``: replay streams already
    recorded for the same (model, messages, options) instead of calling the model again -- ``None``
    (the default) caches real models and not the sim, ``True`` caches every model, ``False`` nothing,
    a path keeps the cache there. ``workers``: processes (default: CPUs) or Ray actors (default: the
    cluster's CPUs). ``ray_address``: ``None`` starts a local Ray; ``"auto"`` or an address joins one.
    """
    if backend not in BACKENDS:
        raise InvalidArgument(f"sweep(): backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if recorder is not None and not isinstance(recorder, Recorder):
        raise InvalidArgument(f"sweep(): recorder must be an nbswarm Recorder, got {type(recorder).__name__}")
    for label, value, low in (("concurrency", concurrency, 1), ("retries", retries, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidArgument(f"sweep(): {label} must be an integer >= {low}, got {value!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InvalidArgument(f"sweep(): workers must be a positive integer or None, got {workers!r}")
    if max_cost is not None and (isinstance(max_cost, bool) or not isinstance(max_cost, (int, float))):
        raise InvalidArgument(f"sweep(): max_cost must be a number of dollars or None, got {max_cost!r}")
    if max_cost is not None and max_cost <= 0:
        raise InvalidArgument(f"sweep(): max_cost must be above 0, got {max_cost!r}")
    if ray_address is not None and backend != "ray":
        raise InvalidArgument("sweep(): ray_address is for backend='ray'")
    variant_list = variants_of(variants)
    tasks = tasks_of(task_or_tasks)
    sweep_id = name or f"sw{uuid.uuid4().hex[:6]}"
    if not isinstance(sweep_id, str) or not sweep_id.replace("-", "").replace("_", "").isalnum():
        raise InvalidArgument(f"sweep(): name must be letters, digits, - or _, got {name!r}")
    columns = list(dict.fromkeys(k for v in variant_list for k in v))
    specs = items_of(sweep_id, variant_list, tasks)
    sw = Sweep(
        sweep_id,
        specs,
        check_make(make),
        columns,
        backend=backend,
        recorder=recorder if recorder is not None else Recorder(),
        concurrency=concurrency,
        retries=retries,
        max_cost=None if max_cost is None else float(max_cost),
        cache=cache_of(cache),
        workers=workers,
        ray_address=ray_address,
    )
    sw._start()
    return sw


class Sweep:
    """A sweep in progress or finished: ``wait()``, ``cancel()``, ``table``, ``run(i)``, ``recorder``."""

    def __init__(
        self,
        sweep_id: str,
        specs: list[RunSpec],
        make: Callable[[dict[str, Any]], Any],
        variant_columns: list[str],
        *,
        backend: str,
        recorder: Recorder,
        concurrency: int,
        retries: int,
        max_cost: float | None,
        cache: StreamCache | None,
        workers: int | None,
        ray_address: str | None,
    ) -> None:
        self.sweep_id = sweep_id
        self.backend_name = backend
        self.recorder = recorder
        self.make = make
        self.specs = specs
        self.variant_columns = variant_columns
        self.concurrency = concurrency
        self.retries = retries
        self.max_cost = max_cost
        self.cache = cache
        self.workers = workers
        self.ray_address = ray_address
        self.tracker = Tracker(specs)
        self.budget_hit = False
        self.cancelling = False
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._backend: Any = None
        self._started = time.monotonic()
        self._finished_at: float | None = None
        self._view: Any = None

    # -- control ---------------------------------------------------------------------------------

    def _start(self) -> None:
        if self.backend_name == "local":
            from ._local import LocalBackend

            self._backend = LocalBackend(self)
        elif self.backend_name == "process":
            from ._process import ProcessBackend

            self._backend = ProcessBackend(self)
        else:
            from ._ray import RayBackend

            self._backend = RayBackend(self)
        threading.Thread(target=self._monitor, name=f"nbswarm-{self.sweep_id}", daemon=True).start()
        self._backend.start()

    def may_start(self) -> bool:
        """Whether another run may start now (not cancelled, and the budget allows it)."""
        if self.cancelling:
            return False
        if self.max_cost is None:
            return True
        spent, running = self.tracker.running_cost()
        costs = [r.cost for r in self.tracker.rows.values() if r.status == "completed"]
        expected = running * (sum(costs) / len(costs) if costs else 0.0)
        if spent + expected >= self.max_cost:
            self.budget_hit = True
            return False
        return True

    def _monitor(self) -> None:
        """The sweep's own thread: the budget's hard stop and the progress view, ~4 times a second."""
        tracker = self.tracker
        while not self._done.is_set():
            tracker.changed.wait(0.25)
            tracker.changed.clear()
            if self.max_cost is not None and not self.cancelling:
                spent, _ = tracker.running_cost()
                if spent >= self.max_cost:
                    self.budget_hit = True
                    self.cancel()
            if self._view is not None:
                self._view.update()
            time.sleep(0.2)
        if self._view is not None:
            self._view.update()

    def finished(self, error: BaseException | None = None) -> None:
        """Called by the backend once every attempt is over (or it failed as a whole)."""
        self._error = error
        self._finished_at = time.monotonic()
        self._done.set()
        self.tracker.changed.set()

    def wait(self, timeout: float | None = None) -> Sweep:
        """Block until every run has ended; a kernel interrupt (Ctrl-C) cancels the sweep."""
        try:
            if not self._done.wait(timeout):
                raise TimeoutError(f"sweep {self.sweep_id} still running after {timeout} s")
        except KeyboardInterrupt:
            self.cancel()
            self._done.wait(CANCEL_GRACE * 2)
            raise
        if self._view is not None:
            self._view.update()  # the final figures, not the monitor's last tick
        if self._error is not None:
            raise self._error
        return self

    def cancel(self, grace: float = CANCEL_GRACE) -> None:
        """Stop: no new run starts; running ones are cancelled (each ends ``cancelled`` with its events),
        and after ``grace`` seconds whatever still runs is stopped hard and closed by the driver."""
        if self.cancelling or self._done.is_set():
            return
        self.cancelling = True
        self._backend.cancel()

        def hard() -> None:
            if not self._done.wait(grace):
                self._backend.cancel(hard=True)

        threading.Thread(target=hard, name=f"nbswarm-{self.sweep_id}-cancel", daemon=True).start()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def table(self) -> pd.DataFrame:
        """One row per attempt: variant columns, task, item, attempt, run_id, status, worker, ttft,
        duration, tokens, tokens/s, cost, events, error, output. Join with ``recorder.df`` on run_id."""
        return self.tracker.table(self.variant_columns)

    def progress(self) -> dict[str, Any]:
        """Runs by status, events, events/s, tokens and cost so far."""
        tracker = self.tracker
        elapsed = (self._finished_at or time.monotonic()) - self._started
        spent, _ = tracker.running_cost()
        return {
            **tracker.counts(),
            "events": tracker.events,
            "events_per_s": tracker.events / elapsed if elapsed > 0 else 0.0,
            "tokens": tracker.tokens,
            "cost": spent,
            "elapsed": elapsed,
            "gaps": sum(self.recorder.gaps.get(r, 0) for r in tracker.rows),
            "budget_hit": self.budget_hit,
        }

    def run(self, i: int | str) -> Run:
        """Row ``i`` of ``table`` (or a run id) as a Run to show in the live view, live or finished."""
        table = self.table
        if isinstance(i, str):
            if i not in set(table["run_id"]):
                raise KeyError(f"no run {i!r} in sweep {self.sweep_id}")
            run_id = i
        elif isinstance(i, int) and not isinstance(i, bool) and -len(table) <= i < len(table):
            run_id = table["run_id"].iloc[i]
        else:
            raise IndexError(f"sweep {self.sweep_id} has {len(table)} rows; got {i!r}")
        live = self._backend.local_run(run_id)
        if live is not None:
            return live
        from ._mirror import mirror_run

        return mirror_run(self, run_id)

    def plot(self, x: str = "duration", y: str = "cost", by: str | None = None) -> Figure:
        """Compare variants: ``y`` against ``x`` per run, and output length per variant (see ``_figures``)."""
        from ._figures import compare

        return compare(self, x=x, y=y, by=by)

    def side_by_side(self, axis: str, width: int = 60) -> Any:
        """Outputs of the values of one axis next to each other, one row per other combination."""
        from ._figures import side_by_side

        return side_by_side(self, axis, width=width)

    def _ipython_display_(self) -> None:
        from ._view import show_progress

        show_progress(self)

    def __repr__(self) -> str:
        p = self.progress()
        return (
            f"<Sweep {self.sweep_id} {self.backend_name} runs={len(self.specs)} completed={p['completed']} "
            f"failed={p['failed']} cancelled={p['cancelled']} running={p['running']} events={p['events']} "
            f"cost=${p['cost']:.4f}>"
        )
