"""The live view: an anywidget that shows a run as one panel per agent, fast at any token rate.

``view.sink`` is the Run sink (``view.watch(run)`` adds it). Taking an event only updates
Python-side state (O(1) per chunk); ``flush()`` -- called by the Run at most every 0.04 s --
sends ONE custom message with the new text per panel since the last flush and the figures that
changed; when an agent's turn ends its text is rendered as markdown (``markdown.py``, once per
turn) and the HTML rides along the next delta. At the run's end ``finish()`` sends the final
flush and stores the whole final state, text and HTML included, in the synced ``view_state``
trait, so a saved or headless-executed notebook shows the full result; the Python side then
forgets its own copy, so a finished view holds its text once. ``release()`` closes a view
whose run is over and leaves a static copy in the notebook, so the kernel keeps nothing of it.

While a run is live the trait holds no text: the browser accumulates deltas per widget model,
so a view rendered late in the same page has everything. A frontend that missed deltas (a
reloaded page) sees a gap in ``seq`` and asks for a snapshot with a ``hello`` message.
"""

from __future__ import annotations

import pathlib
import uuid
import weakref
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets

from ..events import LOOP_SEPARATOR, Event
from ..run import Run
from ..viewstate import ViewState
from .markdown import render_markdown

__all__ = ["LiveView", "ViewSink", "release_views"]

_STATIC = pathlib.Path(__file__).parent / "static"
_CREATED: list[weakref.ref[LiveView]] = []  # every view of this kernel, oldest first (for release_views)


class LiveView(anywidget.AnyWidget):
    """One live panel per agent of a run: ``LiveView().watch(run)``, then display it."""

    # The files' text, not their paths: anywidget watches a path's file and ties every instance to
    # that watcher's signal for the life of the kernel, so no view could ever be freed.
    _esm = (_STATIC / "view.js").read_text(encoding="utf-8")
    _css = (_STATIC / "view.css").read_text(encoding="utf-8")

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
        self.state = ViewState(agents, render=render_markdown)
        if events is not None:
            self.state.feed(events)
        self.state.closed = bool(final)
        super().__init__(
            _uid=uuid.uuid4().hex,
            view_state=self.state.snapshot(),
            markdown=bool(markdown),
            max_height=max_height,
        )
        if self.state.closed:
            self.state.release_text()  # the synced trait has it
        self.sink = ViewSink(self)
        """The Run sink: ``run.add_sink(view.sink)`` (or ``view.watch(run)``)."""
        self.display_id: str | None = None
        """Set by ``nbswarm.show`` and friends: the notebook output that ``release()`` replaces."""
        self.on_msg(self._on_frontend_message)
        _CREATED[:] = [ref for ref in _CREATED if ref() is not None]
        _CREATED.append(weakref.ref(self))

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
        self.state.release_text()  # from now on the text lives once, in the synced trait

    @property
    def texts(self) -> dict[str, str]:
        """Each agent's text as shown (panels of one agent joined in step order)."""
        if not self.state.closed:
            return self.state.texts()
        out: dict[str, str] = {}
        for panel in self.view_state.get("panels", []):
            text = "".join(turn["text"] for turn in panel.get("turns", []))  # a later turn starts
            agent = panel["agent"]  # with the separator chunk
            out[agent] = out[agent] + LOOP_SEPARATOR + text if agent in out else text
        return out

    def release(self) -> None:
        """Close this finished view: its notebook output becomes a static copy (text and markdown,
        no widget), and the kernel drops the widget and its text. A running view is left alone."""
        if not self.state.closed:
            raise RuntimeError("release() is for a finished view: its run is still going")
        if self.comm is None:
            return
        if self.display_id is not None:
            from IPython.display import HTML, update_display

            from .static import static_html

            update_display(HTML(static_html(self.view_state)), display_id=self.display_id)
        self.close()

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


def release_views(keep: int = 0) -> int:
    """Release every finished live view of this kernel but the newest ``keep`` (``LiveView.release``):
    their outputs become static copies and the kernel frees their widgets and text. Returns how
    many were released. For long teaching sessions that run hundreds of swarms in one kernel."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ValueError(f"keep must be an int >= 0, got {keep!r}")
    views = [view for ref in _CREATED if (view := ref()) is not None and view.comm is not None]
    finished = [view for view in views if view.state.closed]
    older = finished[: max(0, len(finished) - keep)]
    for view in older:
        view.release()
    return len(older)
