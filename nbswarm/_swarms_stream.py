"""``run_stream`` / ``arun_stream``: swarms' streaming API, read off nbswarm's event stream.

swarms (16.0.3) streams with generators whose items have a shape per class:

* ``Agent``: text tokens (``str``);
* ``SequentialWorkflow``: text tokens, every agent's in flow order;
* ``AgentRearrange``: ``(agent_name, token)`` pairs, parallel agents' interleaved;
* ``with_events=True`` (workflows): dicts ``{"type": "agent_start", "agent"}``,
  ``{"type": "token", "agent", "token"}``, ``{"type": "agent_end", "agent", "output"}``,
  one start and one end per agent and step (an agent's own ``max_loops`` turns are inside them,
  as swarms runs them inside one agent run).

nbswarm's own events already carry all of this, so these generators only
translate: each event becomes zero or more items. Reasoning chunks are not
tokens (swarms never yields thinking; it is no part of the output). When the
generator is closed early the run is cancelled, as closing swarms' generator
abandons its run. After the last item the run's outcome is checked like
``run()``'s (an agent's failure raises ``AgentError``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal

from . import _validate as check
from ._engine import Plan, plan_run
from .errors import InvalidArgument
from .events import AgentEnd, AgentStart, Chunk, Event
from .run import Run, Sink
from .swarms_compat import warn_ignored

__all__ = ["AgentStreaming", "FlowStreaming", "Shape", "aiterate", "iterate"]

ShapeName = Literal["tokens", "pairs", "events"]
SHAPES: tuple[ShapeName, ...] = ("tokens", "pairs", "events")
_CUT_SHORT = ("error", "cancelled")
"""Finish reasons after which an agent takes no further turn at its step."""


class Shape:
    """Turns one event into the items swarms' generator yields for it (a list, often empty).

    ``loops``: each agent's own ``max_loops``, so that ``events`` gives one ``agent_start`` and
    one ``agent_end`` (with the turns' joined text) per agent and step.
    """

    def __init__(self, name: ShapeName, loops: Mapping[str, int] | None = None) -> None:
        if name not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}, got {name!r}")
        self.name = name
        self.loops = dict(loops or {})
        self._said: dict[str, list[str]] = {}
        """``events``: the text chunks of each agent since its ``agent_start``."""

    def __call__(self, event: Event) -> list[Any]:
        if isinstance(event, Chunk):
            if event.kind != "text":
                return []
            if self.name == "tokens":
                return [event.content]
            if self.name == "pairs":
                return [(event.agent, event.content)]
            self._said.setdefault(event.agent, []).append(event.content)
            return [{"type": "token", "agent": event.agent, "token": event.content}]
        if self.name != "events":
            return []
        if isinstance(event, AgentStart):
            if event.loop % self.loops.get(event.agent, 1):
                return []  # a later turn of the same agent run
            self._said[event.agent] = []
            return [{"type": "agent_start", "agent": event.agent}]
        if isinstance(event, AgentEnd):
            loops = self.loops.get(event.agent, 1)
            if event.loop % loops != loops - 1 and event.finish_reason not in _CUT_SHORT:
                return []  # more turns of this agent run follow
            output = "".join(self._said.pop(event.agent, ()))
            return [{"type": "agent_end", "agent": event.agent, "output": output}]
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


def _quiet_run(owner: Any, task: str, img: str | None, single_pass: bool) -> Run:
    """``owner``'s run of ``task`` with its callbacks but no display (the caller consumes the items)."""
    where = f"{owner._label}.run_stream"
    check.text("task", task, where, allow_empty=False)
    if img is not None:
        warn_ignored(f"{type(owner).__name__}.run_stream", "img")
    plan: Plan = owner._plan()
    if single_pass:
        plan.max_loops = 1  # swarms streams a single pass of the flow
    run = plan_run(plan, task)
    sinks: list[Sink] = owner._callback_sinks(None)
    for sink in sinks:
        run.add_sink(sink)
    return run


class AgentStreaming:
    """``Agent.run_stream`` / ``arun_stream``: the agent's run as swarms' token generators."""

    def run_stream(self, task: str, img: str | None = None) -> Iterator[str]:
        """swarms' ``run_stream``: this task's text tokens as they arrive (a generator).

        Nothing is printed. ``"".join(tokens)`` is what ``run(task)`` returns; a model failure
        raises ``AgentError`` after the partial tokens. ``stream()`` is nbswarm's own face.
        """
        return iterate(lambda: _quiet_run(self, task, img, False), Shape("tokens"), self._checked)  # type: ignore[attr-defined]

    def arun_stream(self, task: str, img: str | None = None) -> AsyncIterator[str]:
        """swarms' ``arun_stream``: ``run_stream`` for ``async for``, on the caller's event loop."""
        return aiterate(lambda: _quiet_run(self, task, img, False), Shape("tokens"), self._checked)  # type: ignore[attr-defined]


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
        shape = self._swarms_shape(with_events)
        return iterate(lambda: _quiet_run(self, task, img, True), shape, self._checked)  # type: ignore[attr-defined]

    def arun_stream(self, task: str, img: str | None = None, with_events: bool = False) -> AsyncIterator[Any]:
        """swarms' ``arun_stream``: ``run_stream`` for ``async for``, on the caller's event loop."""
        shape = self._swarms_shape(with_events)
        return aiterate(lambda: _quiet_run(self, task, img, True), shape, self._checked)  # type: ignore[attr-defined]

    def _swarms_shape(self, with_events: bool) -> Shape:
        if not isinstance(with_events, bool):
            raise InvalidArgument(
                f"{type(self).__name__}.run_stream: with_events must be True or False, got {with_events!r}"
            )
        loops = {agent.agent_name: agent.max_loops for agent in self.agents}  # type: ignore[attr-defined]
        return Shape("events" if with_events else self.swarms_tokens, loops)
