"""The small async interface every model provider implements.

A provider turns one ``ModelRequest`` into an async stream of text pieces
(``str``), closed by exactly one ``Completion`` with usage and cost. It raises
on failure; the agent turns that into an ``error`` event and keeps the
partial text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class ModelRequest:
    """One chat completion to stream."""

    model: str
    """The model name without any ``sim/`` prefix, e.g. ``gpt-4o-mini``."""
    messages: list[dict[str, str]] = field(default_factory=list)
    """OpenAI-style messages: ``{"role": ..., "content": ...}``."""
    max_tokens: int | None = None
    temperature: float | None = None
    base_url: str | None = None
    api_key: str | None = None
    seed: int | None = None


@dataclass(frozen=True, kw_only=True)
class Completion:
    """The last item of a provider stream."""

    finish_reason: str = "stop"
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    """US dollars; 0.0 where the price is unknown."""


class Provider(Protocol):
    """Anything that can stream a ``ModelRequest``."""

    def stream(self, request: ModelRequest) -> AsyncIterator[str | Completion]: ...
