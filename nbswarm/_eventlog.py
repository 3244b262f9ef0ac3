"""The append-only event log of one run: stamping, storage, and the state derived from it.

``append`` stamps an event (``run_id``, ``seq``, ``t`` on the run's clock),
keeps it, and updates the derived state (outputs, turns, errors, usage,
metadata, end). It is called by the run's body on the loop that runs it, and
occasionally by a sink's failure on the consuming thread; a lock keeps
``seq`` strictly increasing. Readers take a length first and read up to it:
the list only grows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .events import AgentEnd, Chunk, End, Error, Event, Metadata, Usage

__all__ = ["EventLog"]


class EventLog:
    """Every event of one run, in order, and what they add up to."""

    def __init__(self, run_id: str, clock: Callable[[], float] | None = None) -> None:
        self.run_id = run_id
        self.clock = clock or time.perf_counter
        self.t0 = self.clock()
        self.events: list[Event] = []
        self.lock = threading.Lock()
        self.metadata: Metadata | None = None
        self.outputs: dict[str, str] = {}
        self.turns: list[AgentEnd] = []
        self.errors: list[Error] = []
        self.usage: Usage | None = None
        self.end: End | None = None

    def restart_clock(self) -> None:
        """``t`` counts from when the run starts, not from when it was made."""
        self.t0 = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def append(self, cls: type[Event], fields: dict[str, Any]) -> Event:
        """Stamp and keep a new event of type ``cls`` (``Run.emit`` inlines this for speed)."""
        with self.lock:
            events = self.events
            event = cls(run_id=self.run_id, seq=len(events), t=self.clock() - self.t0, **fields)
            events.append(event)
        if cls is not Chunk:  # chunks change no derived state: keep the hot path short
            self.observe(event)
        return event

    def observe(self, event: Event) -> None:
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
