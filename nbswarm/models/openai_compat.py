"""The fast path for OpenAI-compatible streams: httpx + httpx-sse, no litellm.

OpenAI itself and every server that speaks its chat-completions API through ``llm_base_url``
(vLLM, Ollama's ``/v1``, LM Studio, llama.cpp, OpenRouter, Groq, Together...) carry most real
traffic. litellm's wrapper costs ~30x the CPU per chunk of plain httpx + ``json.loads``
(``bench/real_models.py``), which caps one process at a few dozen concurrent agents; this path
produces the same typed deltas, usage and cost (prices from the one source, ``prices``) at a
fraction of it. ``NBSWARM_FORCE_LITELLM=1`` sends these models through litellm instead.

Reasoning arrives as ``delta.reasoning_content`` (DeepSeek, vLLM) or ``delta.reasoning``
(OpenRouter, Ollama). A model that rejects an option answers 400 with ``param`` naming it (the
way OpenAI does); the option is dropped (``max_tokens`` renamed ``max_completion_tokens``) with
one warning, remembered for that endpoint and model, and the request is sent again: nothing has
streamed yet, so nothing is spliced.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import AsyncIterator
from typing import Any

from . import prices
from ._options import openai_params, unsupported_param, warn_dropped
from .base import Delta, ModelRequest, Reasoning, Text
from .errors import missing_key

__all__ = ["OPENAI_URL", "HTTPStatusFailure", "OpenAICompatProvider"]

OPENAI_URL = "https://api.openai.com/v1"
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_adjusted: dict[tuple[str, str], dict[str, str | None]] = {}
"""(endpoint, model) -> {option: its new name, or None to drop it}: learnt from 400 answers."""
_MAX_ADJUSTED = 1024
_MAX_ERROR_BODY = 64 * 1024


class HTTPStatusFailure(Exception):
    """The endpoint answered an error status; ``status_code`` and the body's message are kept."""

    def __init__(self, status_code: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        """The error's ``code`` (``context_length_exceeded``, ``rate_limit_exceeded``...), if any."""


class OpenAICompatProvider:
    """Streams OpenAI chat completions over httpx; one connection pool per event loop."""

    def warm_up(self, model: str) -> None:
        """Import httpx and httpx-sse (the engine calls this in a worker thread, before the turn)."""
        import httpx  # noqa: F401
        import httpx_sse  # noqa: F401

    async def stream(self, request: ModelRequest) -> AsyncIterator[Delta]:
        from httpx_sse import aconnect_sse

        base = request.base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
        base = (base or OPENAI_URL).rstrip("/")
        key = request.api_key or os.environ.get("OPENAI_API_KEY") or None
        model = request.model.removeprefix("openai/")
        if key is None and base == OPENAI_URL:
            raise missing_key(request.model)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body: dict[str, Any] = {
            "model": model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            **openai_params(request),
        }
        if "max_tokens" in body and base == OPENAI_URL:
            body["max_completion_tokens"] = body.pop("max_tokens")  # OpenAI's current name
        body.update(request.extra)
        extra_body = body.pop("extra_body", None)
        if isinstance(extra_body, dict):
            body.update(extra_body)
        extra_headers = body.pop("extra_headers", None)
        if isinstance(extra_headers, dict):
            headers.update(extra_headers)
        _apply(_adjusted.get((base, model)), body)
        client = _client()
        url = f"{base}/chat/completions"
        finish_reason = "stop"
        usage: dict[str, Any] | None = None
        produced = 0
        loads = json.loads
        for _attempt in range(4):
            async with aconnect_sse(client, "POST", url, json=body, headers=headers) as source:
                response = source.response
                if response.status_code >= 400:
                    text = (await response.aread())[:_MAX_ERROR_BODY].decode("utf-8", "replace")
                    if response.status_code == 400 and _learn(base, model, body, text, request.model):
                        continue
                    raise HTTPStatusFailure(response.status_code, *_error_message(response.status_code, text))
                async for sse in source.aiter_sse():
                    data = sse.data
                    if data == "[DONE]":
                        break
                    if not data:
                        continue
                    obj = loads(data)
                    if "error" in obj and not obj.get("choices"):
                        error = obj["error"]
                        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
                        raise HTTPStatusFailure(int(obj.get("status_code") or 500), message)
                    choices = obj.get("choices")
                    if choices:
                        choice = choices[0]
                        delta = choice.get("delta") or {}
                        thought = delta.get("reasoning_content") or delta.get("reasoning")
                        if thought:
                            produced += 1
                            yield Reasoning(thought)
                        text = delta.get("content")
                        if text:
                            produced += 1
                            yield Text(text)
                        if choice.get("finish_reason"):
                            finish_reason = choice["finish_reason"]
                    if obj.get("usage"):
                        usage = obj["usage"]
            break
        yield prices.closing_completion(request.model, finish_reason, usage, produced)


def _client() -> Any:
    """The running loop's httpx client: connections are kept per loop, and bounded."""
    import asyncio

    import httpx

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, read=None),  # stalls are the engine's idle_timeout
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200),
        )
        _clients[loop] = client
    return client


def _apply(adjust: dict[str, str | None] | None, body: dict[str, Any]) -> None:
    for option, renamed in (adjust or {}).items():
        if option in body:
            value = body.pop(option)
            if renamed is not None:
                body[renamed] = value


def _learn(base: str, model: str, body: dict[str, Any], text: str, shown: str) -> bool:
    """Adjust ``body`` to a 400 that names a rejected option; False when it names none we sent."""
    param = unsupported_param(text)
    if param is None or param not in body or param in ("model", "messages", "stream"):
        return False
    renamed = "max_completion_tokens" if param == "max_tokens" else None
    adjust = _adjusted.setdefault((base, model), {}) if len(_adjusted) < _MAX_ADJUSTED else {}
    adjust[param] = renamed
    _apply({param: renamed}, body)
    if renamed is None:
        warn_dropped(shown, param, "the server rejected it")
    return True


def _error_message(status: int, text: str) -> tuple[str, str | None]:
    """(one-line message, error code) of an error body."""
    try:
        error = json.loads(text).get("error")
        if isinstance(error, dict) and error.get("message"):
            code = error.get("code")
            return f"{status}: {error['message']}", code if isinstance(code, str) else None
        if isinstance(error, str):
            return f"{status}: {error}", None
    except (ValueError, AttributeError):
        pass
    return f"{status}: {' '.join(text.split())[:300] or 'no body'}", None
