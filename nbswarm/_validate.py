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
