"""Adapters from the event stream to the callback shapes users pass in.

Each adapter is a sink that keeps the user's function in ``.callback`` (so a
failure is reported by the user's function name) and filters the stream:

* ``TokenCallback``: ``fn(token: str)`` per chunk of one agent (the seed's ``streaming_on``);
* ``DetailedCallback``: ``fn(info: dict)`` with ``content`` per chunk, then ``usage`` and
  ``finish_reason`` once per turn (the seed's detailed ``stream=True``);
* ``WorkflowCallback``: ``fn(agent_name, chunk, is_final)`` for every agent (swarms' workflows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .events import AgentEnd, Chunk, Event, Usage


class TokenCallback:
    """``fn(token)`` for each text chunk of ``agent``.

    A multi-loop agent's separator between turns is a chunk of the stream, so ``"".join(tokens)``
    equals the returned text. Reasoning chunks are not part of the text and are not passed.
    """

    def __init__(self, callback: Callable[[str], Any], agent: str) -> None:
        self.callback = callback
        self.agent = agent

    def __call__(self, event: Event) -> None:
        if type(event) is Chunk and event.agent == self.agent and event.kind == "text":
            self.callback(event.content)


class DetailedCallback:
    """``fn(dict)``: ``{"content", "token", "agent", "index"}`` per chunk; at each turn's end
    ``{"agent", "finish_reason", "usage": {...}}``."""

    def __init__(self, callback: Callable[[dict[str, Any]], Any], agent: str) -> None:
        self.callback = callback
        self.agent = agent
        self._finish_reason: str | None = None

    def __call__(self, event: Event) -> None:
        if type(event) is Chunk:
            if event.agent == self.agent:
                self.callback(
                    {
                        "content": event.content,
                        "token": event.content,
                        "agent": event.agent,
                        "index": event.index,
                    }
                )
        elif type(event) is AgentEnd and event.agent == self.agent:
            self._finish_reason = event.finish_reason
        elif type(event) is Usage and event.agent == self.agent:
            self.callback(
                {
                    "agent": self.agent,
                    "finish_reason": self._finish_reason,
                    "usage": {
                        "input_tokens": event.input_tokens,
                        "output_tokens": event.output_tokens,
                        "total_tokens": event.total_tokens,
                        "cost": event.cost,
                    },
                }
            )


class WorkflowCallback:
    """``fn(agent_name, chunk, is_final)``: each chunk with ``False``, then ``""`` with ``True`` per turn."""

    def __init__(self, callback: Callable[[str, str, bool], Any]) -> None:
        self.callback = callback

    def __call__(self, event: Event) -> None:
        if type(event) is Chunk:
            self.callback(event.agent, event.content, False)
        elif type(event) is AgentEnd:
            self.callback(event.agent, "", True)
