"""SSE frames -> nbswarm events, completing what a terse producer leaves out.

``FrameDecoder`` is the pure part of the client (no I/O): it takes each SSE
frame (event name, data text) and returns the events it stands for. Real
producers differ (``nbswarm serve``'s swarm stream has every event; the
hosted single-agent stream is only ``metadata, chunk*, usage, done`` with
``{"content": ...}`` chunks), so the decoder completes a stream into the
shape a local run has::

    metadata, start, (agent_start, chunk*, agent_end, usage?)+, usage, end [, done]

It adds ``start`` after the metadata, an ``agent_start`` before an agent's
first chunk, an ``agent_end`` (with the turn's joined text) when the agent's
usage, the run's usage, ``end`` or ``done`` arrives while its turn is open,
and ``end`` before ``done``. Chunks without an agent are the metadata's
agent's.

The hosted API's current wire (its 2026 docs) sends text only in chunks:
``chunk`` has no running ``output`` and ``agent_end`` / ``end`` carry no
text. Where a frame has no text field the decoder fills it: a turn's joined
text chunks (reasoning chunks are never text), and the run's final output by
the local engine's rule (``_engine.joined_turns`` for a single agent,
``_engine.last_step_output`` for a workflow). Turns are grouped into steps by
the producer's ``step`` when it sends one, else by overlap: a turn that starts
beside open turns is in their parallel step. Older formats, which carry the
texts, keep them. ``seq`` is the position in the decoded stream (added events
included); ``t`` is the producer's when it sent one, else seconds since the
decoder was made; synthesized events reuse the previous event's ``t``.

Anything that is not a stream of events raises ``StreamError``: data that is
not a JSON object, fields of the wrong type, a stream that stops before
``end``/``done`` (``finish()``). Comments, keep-alives, frames of unknown
types and ``data: [DONE]`` (the OpenAI sentinel, taken as ``done``) are fine;
after ``end`` only ``done`` is read.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from .._engine import Turn, joined_turns, last_step_output
from .._eventlog import new_chunk
from ..errors import StreamError
from ..events import (
    EVENT_TYPES,
    LOOP_SEPARATOR,
    AgentEnd,
    AgentStart,
    Done,
    End,
    Event,
    Metadata,
    Start,
    from_wire,
)

__all__ = ["FrameDecoder"]

_NONE = type(None)
# Field annotations (strings: events.py uses postponed annotations) -> accepted JSON types.
_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "str | None": (str, _NONE),
    "tuple[str, ...]": (tuple,),
}
_CHECKS: dict[type, tuple[tuple[str, tuple[type, ...]], ...]] = {
    cls: tuple((f.name, _KINDS[f.type]) for f in dataclasses.fields(cls) if f.type in _KINDS)
    for cls in EVENT_TYPES.values()
}


_CHUNK_KINDS = ("text", "reasoning")


def _no_text(data: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Whether a frame carries none of the text ``fields`` (the hosted API's 2026 wire leaves them out)."""
    return all(data.get(field) is None for field in fields)


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None if it is not a JSON number that fits one."""
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _snippet(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class FrameDecoder:
    """Turns SSE frames into nbswarm events, one frame at a time (see the module docstring)."""

    def __init__(self, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._t0 = clock()
        self._t = 0.0
        self._seq = 0
        self.run_id: str | None = None
        self.metadata: Metadata | None = None
        self._started = False
        self._open: dict[str, list[str]] = {}
        """Agents whose turn is open -> the text pieces of that turn (reasoning is never text)."""
        self._turn_of: dict[str, tuple[int, int, Turn]] = {}
        """Agent -> (step, loop, the Turn being filled) of its open turn."""
        self._chunks: dict[str, int] = {}
        self._turns: dict[str, int] = {}
        self._steps: list[list[Turn]] = []
        """Every turn, grouped by flow step as the local engine groups them for the final output."""
        self._step_key: object = None
        self._separated: set[str] = set()
        """Agents whose open turn is a later loop (the producer said so): it starts with the separator."""
        self._failed = False
        self.ended = False
        """An ``end`` event was decoded (or synthesized)."""
        self.done = False
        """A ``done`` event (or ``data: [DONE]``) was decoded."""
        self.frames = 0

    @property
    def complete(self) -> bool:
        """Whether the stream reached its end (``end`` or ``done``): EOF is fine from here on."""
        return self.ended or self.done

    # -- decoding ------------------------------------------------------------

    def decode(self, name: str | None, data: str) -> list[Event]:
        """The events one SSE frame stands for (often one, none for unknown types, more when completing)."""
        self.frames += 1
        text = data.strip()
        if text == "[DONE]":
            return self._close_run() + ([] if self.done else [self._mark_done({})])
        if not text:
            payload: Any = {}
        else:
            try:
                payload = json.loads(text)
            except (ValueError, RecursionError):
                raise StreamError(f"SSE frame {self.frames} is not JSON: {_snippet(text)}") from None
        if not isinstance(payload, dict):
            raise StreamError(f"SSE frame {self.frames} is not a JSON object: {_snippet(text)}")
        kind = name if name and name != "message" else payload.get("type") or payload.get("event")
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            return []  # a type we do not know (or a bare ping): producers may add event types
        if self.ended and kind != "done":
            return []  # ``end`` is the last event; only the single-agent wire's ``done`` follows it
        return self._decode(kind, payload)

    def finish(self) -> list[Event]:
        """Call at EOF: nothing more if the stream completed, else ``StreamError`` (it was truncated)."""
        if not self.complete:
            seen = "no events" if self.metadata is None else f"{self._seq} events"
            raise StreamError(f"the SSE stream ended before its end/done event ({seen} decoded): truncated")
        return []

    def abort(self, status: str) -> list[Event]:
        """Events that close the stream now (``cancelled`` or ``failed``): open turns end, then ``end``."""
        if self.ended:
            return []
        reason = "cancelled" if status == "cancelled" else "error"
        events = self._ensure_started() + self._close_turns(reason)
        self.ended = True
        events.append(self._make(End, execution_time=self._t, output=self._final_output(), status=status))
        return events

    def _decode(self, kind: str, data: dict[str, Any]) -> list[Event]:
        t = _finite(data.get("t"))
        if t is None:
            t = self._clock() - self._t0
        data["t"] = self._t = t
        if kind == "metadata":
            return self._on_metadata(data)
        if kind == "start":
            if self._started:
                return []  # a repeated start
            events = self._ensure_started(with_start=False)
            self._started = True
            return [*events, self._event(kind, data)]
        events = self._ensure_started()
        if kind == "chunk":  # the hot path: made directly, with from_wire's aliases and our checks
            agent = data["agent"] if "agent" in data else data.get("agent_name")
            if agent is None or agent == "":
                agent = self._default_agent()
            content = data["content"] if "content" in data else data.get("token", "")
            kind = data.get("kind", "text")
            if kind == "reasoning" and "reasoning_content" in data:  # nbswarm serve's spelling
                content = data["reasoning_content"]
            for field, value in (("agent", agent), ("content", content), ("kind", kind)):
                if type(value) is not str:
                    got = _snippet(repr(value), 60)
                    raise StreamError(
                        f"SSE frame {self.frames} (chunk): field {field!r} should be str, got {got}"
                    )
            if kind not in _CHUNK_KINDS:
                return events  # a kind of chunk we do not know: no part of any text
            if agent not in self._open:
                events += self._open_turn(agent, 0)
            index = self._chunks.get(agent, 0)
            self._chunks[agent] = index + 1
            if kind == "text":
                pieces = self._open[agent]
                if pieces or agent not in self._separated:
                    pieces.append(content)
                else:  # a later turn's first chunk: nbswarm's loop separator is no part of the turn
                    self._separated.discard(agent)
                    if content != LOOP_SEPARATOR:
                        pieces.append(content)
            events.append(  # the event log's constructor: equal to Chunk(...), ~40% cheaper
                new_chunk(
                    self.run_id or "",
                    self._seq,
                    self._t,
                    agent=agent,
                    content=content,
                    index=index,
                    kind=kind,
                )
            )
            self._seq += 1
            return events
        # Added events come before the producer's event, so they are made (and numbered) first.
        agent = data["agent"] if "agent" in data else data.get("agent_name")
        named = isinstance(agent, str)
        if kind == "agent_start":
            events += self._close_turn(agent, "stop") if named and agent in self._open else []
            event = self._event(kind, data)
            events += self._open_turn(event.agent, event.step, event, placed="step" in data)
            if event.loop and "loop" in data:
                self._separated.add(event.agent)
            return events
        if kind == "agent_end":
            if named and agent not in self._open:
                step = data.get("step")
                events += self._open_turn(agent, step if type(step) is int else 0, placed="step" in data)
            if named and _no_text(data, ("output", "content", "final_output")):
                data["output"] = "".join(self._open[agent])  # the current hosted API: text only in chunks
            event = self._event(kind, data)
            events.append(self._end_turn(event))
            return events
        if kind == "usage":
            if "cost" not in data and "total_cost" not in data and isinstance(data.get("billing_info"), dict):
                data["cost"] = data["billing_info"]  # the swarm seed's usage: cost inside billing_info
            if agent is None:
                events += self._close_turns("stop")
            elif named and agent in self._open:
                events += self._close_turn(agent, "stop")
            events.append(self._event(kind, data))
            return events
        if kind == "error":
            event = self._event(kind, data)
            self._failed = True
            if event.agent in self._turn_of:
                self._turn_of[event.agent][2].error = f"{event.error_type}: {event.message}"
            events.append(event)
            return events
        if kind == "end":
            events += self._close_turns("stop")
            if _no_text(data, ("output", "final_output")):
                data["output"] = self._final_output()  # the current hosted API: text only in chunks
            if not isinstance(data.get("status"), str):
                data["status"] = "failed" if self._failed else "completed"
            self.ended = True
            events.append(self._event(kind, data))
            return events
        # done
        events += self._close_run(data)
        events.append(self._mark_done(data))
        return events

    # -- helpers -------------------------------------------------------------

    def _event(self, kind: str, data: dict[str, Any]) -> Event:
        """``from_wire`` with our run id and seq, and the field types checked."""
        data["run_id"] = self.run_id
        data.pop("seq", None)
        try:
            event = from_wire(kind, data, run_id=self.run_id, seq=self._seq)
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            raise StreamError(f"SSE frame {self.frames} ({kind}) is malformed: {exc}") from None
        for field, kinds in _CHECKS[type(event)]:
            value = getattr(event, field)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise StreamError(
                    f"SSE frame {self.frames} ({kind}): field {field!r} should be "
                    f"{' or '.join(k.__name__ for k in kinds)}, got {_snippet(repr(value), 60)}"
                )
        self._seq += 1
        return event

    def _make(self, cls: type[Event], **fields: Any) -> Event:
        event = cls(run_id=self.run_id or "", seq=self._seq, t=self._t, **fields)
        self._seq += 1
        return event

    def _on_metadata(self, data: dict[str, Any]) -> list[Event]:
        if self.metadata is not None:
            return []  # a second metadata frame (a producer that repeats it): keep the first
        job = data.get("run_id") or data.get("job_id") or data.get("id")
        self.run_id = job if isinstance(job, str) and job else uuid.uuid4().hex[:16]
        if not data.get("agents") and data.get("swarm_type", "Agent") == "Agent":
            name = data.get("name", data.get("agent_name", data.get("swarm_name")))
            if isinstance(name, str) and name:
                data["agents"] = [name]
        event = self._event("metadata", data)
        self.metadata = event  # type: ignore[assignment]
        return [event]

    def _ensure_started(self, *, with_start: bool = True) -> list[Event]:
        events: list[Event] = []
        if self.metadata is None:
            self.run_id = self.run_id or uuid.uuid4().hex[:16]
            self.metadata = self._make(  # type: ignore[assignment]
                Metadata, job_id=self.run_id, name="", swarm_type="Agent", number_of_agents=1
            )
            events.append(self.metadata)  # type: ignore[arg-type]
        if with_start and not self._started:
            self._started = True
            events.append(self._make(Start, status="running"))
        return events

    def _default_agent(self) -> str:
        meta = self.metadata
        if meta is not None and len(meta.agents) == 1:
            return meta.agents[0]
        return (meta.name if meta is not None else "") or "agent"

    def _open_turn(
        self, agent: str, step: int, event: AgentStart | None = None, *, placed: bool = False
    ) -> list[Event]:
        """Open ``agent``'s turn. ``placed``: the producer said which step it is in; else a turn that
        starts while no other is open begins a new step, and one that starts beside open turns is
        in their (parallel) step, which is how every producer orders a flow's agent starts."""
        others_open = bool(self._open) and any(name != agent for name in self._open)
        self._open[agent] = []
        loop = self._turns.get(agent, 0)
        self._turns[agent] = loop + 1
        if event is None:
            event = self._make(AgentStart, agent=agent, step=step, loop=loop)  # type: ignore[assignment]
        turn = Turn(agent=agent, output="", finish_reason="stop")
        key: object = ("step", event.loop, event.step) if placed else None  # type: ignore[union-attr]
        if key is None and others_open and self._steps:
            key = self._step_key
        if key is None or key != self._step_key or not self._steps:
            self._steps.append([])
            self._step_key = key if key is not None else object()
        self._steps[-1].append(turn)
        self._turn_of[agent] = (event.step, event.loop, turn)  # type: ignore[union-attr]
        return [event]  # type: ignore[list-item]

    def _end_turn(self, event: AgentEnd) -> AgentEnd:
        self._open.pop(event.agent, None)
        self._separated.discard(event.agent)
        opened = self._turn_of.pop(event.agent, None)
        if opened is not None:
            turn = opened[2]
            turn.output = event.output
            turn.finish_reason = event.finish_reason or "stop"
        return event

    def _close_turn(self, agent: str, reason: str) -> list[Event]:
        pieces = self._open[agent]
        opened = self._turn_of.get(agent)
        step, loop = (opened[0], opened[1]) if opened is not None else (0, 0)
        failed = opened is not None and opened[2].error is not None
        end = self._make(
            AgentEnd,
            agent=agent,
            output="".join(pieces),
            finish_reason="error" if failed and reason == "stop" else reason,
            step=step,
            loop=loop,
        )
        return [self._end_turn(end)]  # type: ignore[arg-type]

    def _close_turns(self, reason: str) -> list[Event]:
        events: list[Event] = []
        for agent in list(self._open):
            events += self._close_turn(agent, reason)
        return events

    def _close_run(self, data: dict[str, Any] | None = None) -> list[Event]:
        """Before ``done``: open turns end and ``end`` is added if the producer sent none."""
        if self.ended:
            return []
        events = self._ensure_started() + self._close_turns("stop")
        data = data or {}
        status = data.get("run_status")
        if not isinstance(status, str):
            status = "failed" if self._failed else "completed"
        elapsed = _finite(data.get("execution_time"))
        if elapsed is None:
            elapsed = self._t
        output = data.get("output")
        if not isinstance(output, str):
            output = self._final_output()
        self.ended = True
        events.append(self._make(End, execution_time=elapsed, output=output, status=status))
        return events

    def _mark_done(self, data: dict[str, Any]) -> Event:
        self.done = True
        status = data.get("status")
        return self._make(Done, status=status if isinstance(status, str) else "finished")

    def _final_output(self) -> str:
        """The run's text when the producer sends none, by the local engine's rule: a single
        agent's turns joined, a workflow's last step (a parallel step's turns attributed)."""
        meta = self.metadata
        if meta is not None and meta.swarm_type == "Agent":
            return joined_turns(self._steps)
        return last_step_output(self._steps)
