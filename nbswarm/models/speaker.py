"""Who a model turn speaks for: the agent's name and description, visible to providers.

A chat request carries only messages, so two agents with no system prompt send identical
requests. The engine sets ``SPEAKER`` around each agent turn (each turn runs in its own asyncio
task, so the value never leaks to another agent); the offline sim reads it to give every agent
its own voice. Real providers ignore it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["SPEAKER", "Speaker"]


@dataclass(frozen=True)
class Speaker:
    """The agent a request is made for."""

    name: str = ""
    description: str = ""


SPEAKER: ContextVar[Speaker | None] = ContextVar("nbswarm_speaker", default=None)
"""The agent of the turn being streamed in this task, or None outside an agent turn."""
