"""Per-token model prices from one source, for the sim and for real models alike.

The source is `genai-prices <https://pypi.org/project/genai-prices/>`_ (pydantic's maintained
price package: vendors' list prices, updated with each release). Not litellm's price map: the sim
must price a stream without importing litellm (seconds of import), and reading a JSON file by
path from inside another package breaks whenever that package moves it.

A price a provider reports with its usage (``usage.cost`` from litellm's proxy or OpenRouter)
always wins over this table; see ``reported_cost``. Lookups are cached per model name; the
first one imports genai-prices (~0.1 s), so the engine calls ``warm(model)`` in a worker thread
before a turn's clock starts and the stream itself only reads the cache.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from .base import Completion

__all__ = ["cost_usd", "price_per_token", "reported_cost", "warm"]

# litellm's provider prefixes -> genai-prices' provider ids (where they differ or are known).
_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "google": "google",
    "groq": "groq",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "cohere": "cohere",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "azure": "azure",
    "bedrock": "aws",
    "openrouter": "openrouter",
}
_SAMPLE = 1000  # tokens priced per lookup: the first tier of tiered prices


def price_per_token(model: str) -> tuple[float, float] | None:
    """USD per (input token, output token) for ``model``, or None when the price is unknown.

    Accepts bare and provider-prefixed names ("gpt-4o-mini", "openai/gpt-4o-mini",
    "gemini/gemini-2.5-flash"); a leading "sim/" is ignored. Case-insensitive.
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a str, got {type(model).__name__}")
    return _lookup(model.strip().lower())


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """What ``model`` charges for this usage in US dollars; 0.0 when its price is unknown."""
    for field, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{field} must be an int, got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"{field} must be >= 0, got {value}")
    price = price_per_token(model)
    if price is None:
        return 0.0
    return input_tokens * price[0] + output_tokens * price[1]


def warm(model: str) -> None:
    """Load the price table and ``model``'s price into the cache (blocking: call it off the loop)."""
    price_per_token(model)


def reported_cost(usage: Any) -> float | None:
    """The cost a provider reported with its usage (``usage.cost`` / ``usage["cost"]``), else None."""
    value = usage.get("cost") if isinstance(usage, dict) else getattr(usage, "cost", None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def closing_completion(
    model: str, finish_reason: str, usage: Any, produced: int, reported: float | None = None
) -> Completion:
    """A real-model stream's last item: the provider's usage (an OpenAI-style dict or object) and the
    cost it reported (``reported``, else ``usage.cost``) where it sent them; else the deltas counted
    here (``produced``) and the price from this module, marked ``estimated`` when no usage came."""

    def count(name: str) -> int:
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, 0)
        return int(value or 0)

    input_tokens = count("prompt_tokens") if usage is not None else 0
    output_tokens = (count("completion_tokens") if usage is not None else 0) or produced
    if reported is None and usage:
        reported = reported_cost(usage)
    if reported is None:
        reported = cost_usd(model, input_tokens, output_tokens)
    return Completion(
        finish_reason=finish_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost=reported,
        estimated=usage is None,
    )


@functools.lru_cache(maxsize=1024)
def _lookup(name: str) -> tuple[float, float] | None:
    try:
        from genai_prices import Usage, calc_price
    except ImportError:  # pragma: no cover - genai-prices is a core dependency
        return None
    name = name.removeprefix("sim/")
    prefix, _, bare = name.rpartition("/")
    provider = _PROVIDERS.get(prefix.split("/")[0]) if prefix else None
    attempts = [(bare or name, provider)]
    if provider is not None:
        attempts.append((bare, None))
    if prefix:
        attempts.append((name, None))
    for model_ref, provider_id in attempts:
        try:
            price = calc_price(
                Usage(input_tokens=_SAMPLE, output_tokens=_SAMPLE), model_ref, provider_id=provider_id
            )
        except LookupError:
            continue
        except Exception:  # a malformed name the package cannot parse: price unknown
            return None
        return float(price.input_price) / _SAMPLE, float(price.output_price) / _SAMPLE
    return None
