"""SequentialWorkflow, ConcurrentWorkflow and AgentRearrange: three spellings of one plan.

``SequentialWorkflow([A, B, C])`` is the flow ``A -> B -> C``;
``ConcurrentWorkflow([A, B, C])`` is the one step ``A, B, C``;
``AgentRearrange(agents, flow="A, B -> C")`` is any flow. All run on the one
async engine (``nbswarm._engine``), so the agents of a step really stream at
the same time. Everything is validated at construction, before any model is
called. ``show_dashboard=True`` shows every agent live side by side (a live
view in a notebook, a throttled rich dashboard in a terminal); otherwise each
agent's own ``print_on`` decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from . import _validate as check
from ._engine import Plan
from ._runnable import Runnable
from ._swarms_stream import FlowStreaming
from .agent import Agent
from .callbacks import WorkflowCallback
from .errors import AgentError, FlowError, InvalidArgument
from .flow import Steps, format_flow, parse_flow
from .run import Run, Sink
from .swarms_compat import swarms_options as swarms_options_of

__all__ = ["AgentRearrange", "ConcurrentWorkflow", "SequentialWorkflow"]

ERROR_POLICIES = ("continue", "stop", "raise")


class _Workflow(FlowStreaming, Runnable):
    """What the three workflows share: validation, callbacks, display, run/arun/stream.

    ``run_stream`` / ``arun_stream`` (swarms' streaming API) come from ``FlowStreaming``.
    """

    swarm_type: ClassVar[str]

    def __init__(
        self,
        agents: Sequence[Agent] = (),
        *,
        name: str | None = None,
        description: str = "",
        max_loops: int = 1,
        show_dashboard: bool = False,
        streaming_callback: Callable[[str, str, bool], Any] | None = None,
        on_agent_error: str = "continue",
        **swarms_options: Any,
    ) -> None:
        where = type(self).__name__
        if swarms_options:  # swarms' other arguments: accepted and ignored (nbswarm.swarms_compat)
            given = {"on_agent_error": None if on_agent_error == "continue" else on_agent_error}
            own = type(self).__init__
            on_agent_error = swarms_options_of(where, swarms_options, own, given).get(
                "on_agent_error", on_agent_error
            )
        self.name = check.text("name", name or where, where, allow_empty=False)
        where = f"{where}({self.name!r})"
        self.description = check.text("description", description, where)
        self.max_loops = check.positive_int("max_loops", max_loops, where)
        self.streaming_callback = check.callback("streaming_callback", streaming_callback, where)
        if on_agent_error not in ERROR_POLICIES:
            raise InvalidArgument(
                f"{where}: on_agent_error must be one of {ERROR_POLICIES}, got {on_agent_error!r}"
            )
        self.on_agent_error = on_agent_error
        self.show_dashboard = bool(show_dashboard)
        self.agents = _check_agents(agents, where)
        self._by_name = {agent.agent_name: agent for agent in self.agents}

    @property
    def steps(self) -> Steps:
        raise NotImplementedError

    @property
    def flow(self) -> str:
        """The workflow as a flow string, e.g. ``"A -> B -> C"``."""
        return format_flow(self.steps)

    # -- running (run/arun/stream and the display policy come from Runnable) --------------------

    @property
    def _label(self) -> str:
        return self.name

    def _plan(self) -> Plan:
        return Plan(
            name=self.name,
            swarm_type=self.swarm_type,
            steps=[[self._by_name[name] for name in step] for step in self.steps],
            max_loops=self.max_loops,
            flow=self.flow,
            description=self.description,
            on_agent_error="stop" if self.on_agent_error == "stop" else "continue",
        )

    def _callback_sinks(self, callback: Callable[..., Any] | None) -> list[Sink]:
        sinks: list[Sink] = []
        callback = callback or self.streaming_callback
        if callback is not None:
            sinks.append(WorkflowCallback(callback))
        sinks.extend(a.callback_sink(a.streaming_callback) for a in self.agents if a.streaming_callback)
        return sinks

    def _shown_agents(self, callback: Callable[..., Any] | None) -> list[Agent]:
        return [a for a in self.agents if a.print_on and a.streaming_callback is None]

    def _checked(self, run: Run, text: str) -> str:
        if self.on_agent_error == "raise":
            failures = run.agent_errors
            if failures:
                first = failures[0]
                raise AgentError(
                    f"{self.name}: agent {first.agent!r} failed: {first.error_type}: {first.message}",
                    agent=first.agent or "",
                    partial=text,
                    run=run,
                )
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, flow={self.flow!r})"


class SequentialWorkflow(_Workflow):
    """Agents one after another; each sees the task and everything said before it."""

    swarm_type = "SequentialWorkflow"
    swarms_tokens = "tokens"  # swarms' SequentialWorkflow.run_stream yields bare tokens

    @property
    def steps(self) -> Steps:
        return tuple((agent.agent_name,) for agent in self.agents)


class ConcurrentWorkflow(_Workflow):
    """All agents at the same time on the same task."""

    swarm_type = "ConcurrentWorkflow"

    @property
    def steps(self) -> Steps:
        return (tuple(agent.agent_name for agent in self.agents),)


class AgentRearrange(_Workflow):
    """Any flow: ``"A, B -> C"`` runs A and B at the same time, then C with what both said."""

    swarm_type = "AgentRearrange"

    def __init__(
        self,
        agents: Sequence[Agent] = (),
        flow: str = "",
        *,
        name: str | None = None,
        description: str = "",
        max_loops: int = 1,
        streaming_callback: Callable[[str, str, bool], Any] | None = None,
        on_agent_error: str = "continue",
        show_dashboard: bool = False,
        **swarms_options: Any,
    ) -> None:
        _check_unique_in_flow(agents, flow)
        super().__init__(
            agents,
            name=name,
            description=description,
            max_loops=max_loops,
            streaming_callback=streaming_callback,
            on_agent_error=on_agent_error,
            show_dashboard=show_dashboard,
            **swarms_options,
        )
        self._steps = parse_flow(flow, [agent.agent_name for agent in self.agents])

    @property
    def steps(self) -> Steps:
        return self._steps


def _check_unique_in_flow(agents: Sequence[Agent], flow: str) -> None:
    """Two agents with one name make a flow ambiguous: point at where the flow uses that name."""
    if not isinstance(flow, str) or isinstance(agents, (str, bytes)) or not isinstance(agents, Sequence):
        return
    names = [getattr(agent, "agent_name", None) for agent in agents]
    for name in names:
        if name is not None and names.count(name) > 1:
            position = max(flow.find(name), 0)
            raise FlowError(f"two agents are named {name!r}: the flow cannot tell them apart", flow, position)


def _check_agents(agents: Sequence[Agent], where: str) -> list[Agent]:
    if isinstance(agents, (str, bytes)) or not isinstance(agents, Sequence):
        raise InvalidArgument(f"{where}: agents must be a list of Agent, got {type(agents).__name__}")
    if not agents:
        raise InvalidArgument(f"{where}: agents must not be empty")
    seen: set[str] = set()
    for position, agent in enumerate(agents):
        if not isinstance(agent, Agent):
            raise InvalidArgument(f"{where}: agents[{position}] is a {type(agent).__name__}, not an Agent")
        name = agent.agent_name
        if name in seen:
            raise InvalidArgument(
                f"{where}: two agents are named {name!r} (agents[{position}]); agent names must be unique"
            )
        if "," in name or "->" in name:
            raise InvalidArgument(f"{where}: agent name {name!r} cannot contain ',' or '->' (flow syntax)")
        seen.add(name)
    return list(agents)
