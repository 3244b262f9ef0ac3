"""The fan-out of one run: its sinks, called in order, each failure isolated.

A sink is anything matching ``Sink`` (a callable taking one event). A sink
that also matches ``Flushable`` gets ``flush()`` at most every
``FLUSH_INTERVAL`` seconds while events arrive (so a display coalesces its
updates); one matching ``Closable`` gets ``close()`` once, after the last
event. A sink that raises never stops the run or the other sinks: its first
failure becomes an ``error`` event (through ``on_failure``) and a warning.

Delivery is resumable: the position is kept per (event, sink), so a
``KeyboardInterrupt`` raised inside one sink does not take the event away
from the sinks after it -- the next ``pump`` continues where it stopped.
Whichever thread pumps calls the sinks; a lock makes pumps take turns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from .events import Event

__all__ = ["FLUSH_INTERVAL", "Closable", "Fanout", "Flushable", "Sink"]

logger = logging.getLogger("nbswarm")

FLUSH_INTERVAL = 0.04
"""Seconds between ``flush()`` calls on sinks: at most 25 display updates per second."""


@runtime_checkable
class Sink(Protocol):
    """Receives every event of a run, in order."""

    def __call__(self, event: Event, /) -> Any: ...


@runtime_checkable
class Flushable(Protocol):
    """A sink that batches its output: ``flush()`` pushes what it has (a display update, a file write)."""

    def flush(self) -> Any: ...


@runtime_checkable
class Closable(Protocol):
    """A sink told once, after the run's last event, that nothing more will come."""

    def close(self) -> Any: ...


Failure = Callable[[Event | None, str], None]
"""``on_failure(event, message)``: record a sink's first failure (the Run emits an ``error``)."""


class Fanout:
    """Delivers a run's events to its sinks: in order, once each, failures isolated."""

    def __init__(self, on_failure: Failure, label: str) -> None:
        self._on_failure = on_failure
        self._label = label
        self._sinks: list[Sink] = []
        self._flushable: list[Flushable] = []
        self._lock = threading.RLock()
        self._pumping = False
        self._next = 0  # the event being delivered
        self._sink_index = 0  # the next sink to get it
        self._failed: dict[int, int] = {}
        self._closed = False
        self._last_flush = 0.0

    @property
    def delivered(self) -> int:
        """How many events every sink has been given."""
        return self._next

    @property
    def flushes(self) -> bool:
        """Whether some sink wants ``flush()`` ticks."""
        return bool(self._flushable)

    @property
    def closed(self) -> bool:
        return self._closed

    def add(self, sink: Sink, events: Sequence[Event]) -> None:
        """Add ``sink``, first giving it the events every other sink already has."""
        if not callable(sink):
            raise TypeError(f"a sink must be callable with one event, got {type(sink).__name__}")
        with self._lock:
            for event in events[: self._next]:
                self._call(sink, event)
            self._sinks.append(sink)
            if isinstance(sink, Flushable):
                self._flushable.append(sink)
            if self._closed:
                self._finish(sink)

    def pump(self, events: Sequence[Event]) -> int:
        """Deliver every event not yet delivered; returns how many are delivered in all."""
        with self._lock:
            if self._pumping:  # a sink emitted (an error) or added a sink: the outer pump delivers it
                return self._next
            self._pumping = True
            sinks = self._sinks
            call = self._call
            index, at = self._next, self._sink_index
            try:
                while index < len(events):
                    event = events[index]
                    while at < len(sinks):
                        sink = sinks[at]
                        at += 1
                        call(sink, event)
                    at = 0
                    index += 1
            finally:  # also on KeyboardInterrupt in a sink: resume right after that sink
                self._next, self._sink_index = index, at
                self._pumping = False
            return index

    def maybe_flush(self, *, force: bool = False) -> None:
        """``flush()`` every flushable sink if ``FLUSH_INTERVAL`` has passed (or ``force``)."""
        if not self._flushable:
            return
        now = time.monotonic()
        if not force and now - self._last_flush < FLUSH_INTERVAL:
            return
        with self._lock:
            self._last_flush = now
            for sink in list(self._flushable):
                try:
                    sink.flush()
                except Exception as exc:
                    self._failed_sink(sink, None, exc, "failed to flush")

    def close(self) -> None:
        """After the last event: ``flush()`` and ``close()`` every sink, once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for sink in list(self._sinks):
                self._finish(sink)

    def _finish(self, sink: Sink) -> None:
        for method, kind in (("flush", Flushable), ("close", Closable)):
            if isinstance(sink, kind):
                try:
                    getattr(sink, method)()
                except Exception as exc:
                    self._failed_sink(sink, None, exc, f"failed to {method}")

    def _call(self, sink: Sink, event: Event) -> None:
        try:
            sink(event)
        except Exception as exc:
            self._failed_sink(sink, event, exc, "failed on a " + event.type + " event")

    def _failed_sink(self, sink: Sink, event: Event | None, exc: Exception, what: str) -> None:
        key = id(sink)
        count = self._failed.get(key, 0)
        self._failed[key] = count + 1
        if count:
            return
        target = getattr(sink, "callback", sink)  # callback adapters keep the user's function there
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        message = f"{name} {what}: {type(exc).__name__}: {exc}"
        logger.warning("nbswarm run %s: %s (the run goes on)", self._label, message)
        if not self._closed:  # may follow ``end``: sinks can lag the producer
            self._on_failure(event, message)
