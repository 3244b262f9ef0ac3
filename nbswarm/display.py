"""Where a run's output is shown: a live view in a notebook, the terminal otherwise.

* ``attach_output`` (``print_on=True``): in a notebook, a streaming run gets the live view
  instead of printing; elsewhere the console printer prints it.
* ``attach_dashboard`` (``ConcurrentWorkflow(show_dashboard=True)``): the live view in a
  notebook, the throttled rich dashboard in a terminal.
* ``show(run | recorder | events)``: show any run, live or finished, or a recorded one again.
  Showing a run that nothing has started starts it (``run.start()``), so a bare ``run`` at the
  end of a cell, ``show(run)`` and ``show(replay(...))`` stream while the cell is done. A view
  is displayed once per call: the view ``show`` returns does not display itself again as the
  cell's ``Out[n]``.

The widget and rich are imported only when they are used.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .console import ConsolePrinter
from .events import EVENT_TYPES, Event
from .run import Run

if TYPE_CHECKING:
    from .widget.view import LiveView

__all__ = ["attach_dashboard", "attach_output", "in_notebook", "ipython_display", "show"]

# The live view attached to each run, so showing the run again shows the same widget (whose
# text the browser already has) rather than a second copy.
_views: weakref.WeakKeyDictionary[Run, LiveView] = weakref.WeakKeyDictionary()
_EVENT_CLASSES = tuple(EVENT_TYPES.values())
_shown_in_cell: weakref.WeakKeyDictionary[Run, int] = weakref.WeakKeyDictionary()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets can render), False in a terminal or script.

    Decided by capability, not by the shell's exact class: any shell derived from ipykernel's
    ``ZMQInteractiveShell`` (JupyterLab, Notebook 7, VS Code, and Google Colab, whose shell is a
    subclass) or attached to a kernel is a notebook front end."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__):
        return True
    return getattr(shell, "kernel", None) is not None


def attach_output(
    run: Run, loops: Mapping[str, int], *, live: bool, streaming: bool | None = None, errors: bool = True
) -> None:
    """Show the agents in ``loops`` (name -> max_loops).

    ``live``: the terminal printer prints each token (else each turn at its end); ``streaming``:
    some agent asked to stream (default: ``live``) -- in a notebook that shows the live view;
    ``errors=False``: the terminal printer leaves model errors to the exception the caller raises.
    """
    if in_notebook() and (live if streaming is None else streaming):
        _display(_watch(run, agents=list(loops)), run)
    else:
        run.add_sink(ConsolePrinter(loops, live=live, errors=errors))


def attach_dashboard(run: Run) -> None:
    """Show every agent of ``run`` live: the widget in a notebook, a rich dashboard in a terminal."""
    if in_notebook():
        _display(_watch(run), run)
    else:
        from .dashboard import Dashboard

        run.add_sink(Dashboard())


def show(
    source: Run | Iterable[Event] | Any, *, markdown: bool = True, max_height: int = 320
) -> LiveView | list[LiveView] | None:
    """Show a run -- running, finished, or recorded -- as the live view (a rich panel in a terminal).

    ``source``: a ``Run``; a recorder or anything with ``.events``; or an iterable of events
    (several runs' events give one view per run). Returns the view(s) in a notebook, else None.
    """
    if isinstance(source, Run):
        if not in_notebook():
            _show_in_terminal(source)
            return None
        view = _views.get(source)
        if view is None:
            if source.done and source.end is not None:
                view = _finished_view(source.events, markdown, max_height)
                _views[source] = view
            else:
                view = _watch(source, markdown=markdown, max_height=max_height)
        _display(view, source)
        if not source.started:
            source.start()
        return view
    runs = _events_by_run(source)
    if not in_notebook():
        for events in runs:
            _print_static(events)
        return None
    views = [_finished_view(events, markdown, max_height) for events in runs]
    for view in views:
        _display(view, None)
    return views[0] if len(views) == 1 else views


def ipython_display(run: Run) -> None:
    """What ``Run._ipython_display_`` does: show the run, unless its view is already in this cell."""
    if not in_notebook():
        print(repr(run))
        return
    if _views.get(run) is not None and _shown_in_cell.get(run) == _execution_count():
        if not run.started:  # its view is already on the page (attach_output): start it
            run.start()
        return
    show(run)


# -- helpers ---------------------------------------------------------------------------------


def _watch(run: Run, *, agents: list[str] | None = None, markdown: bool = True, max_height: int = 320) -> Any:
    from .widget.view import LiveView

    view = LiveView(agents=agents, markdown=markdown, max_height=max_height)
    view.watch(run)
    _views[run] = view
    return view


def _finished_view(events: Iterable[Event], markdown: bool, max_height: int) -> Any:
    from .widget.view import LiveView

    return LiveView(events, final=True, markdown=markdown, max_height=max_height)


_colab_ready = False


def _colab_widgets() -> None:
    """Google Colab renders third-party widgets only once its custom widget manager is on."""
    global _colab_ready
    if _colab_ready or "google.colab" not in sys.modules:
        return
    _colab_ready = True
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception:  # an older or unusual Colab: the view may still render
        pass


def _display(view: Any, run: Run | None) -> None:
    from IPython.display import display

    _colab_widgets()
    handle = display(view, display_id=True)
    if getattr(handle, "display_id", None):
        view.display_id = handle.display_id  # what view.release() replaces with a static copy
    count = _execution_count()
    view._nbswarm_shown_in = count  # its Out[n] repr then does not display it a second time
    if run is not None:
        _shown_in_cell[run] = count


def shown_in_this_cell(view: Any) -> bool:
    """Whether ``show`` already displayed ``view`` in the cell now running (see ``LiveView``)."""
    return getattr(view, "_nbswarm_shown_in", None) == _execution_count()


def _execution_count() -> int:
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "execution_count", -1) if shell is not None else -1


def _events_by_run(source: Any) -> list[list[Event]]:
    events = getattr(source, "events", source)
    if callable(events):
        events = events()
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise TypeError(
            f"show() takes a Run, a recorder (anything with .events) or an iterable of events, "
            f"got {type(source).__name__}"
        )
    runs: dict[str, list[Event]] = {}
    for event in events:
        if not isinstance(event, _EVENT_CLASSES):
            raise TypeError(f"show() expected nbswarm events, got a {type(event).__name__}")
        runs.setdefault(event.run_id, []).append(event)
    if not runs:
        raise ValueError("show() was given no events: nothing to show")
    return list(runs.values())


def _show_in_terminal(run: Run) -> None:
    if run.done and run.end is not None:
        _print_static(run.events)
    else:
        from .dashboard import Dashboard

        run.add_sink(Dashboard())
        if not run.started:
            run.start()


def _print_static(events: Iterable[Event]) -> None:
    from rich.console import Console

    from .dashboard import render_state
    from .viewstate import ViewState

    console = Console()
    state = ViewState().feed(events)
    state.take_delta()
    console.print(render_state(state, width=console.size.width, lines=None))
