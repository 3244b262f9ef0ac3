"""The terminal dashboard: every agent of a run in one rich panel, redrawn at a throttled rate.

A Run sink. Taking an event only updates a ``ViewState`` (O(1) per chunk); the drawing happens
on the run's ``flush()`` tick, at most ``fps`` times a second, and draws only the tail of each
agent's text, so a redraw costs the same at the 10th token and the 100,000th. ``close()`` draws
the final state once more, so it always shows. Outside a terminal (a pipe, a CI log) rich draws
only that final frame, ended by a newline so the next print starts on a line of its own.

tokens/s is the live view's and ``rec.metrics()``'s figure: output tokens / busy time (from the
agent's start to its end, the wait for the first token included).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel as RichPanel
from rich.rule import Rule
from rich.text import Text

from .events import Event
from .viewstate import Panel, Turn, ViewState

__all__ = ["Dashboard", "render_state"]

ICONS = {"waiting": "⏳", "streaming": "🔄", "done": "✅", "error": "❌", "cancelled": "⏹ "}


class Dashboard:
    """Run sink that shows the run as a live rich dashboard (the seed's ``show_dashboard=True``)."""

    def __init__(
        self,
        *,
        console: Console | None = None,
        fps: float = 8.0,
        lines: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``fps``: most redraws per second; ``lines``: text lines per agent (None: fit the terminal)."""
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 60:
            raise ValueError(f"fps must be a number in (0, 60], got {fps!r}")
        if lines is not None and (isinstance(lines, bool) or not isinstance(lines, int) or lines < 1):
            raise ValueError(f"lines must be a positive int or None, got {lines!r}")
        self.state = ViewState()
        self.console = console or Console()
        self.fps = float(fps)
        self.lines = lines
        self._clock = clock
        self._live: Live | None = None
        self._last_draw = float("-inf")
        self._changed = False
        self.draws = 0
        """How many frames were drawn (the throttle's effect, for tests and benchmarks)."""

    def __call__(self, event: Event) -> None:
        self.state(event)

    def flush(self) -> None:
        """Redraw if something changed and the last frame is at least ``1/fps`` s old."""
        if self.state.take_delta() is not None:
            self._changed = True
        now = self._clock()
        if self._changed and now - self._last_draw >= 1.0 / self.fps:
            self._draw(now)

    def close(self) -> None:
        """The run has ended: draw the final state and leave it on screen."""
        self.state.take_delta()
        self.state.closed = True
        self._draw(self._clock())
        if self._live is not None:
            self._live.stop()
            self._live = None
            if not self.console.is_terminal:
                self.console.line()  # rich leaves a non-terminal's last line open

    def _draw(self, now: float) -> None:
        self._last_draw = now
        self._changed = False
        self.draws += 1
        renderable = self.render()
        if self._live is None:
            self._live = Live(
                renderable, console=self.console, auto_refresh=False, vertical_overflow="visible"
            )
            self._live.start()
        self._live.update(renderable, refresh=True)

    def render(self) -> RenderableType:
        """The current frame: each agent's status, figures and the last lines of its text."""
        lines = self.lines
        if lines is None:
            agents = max(1, len(self.state.panels))
            lines = max(2, min(12, (self.console.size.height - 2) // agents - 4))
        return render_state(self.state, width=self.console.size.width, lines=lines)


def render_state(state: ViewState, *, width: int = 80, lines: int | None = None) -> RenderableType:
    """``state`` as one rich panel; ``lines=None`` shows every agent's whole text (a finished run)."""
    blocks: list[RenderableType] = []
    inner = max(20, width - 4)
    for step_row in state.rows:
        for panel_id in step_row:
            panel = state.panels[panel_id]
            if blocks:
                blocks.append(Text(""))
            blocks.extend(_agent_block(state, panel, inner, lines))
    for message in state.run["errors"]:
        blocks.append(Text(message, style="red"))
    run = state.run
    title = Text(f" {run['title'] or run['type'] or 'run'} ", style="bold")
    figures = f" {run['status']} · {_figures_of_run(state)} "
    return RichPanel(
        Group(*blocks) if blocks else Text("waiting…", style="dim"), title=title, subtitle=figures
    )


def _agent_block(state: ViewState, panel: Panel, width: int, lines: int | None) -> list[RenderableType]:
    figures = panel.figures(state.now)
    head = Text.assemble(
        (f"{ICONS.get(panel.status, '•')} ", ""),
        (panel.agent, f"bold {panel.color}"),
        (f"  {panel.status} · {_figures(figures)}", "dim"),
        no_wrap=True,
        overflow="ellipsis",
    )
    if lines is None:
        body = Text(panel.text)
    else:
        # Only the tail is wrapped: a redraw never touches the whole text.
        tail = Text(state.tail(panel, lines * width))
        wrapped = tail.wrap(_measure_console(width), width)
        body = Text("\n").join(wrapped[-lines:]) if len(wrapped) else Text("")
    block: list[RenderableType] = [head, Rule(style=panel.color)]
    if figures["err"]:
        block.append(Text(figures["err"], style="red"))
    if panel.status == "streaming" and panel.turns and _only_thinking(panel.turns[-1]):
        block.append(Text("thinking…", style="dim italic"))  # a reasoning model: its text is to come
    block.append(body)
    return block


def _only_thinking(turn: Turn) -> bool:
    return bool(turn.thinking or turn.thinking_pending) and not (turn.parts or turn.pending)


_consoles: dict[int, Console] = {}


def _measure_console(width: int) -> Console:
    console = _consoles.get(width)
    if console is None:
        console = _consoles[width] = Console(width=width, file=None)
    return console


def _figures(fig: dict) -> str:
    tps = "–" if fig["tps"] is None else f"{fig['tps']:.0f}" if fig["tps"] >= 100 else f"{fig['tps']:.1f}"
    ttft = "–" if fig["ttft"] is None else f"{fig['ttft']:.2f}s"
    return f"{fig['n']} tok · {tps} tok/s · TTFT {ttft} · {fig['el']:.1f}s · ${fig['cost']:.4f}"


def _figures_of_run(state: ViewState) -> str:
    run = state.run_figures()
    return f"{run['n']} tok · {run['el'] or 0:.1f} s · ${run['cost']:.4f}"
