"""A Run: the one ordered event stream of one agent or workflow execution, and its lifecycle.

A Run owns the stream, not the work: a *body* coroutine (an agent turn, a
workflow engine, a replay, a remote SSE stream) produces events through
``emit``. Three parts share the job:

* the event log (``_eventlog.EventLog``) stamps (``run_id``, ``seq``, ``t``),
  keeps every event and the state derived from them;
* the fan-out (``_fanout.Fanout``) calls the sinks (callbacks, printer,
  recorder, live view) in order, isolating failures, with ``flush``/``close``;
* this module is the one driver.

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

import asyncio
import concurrent.futures
import contextvars
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any

from . import _engine_loop
from ._eventlog import EventLog
from ._fanout import FLUSH_INTERVAL, Fanout, Sink
from .events import Chunk, End, Error, Event

__all__ = ["FLUSH_INTERVAL", "Run", "Sink", "on_run_created", "runs_created_here"]

logger = logging.getLogger("nbswarm")

Body = Callable[["Run"], Awaitable[None]]

SINK_ERROR = "CallbackError"
"""The ``error_type`` of the error event a failing sink becomes."""

BATCH_WINDOW = 0.002
"""Seconds the body's loop gathers new events before waking the consumer: one wake-up per batch."""

CLOSE_TIMEOUT = 5.0
"""Seconds ``close()`` waits for a cancelled body to wind down."""

WAIT_SLICE = 1.0
"""A consumer with nothing to flush re-checks the run at least this often."""

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


class Run:
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
        self._start_lock = threading.Lock()
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._private: _engine_loop.PrivateLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancel_requested = False
        self._finished = False
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._exception: BaseException | None = None
        self._pump_on_loop = False
        self._ticking = False
        self._notify_pending = False
        self._wake = threading.Event()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        for sink in sinks:
            self.add_sink(sink)
        for hook in (*_created_hooks, *_context_hooks.get()):
            hook(self)

    # -- producing (on the body's loop) -------------------------------------------------------

    def emit(self, cls: type[Event], **fields: Any) -> Event:
        """Stamp and append a new event; producers call this from the body."""
        log = self._log
        with log.lock:  # inlined EventLog.append: this is the per-chunk hot path
            events = log.events
            event = cls(run_id=self.run_id, seq=len(events), t=log.clock() - log.t0, **fields)
            events.append(event)
        if cls is not Chunk:
            log.observe(event)
        if not self._notify_pending and self._loop is not None:
            self._notify_pending = True
            try:
                if threading.get_ident() == self._loop_thread:
                    self._loop.call_later(BATCH_WINDOW, self._notify)
                else:
                    self._loop.call_soon_threadsafe(self._notify)
            except RuntimeError:  # the loop is closed: the run is over, its consumer reads the log
                self._notify_pending = False
        return event

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

    def cancel(self) -> None:
        """Ask the body to stop; agents end as ``cancelled`` and every event so far is kept."""
        self._cancel_requested = True
        loop = self._loop
        if loop is None:
            return
        if asyncio._get_running_loop() is loop:
            self._cancel_task()
        else:
            with suppress(RuntimeError):  # loop closed: the body is over
                loop.call_soon_threadsafe(self._cancel_task)

    def close(self) -> None:
        """Cancel the body if it is still going, wait for it (bounded), and close every sink."""
        if self._close_unstarted():
            return
        self.cancel()
        if threading.get_ident() == self._loop_thread:  # cannot wait for our own thread: hand over
            self._go_background()
            return
        concurrent.futures.wait([self._done], CLOSE_TIMEOUT)
        self._settle()

    async def aclose(self) -> None:
        """``close()`` for ``await``: cancel, wait for the body to wind down, close every sink."""
        if self._close_unstarted():
            return
        self.cancel()
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._done)), CLOSE_TIMEOUT)
        self._settle()

    def _ipython_display_(self) -> None:
        """In a notebook, a Run shows itself as its live view (and starts, if nothing started it)."""
        from .display import ipython_display

        ipython_display(self)

    def __repr__(self) -> str:
        metadata = self._log.metadata
        name = metadata.name if metadata else "?"
        return f"<Run {self.run_id} {name!r} {self.status} events={len(self._log.events)}>"

    # -- the driver ---------------------------------------------------------------------------

    def _start(self, face: str) -> None:
        """Start the body once, on the right loop (``face``: sync, async or background)."""
        with self._start_lock:
            if self._started:
                if face == "sync" and threading.get_ident() == self._loop_thread and not self._finished:
                    raise RuntimeError(
                        "this run's body runs on this thread's loop: waiting for it here would "
                        "deadlock. Use `await run` (or `async for`) instead."
                    )
                if face == "background":
                    self._go_background()
                return
            self._started = True
            self._log.restart_clock()
            running = asyncio._get_running_loop()
            if _engine_loop.on_our_loop() and face == "sync":
                self._private = _engine_loop.PrivateLoop()  # nested sync run: never wait for ourselves
                loop = self._private.loop
            elif _engine_loop.on_our_loop() and running is not None:
                loop = running
            else:
                loop = _engine_loop.get_loop()
            self._loop = loop
            self._pump_on_loop = face == "background"
            if running is loop:
                self._launch()
            else:
                loop.call_soon_threadsafe(self._launch)

    def _launch(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._task = loop.create_task(self._execute(), context=self._context)
        if self._pump_on_loop:
            self._tick()

    async def _execute(self) -> None:
        cancelled = False
        try:
            if self._cancel_requested:
                raise asyncio.CancelledError
            await self._body(self)
        except asyncio.CancelledError:
            cancelled = True
        except BaseException as exc:  # the body failed outside any agent: result() raises it
            self._exception = exc
            logger.debug("nbswarm run %s: the body raised %r", self.run_id, exc)
        finally:
            if cancelled and self._log.end is None:
                self._log.append(End, {"execution_time": self.elapsed(), "output": "", "status": "cancelled"})
            self._finished = True
            self._notify()
            self._done.set_result(None)

    def _cancel_task(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _notify(self) -> None:
        """Wake whoever consumes the run (on the body's loop, once per batch)."""
        self._notify_pending = False
        if self._pump_on_loop:
            self._deliver()
            if self._finished and self._fanout.delivered >= len(self._log.events):
                self._fanout.close()
        self._wake.set()
        waiter = self._waiter
        if waiter is not None:
            loop, event = waiter
            if asyncio._get_running_loop() is loop:
                event.set()
            else:
                with suppress(RuntimeError):
                    loop.call_soon_threadsafe(event.set)

    def _go_background(self) -> None:
        """Nobody waits for this run any more: its own loop delivers to the sinks from now on."""
        self._pump_on_loop = True
        if self._loop is not None and not self._ticking:
            try:
                self._loop.call_soon_threadsafe(self._tick)
            except RuntimeError:
                self._settle()

    def _tick(self) -> None:
        """On the body's loop: deliver, flush when due, and close the sinks after the end."""
        self._ticking = True
        self._deliver()
        if self._finished and self._fanout.delivered >= len(self._log.events):
            self._ticking = False
            self._fanout.close()
        elif self._loop is not None:
            self._loop.call_later(FLUSH_INTERVAL, self._tick)

    def _deliver(self) -> int:
        delivered = self._fanout.pump(self._log.events)
        self._fanout.maybe_flush()
        return delivered

    def _settle(self) -> None:
        """After the body ended (or was given up on): deliver the rest and close, or hand over."""
        if self._finished:
            self._deliver()
            self._fanout.close()
            self._stop_private()
        else:
            self._go_background()

    def _stop_private(self) -> None:
        if self._private is not None and self._finished:
            private, self._private = self._private, None
            private.stop()

    def _close_unstarted(self) -> bool:
        """Closing a run that never started: it ends as cancelled at once, with no body."""
        with self._start_lock:
            if self._started:
                return False
            self._started = True
        self._log.append(End, {"execution_time": 0.0, "output": "", "status": "cancelled"})
        self._finished = True
        self._done.set_result(None)
        self._deliver()
        self._fanout.close()
        return True

    def _iterate(self) -> Iterator[Event]:
        self._start("sync")
        events = self._log.events
        index = 0
        complete = False
        try:
            while True:
                self._wake.clear()
                finished = self._finished  # read first: every event it implies is in the log
                delivered = self._deliver()
                while index < delivered:
                    yield events[index]
                    index += 1
                if finished and delivered >= len(events):
                    self._fanout.close()
                    self._stop_private()
                    complete = True
                    return
                self._wake.wait(FLUSH_INTERVAL if self._fanout.flushes else WAIT_SLICE)
        finally:  # break, an exception in the loop body, KeyboardInterrupt: stop the body
            if not complete:
                self.close()

    async def _aiterate(self) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        self._waiter = (loop, wake)
        self._start("async")
        events = self._log.events
        index = 0
        complete = False
        try:
            while True:
                wake.clear()
                finished = self._finished
                delivered = self._deliver()
                while index < delivered:
                    yield events[index]
                    index += 1
                if finished and delivered >= len(events):
                    self._fanout.close()
                    complete = True
                    return
                with suppress(TimeoutError):
                    await asyncio.wait_for(
                        wake.wait(), FLUSH_INTERVAL if self._fanout.flushes else WAIT_SLICE
                    )
        finally:
            if self._waiter is not None and self._waiter[1] is wake:
                self._waiter = None
            if not complete:
                await self.aclose()

    async def _aresult(self) -> str:
        async for _ in self:
            pass
        return self._final()

    def _final(self) -> str:
        if self._exception is not None:
            raise self._exception
        end = self._log.end
        return end.output if end is not None else ""

    def _sink_failed(self, event: Event | None, message: str) -> None:
        # Appended without waking anyone: the pump that called the sink delivers it next.
        self._log.append(
            Error, {"agent": getattr(event, "agent", None), "error_type": SINK_ERROR, "message": message}
        )
