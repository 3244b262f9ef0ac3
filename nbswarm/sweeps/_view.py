"""The sweep's live progress view: runs by status, events/s, tokens and cost so far, and a table of
the runs (running ones first, then the latest to finish) with their variant columns.

An ipywidgets HTML redrawn by the sweep's monitor thread at most ~4 times a second, whatever the
event rate; the text form (``repr``) everywhere else. Open one run's own live view with
``sw.run(i)``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..display import in_notebook

if TYPE_CHECKING:
    from ._api import Sweep

__all__ = ["SweepView", "show_progress"]

ROWS = 12
"""Runs listed in the view (the table itself has them all)."""
_STATUS_COLORS = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#8d6e63",
    "running": "#1565c0",
    "pending": "#9e9e9e",
    "skipped": "#bdbdbd",
}


def show_progress(sweep: Sweep) -> None:
    if not in_notebook():
        print(repr(sweep))
        return
    from IPython.display import display

    if sweep._view is None:
        sweep._view = SweepView(sweep)
    display(sweep._view.widget)


class SweepView:
    def __init__(self, sweep: Sweep) -> None:
        import ipywidgets

        self.sweep = sweep
        self.widget = ipywidgets.HTML(value=self.render())

    def update(self) -> None:
        self.widget.value = self.render()

    def render(self) -> str:
        sw = self.sweep
        p = sw.progress()
        total = sum(p[s] for s in ("pending", "running", "completed", "failed", "cancelled", "skipped"))
        bar = "".join(
            f'<div title="{s}: {p[s]}" style="width:{100 * p[s] / total:.2f}%;background:{c}"></div>'
            for s, c in _STATUS_COLORS.items()
            if p[s]
        )
        state = "done" if sw.done else "cancelling" if sw.cancelling else "running"
        budget = (
            "" if sw.max_cost is None else f" of ${sw.max_cost:g}" + (" (budget reached)" * p["budget_hit"])
        )
        counts = " · ".join(f'<span style="color:{c}">{p[s]} {s}</span>' for s, c in _STATUS_COLORS.items())
        head = (
            f"<b>sweep {html.escape(sw.sweep_id)}</b> · {sw.backend_name} · {state} · {counts}<br>"
            f"{p['events']:,} events ({p['events_per_s']:,.0f}/s) · {p['tokens']:,} tokens · "
            f"${p['cost']:.4f}{budget} · {p['elapsed']:.1f} s"
            + (f" · {p['gaps']} lost events" * bool(p["gaps"]))
        )
        return (
            '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:12px">'
            f"<div>{head}</div>"
            f'<div style="display:flex;height:8px;margin:4px 0;background:#eee">{bar}</div>'
            f"{self._rows()}</div>"
        )

    def _rows(self) -> str:
        sw = self.sweep
        with sw.tracker.lock:
            rows = list(sw.tracker.rows.values())
        running = [r for r in rows if r.status == "running"]
        ended = [r for r in rows if r.status in ("completed", "failed", "cancelled")]
        shown = (running + ended[::-1])[:ROWS]
        columns = sw.variant_columns
        head = "".join(
            f"<th>{html.escape(c)}</th>" for c in [*columns, "run_id", "status", "ttft", "cost", "output"]
        )
        body = []
        for row in shown:
            cells = [_cell(row.spec.variant.get(c)) for c in columns]
            ttft = "" if row.ttft is None else f"{row.ttft:.2f}"
            color = _STATUS_COLORS.get(row.status, "#000")
            cells += [
                _cell(row.spec.run_id),
                f'<span style="color:{color}">{row.status}</span>',
                ttft,
                f"{row.cost:.5f}",
                _cell(row.output, 60),
            ]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        return f'<table style="font-size:11px"><tr>{head}</tr>{"".join(body)}</table>' if body else ""


def _cell(value: Any, width: int = 30) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return html.escape(text if len(text) <= width else text[: width - 1] + "…")
