"""Where a sweep's runs execute: building each run, and (in a worker process or Ray actor) running many
of them on one event loop and shipping their events to the driver in coalesced batches.

The same code runs every backend's runs, so a sweep gives the same events on all of them. A worker
never retries: it reports what it ran; the driver decides (see ``_remote``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from ..events import EVENT_TYPES, End, Error, Event, Metadata, Start, Usage
from ..run import Run
from ._spec import RunSpec

__all__ = ["Batch", "Batcher", "build_run", "run_specs"]

COALESCE = 0.05
"""Seconds between batches from one worker: the first event after a quiet spell goes at once."""
MAX_BATCH = 5000
"""Events in one batch at most (a batch stays ~100-500 kB on the wire)."""


@dataclass
class Batch:
    """What a worker sends: events of many runs, the wall starts of runs they open, runs finished."""

    events: list[Event] = field(default_factory=list)
    wall_starts: dict[str, float] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)
    """Run ids whose body has returned (each after its last event)."""
    started: dict[str, str] = field(default_factory=dict)
    """Run id -> where it runs (``host:pid``), for runs started since the last batch."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_batch, (_encode(self.events), self.wall_starts, self.finished, self.started))


# Events travel as (class number, field values) tuples: pickling a frozen slotted dataclass goes
# through dataclasses' __setstate__, which looks up the fields for every object (~6-9 µs an event in
# the driver, the shared ceiling of every backend). Rebuilding sets the slots directly, with one
# small function per event class (unrolled, as dataclasses writes its own __init__).
_CLASSES = tuple(EVENT_TYPES.values())
_CODES = {cls: code for code, cls in enumerate(_CLASSES)}
_GETTERS = [attrgetter(*(f.name for f in dataclasses.fields(cls))) for cls in _CLASSES]


def _maker(cls: type) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    scope = {
        "new": object.__new__,
        "cls": cls,
        **{f"s{i}": getattr(cls, n).__set__ for i, n in enumerate(names)},
    }
    body = "".join(f"    s{i}(e, v[{i}])\n" for i in range(len(names)))
    exec(f"def make(v):\n    e = new(cls)\n{body}    return e\n", scope)
    return scope["make"]


_MAKERS = [_maker(cls) for cls in _CLASSES]


def _encode(events: list[Event]) -> list[tuple[int, tuple[Any, ...]]]:
    codes, getters = _CODES, _GETTERS
    return [(code, getters[code](event)) for event in events for code in (codes[type(event)],)]


def _batch(rows: list[tuple[int, tuple[Any, ...]]], *rest: Any) -> Batch:
    makers = _MAKERS
    return Batch([makers[code](values) for code, values in rows], *rest)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def build_run(make: Callable[[dict[str, Any]], Any], spec: RunSpec, cache: Any = None) -> Run:
    """The (not started) Run of ``spec``: ``make(variant).stream(task, run_id=spec.run_id)``, quiet.

    If ``make`` fails, or does not give an Agent or workflow, the attempt is still a run: one that
    ends ``failed`` with the error, so every attempt has a complete stream.
    """
    try:
        target = make(dict(spec.variant))
        stream = getattr(target, "stream", None)
        if not callable(stream):
            raise TypeError(f"make(variant) must return an Agent or workflow, got {type(target).__name__}")
        agents = _agents_of(target)
        _quiet(target, agents)
        if cache is not None:
            cache.install(agents)
        run = stream(spec.task, run_id=spec.run_id)
        if not isinstance(run, Run):
            raise TypeError(f"{type(target).__name__}.stream() did not return a Run")
    except Exception as exc:
        run = Run(_failed_body(exc, spec), run_id=spec.run_id)
    if run.status != "pending":
        raise RuntimeError("make(variant).stream(task) gave a run that had already started")
    return run


def _agents_of(target: Any) -> list[Any]:
    agents = getattr(target, "agents", None)
    return list(agents) if agents is not None else [target]


def _quiet(target: Any, agents: list[Any]) -> None:
    """The sweep shows every run in its own view: switch off the agents' own printing and dashboards."""
    for obj in (target, *agents):
        if hasattr(obj, "print_on"):
            obj.print_on = False
        if hasattr(obj, "show_dashboard"):
            obj.show_dashboard = False


def _failed_body(exc: BaseException, spec: RunSpec) -> Callable[[Run], Any]:
    async def body(run: Run) -> None:
        run.emit(
            Metadata, job_id=run.run_id, name=f"item {spec.item}", swarm_type="Agent", number_of_agents=0
        )
        run.emit(Start, status="running")
        run.emit(Error, agent=None, error_type=type(exc).__name__, message=f"make(variant) failed: {exc}")
        run.emit(Usage, agent=None)
        run.emit(End, execution_time=0.0, output="", status="failed")

    return body


class Batcher:
    """A sink for many runs that hands ``send`` one batch at a time: at once after a quiet spell,
    then at most one per ``interval`` while events keep coming (on the worker's event loop)."""

    def __init__(self, send: Callable[[Batch], None], interval: float = COALESCE) -> None:
        self._send = send
        self._interval = interval
        self._batch = Batch()
        self._last = 0.0
        self._timer: asyncio.Handle | None = None
        self._loop = asyncio.get_running_loop()
        self._runs: dict[str, Run] = {}  # started, first event not seen yet

    def __call__(self, event: Event) -> None:
        batch = self._batch
        if event.seq == 0:  # the run's clock, not the delivery: sinks may get events a bit later
            run = self._runs.pop(event.run_id, None)
            batch.wall_starts[event.run_id] = time.time() - (run.elapsed() if run is not None else event.t)
        batch.events.append(event)
        if len(batch.events) >= MAX_BATCH:
            self.send_now()
        else:
            self._schedule()

    def started(self, run: Run, where: str) -> None:
        self._runs[run.run_id] = run
        self._batch.started[run.run_id] = where
        self._schedule()

    def finished(self, run_id: str) -> None:
        self._batch.finished.append(run_id)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None:
            wait = self._interval - (time.monotonic() - self._last)
            if wait <= 0:
                self._timer = self._loop.call_soon(self.send_now)  # same-tick events join this batch
            else:
                self._timer = self._loop.call_later(wait, self.send_now)

    def send_now(self) -> None:
        """Hand over what is waiting. (Not named ``flush``: a Run calls its sinks' ``flush`` every
        40 ms, once per run -- a hundred runs would cut the batches a hundred times finer.)"""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = self._batch
        if batch.events or batch.finished or batch.started:
            self._batch = Batch()
            self._last = time.monotonic()
            self._send(batch)


class WorkerRuns:
    """The runs one worker is executing, so they can be cancelled cooperatively."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.cancelled = False

    def cancel(self) -> int:
        self.cancelled = True
        for run in list(self.runs.values()):
            run.cancel()
        return len(self.runs)


async def run_specs(
    make: Callable[[dict[str, Any]], Any],
    specs: list[RunSpec],
    batcher: Batcher,
    state: WorkerRuns,
    *,
    concurrency: int,
    cache: Any = None,
    where: str | None = None,
) -> None:
    """Run ``specs``, at most ``concurrency`` at a time, every event into ``batcher``; then send the rest."""
    # The driver's NBSWARM_*/LITELLM_* settings as they are now (a worker outlives a sweep).
    os.environ.update(specs[0].env if specs else {})
    where = where or worker_name()
    limit = asyncio.Semaphore(concurrency)

    async def one(spec: RunSpec) -> None:
        async with limit:
            if not state.cancelled:
                run = build_run(make, spec, cache)
                state.runs[spec.run_id] = run
                batcher.started(run, where)
                run.add_sink(batcher)
                try:
                    await run
                except asyncio.CancelledError:
                    if not (run.done and state.cancelled):  # a cancelled run may re-raise: it ended
                        raise
                except Exception:  # the body failed outside any agent: the driver closes the run
                    pass
                finally:
                    state.runs.pop(spec.run_id, None)
            batcher.finished(spec.run_id)

    try:
        await asyncio.gather(*(one(spec) for spec in specs))
    finally:
        batcher.send_now()
