"""Recorder: every event of one or many runs, losslessly and in order, as a pandas DataFrame on demand.

Ways in::

    rec = Recorder()
    swarm.run(task, recorder=rec)          # or agent.run(task, recorder=rec)
    with nbswarm.record() as rec: ...      # every run created inside the block
    rec.add(run_or_events)                 # a live or finished Run, another Recorder, any events

Recording is cheap: the hot path keeps a reference to the (immutable) event;
the DataFrame is built only when asked (``rec.df``) and cached until new
events arrive. Each run is recorded once however many ways it comes in: an
event whose ``seq`` is not above the last one recorded for its run is a
duplicate and is skipped (events added in bulk are checked first: a run's
``seq`` must increase, and a seq already recorded must be the same event).

``rec.df`` has one row per event, in arrival order, with these columns
(missing where the event type has no such field):

=================  ===================  ==================================================
column             dtype                meaning
=================  ===================  ==================================================
run_id             category             the run
seq                int64                position in the run's stream
t                  float64              seconds since the run started
wall_time          datetime64[ns, UTC]  when it happened (run's wall start + ``t``)
event              category             metadata, start, agent_start, chunk, agent_end,
                                        usage, end, error, done
agent              category             the agent (flow order); missing for run-level events
step, loop         Int64                agent_start / agent_end: flow step and loop index
chunk_index        Int64                chunk: per-agent chunk number
kind               string               chunk: ``text`` (the answer) or ``reasoning`` (thinking)
content            string               chunk: the new text; agent_end: the turn's output;
                                        end: the final output; error: the message
n_chars            Int64                chunk: characters of new text
input_tokens,      Int64                usage (agent missing = the whole run)
output_tokens,
total_tokens
cost               float64              usage: US dollars
estimated          boolean              usage: True when the provider sent no usage
model              string               usage: the model
finish_reason      string               agent_end: stop, length, error or cancelled
status             string               start, end (completed/failed/cancelled), done
execution_time     float64              end: the run's duration
error              string               error: the error type
name, swarm_type   category             the run's metadata, on every row of the run
job_id,            string, Int64,       metadata: the rest of the metadata event
number_of_agents,  object (tuple),      (``steps``: a tuple of tuples of agent names)
agents, flow,      string, object,
steps,             string
description
=================  ===================  ==================================================

An agent's text is never repeated per chunk row (no running ``output``
column): join ``content`` of its chunk rows, or read its ``agent_end`` row.

Save and load: ``rec.save("run.parquet")`` / ``rec.save("run.jsonl")`` and
``Recorder.load(path)`` round-trip exactly. ``Recorder(path="run.jsonl")``
(or ``rec.stream_to(path)``) also writes each event to a JSONL file as it
arrives, flushed by the run every ``FLUSH_INTERVAL``, so a crash loses at
most the last fraction of a second. A JSONL line is an event's wire
object (``events.to_wire``); a run's first line also carries ``wall_start``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from . import _frame
from .events import EVENT_TYPES, Event, Metadata, from_wire, to_wire
from .run import Run, runs_created_here

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .analysis import Metrics

__all__ = ["COLUMNS", "Recorder", "record"]

COLUMNS = _frame.COLUMNS
"""The columns of ``Recorder.df``, in order."""

logger = logging.getLogger("nbswarm")

_EVENT_CLASSES = tuple(EVENT_TYPES.values())
_META_KEY = b"nbswarm"


class Recorder:
    """A sink that keeps every event it is given; ``rec.df`` is the DataFrame of them."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._events: list[Event] = []
        self._last_seq: dict[str, int] = {}
        self._wall_starts: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None
        self._frame: pd.DataFrame | None = None
        self._frame_len = -1
        if path is not None:
            self.stream_to(path)

    # -- recording (the hot path) ------------------------------------------

    def __call__(self, event: Event) -> None:
        """Record one event (the sink interface). Runs of one recorder may call this from several threads."""
        run_id = event.run_id
        with self._lock:
            last = self._last_seq.get(run_id)
            if last is None:
                if run_id not in self._wall_starts:
                    self._wall_starts[run_id] = time.time() - event.t
            elif event.seq <= last:
                return  # already recorded (the same run added twice)
            self._last_seq[run_id] = event.seq
            self._events.append(event)
            if self._stream is not None:
                self._write(event, first=last is None)

    def flush(self) -> None:
        """Push buffered JSONL lines to disk (a run calls this every ``FLUSH_INTERVAL``)."""
        with self._lock:
            if self._stream is not None:
                self._stream.flush()

    def close(self) -> None:
        """A run has ended: flush. The recorder stays open for more runs (see ``stop_streaming``)."""
        self.flush()

    def add(self, source: Run | Recorder | pd.DataFrame | Iterable[Event]) -> Recorder:
        """Record a live or finished Run, another recorder's events, a recorder DataFrame, or events.

        A Run that has not finished keeps being recorded as it goes on. Returns this recorder.
        """
        if isinstance(source, Run):
            if source.status != "pending":  # started before us: its wall start is now - elapsed
                with self._lock:
                    self._wall_starts.setdefault(source.run_id, time.time() - source.elapsed())
            source.add_sink(self)
            return self
        if isinstance(source, Recorder):
            with source._lock:
                events, starts = list(source._events), dict(source._wall_starts)
        elif isinstance(source, pd.DataFrame):
            events, starts = _frame.from_frame(source), _wall_starts_of(source)
        elif isinstance(source, (str, bytes, Path)) or not isinstance(source, Iterable):
            raise TypeError(
                "Recorder.add() takes a Run, a Recorder, a recorder DataFrame or an iterable of events, "
                f"got {type(source).__name__} (use Recorder.load(path) for a file)"
            )
        else:
            events, starts = list(source), {}
        self._check_new(events)
        with self._lock:
            for run_id, start in starts.items():
                self._wall_starts.setdefault(run_id, start)
        for event in events:
            self(event)
        self.flush()
        return self

    def _check_new(self, events: list[Event]) -> None:
        """Events given in bulk: each run's seq must increase, and what is already here must match."""
        last: dict[str, int] = {}
        for i, event in enumerate(events):
            if not isinstance(event, _EVENT_CLASSES):
                raise TypeError(f"item {i} is not an nbswarm event: {type(event).__name__}")
            if event.seq <= last.get(event.run_id, -1):
                raise ValueError(
                    f"item {i}: run {event.run_id!r} goes from seq {last[event.run_id]} to {event.seq}; "
                    "the events of a run must come in increasing seq order"
                )
            last[event.run_id] = event.seq
        with self._lock:
            seen = {e.run_id: self._last_seq[e.run_id] for e in events if e.run_id in self._last_seq}
            old = [e for e in events if e.run_id in seen and e.seq <= seen[e.run_id]]
            if old:
                here = {(e.run_id, e.seq): e for e in self._events if e.run_id in seen}
                clash = next((e for e in old if here.get((e.run_id, e.seq)) != e), None)
                if clash is not None:
                    raise ValueError(
                        f"run {clash.run_id!r} seq {clash.seq} is already recorded as a different event; "
                        "give each stream its own run_id"
                    )

    # -- reading -------------------------------------------------------------

    @property
    def df(self) -> pd.DataFrame:
        """One row per event (see the module docstring for the columns); cached until new events arrive."""
        return self.to_dataframe()

    def to_dataframe(self) -> pd.DataFrame:
        """The DataFrame of every event recorded so far (a cached object: copy before changing it)."""
        with self._lock:
            if self._frame is not None and self._frame_len == len(self._events):
                return self._frame
            events, starts = list(self._events), dict(self._wall_starts)
        frame = _frame.to_frame(events, starts)
        with self._lock:
            self._frame, self._frame_len = frame, len(events)
        return frame

    def events(self, run_id: str | None = None) -> list[Event]:
        """The recorded events (of one run, or all in arrival order) as event objects."""
        with self._lock:
            events = list(self._events)
            known = run_id is None or run_id in self._last_seq
        if not known:
            raise KeyError(f"no run {run_id!r} in this recorder; runs: {self.runs}")
        return events if run_id is None else [e for e in events if e.run_id == run_id]

    @property
    def runs(self) -> list[str]:
        """Run ids, in the order their first event arrived."""
        with self._lock:
            return list(self._last_seq)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __repr__(self) -> str:
        path = f" streaming to {self._stream.name!r}" if self._stream is not None else ""
        return f"<Recorder runs={len(self._last_seq)} events={len(self._events)}{path}>"

    def metrics(self) -> Metrics:
        """Per-agent, per-run and interleaving metrics (``nbswarm.analysis.metrics`` of ``df``)."""
        from .analysis import metrics

        return metrics(self.df)

    def plot(self, run_id: str | None = None) -> Figure:
        """The one-call summary figure: timeline, cumulative tokens, gaps and cost (``plots.summary``)."""
        from .plots import summary

        return summary(self.df, run_id=run_id)

    # -- files -----------------------------------------------------------------

    def stream_to(self, path: str | Path) -> Recorder:
        """Write every event (those so far, then each as it arrives) to a new JSONL file at ``path``."""
        path = Path(path)
        if path.suffix != ".jsonl":
            raise ValueError(f"stream_to() writes JSONL: give a path ending in .jsonl, got {str(path)!r}")
        stream = path.open("w", encoding="utf-8", buffering=1 << 16)
        with self._lock:
            if self._stream is not None:
                self._stream.close()
            self._stream = stream
            written: set[str] = set()
            for event in self._events:
                self._write(event, first=event.run_id not in written)
                written.add(event.run_id)
            stream.flush()
        return self

    def stop_streaming(self) -> None:
        """Flush and close the JSONL file; recording in memory goes on."""
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None

    def _write(self, event: Event, *, first: bool) -> None:
        _, data = to_wire(event)
        if first:
            data["wall_start"] = self._wall_starts.get(event.run_id)
        self._stream.write(json.dumps(data, ensure_ascii=False) + "\n")  # type: ignore[union-attr]

    def save(self, path: str | Path) -> Path:
        """Save every event to ``path``: Parquet (``.parquet``, needs pyarrow) or JSONL (``.jsonl``)."""
        path = Path(path)
        if path.suffix == ".jsonl":
            copy = Recorder()
            copy.add(self)
            copy.stream_to(path).stop_streaming()
            return path
        if path.suffix != ".parquet":
            raise ValueError(f"save() writes .parquet or .jsonl files, got {str(path)!r}")
        pa, pq = _pyarrow()
        table = pa.Table.from_pandas(self.df, preserve_index=False)
        with self._lock:
            extra = json.dumps({"version": 1, "wall_starts": self._wall_starts}).encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: extra})
        pq.write_table(table, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Recorder:
        """A recorder holding the events saved at ``path`` (``.parquet`` or ``.jsonl``)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no recording at {str(path)!r}")
        rec = cls()
        if path.suffix == ".jsonl":
            events, starts = _read_jsonl(path)
        elif path.suffix == ".parquet":
            _, pq = _pyarrow()
            table = pq.read_table(path)
            extra = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
            frame = table.to_pandas()
            events, starts = _frame.from_frame(frame), extra.get("wall_starts") or _wall_starts_of(frame)
        else:
            raise ValueError(f"load() reads .parquet or .jsonl files, got {str(path)!r}")
        rec._wall_starts.update(starts)
        rec.add(events)
        return rec


@contextmanager
def record(path: str | Path | None = None, recorder: Recorder | None = None) -> Iterator[Recorder]:
    """Record every run created inside the ``with`` block: ``with nbswarm.record() as rec: ...``.

    "Inside" is this context (``contextvars``): this thread or asyncio task, and runs nested in
    those runs' bodies -- not runs another thread creates meanwhile. Runs still going when the
    block ends keep being recorded until they finish.
    """
    rec = recorder if recorder is not None else Recorder()
    if not isinstance(rec, Recorder):
        raise TypeError(f"recorder must be a Recorder, got {type(rec).__name__}")
    if path is not None:
        rec.stream_to(path)
    try:
        with runs_created_here(rec.add):
            yield rec
    finally:
        rec.flush()


def _read_jsonl(path: Path) -> tuple[list[Event], dict[str, float]]:
    events: list[Event] = []
    starts: dict[str, float] = {}
    lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines(): text may hold U+2028 etc.
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            wall_start = data.pop("wall_start", None)
            event = _event(data)
        except ValueError as exc:
            if number == len(lines):  # a crash mid-write leaves a partial last line: keep the rest
                logger.warning("%s: ignoring an incomplete last line (%s)", path, exc)
                break
            raise ValueError(f"{path}:{number}: not an nbswarm event line: {exc}") from None
        if wall_start is not None:
            starts.setdefault(event.run_id, float(wall_start))
        events.append(event)
    return events, starts


def _event(data: dict[str, Any]) -> Event:
    """A line we wrote holds every field: rebuild it exactly; anything else goes through ``from_wire``."""
    cls = EVENT_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is not None and all(name in data for name in cls.__dataclass_fields__):
        fields = {name: data[name] for name in cls.__dataclass_fields__}
        if cls is Metadata:
            fields["agents"] = tuple(fields["agents"])
            fields["steps"] = tuple(tuple(step) for step in fields["steps"])
        try:
            return cls(**fields)
        except TypeError:
            pass
    return from_wire(None, data)


def _wall_starts_of(frame: pd.DataFrame) -> dict[str, float]:
    """Best effort for a DataFrame without saved starts: the first row of each run, minus its t."""
    if "wall_time" not in frame.columns or frame.empty:
        return {}
    first = frame.groupby("run_id", observed=True, sort=False).head(1)
    epoch = (first["wall_time"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() - first["t"]
    return {str(r): float(s) for r, s in zip(first["run_id"], epoch, strict=True) if s == s}


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            "Parquet needs pyarrow: pip install 'nbswarm[parquet]' (or save as .jsonl)"
        ) from None
    return pa, pq
