"""Where a run's output is shown: a live view in a notebook, the terminal otherwise."""

from __future__ import annotations

from collections.abc import Mapping

from .console import ConsolePrinter
from .run import Run


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets can render), False in a terminal or script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def attach_output(run: Run, loops: Mapping[str, int], *, live: bool) -> None:
    """Show the agents in ``loops`` (name -> max_loops): live panels in a notebook, printing elsewhere."""
    run.add_sink(ConsolePrinter(loops, live=live))


def attach_dashboard(run: Run) -> None:
    """Show every agent of a run side by side while they stream (the ConcurrentWorkflow dashboard)."""
    run.add_sink(_DashboardStub())


class _DashboardStub(ConsolePrinter):
    """Prints each agent's turn when it ends (until the live dashboard lands)."""

    def __init__(self) -> None:
        super().__init__({}, live=False)

    def __call__(self, event):  # type: ignore[no-untyped-def]
        if event.type == "metadata":
            self.loops = {name: 1 for name in event.agents}
        super().__call__(event)
