"""Request payloads of the Swarms-style API -> validated nbswarm agents and workflows.

Every check names the field it rejects with its JSON path
(``agents[1].max_tokens``), so the server answers 422 with that path before
anything runs. Fields the hosted API accepts but nbswarm does not use
(``role``, ``tools_dictionary``, ``auto_generate_prompt``...) are ignored, so
payloads written for the hosted API work unchanged; fields that would point
the server at other hosts (``llm_base_url``, ``llm_api_key``) are ignored too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..agent import Agent
from ..errors import FlowError, InvalidArgument
from ..models import Provider
from ..workflows import AgentRearrange, ConcurrentWorkflow, SequentialWorkflow

__all__ = [
    "SWARM_TYPES",
    "AgentRequest",
    "Limits",
    "PayloadError",
    "ProviderFor",
    "SwarmRequest",
    "agent_request",
    "as_object",
    "get_field",
    "swarm_request",
]

SWARM_TYPES = {
    "SequentialWorkflow": "agents one after another; each sees what the ones before it said",
    "ConcurrentWorkflow": "all agents at the same time on the same task",
    "AgentRearrange": "any flow like 'A, B -> C' (rearrange_flow): A and B stream together, then C",
}

DEFAULT_MODEL = "gpt-4o-mini"

ProviderFor = Callable[[str], "Provider | None"]
"""model_name -> the provider to run it with (None: nbswarm's usual routing, litellm for real models)."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; the operator sets them (``nbswarm serve --max-agents/--max-tokens``)."""

    max_agents: int = 16
    max_tokens: int = 8192
    max_loops: int = 10
    max_task_chars: int = 200_000

    def __post_init__(self) -> None:
        for name in ("max_agents", "max_tokens", "max_loops", "max_task_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name} must be a positive integer, got {value!r}")


class PayloadError(InvalidArgument):
    """A request payload the server cannot run: ``field`` is the JSON path of what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AgentRequest:
    agent: Agent
    task: str
    stream: bool
    stream_output: bool


@dataclass(frozen=True)
class SwarmRequest:
    swarm: SequentialWorkflow | ConcurrentWorkflow | AgentRearrange
    task: str
    stream: bool
    stream_output: bool


_MISSING = object()


def get_field(
    obj: dict[str, Any], key: str, path: str, kinds: tuple[type, ...], default: Any = _MISSING
) -> Any:
    """``obj[key]`` if it has one of ``kinds`` (bool is never a number), else PayloadError naming the path."""
    where = f"{path}.{key}" if path else key
    value = obj.get(key, _MISSING)
    if value is _MISSING or (value is None and default is not _MISSING):
        if default is _MISSING:
            raise PayloadError(where, "is required")
        return default
    numeric = any(k in (int, float) for k in kinds)
    if not isinstance(value, kinds) or (numeric and isinstance(value, bool) and bool not in kinds):
        names = " or ".join("number" if k is float else k.__name__ for k in kinds)
        raise PayloadError(where, f"must be {names}, got {type(value).__name__}")
    return value


def _int(obj: dict[str, Any], key: str, path: str, default: int, high: int, why: str) -> int:
    value = get_field(obj, key, path, (int,), default)
    if not 1 <= value <= high:
        raise PayloadError(f"{path}.{key}" if path else key, f"must be from 1 to {high} ({why}), got {value}")
    return value


def _text(
    obj: dict[str, Any], key: str, path: str, default: Any = _MISSING, *, nonempty: bool = False
) -> str:
    value = get_field(obj, key, path, (str,), default)
    if nonempty and not value.strip():
        raise PayloadError(f"{path}.{key}" if path else key, "must not be empty")
    return value


def as_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(path or "body", f"must be a JSON object, got {type(value).__name__}")
    return value


def _task(body: dict[str, Any], limits: Limits) -> str:
    task = _text(body, "task", "", nonempty=True)
    if len(task) > limits.max_task_chars:
        raise PayloadError(
            "task", f"is {len(task)} characters; this server accepts up to {limits.max_task_chars}"
        )
    return task


def build_agent(
    config: Any, path: str, limits: Limits, provider_for: ProviderFor, *, name: str | None
) -> Agent:
    """One agent from an agent config object (the hosted API's ``agent_config`` / ``agents[i]``)."""
    config = as_object(config, path)
    agent_name = _text(config, "agent_name", path, name if name is not None else _MISSING, nonempty=True)
    if "," in agent_name or "->" in agent_name:
        raise PayloadError(f"{path}.agent_name", f"{agent_name!r} cannot contain ',' or '->' (flow syntax)")
    model_name = _text(config, "model_name", path, DEFAULT_MODEL, nonempty=True)
    temperature = get_field(config, "temperature", path, (int, float), 0.5)
    if not (math.isfinite(temperature) and 0 <= temperature <= 2):
        raise PayloadError(f"{path}.temperature", f"must be from 0 to 2, got {temperature}")
    return Agent(
        agent_name=agent_name,
        description=_text(config, "description", path, ""),
        system_prompt=_text(config, "system_prompt", path, ""),
        model_name=model_name,
        max_loops=_int(config, "max_loops", path, 1, limits.max_loops, "the server's max_loops limit"),
        max_tokens=_int(
            config,
            "max_tokens",
            path,
            min(4096, limits.max_tokens),
            limits.max_tokens,
            "the server's max_tokens",
        ),
        temperature=float(temperature),
        print_on=False,  # a server never prints or opens widgets
        provider=provider_for(model_name),
    )


def agent_request(body: Any, limits: Limits, provider_for: ProviderFor) -> AgentRequest:
    """``POST /v1/agent/completions``: ``{"agent_config": {...}, "task": ...}``."""
    body = as_object(body, "")
    agent = build_agent(
        get_field(body, "agent_config", "", (dict,)), "agent_config", limits, provider_for, name="Agent"
    )
    config = body["agent_config"]
    stream = get_field(config, "streaming_on", "agent_config", (bool,), False) or get_field(
        body, "stream", "", (bool,), False
    )
    stream_output = get_field(body, "stream_output", "", (bool,), False)
    return AgentRequest(agent=agent, task=_task(body, limits), stream=stream, stream_output=stream_output)


def swarm_request(body: Any, limits: Limits, provider_for: ProviderFor) -> SwarmRequest:
    """``POST /v1/swarm/completions``: a swarm spec as in the hosted API's swarm streaming docs."""
    body = as_object(body, "")
    swarm_type = _text(body, "swarm_type", "", "SequentialWorkflow")
    if swarm_type not in SWARM_TYPES:
        supported = ", ".join(SWARM_TYPES)
        raise PayloadError("swarm_type", f"{swarm_type!r} is not supported here; use one of: {supported}")
    name = _text(body, "name", "", swarm_type, nonempty=True)
    description = _text(body, "description", "", "")
    specs = get_field(body, "agents", "", (list,))
    if not specs:
        raise PayloadError("agents", "must list at least one agent")
    if len(specs) > limits.max_agents:
        raise PayloadError("agents", f"has {len(specs)} agents; this server allows up to {limits.max_agents}")
    agents: list[Agent] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        agent = build_agent(spec, f"agents[{i}]", limits, provider_for, name=None)
        if agent.agent_name in seen:
            raise PayloadError(
                f"agents[{i}].agent_name",
                f"{agent.agent_name!r} is also agents[{seen[agent.agent_name]}]'s name",
            )
        seen[agent.agent_name] = i
        agents.append(agent)
    max_loops = _int(body, "max_loops", "", 1, limits.max_loops, "the server's max_loops limit")
    task = _task(body, limits)
    common: dict[str, Any] = {"name": name, "description": description, "max_loops": max_loops}
    flow = _text(body, "rearrange_flow", "", nonempty=True) if swarm_type == "AgentRearrange" else ""
    try:
        if swarm_type == "AgentRearrange":
            swarm: Any = AgentRearrange(agents, flow, **common)
        elif swarm_type == "ConcurrentWorkflow":
            swarm = ConcurrentWorkflow(agents, **common)
        else:
            swarm = SequentialWorkflow(agents, **common)
    except FlowError as exc:
        raise PayloadError("rearrange_flow", str(exc)) from None
    except InvalidArgument as exc:
        raise PayloadError("agents", str(exc)) from None
    return SwarmRequest(
        swarm=swarm,
        task=task,
        stream=get_field(body, "stream", "", (bool,), False),
        stream_output=get_field(body, "stream_output", "", (bool,), True),
    )
