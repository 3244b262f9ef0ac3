"""The driver's view of a sweep: one row per attempt, kept up to date from the events as they arrive.

Every event of every run passes through ``feed`` once (a few dict look-ups: the driver's CPU per
event is the shared ceiling of every backend), before it goes to the Recorder. A run the driver has
closed itself (its worker died) takes no more events, so a late batch can never add to it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..events import AgentEnd, Error, Event, Usage
from ._spec import RunSpec

__all__ = ["Attempt", "Tracker"]

TERMINAL = ("completed", "failed", "cancelled", "skipped")
WORKER_LOST = "WorkerLost"
"""The ``error_type`` of the error event closing a run whose worker died."""


@dataclass(eq=False)
class Attempt:
    spec: RunSpec
    status: str = "pending"
    worker: str | None = None
    last_seq: int = -1
    last_t: float = 0.0
    events: int = 0
    ttft: float | None = None
    end_t: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    """Dollars: the run's total once it ended, the sum of its agents' turns so far before."""
    agent_tokens: int = 0
    output: str = ""
    error: str | None = None
    closed: bool = False
    """No more events are taken (the run ended, or the driver closed it)."""
    open_agents: dict[str, list[Any]] = field(default_factory=dict)
    """agent -> [step, loop, text pieces so far] for turns started and not ended (to close them)."""
    turn_outputs: dict[str, str] = field(default_factory=dict)


class Tracker:
    """Attempts by run id, totals for the progress view, and the table."""

    def __init__(self, specs: list[RunSpec]) -> None:
        self.lock = threading.RLock()
        self.rows: dict[str, Attempt] = {s.run_id: Attempt(s) for s in specs}
        self.events = 0
        self.late = 0
        """Events that arrived for a run after it was closed (dropped; never recorded)."""
        self.cost_done = 0.0
        self.tokens = 0
        self.started_at = time.monotonic()
        self.changed = threading.Event()
        self.watchers: dict[str, list[Callable[[list[Event]], None]]] = {}

    # -- the hot path --------------------------------------------------------------------------

    def feed(self, events: Iterable[Event]) -> list[Event]:
        """Take a batch; returns the events to record (those of runs still open)."""
        kept = []
        rows = self.rows
        with self.lock:
            for event in events:
                row = rows.get(event.run_id)
                if row is None or row.closed:
                    self.late += 1
                    continue
                kept.append(event)
                self._one(row, event)
            self.events += len(kept)
        self.changed.set()
        return kept

    def __call__(self, event: Event) -> None:
        """The sink form, for runs on the local backend (the recorder is a sink of its own)."""
        row = self.rows.get(event.run_id)
        if row is not None and not row.closed:
            with self.lock:
                self.events += 1
                self._one(row, event)
            if event.type != "chunk":
                self.changed.set()

    def _one(self, row: Attempt, event: Any) -> None:
        row.last_seq, row.last_t = event.seq, event.t
        row.events += 1
        kind = event.type
        if kind == "chunk":
            turn = row.open_agents.get(event.agent)
            if event.kind == "text":
                if row.ttft is None:
                    row.ttft = event.t
                if turn is not None:
                    turn[2].append(event.content)
        elif kind == "agent_start":
            row.open_agents[event.agent] = [event.step, event.loop, []]
        elif kind == "agent_end":
            row.open_agents.pop(event.agent, None)
            row.turn_outputs[event.agent] = event.output
        elif kind == "usage":
            if event.agent is None:  # the run's total replaces what its turns reported
                row.input_tokens, row.output_tokens = event.input_tokens, event.output_tokens
                self.tokens += event.total_tokens - row.agent_tokens
                row.agent_tokens = event.total_tokens
                self.cost_done += event.cost - row.cost
                row.cost = event.cost
            else:
                row.cost += event.cost
                row.agent_tokens += event.total_tokens
                self.tokens += event.total_tokens
                self.cost_done += event.cost
        elif kind == "error" and row.error is None:
            row.error = f"{event.error_type}: {event.message}"
        elif kind == "end":
            row.status, row.output, row.end_t = event.status, event.output, event.t
            row.closed = True
            row.open_agents.clear()
        elif kind == "metadata" and row.status == "pending":
            row.status = "running"

    def watch(self, run_id: str, callback: Callable[[list[Event]], None]) -> None:
        """Call ``callback(events)`` with the run's events from now on (a mirror of a remote run)."""
        with self.lock:
            self.watchers.setdefault(run_id, []).append(callback)

    def notify(self, events: list[Event]) -> None:
        """Hand recorded events to the watchers of their runs (cheap when nobody watches)."""
        if not self.watchers:
            return
        for run_id, callbacks in list(self.watchers.items()):
            mine = [e for e in events if e.run_id == run_id]
            if mine:
                for callback in callbacks:
                    callback(mine)
                if mine[-1].type == "end":
                    self.watchers.pop(run_id, None)

    # -- bookkeeping ---------------------------------------------------------------------------

    def started(self, run_id: str, where: str) -> None:
        with self.lock:
            row = self.rows[run_id]
            row.worker = where
            if row.status == "pending":
                row.status = "running"
        self.changed.set()

    def add(self, spec: RunSpec) -> None:
        with self.lock:
            self.rows[spec.run_id] = Attempt(spec)
        self.changed.set()

    def skip(self, run_id: str) -> None:
        """The attempt never started (cancelled, or the budget ran out)."""
        with self.lock:
            row = self.rows[run_id]
            if row.events == 0 and not row.closed:
                row.status, row.closed = "skipped", True
        self.changed.set()

    def close_run(self, run_id: str, reason: str, message: str, status: str = "failed") -> list[Event]:
        """End a run the driver gave up on, at the seq it reached: the events that complete its stream.

        Each open agent turn gets its ``agent_end`` (``error``, partial text kept), then ``error``,
        the run's ``usage`` (what its turns reported, ``estimated``) and ``end`` (``status``).
        """
        from ..events import End

        with self.lock:
            row = self.rows[run_id]
            if row.closed:
                return []
            seq, t = row.last_seq, row.last_t
            out: list[Event] = []

            def add(cls: Any, **fields: Any) -> None:
                nonlocal seq
                seq += 1
                out.append(cls(run_id=run_id, seq=seq, t=t, **fields))

            for agent, (step, loop, pieces) in row.open_agents.items():
                row.turn_outputs[agent] = text = "".join(pieces)
                add(AgentEnd, agent=agent, output=text, finish_reason="error", step=step, loop=loop)
            add(Error, agent=None, error_type=reason, message=message)
            add(
                Usage,
                agent=None,
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                total_tokens=row.input_tokens + row.output_tokens,
                cost=row.cost,
                estimated=True,
            )
            outputs = row.turn_outputs
            partial = (
                next(iter(outputs.values()), "")
                if len(outputs) == 1
                else ("\n\n".join(f"{agent}: {text}" for agent, text in outputs.items()))
            )
            add(End, execution_time=t, output=partial, status=status)
            for event in out:
                self._one(row, event)
            self.events += len(out)
        self.changed.set()
        return out

    # -- reading -------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.lock:
            counts = dict.fromkeys(("pending", "running", *TERMINAL), 0)
            for row in self.rows.values():
                counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def running_cost(self) -> tuple[float, int]:
        """(dollars spent so far, runs in flight)."""
        with self.lock:
            return self.cost_done, sum(row.status == "running" for row in self.rows.values())

    def table(self, variant_columns: list[str]) -> pd.DataFrame:
        with self.lock:
            rows = sorted(self.rows.values(), key=lambda r: (r.spec.item, r.spec.attempt))
            records = []
            for row in rows:
                spec = row.spec
                duration = None if row.end_t is None else row.end_t
                streaming = None if row.end_t is None or row.ttft is None else row.end_t - row.ttft
                records.append(
                    {
                        **{c: spec.variant.get(c) for c in variant_columns},
                        "task": spec.task,
                        "item": spec.item,
                        "attempt": spec.attempt,
                        "run_id": spec.run_id,
                        "status": row.status,
                        "worker": row.worker,
                        "ttft": row.ttft,
                        "duration": duration,
                        "input_tokens": row.input_tokens,
                        "output_tokens": row.output_tokens,
                        "tokens_per_s": row.output_tokens / streaming if streaming else None,
                        "cost": row.cost,
                        "events": row.events,
                        "error": row.error,
                        "output": row.output,
                    }
                )
        frame = pd.DataFrame.from_records(records, columns=[*variant_columns, *_TABLE_COLUMNS])
        return frame.astype({"ttft": "float64", "duration": "float64", "tokens_per_s": "float64"})


_TABLE_COLUMNS = (
    "task", "item", "attempt", "run_id", "status", "worker", "ttft", "duration", "input_tokens",
    "output_tokens", "tokens_per_s", "cost", "events", "error", "output",
)  # fmt: skip
