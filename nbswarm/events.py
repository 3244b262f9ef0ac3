"""The event model: the one contract between every part of nbswarm.

A run is one ordered stream of immutable events::

    metadata, start, (agent_start, chunk*, agent_end, usage?)+, usage, end

An ``error`` event may appear anywhere; a failed agent still gets its
``agent_end``. The single-agent wire (``/v1/agent/completions``) adds ``done``.

Every event carries ``run_id``, ``seq`` (strictly increasing within a run) and
``t`` (seconds since the run started, from the run's clock).

``to_wire`` / ``from_wire`` are the one function pair between these objects
and the Swarms-style SSE wire form (an event name plus a JSON object), so a
stream parsed from the hosted Swarms API or from ``nbswarm serve`` yields the
same objects a local run does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "EVENT_TYPES",
    "LOOP_SEPARATOR",
    "AgentEnd",
    "AgentStart",
    "Chunk",
    "Done",
    "End",
    "Error",
    "Event",
    "Metadata",
    "Start",
    "Usage",
    "from_wire",
    "to_wire",
]

LOOP_SEPARATOR = "\n\n"
"""Between an agent's turns (``max_loops > 1``): sent as a chunk of its own at the start of each
later turn, and the join of the agent's output, so ``"".join`` of the chunks equals the output."""

_EVENT = dict(frozen=True, kw_only=True, slots=True)


@dataclass(**_EVENT)
class _Common:
    run_id: str
    """The run this event belongs to (equals the metadata ``job_id``)."""
    seq: int
    """Position in the run's stream; strictly increasing from 0."""
    t: float
    """Seconds since the run started."""


@dataclass(**_EVENT)
class Metadata(_Common):
    """Once, first: what is about to run."""

    type: Literal["metadata"] = "metadata"
    job_id: str
    name: str
    swarm_type: str
    """``Agent``, ``SequentialWorkflow``, ``ConcurrentWorkflow`` or ``AgentRearrange``."""
    number_of_agents: int
    agents: tuple[str, ...] = ()
    """Agent names in flow order."""
    flow: str | None = None
    """The flow string of a workflow (``"A, B -> C"``), None for a single agent."""
    steps: tuple[tuple[str, ...], ...] = ()
    """The flow's parsed steps (``(("A", "B"), ("C",))``): consumers never re-parse ``flow``."""
    description: str = ""


@dataclass(**_EVENT)
class Start(_Common):
    """Once, before any agent runs."""

    type: Literal["start"] = "start"
    status: str = "running"


@dataclass(**_EVENT)
class AgentStart(_Common):
    """An agent begins one turn."""

    type: Literal["agent_start"] = "agent_start"
    agent: str
    step: int = 0
    """Index of the flow step (phase) the agent runs in."""
    loop: int = 0
    """Index of the loop (``max_loops``) this turn belongs to."""


@dataclass(**_EVENT)
class Chunk(_Common):
    """New text from one agent. The running output is never stored here."""

    type: Literal["chunk"] = "chunk"
    agent: str
    content: str
    index: int = 0
    """Per-agent chunk number, from 0, across the agent's turns in the run."""
    kind: Literal["text", "reasoning"] = "text"
    """``text`` is the answer; ``reasoning`` is a reasoning model's thinking, never part of the output."""


@dataclass(**_EVENT)
class AgentEnd(_Common):
    """An agent finished one turn (normally, by error, or cancelled)."""

    type: Literal["agent_end"] = "agent_end"
    agent: str
    output: str
    """The agent's full text for this turn (partial if it failed)."""
    finish_reason: str | None = "stop"
    """``stop``, ``length``, ``error`` or ``cancelled``."""
    step: int = 0
    loop: int = 0


@dataclass(**_EVENT)
class Usage(_Common):
    """Tokens and cost, of one agent turn or (``agent=None``) of the whole run."""

    type: Literal["usage"] = "usage"
    agent: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    """US dollars; 0.0 where the model's price is unknown."""
    model: str | None = None
    estimated: bool = False
    """True when the provider sent no usage (a failed or cancelled turn): tokens counted here, priced."""


@dataclass(**_EVENT)
class End(_Common):
    """Once, last (before ``done`` on the single-agent wire)."""

    type: Literal["end"] = "end"
    execution_time: float
    output: str
    status: str = "completed"
    """``completed``, ``failed`` (some agent failed) or ``cancelled``."""


@dataclass(**_EVENT)
class Error(_Common):
    """Something failed: a model, a callback, a client. The run goes on."""

    type: Literal["error"] = "error"
    agent: str | None = None
    error_type: str
    message: str


@dataclass(**_EVENT)
class Done(_Common):
    """Terminal marker of the single-agent SSE wire (``api-agent-sse.md``)."""

    type: Literal["done"] = "done"
    status: str = "finished"


Event = Metadata | Start | AgentStart | Chunk | AgentEnd | Usage | End | Error | Done

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__dataclass_fields__["type"].default: cls  # type: ignore[misc]
    for cls in (Metadata, Start, AgentStart, Chunk, AgentEnd, Usage, End, Error, Done)
}

_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}


def to_wire(event: Event, *, running_output: str | None = None) -> tuple[str, dict[str, Any]]:
    """The SSE form of ``event``: its event name and its JSON object.

    ``running_output`` adds the seed's ``output`` (the agent's text so far) to
    a chunk; it only exists on the wire, never on the event objects.
    """
    data = {name: getattr(event, name) for name in _FIELDS[type(event)]}
    if isinstance(event, Metadata):
        data["agents"] = list(event.agents)
        data["swarm_name"] = event.name  # the swarm seed's name for it
    elif isinstance(event, Usage):
        data["tokens_used"] = event.total_tokens  # the agent seed's name for it
    if running_output is not None and isinstance(event, Chunk):
        data["output"] = running_output
    return event.type, data


# Field names used by other producers of the same wire (hosted Swarms API
# versions), mapped to ours. Applied only where our own name is absent.
_ALIASES: dict[str, dict[str, str]] = {
    "metadata": {"swarm_name": "name", "agent_name": "name", "id": "job_id"},
    "agent_start": {"agent_name": "agent"},
    "chunk": {"agent_name": "agent", "token": "content", "chunk_index": "index"},
    "agent_end": {"agent_name": "agent", "content": "output", "final_output": "output"},
    "usage": {
        "agent_name": "agent",
        "tokens_used": "total_tokens",
        "prompt_tokens": "input_tokens",
        "completion_tokens": "output_tokens",
        "total_cost": "cost",
    },
    "end": {"final_output": "output", "execution_time_seconds": "execution_time"},
    "error": {"agent_name": "agent", "type": "error_type", "error": "message", "detail": "message"},
}


def from_wire(
    name: str | None,
    data: dict[str, Any],
    *,
    run_id: str | None = None,
    seq: int | None = None,
    t: float | None = None,
) -> Event:
    """The event that the SSE frame ``event: name`` / ``data: data`` stands for.

    Tolerant of other producers: the type may come from ``data["type"]`` when
    there is no event name, older field names are understood, unknown fields
    are ignored, and ``run_id``/``seq``/``t`` missing from the data are taken
    from the keyword arguments (a client assigns them on receipt).
    Raises ``ValueError`` for an unknown event type or a field of the wrong shape.
    """
    kind = name or data.get("type") or data.get("event")
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown SSE event type {kind!r}")
    cls = EVENT_TYPES[kind]
    fields = _FIELDS[cls]
    values = {key: value for key, value in data.items() if key in fields}
    for alias, ours in _ALIASES.get(kind, {}).items():
        if alias in data and ours not in values:
            values[ours] = data[alias]
    for key, fallback in (("run_id", run_id), ("seq", seq), ("t", t)):
        if key not in values:
            values[key] = fallback
    values["type"] = kind
    _complete(kind, values)
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"SSE {kind!r} event has missing or extra fields: {exc}") from None


def _complete(kind: str, values: dict[str, Any]) -> None:
    """Fill what a terse producer leaves out (the agent seed's frames are minimal)."""
    if values.get("run_id") is None:
        values["run_id"] = str(values.get("job_id") or "")
    if values.get("seq") is None:
        values["seq"] = 0
    if values.get("t") is None:
        values["t"] = 0.0
    if kind == "metadata":
        values.setdefault("job_id", values["run_id"])
        values.setdefault("name", "")
        values.setdefault("swarm_type", "Agent")
        agents = values.get("agents") or ()
        values["agents"] = tuple(a if isinstance(a, str) else str(a.get("agent_name", a)) for a in agents)
        values.setdefault("number_of_agents", len(values["agents"]) or 1)
        values["steps"] = tuple(tuple(str(name) for name in step) for step in values.get("steps") or ())
    elif kind in ("chunk", "agent_start", "agent_end"):
        values.setdefault("agent", "")
        if kind == "chunk":
            values.setdefault("content", "")
        if kind == "agent_end":
            values.setdefault("output", "")
    elif kind == "usage":
        i, o = values.get("input_tokens") or 0, values.get("output_tokens") or 0
        values["input_tokens"], values["output_tokens"] = int(i), int(o)
        total = values.get("total_tokens")
        values["total_tokens"] = int(i + o if total is None else total)
        cost = values.get("cost")
        if isinstance(cost, dict):  # billing_info-like objects
            cost = cost.get("total_cost", cost.get("cost", 0.0))
        values["cost"] = float(cost or 0.0)
    elif kind == "end":
        values.setdefault("execution_time", 0.0)
        values.setdefault("output", "")
    elif kind == "error":
        values.setdefault("error_type", "Error")
        values.setdefault("message", "")
