"""Real models through litellm: every provider the fast OpenAI-compatible path does not serve.

litellm is imported in ``warm_up``, which the engine runs in a worker thread before a turn's
clock starts: the import takes seconds and would otherwise freeze every agent on the engine loop
and count in the first turn's TTFT. ``LITELLM_LOCAL_MODEL_COST_MAP`` is defaulted to True before
the import, because otherwise litellm fetches its price map from the internet.

Async streaming only (litellm's sync streaming costs ~3x more CPU per chunk). litellm's
normalised ``delta.reasoning_content`` (o-series summaries, DeepSeek-R1, Claude and Gemini
thinking) becomes ``Reasoning``. litellm never retries here (``num_retries=0``, ``max_retries=0``):
the engine retries connection failures itself, and only before the first token.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from . import prices
from ._options import openai_params, unsupported_param, warn_dropped
from .base import Delta, ModelRequest, Reasoning, Text
from .errors import missing_key

__all__ = ["LiteLLMProvider", "import_litellm"]

_import_lock = threading.Lock()
_warmed: set[str] = set()

_FIRST_HTTP_CALL_IMPORTS = ("litellm._service_logger",)
"""Modules litellm imports lazily on its first real HTTP call (~0.15 s, with its Prometheus
integration) that a ``mock_response`` call does not reach (tests/test_litellm.py watches for any)."""
_CREDENTIAL_WORDS = ("KEY", "TOKEN", "SECRET")


def import_litellm() -> Any:
    """litellm, imported once (blocking for seconds the first time: call it off the engine loop)."""
    with _import_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        try:
            import litellm
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "real models need litellm: pip install 'nbswarm[litellm]' (or use a sim/ model offline)"
            ) from exc
        litellm.suppress_debug_info = True
        quiet = logging.getLogger("LiteLLM")
        if quiet.level == logging.NOTSET:  # nbswarm says it once, in one line (unless you set a level)
            quiet.setLevel(logging.ERROR)
        return litellm


class LiteLLMProvider:
    """Streams any litellm model name (Anthropic, Gemini, Ollama, Bedrock, ... and OpenAI on request)."""

    def warm_up(self, model: str) -> None:
        """Import litellm and what its first call imports (the engine runs this in a worker thread,
        before the turn's clock): one offline call with litellm's ``mock_response``, on a private
        loop, loads the ~90 modules the first ``acompletion`` would otherwise import on the engine
        loop (a second or more). ``no-log`` keeps it out of any litellm callbacks you set."""
        litellm = import_litellm()
        if model in _warmed:
            return

        async def offline_call() -> None:
            response = await litellm.acompletion(
                model=model,
                messages=[{"role": "user", "content": "warm up"}],
                mock_response="ok",
                stream=True,
                **{"no-log": True},
            )
            async for _ in response:
                pass

        with contextlib.suppress(Exception):  # a name litellm cannot route fails later, in the turn
            asyncio.run(offline_call())
        for name in _FIRST_HTTP_CALL_IMPORTS:  # what a mocked call does not reach
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        if len(_warmed) < 1024:
            _warmed.add(model)

    async def stream(self, request: ModelRequest) -> AsyncIterator[Delta]:
        litellm = import_litellm()  # already imported by warm_up: a dict lookup here
        if request.api_key is None and request.base_url is None:
            _check_environment(litellm, request.model)
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "num_retries": 0,
            "max_retries": 0,
            **openai_params(request),
        }
        for key, value in (
            ("api_base", request.base_url),
            ("api_key", request.api_key),
            ("timeout", request.timeout),
        ):
            if value is not None:
                kwargs[key] = value
        kwargs.update(request.extra)
        response = await _open(litellm, kwargs, request.model)
        finish_reason = "stop"
        usage: Any = None
        reported: float | None = None
        produced = 0
        try:
            async for chunk in response:
                choices = chunk.choices
                if choices:
                    choice = choices[0]
                    delta = choice.delta
                    thought = getattr(delta, "reasoning_content", None)
                    if thought:
                        produced += 1
                        yield Reasoning(thought)
                    text = delta.content
                    if text:
                        produced += 1
                        yield Text(text)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                chunk_usage = getattr(chunk, "usage", None)
                if chunk_usage:
                    usage = chunk_usage
                    reported = prices.reported_cost(chunk_usage)
        finally:  # a cancelled or failed stream closes its connection now, not at garbage collection
            close = getattr(response, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        hidden = getattr(response, "_hidden_params", None) or {}
        if reported is None and isinstance(hidden, dict):  # litellm's own response_cost
            reported = prices.reported_cost({"cost": hidden.get("response_cost")})
        yield prices.closing_completion(request.model, finish_reason, usage, produced, reported)


async def _open(litellm: Any, kwargs: dict[str, Any], model: str) -> Any:
    """``acompletion``, dropping (with one warning each) the options the model rejects."""
    for _ in range(4):
        try:
            return await litellm.acompletion(**kwargs)
        except litellm.UnsupportedParamsError as exc:
            if kwargs.get("drop_params"):
                raise
            message = str(exc)
            dropped = [k for k in openai_params_keys(kwargs) if k in message] or ["an option"]
            warn_dropped(model, ", ".join(dropped), "litellm drop_params")
            kwargs["drop_params"] = True
        except litellm.BadRequestError as exc:
            param = unsupported_param(str(exc))
            if param is None or param not in kwargs:
                raise
            warn_dropped(model, param, "the server rejected it")
            kwargs.pop(param)
    return await litellm.acompletion(**kwargs)


def openai_params_keys(kwargs: dict[str, Any]) -> list[str]:
    names = ("temperature", "top_p", "seed", "stop", "reasoning_effort", "response_format", "max_tokens")
    return [k for k in names if k in kwargs]


def _check_environment(litellm: Any, model: str) -> None:
    """Fail at once, naming the variable, when the provider's key is not in the environment."""
    try:
        found = litellm.validate_environment(model=model)
    except Exception:  # a model name litellm cannot route: let acompletion say why
        return
    missing = [name for name in found.get("missing_keys") or [] if any(w in name for w in _CREDENTIAL_WORDS)]
    if missing and not found.get("keys_in_environment"):
        raise missing_key(model, missing)
