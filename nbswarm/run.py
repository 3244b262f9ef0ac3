"""A Run: the one ordered event stream of one agent or workflow execution, and its lifecycle.

A Run owns the stream, not the work: a *body* coroutine (an agent turn, a
workflow engine, a replay, a remote SSE stream) produces events through
``emit``. Three parts share the job:

* the event log (``_eventlog.EventLog``) stamps (``run_id``, ``seq``, ``t``),
  keeps every event and the state derived from them;
* the fan-out (``_fanout.Fanout``) calls the sinks (callbacks, printer,
  recorder, live view) in order, isolating failures, with ``flush``/``close``;
* the driver (``_driver.Driver``, which ``Run`` inherits) runs the body and
  hands the events to the consumer.

Which thread runs what:

* The **body always runs on an nbswarm loop**: the engine loop (a daemon
  thread, ``_engine_loop``), or -- when the caller is itself code running on
  an nbswarm loop -- that same loop (``await``, ``async for``) or a private
  loop in a fresh thread (a nested sync ``run()``), so nothing ever waits for
  its own thread. ``emit`` only appends and, once per batch window, wakes the
  consumer: the events reach the consumer in batches, not one wake-up each.
* **Sinks run where the run is consumed**: in the caller's thread for
  ``result()`` / ``for ev in run`` (so this works inside a Jupyter kernel,
  whose main thread already runs a loop); on the caller's loop for ``await
  run`` / ``async for``; on the body's loop for a run nobody waits for
  (``start()``, a displayed run, a consumer that left early).

Lifecycle, as openai-python's ``Stream`` and httpx: ``with run:`` /
``async with run:``, ``close()`` / ``aclose()``; leaving early (``break``, an
exception in the loop body, leaving the ``with``) cancels the body, which ends
with an ``end`` event of status ``cancelled``; every sink is then closed.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from ._driver import SINK_ERROR, Body, Driver
from ._eventlog import EventLog
from ._fanout import FLUSH_INTERVAL, Fanout, Sink
from .events import Error, Event

__all__ = ["FLUSH_INTERVAL", "Run", "Sink", "on_run_created", "runs_created_here"]

logger = logging.getLogger("nbswarm")

_created_hooks: list[Callable[[Run], None]] = []
_context_hooks: contextvars.ContextVar[tuple[Callable[[Run], None], ...]] = contextvars.ContextVar(
    "nbswarm_run_hooks", default=()
)


def on_run_created(hook: Callable[[Run], None]) -> Callable[[], None]:
    """Call ``hook(run)`` for every Run created anywhere in the process; returns a function that stops it."""
    _created_hooks.append(hook)

    def remove() -> None:
        if hook in _created_hooks:
            _created_hooks.remove(hook)

    return remove


@contextmanager
def runs_created_here(hook: Callable[[Run], None]) -> Iterator[None]:
    """Call ``hook(run)`` for Runs created in this context only (this thread or task, and the
    bodies of runs made in it), not in other threads: what ``nbswarm.record()`` uses."""
    token = _context_hooks.set((*_context_hooks.get(), hook))
    try:
        yield
    finally:
        _context_hooks.reset(token)


class Run(Driver):
    """One ordered, replayable stream of events, and the final result."""

    def __init__(
        self,
        body: Body,
        *,
        run_id: str | None = None,
        clock: Callable[[], float] | None = None,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self.run_id: str = run_id or uuid.uuid4().hex[:16]
        self._body = body
        self._log = EventLog(self.run_id, clock)
        self._fanout = Fanout(self._sink_failed, self.run_id)
        self._context = contextvars.copy_context()  # the body runs in its creator's context
        self._init_driver()
        for sink in sinks:
            self.add_sink(sink)
        for hook in (*_created_hooks, *_context_hooks.get()):
            hook(self)

    # -- producing (on the body's loop) -------------------------------------------------------

    def forward(self, event: Event) -> Event:
        """Re-emit an event from elsewhere (a recording, a remote stream) as this run's own."""
        fields = {name: getattr(event, name) for name in event.__dataclass_fields__}
        for name in ("run_id", "seq", "t", "type"):
            del fields[name]
        return self.emit(type(event), **fields)

    def elapsed(self) -> float:
        """Seconds since the run started, on the run's clock."""
        return self._log.elapsed()

    # -- derived state ------------------------------------------------------------------------

    @property
    def events(self) -> Sequence[Event]:
        """Every event emitted so far, in order."""
        return tuple(self._log.events)

    metadata = property(lambda self: self._log.metadata, doc="The ``metadata`` event, once emitted.")
    outputs = property(lambda self: self._log.outputs, doc="Each agent's output of its last turn.")
    turns = property(lambda self: self._log.turns, doc="Every ``agent_end`` so far.")
    errors = property(lambda self: self._log.errors, doc="Every ``error`` so far.")
    usage = property(lambda self: self._log.usage, doc="The run's total ``usage``, once emitted.")
    end = property(lambda self: self._log.end, doc="The ``end`` event, once emitted.")

    @property
    def status(self) -> str:
        """``pending``, ``running``, or the ``end`` event's status (``failed`` if the body raised)."""
        if self._log.end is not None:
            return self._log.end.status
        if self._finished:
            return "failed"
        return "running" if self._started else "pending"

    @property
    def agent_errors(self) -> list[Error]:
        """The errors of agents and their models, leaving out failing sinks (``CallbackError``)."""
        return [error for error in self._log.errors if error.error_type != SINK_ERROR]

    @property
    def started(self) -> bool:
        """Whether something started the run (iterating, awaiting, ``start()``, displaying it)."""
        return self._started

    @property
    def done(self) -> bool:
        """Whether the body has finished (every event has been emitted)."""
        return self._finished

    def add_sink(self, sink: Sink) -> None:
        """Send every event to ``sink``: first those already delivered, then the rest as they come."""
        self._fanout.add(sink, self._log.events)

    # -- consuming ----------------------------------------------------------------------------

    def start(self) -> Run:
        """Start the run without waiting for it; its sinks are fed on the engine loop. Returns the run."""
        self._start("background")
        return self

    def result(self) -> str:
        """Drive the run to its end and return the final output (works inside a running notebook loop)."""
        for _ in self:
            pass
        return self._final()

    def __iter__(self) -> Iterator[Event]:
        return self._iterate()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._aiterate()

    def __await__(self) -> Generator[Any, None, str]:
        return self._aresult().__await__()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Run:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _ipython_display_(self) -> None:
        """In a notebook, a Run shows itself as its live view (and starts, if nothing started it)."""
        from .display import ipython_display

        ipython_display(self)

    def __repr__(self) -> str:
        metadata = self._log.metadata
        name = metadata.name if metadata else "?"
        return f"<Run {self.run_id} {name!r} {self.status} events={len(self._log.events)}>"

    async def _aresult(self) -> str:
        async for _ in self:
            pass
        return self._final()

    def _final(self) -> str:
        if self._exception is not None:
            raise self._exception
        end = self._log.end
        return end.output if end is not None else ""
