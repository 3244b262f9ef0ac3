"""Plots of recorded streams: a recorder DataFrame in, a matplotlib Axes out (``ax=None`` makes one).

Agents keep the colours they have in the live view (``palette.agent_colors``
in flow order). With several runs in one DataFrame each plot compares them:
the timeline stacks each run's lanes, the others label lines/bars
``run · agent``; ``run_id=`` picks one run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import analysis
from .palette import agent_colors

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["cost", "cumulative_tokens", "gap_distribution", "summary", "timeline"]


def timeline(df: pd.DataFrame, *, run_id: str | None = None, ax: Axes | None = None) -> Axes:
    """One lane per agent: its turns as bars, its chunks as ticks; runs stacked top to bottom.

    Two agents typing at once show as overlapping bars with interleaved ticks.
    """
    df = _select(df, run_id)
    lanes = _lanes(df)
    ax = _axes(ax, height=max(2.0, 0.45 * len(lanes) + 1.2))
    colors = _colors(df)
    runs = _runs(df)
    run_end = df.groupby("run_id", observed=True)["t"].max()
    tr = analysis.turns(df)
    spans: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r, agent, start, end in zip(tr["run_id"], tr["agent"], tr["start"], tr["end"], strict=True):
        if start == start:  # an unfinished turn lasts to the run's last event
            stop = end if end == end else run_end[r]
            spans.setdefault((str(r), str(agent)), []).append((start, stop - start))
    ticks = _by_lane(df[df["event"] == "chunk"], "t")
    labels = []
    for y, (r, agent) in enumerate(lanes):
        ax.broken_barh(spans.get((r, agent), []), (-y - 0.35, 0.7), facecolors=colors[agent], alpha=0.25)
        t = ticks.get((r, agent), np.empty(0))
        ax.plot(t, np.full(len(t), -y), linestyle="none", marker="|", markersize=11, color=colors[agent])
        labels.append(agent if len(runs) == 1 else f"{_short(runs, r)} · {agent}")
        if y and r != lanes[y - 1][0]:
            ax.axhline(-y + 0.5, color="0.6", linewidth=0.8, linestyle="--")
    ax.set_yticks([-i for i in range(len(labels))], labels)
    ax.set_ylim(-max(len(labels), 1) + 0.4, 0.6)
    ax.set_xlabel("seconds since run start")
    ax.set_title("timeline: agent turns and chunks")
    ax.grid(axis="x", alpha=0.3)
    return ax


def cumulative_tokens(df: pd.DataFrame, *, run_id: str | None = None, ax: Axes | None = None) -> Axes:
    """Chunks streamed so far per agent over time (one chunk ~ one token for most providers)."""
    df = _select(df, run_id)
    ax = _axes(ax)
    colors = _colors(df)
    runs = _runs(df)
    ticks = _by_lane(df[df["event"] == "chunk"], "t")
    for r, agent in _lanes(df):
        t = ticks.get((r, agent))
        if t is not None:
            ax.step(
                np.concatenate(([t[0]], t)),
                np.arange(len(t) + 1),
                where="post",
                color=colors[agent],
                linestyle=_STYLES[runs.index(r) % len(_STYLES)],
            )
    ax.set_xlabel("seconds since run start")
    ax.set_ylabel("tokens streamed (chunks)")
    ax.set_title("cumulative tokens")
    _legend(ax, df, runs, colors)
    ax.grid(alpha=0.3)
    return ax


def gap_distribution(df: pd.DataFrame, *, run_id: str | None = None, ax: Axes | None = None) -> Axes:
    """Histogram of the gaps between consecutive chunks of each agent (ms, log scale when they spread)."""
    df = _select(df, run_id)
    ax = _axes(ax)
    colors = _colors(df)
    runs = _runs(df)
    gaps = analysis.chunk_gaps(df)
    values = gaps["gap"].to_numpy() * 1000.0
    positive = values[values > 0]
    log = len(positive) > 1 and positive.max() / positive.min() > 100
    if log:
        bins = np.geomspace(positive.min(), positive.max(), 40)
    elif len(values):
        bins = np.linspace(values.min(), max(values.max(), values.min() + 1e-3), 40)
    else:
        bins = np.linspace(0.0, 1.0, 11)
    by_lane = _by_lane(gaps, "gap")
    for r, agent in _lanes(df):
        mine = by_lane.get((r, agent), np.empty(0)) * 1000.0
        if log:
            mine = mine[mine > 0]
        if len(mine):
            ax.hist(
                mine,
                bins=bins,
                histtype="step",
                linewidth=1.4,
                color=colors[agent],
                linestyle=_STYLES[runs.index(r) % len(_STYLES)],
            )
    if log:
        ax.set_xscale("log")
    ax.set_xlabel("gap between chunks (ms)")
    ax.set_ylabel("count")
    ax.set_title("inter-chunk gaps")
    _legend(ax, df, runs, colors)
    return ax


def cost(df: pd.DataFrame, *, run_id: str | None = None, ax: Axes | None = None) -> Axes:
    """US dollars per agent, stacked by input and output (split by the model's per-token prices)."""
    from matplotlib.patches import Patch

    from .models.prices import price_per_token

    df = _select(df, run_id)
    ax = _axes(ax)
    colors = _colors(df)
    runs = _runs(df)
    usage = df[(df["event"] == "usage") & df["agent"].notna()]
    paid: dict[tuple[str, str], list[float]] = {}
    columns = [usage[c] for c in ("run_id", "agent", "model", "input_tokens", "output_tokens", "cost")]
    for r, agent, model, i_tok, o_tok, usd in zip(*columns, strict=True):
        share = _input_share(price_per_token(model) if isinstance(model, str) else None, i_tok, o_tok)
        total = paid.setdefault((str(r), str(agent)), [0.0, 0.0])
        total[0] += usd * share
        total[1] += usd * (1.0 - share)
    lanes = _lanes(df)
    inputs = [paid.get(lane, [0.0, 0.0])[0] for lane in lanes]
    outputs = [paid.get(lane, [0.0, 0.0])[1] for lane in lanes]
    bar_colors = [colors[agent] for _, agent in lanes]
    y = -np.arange(len(lanes))
    ax.barh(y, inputs, color=bar_colors, alpha=0.4, edgecolor="0.3", linewidth=0.5)
    ax.barh(y, outputs, left=inputs, color=bar_colors, edgecolor="0.3", linewidth=0.5)
    ax.set_yticks(y, [agent if len(runs) == 1 else f"{_short(runs, r)} · {agent}" for r, agent in lanes])
    widest = max((i + o for i, o in zip(inputs, outputs, strict=True)), default=0.0)
    if widest > 0:
        ax.set_xlim(0, widest * 1.6)  # room for the legend beside the bars
    ax.set_xlabel("US dollars")
    ax.set_title("cost per agent")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
    ax.legend(
        handles=[Patch(color="0.5", alpha=0.4, label="input"), Patch(color="0.5", label="output")],
        loc="lower right",
        fontsize="small",
        frameon=False,
    )
    return ax


def summary(df: pd.DataFrame, *, run_id: str | None = None) -> Figure:
    """The four plots in one figure: timeline on top, then tokens, gaps and cost (``rec.plot()``).

    The figure is closed in pyplot, so a notebook shows it once (as the cell's result, not
    again as an open pyplot figure); elsewhere use ``fig.savefig(path)``.
    """
    import matplotlib.pyplot as plt

    df = _select(df, run_id)
    lanes = max(len(_lanes(df)), 1)
    fig = plt.figure(figsize=(12, 3.2 + max(1.6, 0.4 * lanes)), layout="constrained")
    plt.close(fig)
    grid = fig.add_gridspec(2, 3, height_ratios=[max(1.6, 0.4 * lanes), 3.2])
    timeline(df, ax=fig.add_subplot(grid[0, :]))
    cumulative_tokens(df, ax=fig.add_subplot(grid[1, 0]))
    gap_distribution(df, ax=fig.add_subplot(grid[1, 1]))
    cost(df, ax=fig.add_subplot(grid[1, 2]))
    runs = _runs(df)
    if len(runs) == 1:
        fig.suptitle(_run_label(df, runs[0]))
    else:
        fig.suptitle(
            "   ".join(f"{_short(runs, r)}: {_run_label(df, r)}" for r in runs) or "no events recorded"
        )
    return fig


# -- helpers ------------------------------------------------------------------

_STYLES = ("-", "--", ":", "-.")


def _select(df: pd.DataFrame, run_id: str | None) -> pd.DataFrame:
    analysis._check(df)
    if run_id is None:
        return df
    if run_id not in _runs(df):
        raise KeyError(f"no run {run_id!r} in this DataFrame; runs: {_runs(df)}")
    return df[df["run_id"] == run_id]


def _axes(ax: Axes | None, height: float = 3.5) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(8, height), layout="constrained")
    return ax


def _runs(df: pd.DataFrame) -> list[str]:
    return [str(r) for r in pd.unique(df["run_id"])]


def _lanes(df: pd.DataFrame) -> list[tuple[str, str]]:
    """(run, agent) pairs: runs as they appear, each run's agents in flow order (the categorical's)."""
    pairs = df.loc[df["agent"].notna(), ["run_id", "agent"]].drop_duplicates()
    agents = df["agent"]
    order = list(agents.cat.categories) if isinstance(agents.dtype, pd.CategoricalDtype) else []
    rank = {str(a): i for i, a in enumerate(order)}
    by_run: dict[str, list[str]] = {r: [] for r in _runs(df)}
    for r, agent in zip(pairs["run_id"], pairs["agent"], strict=True):
        by_run[str(r)].append(str(agent))
    return [
        (r, a) for r, names in by_run.items() for a in sorted(names, key=lambda a: rank.get(a, len(rank)))
    ]


def _by_lane(frame: pd.DataFrame, column: str) -> dict[tuple[str, str], np.ndarray]:
    """``column`` of ``frame`` split by (run, agent), each in row order."""
    groups = frame.groupby(["run_id", "agent"], observed=True, sort=False)[column]
    return {(str(r), str(a)): values.to_numpy(dtype=float) for (r, a), values in groups}


def _colors(df: pd.DataFrame) -> dict[str, str]:
    if isinstance(df["agent"].dtype, pd.CategoricalDtype):  # categories: every agent, in flow order
        return agent_colors([str(a) for a in df["agent"].cat.categories])
    return agent_colors([str(a) for a in pd.unique(df["agent"].dropna())])


def _run_label(df: pd.DataFrame, run_id: str) -> str:
    name = None
    if "name" in df.columns:
        names = df.loc[df["run_id"] == run_id, "name"]
        name = names.iloc[0] if len(names) else None
        name = None if pd.isna(name) else str(name)
    return f"{name} [{run_id[:6]}]" if name else run_id[:8]


def _input_share(price: tuple[float, float] | None, input_tokens: object, output_tokens: object) -> float:
    """The input part of a usage's cost: by the model's prices, else by token counts."""
    i = 0 if input_tokens is pd.NA else int(input_tokens)  # type: ignore[call-overload]
    o = 0 if output_tokens is pd.NA else int(output_tokens)  # type: ignore[call-overload]
    weights = (i * price[0], o * price[1]) if price is not None else (float(i), float(o))
    total = weights[0] + weights[1]
    return weights[0] / total if total > 0 else 0.0


def _short(runs: list[str], run_id: str) -> str:
    return f"run {runs.index(run_id) + 1}"


def _legend(ax: Axes, df: pd.DataFrame, runs: list[str], colors: dict[str, str]) -> None:
    """Agents by colour; with several runs, runs by line style."""
    from matplotlib.lines import Line2D

    agents = list(dict.fromkeys(agent for _, agent in _lanes(df)))
    handles = [Line2D([], [], color=colors[a], label=a) for a in agents]
    if len(runs) > 1:
        handles += [
            Line2D([], [], color="0.3", linestyle=_STYLES[i % len(_STYLES)], label=_short(runs, r))
            for i, r in enumerate(runs)
        ]
    if handles:
        ax.legend(handles=handles, fontsize="small", frameon=False)
