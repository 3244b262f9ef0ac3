"""nbswarm's exceptions: one root, so ``except nbswarm.NbswarmError`` catches all of ours.

NbswarmError
├── InvalidArgument (ValueError)  a bad argument to a public entry point
│   └── FlowError                 a bad flow string; the message points at the column
├── AgentError (RuntimeError)     an agent's model failed; the partial text and the run are kept
└── StreamError                   a broken, truncated or malformed SSE stream
"""

from __future__ import annotations

from typing import Any


class NbswarmError(Exception):
    """Root of every exception nbswarm raises on purpose."""


class InvalidArgument(NbswarmError, ValueError):
    """A public entry point was given a value it cannot use; the message says which and why."""


class FlowError(InvalidArgument):
    """A flow string like ``"A, B -> C"`` is malformed or names an unknown agent."""

    def __init__(self, message: str, flow: str, position: int) -> None:
        self.flow = flow
        self.position = position
        caret = " " * position + "^"
        super().__init__(f"{message} (at column {position + 1})\n  {flow}\n  {caret}")


class AgentError(NbswarmError, RuntimeError):
    """An agent's model failed. ``partial`` is what it said before failing; ``run`` has every event."""

    def __init__(self, message: str, *, agent: str, partial: str, run: Any) -> None:
        super().__init__(message)
        self.agent = agent
        self.partial = partial
        self.run = run


class StreamError(NbswarmError):
    """An SSE stream was broken, truncated, or not a stream of nbswarm events.

    ``reason`` names the cause for code: ``http_status``, ``redirect``, ``not_sse``,
    ``connection``, ``idle_timeout``, ``timeout``, ``too_large``, ``encoding``,
    ``truncated`` or ``malformed``; the message says it for people.
    """

    def __init__(self, message: str, *, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason
