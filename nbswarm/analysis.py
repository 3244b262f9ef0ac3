"""Metrics of recorded streams: timing, throughput, cost and interleaving, from a recorder DataFrame.

Every function takes ``Recorder.df`` (one row per event; several runs are
kept apart by ``run_id``) and returns a DataFrame. Definitions, all in
seconds of the run's own clock ``t``:

* a **turn** is one agent_start ... agent_end of one agent; its duration is
  end - start (an unfinished turn has no end and no duration);
* **ttft** (time to first token): the first *text* chunk's time minus the start of
  the turn it belongs to, for the agent's first turn that produced text (a
  reasoning model's thinking is not its answer);
* **ttfr** (time to first reasoning): the same for the first ``kind="reasoning"``
  chunk (NaN for models that stream no thinking); ttfr < ttft shows how long
  the model thought before answering;
* **duration** of an agent: the sum of its turn durations (its busy time);
* **tokens_per_s**: the agent's output tokens (from its usage events) / duration (the wait
  for the first token included): the one tokens/s figure, also shown by the live view and dashboard;
* **gaps**: times between consecutive chunks of one agent within one turn;
  ``gap_p95`` is the linearly interpolated 95th percentile (``numpy.percentile``);
* **total_time** of a run: the ``t`` of its last event (its clock starts at 0);
* **phases**: turns grouped into maximal chains of overlapping turns (a parallel
  step of the flow; a sequential step is a phase of one turn). Found from the
  times alone, so streams without step numbers (other SSE producers) work too;
* **critical_path**: the longest turn of each phase, summed over phases: how long
  the run must take given its turns and their order (``critical_agents`` names them);
* **busy_time**: the sum of all turn durations;
* **max_concurrency**: the most turns running at the same instant
  (turns are half-open intervals [start, end), so a hand-over is not overlap);
* **parallelism** = busy_time / total_time: the average number of agents at work;
* **parallel_efficiency** = busy_time / (total_time x max_concurrency): the
  share of the run's agent slots that were used (1.0 = every slot busy throughout);
* **flips**: how often consecutive chunks of the run come from different agents
  (the seed's test of a truly parallel phase); **longest_run**: the most
  consecutive chunks from one agent; **overlap**: seconds during which at least
  two turns were running.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Metrics", "agent_metrics", "chunk_gaps", "interleaving", "metrics", "run_metrics", "turns"]

_TEXT = "text"

_KEY = ["run_id", "agent"]
_NEEDED = (
    "run_id", "seq", "t", "event", "agent", "step", "loop", "finish_reason", "n_chars",
    "input_tokens", "output_tokens", "total_tokens", "cost", "status", "name", "swarm_type",
)  # fmt: skip


@dataclass(frozen=True)
class Metrics:
    """The three metric tables of a recording; shows all three in a notebook."""

    agents: pd.DataFrame
    runs: pd.DataFrame
    interleaving: pd.DataFrame

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>{title}</h4>{table.to_html(float_format=lambda x: f'{x:.4g}')}"
            for title, table in (
                ("agents", self.agents),
                ("runs", self.runs),
                ("interleaving", self.interleaving),
            )
        ]
        return "".join(parts)

    def __repr__(self) -> str:
        return "\n\n".join(
            f"{title}\n{table.to_string()}"
            for title, table in (
                ("agents", self.agents),
                ("runs", self.runs),
                ("interleaving", self.interleaving),
            )
        )


def metrics(df: pd.DataFrame) -> Metrics:
    """All metrics of a recording: per agent, per run, and interleaving."""
    return Metrics(agent_metrics(df), run_metrics(df), interleaving(df))


def turns(df: pd.DataFrame) -> pd.DataFrame:
    """One row per agent turn: run_id, agent, turn, step, loop, start, end, duration, chunks, ttft, ..."""
    d = _ordered(df, ["agent_start", "chunk", "agent_end"])
    columns = ["run_id", "agent", "turn", "step", "loop", "start", "end", "duration"]
    columns += ["chunks", "first_chunk", "last_chunk", "ttft", "ttfr", "finish_reason"]
    if d.empty:
        numbers = ("turn", "chunks", "start", "end", "duration", "first_chunk", "last_chunk", "ttft", "ttfr")
        return pd.DataFrame(columns=columns).astype({c: "float64" for c in numbers})
    key = [*_KEY, "turn"]
    starts = (
        d[d["event"] == "agent_start"].set_index(key)[["t", "step", "loop"]].rename(columns={"t": "start"})
    )
    ends = d[d["event"] == "agent_end"].groupby(key, observed=True)[["t", "finish_reason"]].last()
    chunk_rows = d[d["event"] == "chunk"]
    chunk_t = chunk_rows.groupby(key, observed=True)["t"]
    is_text = chunk_rows["kind"] == _TEXT
    chunks = pd.DataFrame(
        {
            "chunks": chunk_t.size(),
            "first_chunk": chunk_t.min(),
            "last_chunk": chunk_t.max(),
            "first_text": chunk_rows[is_text].groupby(key, observed=True)["t"].min(),
            "first_reasoning": chunk_rows[~is_text].groupby(key, observed=True)["t"].min(),
        }
    )
    out = starts.join(ends.rename(columns={"t": "end"}), how="outer").join(chunks, how="outer")
    out = out.reset_index().sort_values(["run_id", "start", "turn"], kind="stable", na_position="last")
    out["chunks"] = out["chunks"].fillna(0).astype("int64")
    out["duration"] = out["end"] - out["start"]
    out["ttft"] = out["first_text"] - out["start"]
    out["ttfr"] = out["first_reasoning"] - out["start"]
    return out[columns].reset_index(drop=True)


def chunk_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Gaps between consecutive chunks within one turn: run_id, agent, turn, t (of the later), gap."""
    d = _ordered(df, ["agent_start", "chunk", "agent_end"])
    d = d[d["event"] == "chunk"]
    gap = d.groupby([*_KEY, "turn"], observed=True)["t"].diff()
    out = d.assign(gap=gap)[[*_KEY, "turn", "t", "gap"]]
    return out[out["gap"].notna()].reset_index(drop=True)


def agent_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """Per (run_id, agent): turns, start, end, ttft, duration, chunks, chars, tokens, tokens/s, gaps, cost."""
    _check(df)
    rows = df[df["agent"].notna()]
    index = rows.groupby(_KEY, observed=True).size().index
    out = pd.DataFrame(index=index)
    tr = turns(df)
    g = tr.groupby(_KEY, observed=True)
    out["turns"] = g.size()
    out["start"] = g["start"].min()
    out["end"] = g["end"].max()
    out["ttft"] = tr[tr["ttft"].notna()].groupby(_KEY, observed=True)["ttft"].first()
    out["ttfr"] = tr[tr["ttfr"].notna()].groupby(_KEY, observed=True)["ttfr"].first()
    out["duration"] = g["duration"].sum(min_count=1)
    chunk_rows = rows[rows["event"] == "chunk"].groupby(_KEY, observed=True)
    out["chunks"] = chunk_rows.size()
    out["chars"] = chunk_rows["n_chars"].sum()
    usage = rows[rows["event"] == "usage"].groupby(_KEY, observed=True)
    for column in ("input_tokens", "output_tokens", "total_tokens"):
        out[column] = usage[column].sum()
    for column in ("turns", "chunks", "chars", "input_tokens", "output_tokens", "total_tokens"):
        out[column] = out[column].fillna(0).astype("int64")
    out["tokens_per_s"] = out["output_tokens"] / out["duration"].where(out["duration"] > 0)
    gaps = chunk_gaps(df).groupby(_KEY, observed=True)["gap"]
    out["gap_median"] = gaps.median()
    out["gap_p95"] = gaps.quantile(0.95)
    out["gap_max"] = gaps.max()
    out["cost"] = usage["cost"].sum()
    out["cost"] = out["cost"].fillna(0.0)
    out["errors"] = rows[rows["event"] == "error"].groupby(_KEY, observed=True).size()
    out["errors"] = out["errors"].fillna(0).astype("int64")
    return out


def run_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """Per run_id: name, status, total/busy time, critical path, concurrency, parallelism, tokens, cost."""
    _check(df)
    by_run = df.groupby("run_id", observed=True)
    out = pd.DataFrame(index=by_run.size().index)
    out["name"] = by_run["name"].first()
    out["swarm_type"] = by_run["swarm_type"].first()
    ends = df[df["event"] == "end"].groupby("run_id", observed=True)
    out["status"] = ends["status"].last()
    out["agents"] = df[df["agent"].notna()].groupby("run_id", observed=True)["agent"].nunique()
    tr = turns(df)
    out["turns"] = tr.groupby("run_id", observed=True).size()
    out["chunks"] = df[df["event"] == "chunk"].groupby("run_id", observed=True).size()
    for column in ("agents", "turns", "chunks"):
        out[column] = out[column].fillna(0).astype("int64")
    out["total_time"] = by_run["t"].max()
    out["busy_time"] = tr.groupby("run_id", observed=True)["duration"].sum()
    out["busy_time"] = out["busy_time"].fillna(0.0)
    phases = _phases(tr)
    longest = phases.loc[phases.groupby(["run_id", "phase"], observed=True)["duration"].idxmax()]
    longest = longest.sort_values(["run_id", "phase"])
    out["critical_path"] = longest.groupby("run_id", observed=True)["duration"].sum()
    out["critical_agents"] = longest.groupby("run_id", observed=True)["agent"].agg(
        lambda agents: " -> ".join(map(str, agents))
    )
    out["critical_path"] = out["critical_path"].fillna(0.0)
    spans = _spans(tr, out["total_time"])
    out["max_concurrency"] = pd.Series({r: _sweep(s)[0] for r, s in spans.items()}, dtype="int64")
    out["max_concurrency"] = out["max_concurrency"].fillna(0).astype("int64")
    out["parallelism"] = out["busy_time"] / out["total_time"].where(out["total_time"] > 0)
    slots = out["total_time"] * out["max_concurrency"]
    out["parallel_efficiency"] = out["busy_time"] / slots.where(slots > 0)
    usage = df[df["event"] == "usage"]
    run_usage = usage[usage["agent"].isna()].groupby("run_id", observed=True)
    agent_usage = usage[usage["agent"].notna()].groupby("run_id", observed=True)
    for column in ("input_tokens", "output_tokens", "total_tokens", "cost"):
        total = run_usage[column].last().combine_first(agent_usage[column].sum())
        out[column] = total.reindex(out.index)
        out[column] = out[column].fillna(0).astype("float64" if column == "cost" else "int64")
    out["errors"] = df[df["event"] == "error"].groupby("run_id", observed=True).size()
    out["errors"] = out["errors"].fillna(0).astype("int64")
    return out


def interleaving(df: pd.DataFrame) -> pd.DataFrame:
    """Per run_id: chunks, flips between agents, longest single-agent run (and whose), overlap seconds."""
    _check(df)
    chunks = _ordered(df, ["chunk"])
    by_run = df.groupby("run_id", observed=True)
    spans = _spans(turns(df), by_run["t"].max())
    streams = {run_id: agents for run_id, agents in chunks.groupby("run_id", observed=True)["agent"]}
    rows = []
    for run_id in by_run.size().index:
        agents = streams.get(run_id, chunks["agent"].iloc[:0])
        codes = agents.cat.codes.to_numpy()
        changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        run_starts = np.concatenate(([0], changes)).astype(int)
        lengths = np.diff(np.concatenate((run_starts, [len(codes)])))
        best = int(np.argmax(lengths)) if len(codes) else None
        rows.append(
            {
                "chunks": len(codes),
                "flips": len(changes),
                "longest_run": int(lengths[best]) if best is not None else 0,
                "longest_run_agent": agents.iloc[run_starts[best]] if best is not None else None,
                "overlap": _sweep(spans.get(run_id, []))[1],
            }
        )
    columns = ["chunks", "flips", "longest_run", "longest_run_agent", "overlap"]
    return pd.DataFrame(rows, columns=columns, index=by_run.size().index)


# -- helpers ------------------------------------------------------------------


def _check(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a recorder DataFrame (Recorder.df), got {type(df).__name__}")
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise ValueError(f"not a recorder DataFrame (Recorder.df): missing column(s) {', '.join(missing)}")


def _ordered(df: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    """Rows of ``kinds`` in stream order per run, each tagged with its agent's turn number (0-based)."""
    _check(df)
    columns = ["run_id", "seq", "t", "event", "agent", "step", "loop", "finish_reason"]
    rows = df["event"].isin(["agent_start", "chunk", "agent_end"]) & df["agent"].notna()
    d = df.loc[rows, columns]
    # Recordings made before chunks had a kind are all text.
    d["kind"] = df.loc[rows, "kind"].astype("object").fillna(_TEXT) if "kind" in df.columns else _TEXT
    d = d.sort_values(["run_id", "seq"], kind="stable")
    is_start = (d["event"] == "agent_start").astype("int64")
    d["turn"] = is_start.groupby([d["run_id"], d["agent"]], observed=True).cumsum() - 1
    return d[d["event"].isin(kinds)]


def _phases(tr: pd.DataFrame) -> pd.DataFrame:
    """Finished turns with a ``phase`` number per run: a new phase starts when a turn starts at or
    after every earlier turn of the run has ended (turns are half-open, so a hand-over splits)."""
    done = tr[tr["duration"].notna()].sort_values(["run_id", "start", "end"], kind="stable")
    by_run = done.groupby("run_id", observed=True)
    ended = by_run["end"].cummax().groupby(done["run_id"], observed=True).shift()
    fresh = (ended.isna() | (done["start"] >= ended)).astype("int64")
    return done.assign(phase=fresh.groupby(done["run_id"], observed=True).cumsum())


def _spans(tr: pd.DataFrame, run_end: pd.Series) -> dict[str, list[tuple[float, float]]]:
    """Each run's turn intervals; an unfinished turn lasts to the run's last event."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for run_id, start, end in zip(tr["run_id"], tr["start"], tr["end"], strict=True):
        if start == start:  # a turn without agent_start has no interval
            stop = end if end == end else float(run_end.get(run_id, start))
            spans.setdefault(run_id, []).append((float(start), float(stop)))
    return spans


def _sweep(spans: list[tuple[float, float]]) -> tuple[int, float]:
    """(most intervals open at once, seconds with at least two open) for half-open intervals."""
    points = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])  # ends sort before starts
    active = most = 0
    overlap = 0.0
    previous = 0.0
    for time, delta in points:
        if active >= 2:
            overlap += time - previous
        active += delta
        most = max(most, active)
        previous = time
    return most, overlap
