"""``run_stream`` / ``arun_stream``: swarms' streaming API, read off nbswarm's event stream.

swarms (16.0.3) streams with generators whose items have a shape per class:

* ``Agent``: text tokens (``str``);
* ``SequentialWorkflow``: text tokens, every agent's in flow order;
* ``AgentRearrange``: ``(agent_name, token)`` pairs, parallel agents' interleaved;
* ``with_events=True`` (workflows): dicts ``{"type": "agent_start", "agent"}``,
  ``{"type": "token", "agent", "token"}``, ``{"type": "agent_end", "agent", "output"}``.

nbswarm's ``stream()`` already carries all of this as typed events, so these
generators only translate: each event becomes zero or more items. Reasoning
chunks are not tokens (swarms never yields thinking; it is no part of the
output). When the generator is closed early the run is cancelled, as closing
swarms' generator abandons its run. After the last item the run's outcome
is checked like ``run()``'s (an agent's failure raises ``AgentError``).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar, Literal

from .callbacks import LOOP_SEPARATOR
from .errors import InvalidArgument
from .events import AgentEnd, AgentStart, Chunk, Event
from .run import Run
from .swarms_compat import warn_ignored

__all__ = ["AgentStreaming", "FlowStreaming", "Shape", "aiterate", "iterate"]

ShapeName = Literal["tokens", "pairs", "events"]
SHAPES: tuple[ShapeName, ...] = ("tokens", "pairs", "events")


class Shape:
    """Turns one event into the items swarms' generator yields for it (a list, often empty)."""

    def __init__(self, name: ShapeName, *, separate_loops: bool = False) -> None:
        if name not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {name!r}")
        self.name = name
        self.separate_loops = separate_loops
        """A single agent's later loops start with ``LOOP_SEPARATOR``, as its ``run()`` text joins them."""

    def __call__(self, event: Event) -> list[Any]:
        if isinstance(event, Chunk):
            if event.kind != "text":
                return []
            if self.name == "tokens":
                return [event.content]
            if self.name == "pairs":
                return [(event.agent, event.content)]
            return [{"type": "token", "agent": event.agent, "token": event.content}]
        if isinstance(event, AgentStart):
            if self.name == "events":
                return [{"type": "agent_start", "agent": event.agent}]
            if self.separate_loops and event.loop and self.name == "tokens":
                return [LOOP_SEPARATOR]
            return []
        if isinstance(event, AgentEnd) and self.name == "events":
            return [{"type": "agent_end", "agent": event.agent, "output": event.output}]
        return []


def iterate(make_run: Callable[[], Run], shape: Shape, check: Callable[[Run, str], str]) -> Iterator[Any]:
    """The sync generator: the run streams on nbswarm's engine loop, items come in this thread."""
    run = make_run()
    finished = False
    try:
        for event in run:
            yield from shape(event)
        finished = True
    finally:
        if not finished:
            run.cancel()
    check(run, run.result())


async def aiterate(
    make_run: Callable[[], Run], shape: Shape, check: Callable[[Run, str], str]
) -> AsyncIterator[Any]:
    """The async generator: the run streams on the caller's event loop (no thread)."""
    run = make_run()
    finished = False
    try:
        async for event in run:
            for item in shape(event):
                yield item
        finished = True
    finally:
        if not finished:
            run.cancel()
    check(run, await run)


class AgentStreaming:
    """``Agent.run_stream`` / ``arun_stream``: the agent's run as swarms' token generators."""

    def run_stream(self, task: str, img: str | None = None) -> Iterator[str]:
        """swarms' ``run_stream``: this task's text tokens as they arrive (a generator).

        Nothing is printed. ``"".join(tokens)`` is what ``run(task)`` returns; a model failure
        raises ``AgentError`` after the partial tokens. ``stream()`` is nbswarm's own face.
        """
        return iterate(
            lambda: self._swarms_run(task, img), Shape("tokens", separate_loops=True), self._checked
        )

    def arun_stream(self, task: str, img: str | None = None) -> AsyncIterator[str]:
        """swarms' ``arun_stream``: ``run_stream`` for ``async for``, on the caller's event loop."""
        return aiterate(
            lambda: self._swarms_run(task, img), Shape("tokens", separate_loops=True), self._checked
        )

    def _swarms_run(self, task: str, img: str | None) -> Run:
        if img is not None:
            warn_ignored("Agent.run_stream", "img")
        return self.stream(task, display=False)  # type: ignore[attr-defined]

    def _checked(self, run: Run, text: str) -> str:
        raise NotImplementedError


class FlowStreaming:
    """The workflows' ``run_stream`` / ``arun_stream``: one pass of the flow as swarms' generators."""

    swarms_tokens: ClassVar[ShapeName] = "pairs"
    """What swarms' ``run_stream`` yields per token here: ``(agent, token)`` pairs or bare ``tokens``."""

    def run_stream(self, task: str, img: str | None = None, with_events: bool = False) -> Iterator[Any]:
        """swarms' ``run_stream`` (a generator): tokens in flow order, parallel agents' interleaved.

        ``AgentRearrange`` and ``ConcurrentWorkflow`` yield ``(agent_name, token)``,
        ``SequentialWorkflow`` bare tokens; ``with_events=True`` yields swarms' dicts
        (``agent_start`` / ``token`` / ``agent_end``). As in swarms, the flow runs once
        (``max_loops`` applies to ``run()``) and nothing is printed. ``stream()`` is nbswarm's own face.
        """
        return iterate(lambda: self._swarms_run(task, img), self._swarms_shape(with_events), self._checked)

    def arun_stream(self, task: str, img: str | None = None, with_events: bool = False) -> AsyncIterator[Any]:
        """swarms' ``arun_stream``: ``run_stream`` for ``async for``, on the caller's event loop."""
        return aiterate(lambda: self._swarms_run(task, img), self._swarms_shape(with_events), self._checked)

    def _swarms_shape(self, with_events: bool) -> Shape:
        if not isinstance(with_events, bool):
            raise InvalidArgument(
                f"{type(self).__name__}.run_stream: with_events must be True or False, got {with_events!r}"
            )
        return Shape("events" if with_events else self.swarms_tokens)

    def _swarms_run(self, task: str, img: str | None) -> Run:
        if img is not None:
            warn_ignored(f"{type(self).__name__}.run_stream", "img")
        once = copy.copy(self)  # swarms streams a single pass of the flow
        once.max_loops = 1  # type: ignore[attr-defined]
        return once.stream(task, display=False)  # type: ignore[attr-defined]

    def _checked(self, run: Run, text: str) -> str:
        raise NotImplementedError
