"""The append-only event log of one run: stamping, storage, and the state derived from it.

``append`` stamps an event (``run_id``, ``seq``, ``t`` on the run's clock),
keeps it, and updates the derived state (outputs, turns, errors, usage,
metadata, end). It is called by the run's body on the loop that runs it, and
occasionally by a sink's failure on the consuming thread; a lock keeps
``seq`` strictly increasing. Readers take a length first and read up to it:
the list only grows.

Chunks are the hot path (a thousand agents stream ~80,000 a second through
one loop), so ``new_chunk`` builds them without the frozen dataclass's
``__init__`` (one ``object.__setattr__`` call per field): the same object,
equal, hashable and picklable alike, at about 40 % of the cost.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from .events import AgentEnd, Chunk, End, Error, Event, Metadata, Usage

__all__ = ["FAST_CHUNK", "EventLog", "new_chunk"]

_CHUNK_FIELDS = ("run_id", "seq", "t", "type", "agent", "content", "index", "kind")
_CHUNK_NAMES = tuple(field.name for field in dataclasses.fields(Chunk))
FAST_CHUNK = _CHUNK_NAMES == _CHUNK_FIELDS and not hasattr(Chunk, "__post_init__")
"""Whether ``new_chunk`` takes the fast path: ``Chunk`` has exactly the fields it sets and no
``__post_init__`` to skip (else a changed ``Chunk`` is built by its own ``__init__``)."""


def _fast_chunk_maker() -> Callable[..., Chunk]:
    defaults = {field.name: field.default for field in dataclasses.fields(Chunk)}
    # The slots' own descriptors: what the frozen ``__init__`` reaches through ``object.__setattr__``.
    set_run_id, set_seq, set_t, set_type, set_agent, set_content, set_index, set_kind = (
        getattr(Chunk, name).__set__ for name in _CHUNK_FIELDS
    )
    new = object.__new__
    chunk_type, index_default, kind_default = defaults["type"], defaults["index"], defaults["kind"]

    def new_chunk(
        run_id: str,
        seq: int,
        t: float,
        *,
        agent: str,
        content: str,
        index: int = index_default,
        kind: str = kind_default,
    ) -> Chunk:
        event = new(Chunk)
        set_run_id(event, run_id)
        set_seq(event, seq)
        set_t(event, t)
        set_type(event, chunk_type)
        set_agent(event, agent)
        set_content(event, content)
        set_index(event, index)
        set_kind(event, kind)
        return event

    return new_chunk


def _plain_new_chunk(run_id: str, seq: int, t: float, **fields: Any) -> Chunk:
    return Chunk(run_id=run_id, seq=seq, t=t, **fields)


new_chunk: Callable[..., Chunk] = _fast_chunk_maker() if FAST_CHUNK else _plain_new_chunk
"""``new_chunk(run_id, seq, t, agent=, content=, index=0, kind="text")``: equal to ``Chunk(...)``."""


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
            t = self.clock() - self.t0
            if cls is Chunk:
                event: Event = new_chunk(self.run_id, len(events), t, **fields)
            else:
                event = cls(run_id=self.run_id, seq=len(events), t=t, **fields)
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
