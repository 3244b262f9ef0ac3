"""The live view: an anywidget that shows a run as one panel per agent, fast at any token rate.

``view.sink`` is the Run sink (``view.watch(run)`` adds it). Taking an event only updates
Python-side state (O(1) per chunk); ``flush()`` -- called by the Run at most every 0.04 s --
sends ONE custom message with the new text per panel since the last flush and the figures that
changed; at the run's end ``finish()`` sends the final flush and stores the whole final state,
text included, in the synced ``view_state`` trait, so a saved or headless-executed notebook
shows the full result.

While a run is live the trait holds no text: the browser accumulates deltas per widget model,
so a view rendered late in the same page has everything. A frontend that missed deltas (a
reloaded page) sees a gap in ``seq`` and asks for a snapshot with a ``hello`` message.
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets

from ..events import Event
from ..run import Run
from ..viewstate import ViewState

__all__ = ["LiveView", "ViewSink"]

_STATIC = pathlib.Path(__file__).parent / "static"


class LiveView(anywidget.AnyWidget):
    """One live panel per agent of a run: ``LiveView().watch(run)``, then display it."""

    _esm = _STATIC / "view.js"
    _css = _STATIC / "view.css"

    _uid = traitlets.Unicode().tag(sync=True)
    """Names this widget's text store in the page (shared by all views of the widget)."""
    view_state = traitlets.Dict().tag(sync=True)
    """The whole state; holds the text only once the run has ended (or for a run shown afterwards)."""
    markdown = traitlets.Bool(True).tag(sync=True)
    """Render each panel's text as markdown once its agent is done (a button toggles raw text)."""
    max_height = traitlets.Int(320).tag(sync=True)
    """Height in pixels of a panel's text area before it scrolls."""

    def __init__(
        self,
        events: Iterable[Event] | None = None,
        *,
        agents: Iterable[str] | None = None,
        final: bool = False,
        markdown: bool = True,
        max_height: int = 320,
    ) -> None:
        """``events``: a run (or its start) to show at once -- ``final=True`` if nothing more will
        come; ``agents``: show only these agents."""
        if isinstance(max_height, bool) or not isinstance(max_height, int) or max_height < 40:
            raise ValueError(f"max_height must be an int of at least 40 (pixels), got {max_height!r}")
        self.state = ViewState(agents)
        if events is not None:
            self.state.feed(events)
        self.state.closed = bool(final)
        super().__init__(
            _uid=uuid.uuid4().hex,
            view_state=self.state.snapshot(),
            markdown=bool(markdown),
            max_height=max_height,
        )
        self.sink = ViewSink(self)
        """The Run sink: ``run.add_sink(view.sink)`` (or ``view.watch(run)``)."""
        self.on_msg(self._on_frontend_message)

    def watch(self, run: Run) -> LiveView:
        """Follow ``run`` (its past events at once, the rest live); returns self."""
        run.add_sink(self.sink)
        return self

    def flush(self) -> None:
        """Send what changed since the last flush as one message (nothing if nothing changed)."""
        delta = self.state.take_delta()
        if delta is not None:
            self.send(delta)

    def finish(self) -> None:
        """The run has ended: final flush, then the complete state (text included) into the synced trait."""
        if self.state.closed:
            return
        self.flush()
        self.state.closed = True
        self.view_state = self.state.snapshot()

    @property
    def texts(self) -> dict[str, str]:
        """Each agent's text as shown."""
        return self.state.texts()

    def _on_frontend_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("k") == "hello" and not self.state.closed:
            self.flush()
            self.send({"k": "snap", "state": self.state.snapshot()})

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """``show()`` displays the view and returns it: as the cell's ``Out[n]`` it is text only."""
        from ..display import shown_in_this_cell

        if shown_in_this_cell(self):
            return {"text/plain": repr(self)}
        return super()._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        run = self.state.run
        return f"<LiveView {run['title']!r} {run['status']} panels={len(self.state.panels)}>"


class ViewSink:
    """A run's sink for a LiveView. Separate from the widget: a Run calls ``close()`` on its sinks
    at the end, and a widget's ``close()`` would remove it from the page."""

    def __init__(self, view: LiveView) -> None:
        self.view = view
        self._state = view.state

    def __call__(self, event: Event) -> None:
        self._state(event)  # O(1) per chunk; nothing is sent here

    def flush(self) -> None:
        self.view.flush()

    def close(self) -> None:
        self.view.finish()
