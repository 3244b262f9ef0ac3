"""A Run: the one ordered event stream of one agent or workflow execution.

A Run owns the stream, not the work: a *body* coroutine (an agent turn, a
workflow engine, a replay, a remote SSE stream) produces events through
``emit``; the Run stamps them (``run_id``, ``seq``, ``t``), keeps them all,
and fans them out, in order, to its sinks (callbacks, printer, recorder, live
view). It can be driven two ways:

* sync (``result()``, ``for ev in run``): the body runs on nbswarm's engine
  loop in a background thread and the sinks run in the *calling* thread, so
  this works inside a Jupyter kernel, whose main thread already runs a loop;
* async (``await run``, ``async for ev in run``): the body runs on the
  current loop and sinks are called inline.

A sink is any callable taking an event. It may also have ``flush()``, called
at most every ``FLUSH_INTERVAL`` seconds while events arrive (so a display
can coalesce), and ``close()``, called once after the last event. A sink
that raises never stops the run or the other sinks: its first failure
becomes an ``error`` event and a logged warning. (Sinks of a sync run lag
the producer, so such an ``error`` may come after ``end``; it is still
delivered to every sink and kept in ``events``.)
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import Any

from . import _engine_loop
from .events import AgentEnd, Chunk, End, Error, Event, Metadata, Usage

__all__ = ["FLUSH_INTERVAL", "Run", "Sink", "on_run_created"]

logger = logging.getLogger("nbswarm")

Sink = Callable[[Event], Any]
Body = Callable[["Run"], Awaitable[None]]

FLUSH_INTERVAL = 0.04
"""Seconds between ``flush()`` calls on sinks: at most 25 display updates per second."""

SINK_ERROR = "CallbackError"
"""The ``error_type`` of the error event a failing sink becomes."""

_created_hooks: list[Callable[[Run], None]] = []


def on_run_created(hook: Callable[[Run], None]) -> Callable[[], None]:
    """Call ``hook(run)`` for every Run created from now on; returns a function that stops it."""
    _created_hooks.append(hook)

    def remove() -> None:
        if hook in _created_hooks:
            _created_hooks.remove(hook)

    return remove


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
        self._clock = clock or time.perf_counter
        self._t0 = 0.0
        self._events: list[Event] = []
        self._emit_lock = threading.Lock()
        self._sinks: list[Sink] = []
        self._flushable: list[Sink] = []
        self._dispatch_lock = threading.RLock()
        self._dispatched = 0
        self._dispatching = False
        self._failed_sinks: dict[int, int] = {}
        self._closed = False
        self._mode: str | None = None  # None (not started), "thread" or "inline"
        self._finished = False
        self._exception: BaseException | None = None
        self._wake = threading.Event()
        self._async_wake: asyncio.Event | None = None
        self._future: Any = None
        self._task: asyncio.Task[None] | None = None
        self._last_flush = 0.0
        self._flush_timer: asyncio.TimerHandle | None = None
        # Derived state, updated from events as they are emitted.
        self.metadata: Metadata | None = None
        self.outputs: dict[str, str] = {}
        self.turns: list[AgentEnd] = []
        self.errors: list[Error] = []
        self.usage: Usage | None = None
        self.end: End | None = None
        for sink in sinks:
            self.add_sink(sink)
        for hook in list(_created_hooks):
            hook(self)

    # -- producing ---------------------------------------------------------

    def emit(self, cls: type[Event], **fields: Any) -> Event:
        """Stamp and append a new event; producers call this from the body."""
        with self._emit_lock:
            event = cls(run_id=self.run_id, seq=len(self._events), t=self._clock() - self._t0, **fields)
            self._events.append(event)
        if cls is not Chunk:  # chunks change no derived state: keep the hot path short
            self._observe(event)
        if self._mode == "inline":
            self._dispatch()
            self._flush_inline()
            if self._async_wake is not None:
                self._async_wake.set()
        elif not self._wake.is_set():
            self._wake.set()
        return event

    def forward(self, event: Event) -> Event:
        """Re-emit an event from elsewhere (a recording, a remote stream) as this run's own."""
        fields = {name: getattr(event, name) for name in event.__dataclass_fields__}
        for name in ("run_id", "seq", "t", "type"):
            del fields[name]
        return self.emit(type(event), **fields)

    def _observe(self, event: Event) -> None:
        if isinstance(event, AgentEnd):
            self.outputs[event.agent] = event.output
            self.turns.append(event)
        elif isinstance(event, Error):
            self.errors.append(event)
        elif isinstance(event, Usage) and event.agent is None:
            self.usage = event
        elif isinstance(event, Metadata):
            self.metadata = event
        elif isinstance(event, End):
            self.end = event

    # -- consuming ---------------------------------------------------------

    @property
    def events(self) -> Sequence[Event]:
        """Every event emitted so far, in order."""
        return tuple(self._events)

    @property
    def status(self) -> str:
        """``pending``, ``running``, or the ``end`` event's status."""
        if self.end is not None:
            return self.end.status
        return "pending" if self._mode is None else "running"

    @property
    def agent_errors(self) -> list[Error]:
        """The errors of agents and their models, leaving out failing sinks (``CallbackError``)."""
        return [error for error in self.errors if error.error_type != SINK_ERROR]

    @property
    def done(self) -> bool:
        """Whether the body has finished (every event has been emitted)."""
        return self._finished

    def elapsed(self) -> float:
        """Seconds since the run started, on the run's clock."""
        return self._clock() - self._t0

    def add_sink(self, sink: Sink) -> None:
        """Send every event to ``sink``: first those already delivered, then the rest as they come."""
        if not callable(sink):
            raise TypeError(f"a sink must be callable with one event, got {type(sink).__name__}")
        with self._dispatch_lock:
            for event in self._events[: self._dispatched]:
                self._call(sink, event)
            self._sinks.append(sink)
            if callable(getattr(sink, "flush", None)):
                self._flushable.append(sink)
            if self._closed:
                self._close_sink(sink)

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

    def cancel(self) -> None:
        """Cancel the body; agents end as ``cancelled`` and every event so far is kept."""
        if self._future is not None:
            self._future.cancel()
        if self._task is not None:
            self._task.cancel()

    def _ipython_display_(self) -> None:
        """In a notebook, a Run shows itself as its live view."""
        from .display import ipython_display

        ipython_display(self)

    def __repr__(self) -> str:
        name = self.metadata.name if self.metadata else "?"
        return f"<Run {self.run_id} {name!r} {self.status} events={len(self._events)}>"

    # -- driving -------------------------------------------------------------

    async def _execute(self) -> None:
        try:
            await self._body(self)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the body failed outside any agent: keep it for result()
            self._exception = exc
            logger.error("run %s failed: %r", self.run_id, exc)
        finally:
            self._finished = True
            if self._mode == "inline":
                self._dispatch()
                self._close_sinks()
                if self._async_wake is not None:
                    self._async_wake.set()
            else:
                self._wake.set()

    def _start(self, mode: str) -> None:
        if self._mode is not None:
            if self._mode != mode and not self._finished:
                raise RuntimeError(
                    "this run is already being driven "
                    + (
                        "by an event loop: use `await run` or `async for`"
                        if mode == "thread"
                        else "synchronously"
                    )
                )
            return
        self._mode = mode
        self._t0 = self._clock()
        if mode == "thread":
            self._future = _engine_loop.submit(self._execute())
        else:
            self._async_wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._execute())

    def _iterate(self) -> Iterator[Event]:
        self._start("thread")
        index = 0
        try:
            while True:
                if self._mode == "thread":
                    self._dispatch()
                    self._maybe_flush()
                while index < self._dispatched:
                    yield self._events[index]
                    index += 1
                if self._finished and self._dispatched == len(self._events):
                    self._close_sinks()
                    break
                if self._mode == "thread":
                    self._wake.wait(FLUSH_INTERVAL if self._flushable else None)
                    self._wake.clear()
                else:  # finished inline run being replayed: nothing left to wait for
                    break
        except KeyboardInterrupt:
            self._interrupt()
            raise

    def _interrupt(self) -> None:
        """Cancel the body and deliver what it emitted while winding down."""
        self.cancel()
        deadline = time.monotonic() + 5.0
        while not self._finished and time.monotonic() < deadline:
            self._wake.wait(0.05)
            self._wake.clear()
        self._dispatch()
        if self._finished:
            self._close_sinks()

    async def _aiterate(self) -> AsyncIterator[Event]:
        self._start("inline")
        index = 0
        while True:
            while index < self._dispatched:
                yield self._events[index]
                index += 1
            if self._finished and index >= len(self._events):
                return
            if self._async_wake is None:  # finished threaded run: replay only
                return
            self._async_wake.clear()
            await self._async_wake.wait()

    async def _aresult(self) -> str:
        try:
            async for _ in self:
                pass
        except asyncio.CancelledError:
            self.cancel()
            raise
        return self._final()

    def _final(self) -> str:
        if self._exception is not None:
            raise self._exception
        return self.end.output if self.end is not None else ""

    # -- fan-out -----------------------------------------------------------

    def _dispatch(self) -> None:
        with self._dispatch_lock:
            if self._dispatching:  # a sink emitted (e.g. an error): the outer loop delivers it
                return
            self._dispatching = True
            try:
                sinks = self._sinks
                while self._dispatched < len(self._events):
                    event = self._events[self._dispatched]
                    self._dispatched += 1
                    for sink in sinks:
                        self._call(sink, event)
            finally:
                self._dispatching = False

    def _call(self, sink: Sink, event: Event) -> None:
        try:
            sink(event)
        except Exception as exc:
            self._sink_failed(sink, event, exc, "failed on a " + event.type + " event")

    def _sink_failed(self, sink: Sink, event: Event | None, exc: Exception, what: str) -> None:
        key = id(sink)
        count = self._failed_sinks.get(key, 0)
        self._failed_sinks[key] = count + 1
        if count:
            return
        target = getattr(sink, "callback", sink)  # adapters keep the user's function there
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        message = f"{name} {what}: {type(exc).__name__}: {exc}"
        logger.warning("nbswarm run %s: %s (the run goes on)", self.run_id, message)
        if not self._closed:  # may follow ``end``: sinks can lag the producer in a sync run
            self.emit(Error, agent=getattr(event, "agent", None), error_type=SINK_ERROR, message=message)

    def _maybe_flush(self) -> None:
        if not self._flushable:
            return
        now = time.monotonic()
        if now - self._last_flush < FLUSH_INTERVAL:
            return
        self._last_flush = now
        for sink in list(self._flushable):
            try:
                sink.flush()  # type: ignore[attr-defined]
            except Exception as exc:
                self._sink_failed(sink, None, exc, "failed to flush")

    def _flush_inline(self) -> None:
        """Async mode has no waiting consumer: flush when due, else once the interval has passed."""
        if not self._flushable or self._flush_timer is not None:
            return
        delay = FLUSH_INTERVAL - (time.monotonic() - self._last_flush)
        if delay <= 0:
            self._maybe_flush()
        else:
            self._flush_timer = asyncio.get_running_loop().call_later(delay, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_timer = None
        if not self._closed:
            self._maybe_flush()

    def _close_sinks(self) -> None:
        with self._dispatch_lock:
            if self._closed:
                return
            self._closed = True
            for sink in list(self._sinks):
                self._close_sink(sink)

    def _close_sink(self, sink: Sink) -> None:
        for method in ("flush", "close"):
            fn = getattr(sink, method, None)
            if callable(fn):
                try:
                    fn()
                except Exception as exc:
                    self._sink_failed(sink, None, exc, f"failed to {method}")
