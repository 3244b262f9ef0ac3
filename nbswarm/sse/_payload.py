"""Request payloads of the Swarms-style API -> validated nbswarm agents and workflows.

Every check names the field it rejects with its JSON path
(``agents[1].max_tokens``), so the server answers 422 with that path before
anything runs. Beyond per-field checks, one request's whole *work* is bounded
(``Limits``): agent turns (flow slots x loops), tokens (the sum of every turn's
``max_tokens``), flow length, agent count and task size, since one agent repeated
in a flow (``"A -> A -> ..."``) would otherwise get around every per-agent limit.
Text is checked for what breaks later layers: lone surrogates (JSON allows
``"\\ud800"``; encoding it fails) and NUL anywhere, any control character in
names, flows and models. Names are stripped before they are compared. Errors
never echo more than a short, escaped snippet of the input.

Fields the hosted API accepts but nbswarm does not use (``role``,
``tools_dictionary``, ``auto_generate_prompt``...) are ignored, so payloads
written for the hosted API work unchanged; fields that would point the server
at other hosts (``llm_base_url``, ``llm_api_key``) are ignored too.
"""

from __future__ import annotations

import math
import re
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
    """What one request may ask for; the operator sets them (``nbswarm serve --max-agents`` etc.)."""

    max_agents: int = 16
    """Agents in one swarm (``--max-agents``)."""
    max_tokens: int = 8192
    """``max_tokens`` of one agent (``--max-tokens``)."""
    max_loops: int = 10
    """``max_loops`` of an agent or a swarm."""
    max_task_chars: int = 200_000
    """Characters of the task, and of each system prompt."""
    max_turns: int = 64
    """Agent turns in one request: flow slots (a repeated agent counts each time) x agents' loops x loops."""
    max_total_tokens: int = 262_144
    """The sum of ``max_tokens`` over every turn of one request (``--max-total-tokens``)."""
    max_flow_chars: int = 4096
    """Characters of a ``rearrange_flow``."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name} must be a positive integer, got {value!r}")


class PayloadError(InvalidArgument):
    """A request payload the server cannot run: ``field`` is the JSON path of what is wrong."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        limit: str | None = None,
        value: int | None = None,
        status: int = 422,
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.limit = limit
        """The name of the server limit this request exceeds (``max_turns``), if that is the reason."""
        self.value = value
        """What the request asked for, against ``limit``."""
        self.status = status


def check_budget(limits: Limits, field: str, turns: int, tokens: int, how: str) -> None:
    """The work of one request against the server-wide budget, before anything runs."""
    for limit, value, what in (
        ("max_turns", turns, "agent turns"),
        ("max_total_tokens", tokens, "tokens (the sum of max_tokens over every turn)"),
    ):
        high = getattr(limits, limit)
        if value > high:
            flag = "--" + limit.replace("_", "-")
            raise PayloadError(
                field,
                f"asks for {value} {what} ({how}); this server allows up to {high} ({limit}, {flag})",
                limit=limit,
                value=value,
            )


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


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def snippet(text: str, limit: int = 40) -> str:
    """A short, escaped quote of client input for an error message (never the whole input)."""
    short = text if len(text) <= limit else text[:limit] + "..."
    return ascii(short)


def check_text(value: str, where: str) -> str:
    """Free text (task, prompts): no lone surrogates (unencodable) and no NUL."""
    bad = _SURROGATE.search(value)
    if bad is not None:
        raise PayloadError(where, f"has a lone surrogate (U+{ord(bad.group()):04X}) at index {bad.start()}")
    if "\x00" in value:
        raise PayloadError(where, f"has a NUL character at index {value.index(chr(0))}")
    return value


def check_name(value: str, where: str) -> str:
    """A name, flow or model: also no control characters at all; returned stripped."""
    check_text(value, where)
    bad = _CONTROL.search(value)
    if bad is not None:
        raise PayloadError(
            where, f"has a control character (U+{ord(bad.group()):04X}) at index {bad.start()}"
        )
    return value.strip()


def _task(body: dict[str, Any], limits: Limits) -> str:
    task = check_text(_text(body, "task", "", nonempty=True), "task")
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
    agent_name = check_name(
        _text(config, "agent_name", path, name if name is not None else _MISSING, nonempty=True),
        f"{path}.agent_name",
    )
    if "," in agent_name or "->" in agent_name:
        raise PayloadError(f"{path}.agent_name", "cannot contain ',' or '->' (they are flow syntax)")
    model_name = check_name(
        _text(config, "model_name", path, DEFAULT_MODEL, nonempty=True), f"{path}.model_name"
    )
    texts = {
        key: check_text(_text(config, key, path, ""), f"{path}.{key}")
        for key in ("description", "system_prompt")
    }
    for key, text in texts.items():
        if len(text) > limits.max_task_chars:
            raise PayloadError(
                f"{path}.{key}",
                f"is {len(text)} characters; this server accepts up to {limits.max_task_chars}",
            )
    # Not sent unless the client sets it: today's reasoning models reject any temperature.
    temperature = get_field(config, "temperature", path, (int, float), None)
    if temperature is not None and not (math.isfinite(temperature) and 0 <= temperature <= 2):
        raise PayloadError(f"{path}.temperature", f"must be from 0 to 2, got {temperature}")
    return Agent(
        agent_name=agent_name,
        description=texts["description"],
        system_prompt=texts["system_prompt"],
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
        temperature=None if temperature is None else float(temperature),
        print_on=False,  # a server never prints or opens widgets
        provider=provider_for(model_name),
    )


def _flow_message(exc: FlowError, width: int = 40) -> str:
    """A flow error as the flow module writes it (reason, then the flow with a caret under the
    column), but quoting at most ``width`` characters either side of the column, not the whole flow."""
    reason = str(exc).partition("\n")[0]
    reason = reason if len(reason) <= 300 else reason[:300] + "..."
    flow, position = exc.flow, exc.position
    start, end = max(0, position - width), min(len(flow), position + width)
    shown = ("..." if start else "") + flow[start:end] + ("..." if end < len(flow) else "")
    caret = " " * (position - start + (3 if start else 0)) + "^"
    return f"{reason}\n  {shown}\n  {caret}"


def agent_request(body: Any, limits: Limits, provider_for: ProviderFor) -> AgentRequest:
    """``POST /v1/agent/completions``: ``{"agent_config": {...}, "task": ...}``."""
    body = as_object(body, "")
    agent = build_agent(
        get_field(body, "agent_config", "", (dict,)), "agent_config", limits, provider_for, name="Agent"
    )
    check_budget(
        limits,
        "agent_config.max_loops",
        agent.max_loops,
        agent.max_loops * agent.max_tokens,
        f"{agent.max_loops} loops of up to {agent.max_tokens} tokens",
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
        raise PayloadError(
            "swarm_type", f"{snippet(swarm_type)} is not supported here; use one of: {supported}"
        )
    name = check_name(_text(body, "name", "", swarm_type, nonempty=True), "name")
    description = check_text(_text(body, "description", "", ""), "description")
    specs = get_field(body, "agents", "", (list,))
    if not specs:
        raise PayloadError("agents", "must list at least one agent")
    if len(specs) > limits.max_agents:
        raise PayloadError(
            "agents",
            f"has {len(specs)} agents; this server allows up to {limits.max_agents} (--max-agents)",
            limit="max_agents",
            value=len(specs),
        )
    agents: list[Agent] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        agent = build_agent(spec, f"agents[{i}]", limits, provider_for, name=None)
        if agent.agent_name in seen:
            raise PayloadError(
                f"agents[{i}].agent_name",
                f"is also agents[{seen[agent.agent_name]}]'s name (names are compared stripped)",
            )
        seen[agent.agent_name] = i
        agents.append(agent)
    max_loops = _int(body, "max_loops", "", 1, limits.max_loops, "the server's max_loops limit")
    task = _task(body, limits)
    common: dict[str, Any] = {"name": name, "description": description, "max_loops": max_loops}
    flow = ""
    if swarm_type == "AgentRearrange":
        flow = check_name(_text(body, "rearrange_flow", "", nonempty=True), "rearrange_flow")
        if len(flow) > limits.max_flow_chars:
            raise PayloadError(
                "rearrange_flow",
                f"is {len(flow)} characters; this server allows up to {limits.max_flow_chars}",
                limit="max_flow_chars",
                value=len(flow),
            )
    try:
        if swarm_type == "AgentRearrange":
            swarm: Any = AgentRearrange(agents, flow, **common)
        elif swarm_type == "ConcurrentWorkflow":
            swarm = ConcurrentWorkflow(agents, **common)
        else:
            swarm = SequentialWorkflow(agents, **common)
    except FlowError as exc:
        raise PayloadError("rearrange_flow", _flow_message(exc)) from None
    except InvalidArgument as exc:
        raise PayloadError("agents", str(exc)[:300]) from None
    slots = [agent for step in swarm.steps for agent in step]
    by_name = {agent.agent_name: agent for agent in agents}
    per_loop = sum(by_name[name].max_loops for name in slots)  # an agent's own loops repeat its turn
    check_budget(
        limits,
        "rearrange_flow" if swarm_type == "AgentRearrange" else "agents",
        max_loops * per_loop,
        max_loops * sum(by_name[name].max_loops * by_name[name].max_tokens for name in slots),
        f"{per_loop} agent turns per pass of the flow x {max_loops} loops",
    )
    return SwarmRequest(
        swarm=swarm,
        task=task,
        stream=get_field(body, "stream", "", (bool,), False),
        stream_output=get_field(body, "stream_output", "", (bool,), False),
    )
