"""The flow grammar of ``AgentRearrange``: ``"A, B -> C"``.

``->`` separates steps that run one after another; ``,`` separates agents
that run at the same time within a step; whitespace is free; an agent may
appear in several steps. ``parse_flow`` validates everything before any
model is called and raises ``FlowError`` pointing at the column.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from .errors import FlowError, InvalidArgument

ARROW = "->"

Steps = tuple[tuple[str, ...], ...]


def parse_flow(flow: str, agent_names: Sequence[str]) -> Steps:
    """The steps of ``flow``, each a tuple of agent names; ``FlowError`` if it is malformed."""
    if not isinstance(flow, str):
        raise InvalidArgument(f"flow must be a string like 'A, B -> C', got {type(flow).__name__}")
    if not flow.strip():
        raise FlowError("the flow is empty: give steps like 'A, B -> C'", flow, 0)
    known = set(agent_names)
    steps = []
    for text, offset, arrow in _split(flow, ARROW):
        if not text.strip():
            if arrow == -1:
                raise FlowError("the flow ends with '->': the last step is empty", flow, len(flow))
            raise FlowError("empty step: no agent before this '->'", flow, arrow)
        steps.append(_parse_step(flow, text, offset, known, agent_names))
    return tuple(steps)


def format_flow(steps: Steps) -> str:
    """The canonical spelling of ``steps``: ``"A, B -> C"``."""
    return f" {ARROW} ".join(", ".join(step) for step in steps)


def _parse_step(
    flow: str, text: str, offset: int, known: set[str], agent_names: Sequence[str]
) -> tuple[str, ...]:
    names: list[str] = []
    for part, start, comma in _split(text, ","):
        name = part.strip()
        position = offset + start + (len(part) - len(part.lstrip()))
        if not name:
            where = offset + comma if comma != -1 else offset + len(text.rstrip())
            raise FlowError("empty agent name: a ',' with no agent before or after it", flow, where)
        if name not in known:
            close = [n for n in agent_names if n.casefold() == name.casefold()]
            close = close or difflib.get_close_matches(name, list(agent_names), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise FlowError(
                f"unknown agent {name!r} (the agents are {', '.join(map(repr, agent_names))}){hint}",
                flow,
                position,
            )
        if name in names:
            raise FlowError(f"agent {name!r} appears twice in one step", flow, position)
        names.append(name)
    return tuple(names)


def _split(text: str, separator: str) -> list[tuple[str, int, int]]:
    """Parts of ``text`` between separators: (part, its offset, offset of the separator after it or -1)."""
    parts = []
    start = 0
    while True:
        found = text.find(separator, start)
        if found == -1:
            parts.append((text[start:], start, -1))
            return parts
        parts.append((text[start:found], start, found))
        start = found + len(separator)
