"""Events <-> the recorder's DataFrame, both ways, losslessly (columns are documented in ``recorder``).

The DataFrame is Arrow-backed and compact (about 100 bytes an event, see
``bench/recorder.py``): ids and every low-cardinality text are pandas
categoricals (dictionary-encoded: one or two bytes a row), integers are
``int32[pyarrow]`` (``int64`` only if a value needs it), text is
``string[pyarrow]`` and the metadata's name lists are Arrow lists. A million
events come from many runs of a sweep, so the build works per event type on
whole groups (``attrgetter`` over a list, NumPy fancy indexing, Arrow
``take``), never per row through pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .events import EVENT_TYPES, Event

EVENT_ORDER: tuple[str, ...] = tuple(EVENT_TYPES)
"""Categories of the ``event`` column, in stream order."""

_INT32 = np.iinfo(np.int32)
_STEP_NAMES = pa.list_(pa.list_(pa.string()))

# column -> kind: "int" (int32[pyarrow], int64 if a value needs it), "float" (float64), "bool"
# (bool[pyarrow]), "cat" (category, first appearance order), "str" (string[pyarrow]),
# "names" (list<string>[pyarrow]), "steps" (list<list<string>>[pyarrow])
_KINDS: dict[str, str] = {
    "step": "int",
    "loop": "int",
    "chunk_index": "int",
    "kind": "cat",
    "content": "str",
    "n_chars": "int",
    "input_tokens": "int",
    "output_tokens": "int",
    "total_tokens": "int",
    "cost": "float",
    "estimated": "bool",
    "model": "cat",
    "finish_reason": "cat",
    "status": "cat",
    "execution_time": "float",
    "error": "cat",
    "job_id": "cat",
    "number_of_agents": "int",
    "agents": "names",
    "flow": "cat",
    "steps": "steps",
    "description": "cat",
    "agent": "cat",
    "name": "cat",
    "swarm_type": "cat",
}

_ARROW_TYPES = {"str": pa.string(), "names": pa.list_(pa.string()), "steps": _STEP_NAMES, "bool": pa.bool_()}

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
    events = events if isinstance(events, list) else list(events)
    n = len(events)
    run_codes, run_names = pd.factorize(np.array(list(map(_RUN_ID, events)), dtype=object))
    code_of = {kind: code for code, kind in enumerate(EVENT_ORDER)}
    codes = np.fromiter(map(code_of.__getitem__, map(_TYPE, events)), dtype=np.int8, count=n)
    parts: dict[str, tuple[list[np.ndarray], list[Any]]] = {}
    meta_rows = np.empty(0, dtype=np.intp)
    for code, kind in enumerate(EVENT_ORDER):
        where = np.flatnonzero(codes == code)
        if not len(where):
            continue
        group = events if len(where) == n else [events[i] for i in where.tolist()]
        extracted = {column: list(map(attrgetter(field), group)) for field, column in _FIELDS[kind]}
        if kind == "chunk":
            extracted["n_chars"] = list(map(len, extracted["content"]))
        for column, values in extracted.items():
            positions, chunks = parts.setdefault(column, ([], []))
            positions.append(where)
            chunks.extend(values)
        if kind == "metadata":
            meta_rows = where
    t = np.array(list(map(_T, events)), dtype=np.float64)
    starts = np.array([wall_starts.get(r, np.nan) for r in run_names], dtype=np.float64)
    frame: dict[str, Any] = {
        "run_id": pd.Categorical.from_codes(run_codes, categories=pd.Index(run_names, dtype=object)),
        "seq": _ints(np.array(list(map(_SEQ, events)), dtype=np.int64), None),
        "t": t,
        "wall_time": pd.to_datetime(starts[run_codes] + t if n else np.empty(0), unit="s", utc=True),
        "event": pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(EVENT_ORDER)),
    }
    for column in COLUMNS[5:]:
        positions, values = parts.pop(column, ([], []))
        where = np.concatenate(positions) if positions else np.empty(0, dtype=np.intp)
        if column == "agent":
            frame[column] = _agent_column(n, where, values, events, meta_rows)
        elif column in ("name", "swarm_type"):
            frame[column] = _joined_metadata(n, where, values, run_codes)
        else:
            frame[column] = _column(_KINDS[column], n, where, values)
    return pd.DataFrame(frame, columns=list(COLUMNS))


_RUN_ID, _SEQ, _T, _TYPE = (attrgetter(f) for f in ("run_id", "seq", "t", "type"))


def _column(kind: str, n: int, where: np.ndarray, values: list[Any]) -> Any:
    """A whole column from the values of the rows at ``where`` (every other row is missing)."""
    if kind in ("int", "float"):
        if None in values:  # a hand-made event with a missing number: keep it missing
            keep = [i for i, v in enumerate(values) if v is not None]
            where, values = where[keep], [values[i] for i in keep]
        if kind == "float":
            data = np.full(n, np.nan)
            data[where] = np.array(values, dtype=np.float64)
            return data
        data = np.zeros(n, dtype=np.int64)
        data[where] = np.array(values, dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        mask[where] = False
        return _ints(data, mask)
    if kind == "cat":
        return _categorical(n, where, values)
    compact = pa.array(values, type=_ARROW_TYPES[kind])
    if len(where) != n or not np.array_equal(where, np.arange(n)):
        index = np.full(n, -1, dtype=np.int64)
        index[where] = np.arange(len(where))
        compact = compact.take(pa.array(index, mask=index < 0))
    return pd.arrays.ArrowExtensionArray(compact)


def _ints(data: np.ndarray, mask: np.ndarray | None) -> Any:
    """int32 when every value fits (all real ones do), int64 otherwise; Arrow-backed when some are missing."""
    if not len(data) or (data.min() >= _INT32.min and data.max() <= _INT32.max):
        data = data.astype(np.int32)
    if mask is None:
        return data
    return pd.arrays.ArrowExtensionArray(pa.array(data, mask=mask))


def _categorical(
    n: int, where: np.ndarray, values: list[Any], first: list[str] | tuple[str, ...] = ()
) -> pd.Categorical:
    """A categorical column; categories in order of first appearance by row (after ``first``)."""
    compact = np.empty(len(values), dtype=object)
    compact[:] = values
    found, uniques = pd.factorize(compact)
    if len(uniques) > 1:  # order categories by the first row holding them, not by event type
        valid = found >= 0
        first_row = np.full(len(uniques), n, dtype=np.int64)
        np.minimum.at(first_row, found[valid], where[valid])
        order = np.argsort(first_row, kind="stable")
        found = np.where(valid, np.argsort(order)[found], -1)
        uniques = uniques[order]
    categories = list(dict.fromkeys([*first, *uniques.tolist()]))
    if first:
        remap = np.array([categories.index(u) for u in uniques.tolist()] + [-1], dtype=np.int64)
        found = remap[found]
    codes = np.full(n, -1, dtype=np.int64)
    codes[where] = found
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))


def _agent_column(
    n: int, where: np.ndarray, values: list[Any], events: Sequence[Event], meta_rows: np.ndarray
) -> pd.Categorical:
    """Agents as a categorical in flow order (metadata's agents first, then by first appearance)."""
    order: dict[str, None] = {}
    for i in meta_rows.tolist():
        order.update(dict.fromkeys(events[i].agents))  # type: ignore[union-attr]
    return _categorical(n, where, values, tuple(order))


def _joined_metadata(n: int, where: np.ndarray, values: list[Any], run_codes: np.ndarray) -> pd.Categorical:
    """Each run's first metadata name/swarm_type on all of its rows; a metadata row keeps its own."""
    own = _categorical(n, where, values)
    if not len(where):
        return own
    codes = own.codes.astype(np.int64)
    n_runs = int(run_codes.max()) + 1 if n else 0
    per_run = np.full(n_runs + 1, -1, dtype=np.int64)
    for row in where[::-1].tolist():  # the first metadata row of each run wins
        per_run[run_codes[row]] = codes[row]
    joined = per_run[run_codes]
    joined[where] = codes[where]
    return pd.Categorical.from_codes(joined, dtype=own.dtype)


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
    "cat": str,
    "bool": bool,
    "names": _names,
    "steps": _steps,
}
