"""Model providers behind one small async interface (``base.Provider``).

``resolve(model_name)`` picks one: ``sim/<model>`` (or any name while
simulation is on) streams offline from the built-in simulator; OpenAI models
(``openai/<model>`` or a bare ``gpt-*``/``o*`` name) take the fast
OpenAI-compatible path (httpx, no litellm) unless ``NBSWARM_FORCE_LITELLM=1``;
anything else goes to litellm, imported only then (off the engine loop).
"""

from __future__ import annotations

import os
import re
from types import TracebackType

from .base import Completion, Delta, ModelRequest, Provider, Reasoning, Text

__all__ = [
    "Completion",
    "Delta",
    "ModelRequest",
    "Provider",
    "Reasoning",
    "Text",
    "fast_path",
    "resolve",
    "simulate",
    "simulating",
    "warm",
]

SIM_PREFIX = "sim/"
FORCE_LITELLM_ENV = "NBSWARM_FORCE_LITELLM"
_OPENAI_BARE = re.compile(r"^(gpt-|chatgpt-|o\d|ft:gpt-)")
_simulate_override: bool | None = None


class simulate:  # noqa: N801  (used like a function: nbswarm.simulate())
    """Route every model name to the offline sim: ``nbswarm.simulate()`` or ``with nbswarm.simulate():``.

    ``nbswarm.simulate(False)`` turns it off again (also overriding ``NBSWARM_SIMULATE``).
    """

    def __init__(self, on: bool = True) -> None:
        global _simulate_override
        self._previous = _simulate_override
        _simulate_override = bool(on)

    def __enter__(self) -> simulate:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _simulate_override
        _simulate_override = self._previous


def simulating() -> bool:
    """Whether every model is routed to the sim (``nbswarm.simulate()`` or ``NBSWARM_SIMULATE=1``)."""
    if _simulate_override is not None:
        return _simulate_override
    return os.environ.get("NBSWARM_SIMULATE", "").strip().lower() in ("1", "true", "yes", "on")


def warm(model_name: str) -> None:
    """Start loading, in the background, what the sim needs for ``model_name`` if the sim will serve
    it (its tokenizer, the price map), so the first turn's time to first token is not spent loading."""
    if model_name == "sim" or model_name.startswith(SIM_PREFIX) or simulating():
        from .sim import prefetch

        prefetch(model_name[len(SIM_PREFIX) :] if model_name.startswith(SIM_PREFIX) else model_name)


def resolve(model_name: str) -> tuple[Provider, str]:
    """The provider for ``model_name`` and the model name to send it (without ``sim/``)."""
    if model_name == "sim" or model_name.startswith(SIM_PREFIX):
        from .sim import SimProvider

        return SimProvider(), model_name[len(SIM_PREFIX) :] or "gpt-4o-mini"
    if simulating():
        from .sim import SimProvider

        return SimProvider(), model_name
    if fast_path(model_name):
        from .openai_compat import OpenAICompatProvider

        return OpenAICompatProvider(), model_name
    from .litellm import LiteLLMProvider

    return LiteLLMProvider(), model_name


def fast_path(model_name: str) -> bool:
    """Whether ``model_name`` streams through the OpenAI-compatible fast path (not litellm)."""
    if os.environ.get(FORCE_LITELLM_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    if model_name.startswith("openai/"):
        return True
    return "/" not in model_name and bool(_OPENAI_BARE.match(model_name))
