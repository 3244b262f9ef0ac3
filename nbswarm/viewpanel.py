"""A panel of the live view -- one agent at one flow step -- and its turns (the agent's loops).

Kept apart from ``viewstate.py`` (which turns events into panels, rows and deltas) so each stays
small; ``nbswarm.viewstate`` re-exports both classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Panel", "Turn"]


@dataclass(eq=False)
class Turn:
    """One loop of an agent in a panel: its text and reasoning, and (once it ended) its rendering."""

    parts: list[str] = field(default_factory=list)
    """Text already handed to the display, one part per delta."""
    pending: list[str] = field(default_factory=list)
    """Text received since the last delta."""
    thinking: list[str] = field(default_factory=list)
    """Reasoning already handed to the display."""
    thinking_pending: list[str] = field(default_factory=list)
    html: str | None = None
    """The text rendered (markdown -> HTML) once the turn ended, if the display renders."""

    @property
    def text(self) -> str:
        return "".join(self.parts) + "".join(self.pending)

    @property
    def reasoning(self) -> str:
        return "".join(self.thinking) + "".join(self.thinking_pending)


@dataclass(eq=False)
class Panel:
    """One agent at one step: its text and its live figures."""

    id: int
    agent: str
    step: int
    color: str
    status: str = "waiting"
    """``waiting``, ``streaming``, ``done``, ``error`` or ``cancelled``."""
    turns: list[Turn] = field(default_factory=list)
    unsent: int = 0
    """Index of the first turn that may hold pending text (earlier ones are all sent)."""
    tokens: int = 0
    """Output tokens: chunks while streaming, the model's count once its usage arrives."""
    turn_chunks: int = 0
    cost: float = 0.0
    ttft: float | None = None
    t_start: float = 0.0
    t_first: float | None = None
    t_last: float | None = None
    active: float = 0.0
    """Seconds of finished turns (each from its agent_start to its agent_end)."""
    error: str = ""

    @property
    def text(self) -> str:
        """Everything received so far (pending included): the turns one after another."""
        return "".join(turn.text for turn in self.turns)

    def figures(self, now: float) -> dict[str, Any]:
        """The wire form of everything but the text (small: sent with every delta that touches it).

        ``tps`` is output tokens / busy time (``el``), the wait for the first token included: the
        same figure as ``rec.metrics()["tokens_per_s"]``."""
        elapsed = self.active
        if self.status == "streaming":
            elapsed += max(0.0, now - self.t_start)
        tps = self.tokens / elapsed if elapsed > 0 and self.tokens else None
        return {
            "id": self.id,
            "agent": self.agent,
            "step": self.step,
            "color": self.color,
            "status": self.status,
            "n": self.tokens,
            "ttft": _round(self.ttft),
            "el": _round(elapsed),
            "tps": _round(tps, 1),
            "cost": round(self.cost, 6),
            "err": self.error,
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
