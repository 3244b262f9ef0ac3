"""The Jupyter live view of a run (anywidget); its display-independent state is ``nbswarm.viewstate``.

``LiveView`` is imported on first use: the terminal dashboard needs only ``ViewState`` and
should not pay for importing ipywidgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..viewstate import Panel, ViewState

if TYPE_CHECKING:
    from .view import LiveView, ViewSink

__all__ = ["LiveView", "Panel", "ViewSink", "ViewState"]


def __getattr__(name: str) -> Any:
    if name in ("LiveView", "ViewSink"):
        from . import view

        return getattr(view, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
