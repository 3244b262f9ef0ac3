"""A finished view as plain HTML: what ``LiveView.release()`` leaves in the notebook.

Same classes as the live view, so ``view.css`` (inlined once per copy) styles it the same way,
light or dark; each turn shows its rendered markdown (or its escaped raw text), reasoning folded.
"""

from __future__ import annotations

import html
import pathlib
from typing import Any

__all__ = ["static_html"]

_CSS = pathlib.Path(__file__).parent / "static" / "view.css"


def static_html(state: dict[str, Any]) -> str:
    """``state`` (a LiveView's final ``view_state``) as one self-contained HTML fragment."""
    panels = {p["id"]: p for p in state.get("panels", [])}
    rows = []
    for ids in state.get("rows", []):
        inner = "".join(_panel(panels[i]) for i in ids if i in panels)
        rows.append(f'<div class="nbswarm-row">{inner}</div>')
    run = state.get("run", {})
    title = html.escape(run.get("title") or "")
    status = html.escape(run.get("status") or "")
    head = (
        f'<div class="nbswarm-header"><span class="nbswarm-title">{title}</span>'
        f'<span class="nbswarm-run-status">{status}</span></div>'
    )
    errors = "".join(f'<div class="nbswarm-errors">{html.escape(e)}</div>' for e in run.get("errors", []))
    layout = html.escape(state.get("layout", "rows"), quote=True)
    return (
        f"<style>{_CSS.read_text()}</style>"
        f'<div class="nbswarm" data-layout="{layout}">{head}{errors}'
        f'<div class="nbswarm-body">{"".join(rows)}</div></div>'
    )


def _panel(panel: dict[str, Any]) -> str:
    turns = []
    for turn in panel.get("turns", []):
        think = ""
        if turn.get("think"):
            think = (
                '<details class="nbswarm-thinking"><summary>thinking</summary>'
                f'<div class="nbswarm-think-text">{html.escape(turn["think"])}</div></details>'
            )
        body = (
            f'<div class="nbswarm-md">{turn["html"]}</div>'
            if turn.get("html")
            else f'<div class="nbswarm-text">{html.escape(turn.get("text", ""))}</div>'
        )
        turns.append(f'<div class="nbswarm-turn nbswarm-static">{think}{body}</div>')
    color = html.escape(panel.get("color", "#888"), quote=True)
    error = f'<div class="nbswarm-error">{html.escape(panel["err"])}</div>' if panel.get("err") else ""
    return (
        f'<div class="nbswarm-panel" data-status="{html.escape(panel.get("status", ""), quote=True)}" '
        f'style="--agent-color: {color}"><div class="nbswarm-panel-top">'
        f'<span class="nbswarm-name">{html.escape(panel.get("agent", ""))}</span>'
        f'<span class="nbswarm-status">{html.escape(panel.get("status", ""))}</span></div>'
        f'{error}<div class="nbswarm-scroll">{"".join(turns)}</div></div>'
    )
