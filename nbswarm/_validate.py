"""Argument checks shared by the public entry points: clear messages that name the argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import InvalidArgument


def positive_int(name: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{where}: {name} must be a positive integer, got {value!r}")
    return value


def text(name: str, value: Any, where: str, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{where}: {name} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise InvalidArgument(f"{where}: {name} must not be empty")
    return value


def number(name: str, value: Any, where: str, *, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidArgument(f"{where}: {name} must be a number from {low} to {high}, got {value!r}")
    return float(value)


def callback(name: str, value: Any, where: str) -> Callable[..., Any] | None:
    if value is not None and not callable(value):
        raise InvalidArgument(f"{where}: {name} must be callable or None, got {type(value).__name__}")
    return value


def optional_text(name: str, value: Any, where: str) -> str | None:
    return None if value is None else text(name, value, where)


def optional_number(name: str, value: Any, where: str, *, low: float, high: float) -> float | None:
    return None if value is None else number(name, value, where, low=low, high=high)


def optional_seconds(name: str, value: Any, where: str) -> float | None:
    """None (no limit) or a positive, finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise InvalidArgument(f"{where}: {name} must be a positive number of seconds or None, got {value!r}")
    return float(value)


def stop_sequences(value: Any, where: str) -> tuple[str, ...] | None:
    """``stop``: None, one string, or up to 4 non-empty strings (OpenAI's limit)."""
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) and s for s in items):
        raise InvalidArgument(f"{where}: stop must be a string or a list of non-empty strings, got {value!r}")
    if not 1 <= len(items) <= 4:
        raise InvalidArgument(f"{where}: stop takes 1 to 4 sequences, got {len(items)}")
    return tuple(items)


def mapping(name: str, value: Any, where: str, *, reserved: tuple[str, ...] = ()) -> dict[str, Any]:
    """None or a dict with string keys, none of them ``reserved`` (named arguments of their own)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidArgument(f"{where}: {name} must be a dict with string keys, got {type(value).__name__}")
    clash = sorted(set(value) & set(reserved))
    if clash:
        raise InvalidArgument(f"{where}: {name} must not set {', '.join(clash)}: pass it as its own argument")
    return dict(value)
