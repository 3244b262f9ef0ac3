"""The small async interface every model provider implements.

A provider turns one ``ModelRequest`` into an async stream of typed deltas:
``Text`` (answer text; a plain ``str`` is read as ``Text``, so providers
written for 0.1 keep working) and ``Reasoning`` (a reasoning model's
thinking, never part of the answer), closed by exactly one ``Completion``
with usage and cost. It raises on failure; the agent turns that into an
``error`` event and keeps the partial text.

A provider may also have ``warm_up(model: str) -> None``: blocking set-up
(imports, clients) that the engine runs once per model in a worker thread,
before the turn's clock starts, so it never stalls the engine loop or
counts in TTFT.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    """Sequences that end the answer where a real model would (never part of the text)."""
    reasoning_effort: str | None = None
    response_format: dict[str, Any] | None = None
    timeout: float | None = None
    """Seconds for the whole turn (None: no limit beyond the provider's own)."""
    num_retries: int | None = None
    """Retries on connection failures before the first token (never after: no spliced answers)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else for the provider's request, unchanged (``model_kwargs``, e.g. ``extra_body``)."""


@dataclass(frozen=True, slots=True)
class Text:
    """A piece of the answer."""

    content: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A piece of a reasoning model's thinking: shown and recorded, never part of the answer."""

    content: str


@dataclass(frozen=True, kw_only=True)
class Completion:
    """The last item of a provider stream."""

    finish_reason: str = "stop"
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    """US dollars; 0.0 where the price is unknown."""
    estimated: bool = False
    """True when the provider sent no usage and the tokens were counted here."""


class Provider(Protocol):
    """Anything that can stream a ``ModelRequest``."""

    def stream(self, request: ModelRequest) -> AsyncIterator[Delta]: ...


Delta = str | Text | Reasoning | Completion
"""What a provider stream yields."""
