"""Per-agent colours, shared by the live view and the plots so an agent looks the same everywhere."""

from __future__ import annotations

from collections.abc import Sequence

# Tableau 10: distinct, colour-blind friendlier than random hues, readable on light and dark themes.
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def agent_colors(agents: Sequence[str]) -> dict[str, str]:
    """Colour for each agent, by its first position in ``agents`` (flow order)."""
    colors: dict[str, str] = {}
    for name in agents:
        if name not in colors:
            colors[name] = PALETTE[len(colors) % len(PALETTE)]
    return colors
