"""Events -> SSE frame bytes for ``nbswarm serve``: the per-token hot path, and what remote clients see.

One ``FrameEncoder`` per stream turns each event into the bytes of its frame
(``event: <type>`` / ``data: <json>``), with the same fields ``events.to_wire``
gives, and these rules of the server's wire:

* **Chunks are linear in bytes.** A chunk carries its ``content`` only. A
  request that asks for the seed's running ``output`` (``"stream_output":
  true``) gets it on each chunk while the agent's text is at most
  ``OUTPUT_LIMIT`` characters; past that, chunks carry ``content`` only (the
  agent's ``agent_end`` always has the whole text). The running text is a list
  of pieces joined only while it is short, so nothing is quadratic.
* **Reasoning is never text.** A ``kind: "reasoning"`` chunk carries its text in
  ``reasoning_content`` (the name OpenAI-compatible servers use) and
  ``content: ""``, so a client that joins every ``content`` (the seed's own
  snippet does) still reads only the answer; ``output`` never includes it.
* **One ``usage`` on the single-agent wire:** the run's total, with each turn's
  figures in ``turns``. The swarm wire's ``usage`` frames carry ``billing_info``
  (``total_cost``, ``currency``) beside nbswarm's own fields.
* **Errors are redacted:** a remote client gets the error type and a reference;
  the full message (provider errors can hold key fragments and internal host
  names) goes to the server log under that reference.

JSON is ASCII-escaped, so any line splitter (``requests.iter_lines`` splits on
U+2028) reads it.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from ..events import Chunk, Done, Error, Event, Usage, to_wire

__all__ = ["OUTPUT_LIMIT", "FrameEncoder", "frame", "safe_message"]

OUTPUT_LIMIT = 16_384
"""Characters of running ``output`` a chunk may carry when the request asks for it."""

_AGENT_WIRE_SKIPS = frozenset({"start", "agent_start", "agent_end", "end"})
"""The single-agent wire keeps the seed's taxonomy: metadata, chunk, usage, error, done."""

logger = logging.getLogger("nbswarm.serve")
_dumps = json.dumps


def frame(name: str, data: dict[str, Any]) -> bytes:
    # json.dumps escapes all non-ASCII: no U+2028 or NEL for a line splitter to cut at
    return b"event: " + name.encode() + b"\ndata: " + _dumps(data).encode() + b"\n\n"


def safe_message(error_type: str, message: str, where: str) -> str:
    """What a remote client may read of an error; the whole text is logged under a reference."""
    ref = uuid.uuid4().hex[:8]
    logger.warning("%s: %s: %s (ref %s)", where, error_type, message, ref)
    return f"{error_type}; the server log has the details (ref {ref})"


class FrameEncoder:
    """The frames of one run's events on one wire (see the module docstring)."""

    def __init__(self, *, agent_wire: bool, stream_output: bool, redact: bool = True) -> None:
        self.agent_wire = agent_wire
        self.stream_output = stream_output
        self.redact = redact
        self._agents: dict[str, bytes] = {}  # agent name -> its JSON, made once
        self._running: dict[str, list[str]] = {}
        self._running_chars: dict[str, int] = {}
        self._turns: list[dict[str, Any]] = []
        self.seq = 0

    def encode(self, event: Event) -> bytes:
        """The frame of ``event`` (``b""`` when this wire leaves it out)."""
        self.seq = event.seq
        if type(event) is Chunk:
            return self._chunk(event)
        kind = event.type
        if kind == "agent_start":
            self._running.pop(event.agent, None)  # type: ignore[union-attr]
            self._running_chars.pop(event.agent, None)  # type: ignore[union-attr]
        if self.agent_wire and kind in _AGENT_WIRE_SKIPS:
            return b""
        name, data = to_wire(event)
        if isinstance(event, Usage):
            if self.agent_wire:
                return self._agent_usage(event, data)
            data["billing_info"] = {"total_cost": event.cost, "currency": "USD", "estimated": event.estimated}
        elif isinstance(event, Error) and self.redact:
            data["message"] = safe_message(event.error_type, event.message, f"run {event.run_id}")
        return frame(name, data)

    def _chunk(self, event: Chunk) -> bytes:
        agent = self._agents.get(event.agent)
        if agent is None:
            agent = self._agents[event.agent] = _dumps(event.agent).encode()
        content = _dumps(event.content).encode()
        if event.kind == "reasoning":
            text = b'"content": "", "reasoning_content": ' + content
        else:
            text = b'"content": ' + content
            if self.stream_output:
                text += self._output(event.agent, event.content)
        head = b'event: chunk\ndata: {"run_id": "%s", "seq": %d, "t": %s, "type": "chunk", "agent": ' % (
            event.run_id.encode(),
            event.seq,
            repr(event.t).encode(),
        )
        kind = b'"text"' if event.kind == "text" else _dumps(event.kind).encode()
        return head + agent + b", " + text + b', "index": %d, "kind": %s}\n\n' % (event.index, kind)

    def _output(self, agent: str, content: str) -> bytes:
        chars = self._running_chars.get(agent, 0) + len(content)
        self._running_chars[agent] = chars
        if chars > OUTPUT_LIMIT:  # past the bound: no more pieces kept, no more output sent
            self._running.pop(agent, None)
            return b""
        pieces = self._running.setdefault(agent, [])
        pieces.append(content)
        return b', "output": ' + _dumps("".join(pieces)).encode()

    def _agent_usage(self, event: Usage, data: dict[str, Any]) -> bytes:
        """The agent wire's one usage frame: the total, the turns' figures inside it."""
        if event.agent is not None:
            turn = {key: data[key] for key in ("agent", "input_tokens", "output_tokens", "total_tokens")}
            turn.update(cost=event.cost, model=event.model, estimated=event.estimated)
            self._turns.append(turn)
            return b""
        data["turns"] = self._turns
        return frame("usage", data)

    def server_error(self, run_id: str, t: float, message: str) -> bytes:
        """The ``error`` frame of a failure outside any agent (redacted like any error)."""
        self.seq += 1
        if self.redact:
            message = safe_message("ServerError", message, f"run {run_id}")
        error = Error(run_id=run_id, seq=self.seq, t=t, agent=None, error_type="ServerError", message=message)
        return frame(*to_wire(error))

    def done(self, run_id: str, t: float, end: Any) -> bytes:
        """The seed's ``{"status": "finished"}``, with the run's outcome for clients that want it."""
        self.seq += 1
        name, data = to_wire(Done(run_id=run_id, seq=self.seq, t=t, status="finished"))
        data["run_status"] = end.status if end is not None else "failed"
        if end is not None:
            data["execution_time"] = end.execution_time
            data["output"] = end.output
        return frame(name, data)
