"""The request options both real-model paths send, and the one-line warning when a model drops one.

Only options the user set are sent: a hard-coded default (swarms' ``temperature=0.5``) is
rejected by today's reasoning models. When a model rejects an option anyway, the option is
dropped for that model with one warning (litellm's ``drop_params``, or OpenAI's own 400 answer
naming the ``param``) instead of failing the turn.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from .base import ModelRequest

logger = logging.getLogger("nbswarm")

_warned: set[tuple[str, str]] = set()
_MAX_WARNED = 4096


def openai_params(request: ModelRequest) -> dict[str, Any]:
    """The OpenAI chat-completions options of ``request`` that are set, unchanged."""
    params: dict[str, Any] = {}
    for key, value in (
        ("max_tokens", request.max_tokens),
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("seed", request.seed),
        ("reasoning_effort", request.reasoning_effort),
        ("response_format", request.response_format),
    ):
        if value is not None:
            params[key] = value
    if request.stop:
        params["stop"] = list(request.stop)
    return params


_PARAM = re.compile(r"""["']param["']\s*:\s*["'](\w+)["']""")
_UNSUPPORTED = re.compile(r"[Uu]nsupported (?:value|parameter): '(\w+)'")


def unsupported_param(text: str) -> str | None:
    """The option an OpenAI-style 400 says the model rejects (``param`` of an ``unsupported_*`` error)."""
    if "unsupported" not in text.lower():
        return None
    try:
        error = json.loads(text).get("error") or {}
        if isinstance(error, dict) and str(error.get("code", "")).startswith("unsupported"):
            param = error.get("param")
            return param if isinstance(param, str) and param else None
    except (ValueError, AttributeError):
        pass
    match = _PARAM.search(text) or _UNSUPPORTED.search(text)
    return match.group(1) if match else None


def warn_dropped(model: str, param: str, why: str) -> None:
    """One warning line per (model, option) per process."""
    key = (model, param)
    if key in _warned:
        return
    if len(_warned) < _MAX_WARNED:
        _warned.add(key)
    logger.warning("nbswarm: %s does not accept %s; sent without it (%s)", model, param, why)
