"""Comparing variants: one figure (a metric against another per run, output length per variant) and
the outputs of one axis side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InvalidArgument
from ..palette import agent_colors

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._api import Sweep

__all__ = ["compare", "final_rows", "side_by_side"]

METRICS = ("ttft", "duration", "input_tokens", "output_tokens", "tokens_per_s", "cost", "words")


def final_rows(sweep: Sweep) -> pd.DataFrame:
    """The last attempt of every item that ran, with ``words`` (the output's length) and ``variant``."""
    table = sweep.table
    table = table[table["status"] != "skipped"]
    table = table.sort_values(["item", "attempt"]).groupby("item", sort=True).tail(1).copy()
    table["words"] = table["output"].fillna("").str.split().str.len()
    varying = [c for c in sweep.variant_columns if table[c].astype(str).nunique() > 1]
    label = table[varying].astype(str).agg(", ".join, axis=1) if varying else pd.Series("all", table.index)
    table["variant"] = label
    return table


def compare(sweep: Sweep, *, x: str = "duration", y: str = "cost", by: str | None = None) -> Figure:
    """Left: ``y`` against ``x``, a point per run, coloured by ``by`` (default: the variant).
    Right: the output length (words) of each variant, a box per variant."""
    import matplotlib.pyplot as plt

    for name, value in (("x", x), ("y", y)):
        if value not in METRICS:
            raise InvalidArgument(f"plot(): {name} must be one of {', '.join(METRICS)}; got {value!r}")
    rows = final_rows(sweep)
    group = by or "variant"
    if group not in rows.columns:
        raise InvalidArgument(f"plot(): by must be a variant column ({', '.join(sweep.variant_columns)})")
    labels = [str(v) for v in dict.fromkeys(rows[group].astype(str))]
    colors = agent_colors(labels)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4), width_ratios=[3, 2])
    for label in labels:
        part = rows[rows[group].astype(str) == label]
        left.scatter(part[x], part[y], s=22, alpha=0.8, color=colors[label], label=label)
    left.set_xlabel(x)
    left.set_ylabel(y)
    left.set_title(f"{y} vs {x}, one point per run")
    if len(labels) <= 12:
        left.legend(fontsize=8, frameon=False)
    data = [rows.loc[rows[group].astype(str) == label, "words"].dropna().to_numpy() for label in labels]
    boxes = right.boxplot(data, patch_artist=True, **_horizontal(labels))
    for patch, label in zip(boxes["boxes"], labels, strict=True):
        patch.set_facecolor(colors[label])
        patch.set_alpha(0.6)
    right.set_xlabel("output words")
    right.set_title("output length per " + ("variant" if by is None else by))
    fig.suptitle(f"sweep {sweep.sweep_id}: {len(rows)} runs")
    fig.tight_layout()
    return fig


def _horizontal(labels: list[str]) -> dict[str, Any]:
    """Horizontal boxes with labels, in the spelling of the installed Matplotlib (3.9 and 3.10 renamed)."""
    import matplotlib

    version = tuple(int(p) for p in matplotlib.__version__.split(".")[:2] if p.isdigit())
    out: dict[str, Any] = {"tick_labels" if version >= (3, 9) else "labels": labels}
    out.update({"orientation": "horizontal"} if version >= (3, 10) else {"vert": False})
    return out


def side_by_side(sweep: Sweep, axis: str, *, width: int = 60) -> pd.DataFrame:
    """One column per value of ``axis``, one row per combination of the other axes (and task);
    each cell the start of that run's output."""
    if axis not in sweep.variant_columns:
        raise InvalidArgument(f"side_by_side(): axis must be one of {', '.join(sweep.variant_columns)}")
    if not isinstance(width, int) or width < 10:
        raise InvalidArgument(f"side_by_side(): width must be an integer >= 10, got {width!r}")
    rows = final_rows(sweep)
    others = [c for c in sweep.variant_columns if c != axis and rows[c].astype(str).nunique() > 1]
    if rows["task"].nunique() > 1:
        others.append("task")
    text = rows["output"].fillna("").str.replace("\n", " ", regex=False)
    rows = rows.assign(
        _cell=text.where(text.str.len() <= width, text.str.slice(0, width - 1) + "…"),
        _axis=rows[axis].astype(str),
    )
    index: Any = [rows[c].astype(str) for c in others] if others else pd.Series("", index=rows.index)
    return rows.pivot_table(index=index, columns="_axis", values="_cell", aggfunc="first").rename_axis(
        columns=axis
    )
