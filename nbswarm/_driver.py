"""The one driver of a Run: where its body runs, how its events reach the consumer, its lifecycle.

Which thread runs what (``Run`` inherits this class; see ``nbswarm.run``):

* The body always runs on an nbswarm loop: the engine loop's thread, or -- when
  the caller is itself on an nbswarm loop -- that loop (async faces) or a
  private loop in a fresh thread (a nested sync ``run()``): nothing ever waits
  for its own thread (``_start`` is the one place that decides).
* ``emit`` runs on the body's loop: it appends to the log and, at most once per
  ``BATCH_WINDOW``, schedules ``_notify``, which wakes the consumer. The
  consumer then delivers every event that arrived meanwhile to the sinks in one
  pump: a wake-up per batch, not per chunk.
* The consumer is the caller's thread (``_iterate``: ``result()``, ``for``), the
  caller's loop (``_aiterate``: ``await``, ``async for``), or, for a run nobody
  waits for (``start()``, a displayed run, a consumer that left), the body's own
  loop (``_tick``).
* Leaving early (``break``, an exception in the loop body, ``close()``, leaving
  ``with``) cancels the body, waits for it (bounded by ``CLOSE_TIMEOUT``),
  delivers the rest and closes every sink.

A consumer in another thread needs the GIL, and a busy loop (hundreds of agents)
releases it in every ``select`` and takes it back before the woken consumer runs,
which could starve the consumer for hundreds of ms. So when a consumer has not
looked at the log for ``STARVED_AFTER``, the loop waits for it to run, at most
``HANDOFF_TIMEOUT`` -- unless the consumer is away in the caller's own code (the
body of ``for ev in run``), which may be slow on purpose.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from . import _engine_loop
from ._eventlog import EventLog, new_chunk
from ._fanout import FLUSH_INTERVAL, Fanout
from .events import Chunk, End, Error, Event

if TYPE_CHECKING:
    from .run import Run

__all__ = ["BATCH_WINDOW", "CLOSE_TIMEOUT", "SINK_ERROR", "Driver"]

logger = logging.getLogger("nbswarm")

Body = Callable[["Run"], Awaitable[None]]

SINK_ERROR = "CallbackError"
"""The ``error_type`` of the error event a failing sink becomes."""

BATCH_WINDOW = 0.002
"""Seconds the body's loop gathers new events before waking the consumer: one wake-up per batch."""

CLOSE_TIMEOUT = 5.0
"""Seconds ``close()`` waits for a cancelled body to wind down."""

POLL_INTERVAL = 0.01
"""While events flow, a consumer also looks for new ones this often: the events after a window's
wake-up wait for a timer on the body's loop, which a long loop iteration (hundreds of agents) can
delay. While the run is quiet (a model thinking) the interval doubles up to ``WAIT_SLICE``."""

WAIT_SLICE = 1.0
"""The longest a consumer waits between looks (``FLUSH_INTERVAL`` if a sink wants flushes)."""

STARVED_AFTER = 0.005
"""Seconds an event may wait unseen by a consumer in another thread before the loop hands it the GIL."""

HANDOFF_TIMEOUT = 0.001
"""The longest the loop waits for a starved consumer to start running (it may be busy elsewhere)."""


class Driver:
    """Runs a body on an nbswarm loop and hands its events to whoever consumes them."""

    run_id: str
    _body: Body
    _log: EventLog
    _fanout: Fanout

    def _init_driver(self) -> None:
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
        self._wake_at = 0.0  # run time (``t``) before which a new event wakes nobody: it joins the batch
        self._wake = threading.Event()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._consumer_thread: int | None = None  # a consumer looking at the log from its own thread
        self._consumer_seen = 0  # how many events it had when it last looked
        self._running = threading.Event()  # set by the consumer each time it looks: it holds the GIL
        self._handovers = 0  # how many times the loop handed the GIL to a starved consumer
        self._consumer_ours = False  # the consumer runs our code (waiting, delivering), not the caller's

    # -- producing (on the body's loop) -------------------------------------------------------

    def emit(self, cls: type[Event], **fields: Any) -> Event:
        """Stamp and append a new event; producers call this from the body."""
        log = self._log
        with log.lock:  # inlined EventLog.append: this is the per-chunk hot path
            events = log.events
            t = log.clock() - log.t0
            if cls is Chunk:
                event: Event = new_chunk(self.run_id, len(events), t, **fields)
            else:
                event = cls(run_id=self.run_id, seq=len(events), t=t, **fields)
            events.append(event)
        if cls is not Chunk:
            log.observe(event)
        if t >= self._wake_at and self._loop is not None:  # at most once per BATCH_WINDOW
            self._wake_at = t + BATCH_WINDOW
            self._signal()
        return event

    # -- lifecycle ---------------------------------------------------------------------------

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
        with suppress(asyncio.TimeoutError):  # not the builtin before Python 3.11
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._done)), CLOSE_TIMEOUT)
        self._settle()

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
        # In the creator's context (a task copies the current one; create_task(context=) is 3.11+).
        self._task = self._context.run(loop.create_task, self._execute())
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

    def _signal(self) -> None:
        """A batch window opens: wake the consumer now, and once more when the window has passed.

        The direct wake does not wait for the loop's current iteration to end (with many agents one
        iteration can take tens of ms); the timer delivers the window's tail if the stream goes quiet.
        """
        loop = self._loop
        assert loop is not None
        try:
            if threading.get_ident() != self._loop_thread:  # an event from another thread
                loop.call_soon_threadsafe(self._notify)
                return
            if self._pump_on_loop:
                loop.call_soon(self._notify)
            else:
                self._wake_consumer()
                self._hand_over()
            if not self._notify_pending:
                self._notify_pending = True
                loop.call_later(BATCH_WINDOW, self._notify)
        except RuntimeError:  # the loop is closed: the run is over, its consumer reads the log
            pass

    def _hand_over(self) -> None:
        """On the body's loop, the consumer just woken: if it is starved, let it run (bounded)."""
        consumer = self._consumer_thread
        if consumer is None or consumer == self._loop_thread:
            return
        events = self._log.events
        seen = self._consumer_seen
        if not self._consumer_ours or seen >= len(events) or events[-1].t - events[seen].t < STARVED_AFTER:
            return
        self._handovers += 1
        self._running.clear()  # the consumer cannot run in between: this thread holds the GIL
        self._running.wait(HANDOFF_TIMEOUT)  # the GIL released: the consumer takes it

    def _looking(self, seen: int) -> None:
        """The consumer runs (it holds the GIL) and has every event up to ``seen``."""
        self._consumer_seen = seen
        self._running.set()

    def _notify(self) -> None:
        """On the body's loop: deliver (if nobody waits for the run) and wake whoever consumes it."""
        self._notify_pending = False
        self._wake_at = -math.inf  # the next event opens a new window (even on a test's frozen clock)
        if self._pump_on_loop:
            self._deliver()
            if self._finished and self._fanout.delivered >= len(self._log.events):
                self._fanout.close()
        self._wake_consumer()

    def _wake_consumer(self) -> None:
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
        if not self._pump_on_loop:  # a consumer took over (``result()`` after ``start()``)
            self._ticking = False
            return
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
        self._pump_on_loop = False  # whoever waits for the run calls its sinks
        events = self._log.events
        index = 0
        complete = False
        wait = POLL_INTERVAL
        self._consumer_thread = threading.get_ident()
        self._consumer_ours = True
        try:
            while True:
                self._wake.clear()
                finished = self._finished  # read first: every event it implies is in the log
                self._looking(len(events))
                delivered = self._deliver()
                wait = self._next_wait(wait, delivered > index)
                self._consumer_ours = False  # the caller's loop body runs between these events
                while index < delivered:
                    yield events[index]
                    index += 1
                self._consumer_ours = True
                if finished and delivered >= len(events):
                    self._fanout.close()
                    self._stop_private()
                    complete = True
                    return
                self._wake.wait(wait)
        finally:  # break, an exception in the loop body, KeyboardInterrupt: stop the body
            self._consumer_thread = None
            if not complete:
                self.close()

    async def _aiterate(self) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        self._waiter = (loop, wake)
        self._start("async")
        self._pump_on_loop = False
        events = self._log.events
        index = 0
        complete = False
        wait = POLL_INTERVAL
        self._consumer_thread = threading.get_ident()
        self._consumer_ours = True
        try:
            while True:
                wake.clear()
                finished = self._finished
                self._looking(len(events))
                delivered = self._deliver()
                wait = self._next_wait(wait, delivered > index)
                self._consumer_ours = False
                while index < delivered:
                    yield events[index]
                    index += 1
                self._consumer_ours = True
                if finished and delivered >= len(events):
                    self._fanout.close()
                    complete = True
                    return
                with suppress(asyncio.TimeoutError):  # not the builtin before Python 3.11
                    await asyncio.wait_for(wake.wait(), wait)
        finally:
            if self._waiter is not None and self._waiter[1] is wake:
                self._waiter = None
            self._consumer_thread = None
            if not complete:
                await self.aclose()

    def _next_wait(self, wait: float, got_events: bool) -> float:
        """Poll briskly while events flow, back off while the run is quiet."""
        if got_events:
            return POLL_INTERVAL
        return min(wait * 2, FLUSH_INTERVAL if self._fanout.flushes else WAIT_SLICE)

    def _sink_failed(self, event: Event | None, message: str) -> None:
        # Appended without waking anyone: the pump that called the sink delivers it next.
        self._log.append(
            Error, {"agent": getattr(event, "agent", None), "error_type": SINK_ERROR, "message": message}
        )
