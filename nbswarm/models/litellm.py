"""Real models through litellm, imported only when a real model is used.

Async streaming only: litellm's sync streaming path costs ~3x more CPU per
chunk. ``LITELLM_LOCAL_MODEL_COST_MAP`` is defaulted to True before the
import, because otherwise litellm fetches its price map from the internet.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from .base import Completion, ModelRequest


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "real models need litellm: pip install 'nbswarm[litellm]' (or use a sim/ model offline)"
        ) from exc
    litellm.suppress_debug_info = True
    return litellm


class LiteLLMProvider:
    """Streams any litellm model name (OpenAI, Anthropic, Ollama, OpenAI-compatible servers...)."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[str | Completion]:
        litellm = _litellm()
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        for key, value in (
            ("max_tokens", request.max_tokens),
            ("temperature", request.temperature),
            ("api_base", request.base_url),
            ("api_key", request.api_key),
            ("seed", request.seed),
        ):
            if value is not None:
                kwargs[key] = value
        response = await litellm.acompletion(**kwargs)
        finish_reason = "stop"
        usage = None
        produced = 0
        try:
            async for chunk in response:
                choices = getattr(chunk, "choices", None) or []
                if choices:
                    choice = choices[0]
                    text = getattr(choice.delta, "content", None)
                    if text:
                        produced += 1
                        yield text
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
        finally:  # a cancelled or failed stream closes its connection now, not at garbage collection
            close = getattr(response, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "completion_tokens", 0) or produced)
        yield Completion(
            finish_reason=finish_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=_cost(litellm, request.model, input_tokens, output_tokens),
        )


def _cost(litellm: Any, model: str, input_tokens: int, output_tokens: int) -> float:
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=input_tokens, completion_tokens=output_tokens
        )
        return float(prompt + completion)
    except Exception:  # unknown model (a local server): price unknown
        return 0.0
