"""Per-token model prices, so the offline ``sim`` model charges what the real model would.

Prices come from litellm's bundled price map (``model_prices_and_context_window_backup.json``
inside the installed ``litellm`` package), read lazily once and cached, *without importing
litellm* (importing it costs seconds and may touch the network). Names the map lacks, or every
name when litellm is not installed, fall back to ``BUILTIN_PRICES``, a small table of common
models.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from pathlib import Path

__all__ = ["BUILTIN_PRICES", "PRICE_MAP_FILE", "cost_usd", "litellm_price_file", "price_per_token"]

PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"

_M = 1e-6  # the table below is written per million tokens, as vendors publish it

BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    # USD per (input, output) token: vendors' list prices (openai.com/api/pricing,
    # anthropic.com/pricing, ai.google.dev/pricing), checked against litellm 1.106.2's bundled
    # map where it still lists the model. Used only where that map is missing or lacks the name.
    "gpt-4o-mini": (0.15 * _M, 0.60 * _M),
    "gpt-4o": (2.50 * _M, 10.00 * _M),
    "gpt-4.1": (2.00 * _M, 8.00 * _M),
    "gpt-4.1-mini": (0.40 * _M, 1.60 * _M),
    "gpt-4.1-nano": (0.10 * _M, 0.40 * _M),
    "gpt-3.5-turbo": (0.50 * _M, 1.50 * _M),
    "o3-mini": (1.10 * _M, 4.40 * _M),
    "claude-3-5-sonnet-20240620": (3.00 * _M, 15.00 * _M),
    "claude-3-5-sonnet-20241022": (3.00 * _M, 15.00 * _M),
    "claude-3-5-haiku-20241022": (0.80 * _M, 4.00 * _M),
    "claude-3-haiku-20240307": (0.25 * _M, 1.25 * _M),
    "claude-sonnet-4-20250514": (3.00 * _M, 15.00 * _M),
    "claude-sonnet-4-5": (3.00 * _M, 15.00 * _M),
    "claude-haiku-4-5": (1.00 * _M, 5.00 * _M),
    "gemini-1.5-flash": (0.075 * _M, 0.30 * _M),
    "gemini-2.0-flash": (0.10 * _M, 0.40 * _M),
    "gemini-2.5-flash": (0.30 * _M, 2.50 * _M),
}

# Bare names are also tried under these provider prefixes ("gemini-2.5-pro" -> "gemini/...").
_PREFIXES = ("openai", "anthropic", "gemini", "mistral", "deepseek", "groq", "xai")


def price_per_token(model: str) -> tuple[float, float] | None:
    """USD per (input token, output token) for ``model``, or None when the price is unknown.

    Accepts bare and provider-prefixed names ("gpt-4o-mini", "openai/gpt-4o-mini",
    "anthropic/claude-3-5-sonnet-20240620"); a leading "sim/" is ignored. Case-insensitive.
    """
    if not isinstance(model, str):
        raise TypeError(f"model must be a str, got {type(model).__name__}")
    candidates = _candidates(model)
    for table in (_litellm_prices(), _builtin_lower()):
        for name in candidates:
            price = table.get(name)
            if price is not None:
                return price
    return None


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


def _candidates(model: str) -> list[str]:
    name = model.strip().lower()
    if name.startswith("sim/"):
        name = name[4:]
    out = [name]
    if "/" in name:
        out.append(name.split("/", 1)[1])  # "openai/gpt-4o-mini" -> "gpt-4o-mini"
    else:
        out.extend(f"{prefix}/{name}" for prefix in _PREFIXES)
    return out


@functools.cache
def _builtin_lower() -> dict[str, tuple[float, float]]:
    return {name.lower(): price for name, price in BUILTIN_PRICES.items()}


def litellm_price_file() -> Path | None:
    """Where the installed litellm keeps its bundled price map (found without importing it)."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / PRICE_MAP_FILE
        if path.is_file():
            return path
    return None


@functools.cache
def _litellm_prices() -> dict[str, tuple[float, float]]:
    """The bundled map as {lower-case name: (input, output)}; empty when unavailable."""
    path = litellm_price_file()
    if path is None:
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    prices: dict[str, tuple[float, float]] = {}
    for name, entry in raw.items():
        if name == "sample_spec" or not isinstance(entry, dict):
            continue
        price_in = _number(entry.get("input_cost_per_token"))
        if price_in is None:
            continue
        price_out = _number(entry.get("output_cost_per_token"))
        prices.setdefault(name.lower(), (price_in, price_out or 0.0))
    return prices


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None
