"""Events <-> the recorder's DataFrame, both ways, losslessly (columns are documented in ``recorder``).

Both directions work per event type on whole groups (``attrgetter`` over a
list, NumPy fancy indexing), never per row through pandas, so a million
events convert in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from .events import EVENT_TYPES, Event, Metadata

EVENT_ORDER: tuple[str, ...] = tuple(EVENT_TYPES)
"""Categories of the ``event`` column, in stream order."""

# column -> kind: "int" (Int64), "float" (float64), "str" (string), "obj" (object, made categorical
# later), "tuple" (object cells holding tuples)
_KINDS: dict[str, str] = {
    "step": "int",
    "loop": "int",
    "chunk_index": "int",
    "kind": "str",
    "content": "str",
    "n_chars": "int",
    "input_tokens": "int",
    "output_tokens": "int",
    "total_tokens": "int",
    "cost": "float",
    "estimated": "bool",
    "model": "str",
    "finish_reason": "str",
    "status": "str",
    "execution_time": "float",
    "error": "str",
    "job_id": "str",
    "number_of_agents": "int",
    "agents": "tuple",
    "flow": "str",
    "steps": "steps",
    "description": "str",
    "agent": "obj",
    "name": "obj",
    "swarm_type": "obj",
}

# event type -> ((event field, column), ...) for every field beyond run_id/seq/t/type.
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "metadata": (
        ("job_id", "job_id"),
        ("name", "name"),
        ("swarm_type", "swarm_type"),
        ("number_of_agents", "number_of_agents"),
        ("agents", "agents"),
        ("flow", "flow"),
        ("steps", "steps"),
        ("description", "description"),
    ),
    "start": (("status", "status"),),
    "agent_start": (("agent", "agent"), ("step", "step"), ("loop", "loop")),
    "chunk": (("agent", "agent"), ("content", "content"), ("index", "chunk_index"), ("kind", "kind")),
    "agent_end": (
        ("agent", "agent"),
        ("output", "content"),
        ("finish_reason", "finish_reason"),
        ("step", "step"),
        ("loop", "loop"),
    ),
    "usage": (
        ("agent", "agent"),
        ("input_tokens", "input_tokens"),
        ("output_tokens", "output_tokens"),
        ("total_tokens", "total_tokens"),
        ("cost", "cost"),
        ("model", "model"),
        ("estimated", "estimated"),
    ),
    "end": (("execution_time", "execution_time"), ("output", "content"), ("status", "status")),
    "error": (("agent", "agent"), ("error_type", "error"), ("message", "content")),
    "done": (("status", "status"),),
}

COLUMNS: tuple[str, ...] = (
    "run_id",
    "seq",
    "t",
    "wall_time",
    "event",
    "agent",
    "step",
    "loop",
    "chunk_index",
    "kind",
    "content",
    "n_chars",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "estimated",
    "model",
    "finish_reason",
    "status",
    "execution_time",
    "error",
    "name",
    "swarm_type",
    "job_id",
    "number_of_agents",
    "agents",
    "flow",
    "steps",
    "description",
)


def to_frame(events: Sequence[Event], wall_starts: Mapping[str, float]) -> pd.DataFrame:
    """One row per event, in the given order; ``wall_starts``: run_id -> epoch seconds at t=0."""
    n = len(events)
    events = events if isinstance(events, list) else list(events)
    run_ids, seqs, ts, types = (list(map(attrgetter(f), events)) for f in ("run_id", "seq", "t", "type"))
    event_col = pd.Categorical(types, categories=EVENT_ORDER)
    codes = event_col.codes
    dense: dict[str, np.ndarray] = {}
    sparse: dict[str, tuple[list[np.ndarray], list[list[Any]]]] = {}
    meta_rows: list[int] = []
    for code, kind in enumerate(EVENT_ORDER):
        where = np.flatnonzero(codes == code)
        if not len(where):
            continue
        group = [events[i] for i in where.tolist()] if len(where) < n else events
        extracted = {column: list(map(attrgetter(field), group)) for field, column in _FIELDS[kind]}
        if kind == "chunk":
            extracted["n_chars"] = list(map(len, extracted["content"]))
        for column, values in extracted.items():
            positions, parts = sparse.setdefault(column, ([], []))
            positions.append(where)
            parts.append(values)
        if kind == "metadata":
            meta_rows = where.tolist()
    for column, (positions, parts) in sparse.items():
        values = parts[0] if len(parts) == 1 else list(chain.from_iterable(parts))
        dense[column] = _fill(n, np.concatenate(positions), values, column)
    run_col = pd.Categorical(run_ids, categories=list(dict.fromkeys(run_ids)))
    frame: dict[str, Any] = {
        "run_id": run_col,
        "seq": np.array(seqs, dtype=np.int64),
        "t": np.array(ts, dtype=np.float64),
    }
    starts = np.array([wall_starts.get(r, np.nan) for r in run_col.categories], dtype=np.float64)
    wall = starts[run_col.codes] + frame["t"] if n else np.empty(0)
    frame["wall_time"] = pd.to_datetime(wall, unit="s", utc=True)
    frame["event"] = event_col
    frame["agent"] = _agent_column(dense.pop("agent", np.full(n, None, dtype=object)), events, meta_rows)
    names, swarm_types = _joined_metadata(run_col, events, meta_rows, dense)
    for column in COLUMNS[6:]:
        if column in ("name", "swarm_type"):
            frame[column] = names if column == "name" else swarm_types
        else:
            frame[column] = dense[column] if column in dense else _fill(n, np.empty(0, int), [], column)
    return pd.DataFrame(frame, columns=list(COLUMNS))


def _fill(n: int, positions: np.ndarray, values: list[Any], column: str) -> Any:
    kind = _KINDS[column]
    if kind in ("int", "float"):
        if None in values:  # a hand-made event with a missing number: keep it missing
            keep = [i for i, v in enumerate(values) if v is not None]
            positions, values = positions[keep], [values[i] for i in keep]
        if kind == "float":
            data = np.full(n, np.nan)
            data[positions] = np.array(values, dtype=np.float64)
            return data
        data = np.zeros(n, dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        data[positions] = np.array(values, dtype=np.int64)
        mask[positions] = False
        return pd.arrays.IntegerArray(data, mask)
    data = np.full(n, None, dtype=object)
    boxed = np.empty(len(values), dtype=object)
    if kind == "bool":
        data[positions] = values
        return pd.array(data, dtype="boolean")
    if kind in ("tuple", "steps"):
        for i, value in enumerate(values):
            boxed[i] = value  # a tuple must stay one cell, not become a row of cells
    else:
        boxed[:] = values
    data[positions] = boxed
    return pd.array(data, dtype="string") if kind == "str" else data


def _agent_column(values: np.ndarray, events: Sequence[Event], meta_rows: list[int]) -> pd.Categorical:
    """Agents as a categorical in flow order (metadata's agents first, then by first appearance)."""
    order: dict[str, None] = {}
    for i in meta_rows:
        order.update(dict.fromkeys(events[i].agents))  # type: ignore[union-attr]
    order.update(dict.fromkeys(pd.unique(values[pd.notna(values)]).tolist()))
    return pd.Categorical(values, categories=list(order))


def _joined_metadata(
    run_col: pd.Categorical, events: Sequence[Event], meta_rows: list[int], dense: dict[str, Any]
) -> tuple[pd.Categorical, pd.Categorical]:
    """Each run's first metadata name/swarm_type on all of its rows; a metadata row keeps its own."""
    first: dict[str, Metadata] = {}
    for i in meta_rows:
        first.setdefault(events[i].run_id, events[i])  # type: ignore[arg-type]
    columns = []
    for column in ("name", "swarm_type"):
        per_run = np.array(
            [getattr(first[r], column) if r in first else None for r in run_col.categories] + [None],
            dtype=object,
        )
        values = per_run[run_col.codes] if len(run_col) else np.empty(0, dtype=object)
        own = dense.pop(column, None)
        if own is not None and meta_rows:
            values[meta_rows] = own[meta_rows]
        columns.append(
            pd.Categorical(values, categories=list(dict.fromkeys(v for v in values if v is not None)))
        )
    return columns[0], columns[1]


def from_frame(df: pd.DataFrame) -> list[Event]:
    """The events a recorder DataFrame stands for, in row order (the inverse of ``to_frame``)."""
    missing = [c for c in ("run_id", "seq", "t", "event") if c not in df.columns]
    if missing:
        raise ValueError(f"not a recorder DataFrame: missing column(s) {', '.join(missing)}")
    kinds = pd.Categorical(df["event"].astype(object), categories=EVENT_ORDER)
    unknown = sorted({str(k) for k in df["event"][kinds.codes < 0]})
    if unknown:
        raise ValueError(f"unknown event type(s) in the 'event' column: {unknown}")
    events: list[Any] = [None] * len(df)
    for code, kind in enumerate(EVENT_ORDER):
        rows = np.flatnonzero(kinds.codes == code)
        if not len(rows):
            continue
        part = df.iloc[rows]
        names = ["run_id", "seq", "t", *(field for field, _ in _FIELDS[kind])]
        columns = ["run_id", "seq", "t", *(column for _, column in _FIELDS[kind])]
        values = [_typed(c, part[c]) if c in part.columns else [None] * len(rows) for c in columns]
        cls = EVENT_TYPES[kind]
        for i, row in zip(rows.tolist(), zip(*values, strict=True), strict=True):
            events[i] = cls(**dict(zip(names, row, strict=True)))
    return events


def _typed(column: str, series: pd.Series) -> list[Any]:
    """The column as Python values of the event field's type, None for every kind of missing."""
    values = series.astype(object).tolist()
    kind = "str" if column == "run_id" else "int" if column == "seq" else "float" if column == "t" else None
    convert = _CONVERT[kind or _KINDS[column]]
    return [
        None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else convert(v) for v in values
    ]


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def _steps(value: Any) -> tuple[tuple[str, ...], ...]:
    return tuple(_names(step) for step in value)


_CONVERT: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "obj": str,
    "bool": bool,
    "tuple": _names,
    "steps": _steps,
}
