"""What a live display shows, derived from a run's events: panels, rows, figures, and text deltas.

``ViewState`` is the display-independent half of the live view (the widget and the terminal
dashboard both use it). Feeding it an event is O(1) work: a chunk's text is appended to its
turn's *pending* list. ``take_delta()`` moves pending text into the turns and returns only what
changed since the last call (new text per panel and turn, figures of the panels that changed,
the rendered form of turns that just ended), so a display sends bytes linear in the text however
often it updates. ``snapshot()`` is the full state.

A panel is one agent at one flow step (an agent that appears in two steps gets two panels); each
loop of the agent is a *turn* of the panel, kept as it streamed (a later turn starts with the
separator chunk the engine sends), so the panel's text -- its turns one after another -- equals
the agent's returned text. Reasoning (``Chunk.kind == "reasoning"``) is kept per turn beside the
text and is never part of it. Rows are the flow's steps, read from ``Metadata.steps``: the agents
of a step sit side by side.

**tokens/s** is one figure everywhere (panel, dashboard, ``rec.metrics()``, plots): output
tokens / the agent's busy time, from each turn's ``agent_start`` to its ``agent_end`` (the wait
for the first token included), summed over turns.

It lives outside ``nbswarm.widget`` so the terminal dashboard does not import the widget package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .events import LOOP_SEPARATOR, AgentEnd, AgentStart, Chunk, End, Error, Event, Metadata, Start, Usage
from .palette import PALETTE
from .viewpanel import Panel, Turn, _round

__all__ = ["LAYOUTS", "Panel", "Turn", "ViewState"]

LAYOUTS = {
    "Agent": "single",
    "SequentialWorkflow": "stack",
    "ConcurrentWorkflow": "grid",
    "AgentRearrange": "rows",
}
"""How each swarm type is laid out; anything else is ``rows``."""

_FINISHED = {"stop": "done", "length": "done", "error": "error", "cancelled": "cancelled"}

RENDER_LIMIT = 400_000
"""Turns longer than this (characters) are not rendered: the display shows their raw text."""


class ViewState:
    """Events in, panels and deltas out. One ``ViewState`` follows one run."""

    def __init__(
        self, agents: Iterable[str] | None = None, *, render: Callable[[str], str] | None = None
    ) -> None:
        """``agents``: show only these agents (None: every agent of the run); ``render``: turns a
        finished turn's text into HTML (the widget's markdown), called once per turn."""
        self.render = render
        self.only: frozenset[str] | None = None if agents is None else frozenset(agents)
        self.panels: list[Panel] = []
        self.rows: list[list[int]] = []
        self.layout = "rows"
        self.run: dict[str, Any] = {
            "id": "",
            "title": "",
            "type": "",
            "status": "waiting",
            "el": 0.0,
            "n": 0,
            "cost": 0.0,
            "errors": [],
        }
        self.seq = 0
        """Number of deltas taken so far; a snapshot carries it so a display can order the two."""
        self.closed = False
        self._by_key: dict[tuple[str, int], Panel] = {}
        self._current: dict[str, Panel] = {}  # agent -> panel of its running (or last) turn
        self._colors: dict[str, str] = {}
        self._dirty: dict[int, Panel] = {}
        self._structure_changed = False
        self._run_changed = False
        self._now = 0.0
        self._totals: Usage | None = None
        self._ended: list[tuple[Panel, int]] = []  # turns that ended since the last delta

    # -- events (hot path: chunks) -------------------------------------------

    def __call__(self, event: Event) -> None:
        """Take one event (a Run sink)."""
        if type(event) is Chunk:
            panel = self._current.get(event.agent)
            if panel is None:
                panel = self._implicit_start(event.agent, event.t)
                if panel is None:
                    return
            turn = panel.turns[-1]
            if event.kind == "text":
                turn.pending.append(event.content)
            else:
                turn.thinking_pending.append(event.content)
            panel.tokens += 1
            panel.turn_chunks += 1
            if panel.t_first is None:
                panel.t_first = event.t
                if panel.ttft is None:
                    panel.ttft = event.t - panel.t_start
            panel.t_last = event.t
            self._now = event.t
            self._dirty[panel.id] = panel
            return
        self._now = max(self._now, event.t)
        self._run_changed = True
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def feed(self, events: Iterable[Event]) -> ViewState:
        """Take many events (e.g. a recorded run); returns self."""
        for event in events:
            self(event)
        return self

    def _metadata(self, event: Metadata) -> None:
        self.run.update(id=event.run_id, title=event.name, type=event.swarm_type)
        self.layout = LAYOUTS.get(event.swarm_type, "rows")
        agents = list(event.agents)
        for name in agents:
            self._color(name)
        for step, names in enumerate(self._planned_steps(event, agents)):
            for name in names:
                self._panel(name, step)

    def _planned_steps(self, event: Metadata, agents: list[str]) -> Sequence[Sequence[str]]:
        """Panels known before any agent starts: shown as ``waiting``."""
        if event.swarm_type == "Agent":
            return [agents[:1]]
        if event.swarm_type == "ConcurrentWorkflow":
            return [agents]
        if event.swarm_type == "SequentialWorkflow":
            return []  # sequential: panels appear in order as their agents start
        known = set(agents)
        return [[name for name in step if name in known] for step in event.steps]

    def _start(self, event: Start) -> None:
        if self.run["status"] == "waiting":
            self.run["status"] = "running"

    def _agent_start(self, event: AgentStart) -> None:
        panel = self._panel(event.agent, event.step)
        if panel is None:
            return
        if self.run["status"] == "waiting":
            self.run["status"] = "running"
        panel.turns.append(Turn())
        panel.status = "streaming"
        panel.t_start = event.t
        panel.t_first = panel.t_last = None
        panel.turn_chunks = 0
        self._current[event.agent] = panel
        self._dirty[panel.id] = panel

    def _implicit_start(self, agent: str, t: float) -> Panel | None:
        """A chunk with no ``agent_start`` before it (terse remote streams): open a turn for it."""
        self._agent_start(AgentStart(run_id="", seq=0, t=t, agent=agent, step=self._next_step()))
        return self._current.get(agent)

    def _next_step(self) -> int:
        return 0 if self.layout in ("single", "grid") else len(self.rows)

    def _agent_end(self, event: AgentEnd) -> None:
        panel = self._current.get(event.agent)
        if panel is None:
            return
        panel.status = _FINISHED.get(event.finish_reason or "stop", "done")
        panel.active += max(0.0, event.t - panel.t_start)
        if self.render is not None and panel.turns:
            self._ended.append((panel, len(panel.turns) - 1))
        self._dirty[panel.id] = panel

    def _usage(self, event: Usage) -> None:
        if event.agent is None:
            self._totals = event
            return
        panel = self._current.get(event.agent)
        if panel is None:
            return
        if event.output_tokens:  # the model's own count replaces the chunk count of this turn
            panel.tokens += event.output_tokens - panel.turn_chunks
            panel.turn_chunks = event.output_tokens
        panel.cost += event.cost
        self._dirty[panel.id] = panel

    def _error(self, event: Error) -> None:
        message = f"{event.error_type}: {event.message}"
        panel = self._current.get(event.agent) if event.agent else None
        if panel is None:
            self.run["errors"] = [
                *self.run["errors"],
                f"{event.agent}: {message}" if event.agent else message,
            ]
            return
        panel.error = message
        self._dirty[panel.id] = panel

    def _end(self, event: End) -> None:
        self.run["status"] = event.status
        self._now = max(self._now, event.execution_time)

    # -- panels ----------------------------------------------------------------

    def _color(self, agent: str) -> str:
        color = self._colors.get(agent)
        if color is None:
            color = self._colors[agent] = PALETTE[len(self._colors) % len(PALETTE)]
        return color

    def _panel(self, agent: str, step: int) -> Panel | None:
        if self.only is not None and agent not in self.only:
            return None
        if self.layout in ("single", "grid"):
            step = 0
        panel = self._by_key.get((agent, step))
        if panel is None:
            panel = Panel(id=len(self.panels), agent=agent, step=step, color=self._color(agent))
            self.panels.append(panel)
            self._by_key[(agent, step)] = panel
            while len(self.rows) <= step:
                self.rows.append([])
            self.rows[step].append(panel.id)
            self._structure_changed = True
            self._dirty[panel.id] = panel
        return panel

    # -- output ----------------------------------------------------------------

    @property
    def now(self) -> float:
        """The run's clock as of the latest event (seconds since it started)."""
        return self._now

    def take_delta(self) -> dict[str, Any] | None:
        """What changed since the last call, or None if nothing did. Moves pending text into panels."""
        if not self._dirty and not self._run_changed and not self._structure_changed:
            return None
        self.seq += 1
        now = self._now
        text: dict[str, list[list[Any]]] = {}
        thinking: dict[str, list[list[Any]]] = {}
        figures = []
        for panel in self._dirty.values():
            for number in range(panel.unsent, len(panel.turns)):
                turn = panel.turns[number]
                if turn.pending:
                    piece = "".join(turn.pending)
                    turn.pending.clear()
                    turn.parts.append(piece)
                    text.setdefault(str(panel.id), []).append([number, piece])
                if turn.thinking_pending:
                    piece = "".join(turn.thinking_pending)
                    turn.thinking_pending.clear()
                    turn.thinking.append(piece)
                    thinking.setdefault(str(panel.id), []).append([number, piece])
            panel.unsent = max(0, len(panel.turns) - 1)
            figures.append(panel.figures(now))
        # A streaming panel's elapsed time moves whenever the run's clock does.
        for panel in self.panels:
            if panel.status == "streaming" and panel.id not in self._dirty:
                figures.append(panel.figures(now))
        self._dirty = {}
        # Rows ride along every time (a few bytes): a frontend that missed earlier deltas can
        # still place the panels it hears about while it waits for a snapshot.
        delta: dict[str, Any] = {
            "k": "d",
            "seq": self.seq,
            "x": text,
            "p": figures,
            "run": self.run_figures(),
            "rows": [list(row) for row in self.rows],
            "layout": self.layout,
        }
        if thinking:
            delta["r"] = thinking
        rendered = self._render_ended()
        if rendered:
            delta["h"] = rendered
        self._structure_changed = False
        self._run_changed = False
        return delta

    def _render_ended(self) -> dict[str, list[list[Any]]]:
        """The HTML of each turn that ended since the last delta (once per turn: linear in the text)."""
        out: dict[str, list[list[Any]]] = {}
        ended, self._ended = self._ended, []
        if self.render is None:
            return out
        for panel, number in ended:
            turn = panel.turns[number]
            text = "".join(turn.parts)
            if text and len(text) <= RENDER_LIMIT:
                turn.html = self.render(text)
                out.setdefault(str(panel.id), []).append([number, turn.html])
        return out

    def run_figures(self) -> dict[str, Any]:
        """The run's header: title, type, status, elapsed, output tokens, cost, errors."""
        totals = self._totals
        run = dict(self.run)
        run["el"] = _round(self._now)
        run["n"] = totals.output_tokens if totals else sum(p.tokens for p in self.panels)
        run["cost"] = round(totals.cost if totals else sum(p.cost for p in self.panels), 6)
        return run

    def snapshot(self) -> dict[str, Any]:
        """Everything, text included; taken after absorbing pending text, so it matches ``seq``."""
        self.take_delta()
        now = self._now
        panels = []
        for panel in self.panels:
            figures = panel.figures(now)
            figures["turns"] = [
                {"text": "".join(t.parts), "think": "".join(t.thinking), "html": t.html} for t in panel.turns
            ]
            panels.append(figures)
        return {
            "seq": self.seq,
            "closed": self.closed,
            "layout": self.layout,
            "run": self.run_figures(),
            "rows": [list(row) for row in self.rows],
            "panels": panels,
        }

    def texts(self) -> dict[str, str]:
        """Each agent's text (panels of one agent joined in step order): what the display shows."""
        out: dict[str, str] = {}
        for panel in self.panels:
            before = out.get(panel.agent)
            out[panel.agent] = panel.text if before is None else before + LOOP_SEPARATOR + panel.text
        return out

    def tail(self, panel: Panel, chars: int) -> str:
        """The last ``chars`` characters of a panel's text, without joining the whole text."""
        pieces: list[str] = []
        size = 0
        for number in range(len(panel.turns) - 1, -1, -1):
            turn = panel.turns[number]
            for part in (*reversed(turn.pending), *reversed(turn.parts)):
                pieces.append(part)
                size += len(part)
                if size >= chars:
                    return "".join(reversed(pieces))[-chars:] if chars > 0 else ""
        return "".join(reversed(pieces))[-chars:] if chars > 0 else ""

    def release_text(self) -> None:
        """Forget every turn's text, reasoning and HTML (a finished display that keeps them elsewhere)."""
        for panel in self.panels:
            panel.turns = [Turn() for _ in panel.turns]
            panel.unsent = max(0, len(panel.turns) - 1)


_HANDLERS = {
    Metadata: ViewState._metadata,
    Start: ViewState._start,
    AgentStart: ViewState._agent_start,
    AgentEnd: ViewState._agent_end,
    Usage: ViewState._usage,
    Error: ViewState._error,
    End: ViewState._end,
}
