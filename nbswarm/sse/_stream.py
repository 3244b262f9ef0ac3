"""The SSE side of a run on the server: events -> coalesced frames, and the runs in flight.

``sse_response`` streams a Run as ``event: <type>`` / ``data: <json>`` frames (``to_wire``),
through sse-starlette (keep-alive comments, ``X-Accel-Buffering: no``). A producer task does
``async for event in run`` on the server's loop and buffers frames; the response sends what has
piled up as one write, so a loaded server makes one write per loop turn, not one per token. A
disconnect cancels the run at once; any failure becomes an ``error`` frame and the stream still
ends with ``end`` (swarm wire) or ``done`` (single-agent wire).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse

from ..events import Done, End, Error, Event, to_wire
from ..models.sim import SimProfile
from ..run import Run
from ._payload import Limits, ProviderFor

__all__ = ["PING_SECONDS", "ServerState", "sse_response"]

PING_SECONDS = 15.0
_AGENT_WIRE_SKIPS = frozenset({"start", "agent_start", "agent_end", "end"})
"""The single-agent wire keeps the seed's taxonomy: metadata, chunk, usage, error, done."""


class ServerState:
    """Per-app configuration and the runs in flight (``app.state.nbswarm``)."""

    def __init__(
        self, limits: Limits, api_key: str | None, provider_for: ProviderFor, simulated: bool
    ) -> None:
        self.limits = limits
        self.api_key = api_key
        self.provider_for = provider_for
        self.simulated = simulated
        self.sim_profile: SimProfile | None = None
        self.ping = PING_SECONDS
        self.runs: set[Run] = set()
        """Runs whose body is still going (a cancelled run leaves once its agents have stopped)."""
        self.recent: deque[Run] = deque(maxlen=64)
        """The latest runs, finished or not, for inspection."""

    @property
    def active_runs(self) -> int:
        return len(self.runs)

    def track(self, run: Run) -> None:
        self.runs.add(run)
        self.recent.append(run)
        run.add_sink(_Untrack(self, run))


class _Untrack:
    """A sink whose ``close()`` (after the run's last event, even when cancelled) forgets the run."""

    def __init__(self, state: ServerState, run: Run) -> None:
        self.state, self.run = state, run

    def __call__(self, event: Event) -> None:
        pass

    def close(self) -> None:
        self.state.runs.discard(self.run)


def _frame(name: str, data: dict[str, Any]) -> bytes:
    # json.dumps escapes all non-ASCII: no U+2028 or NEL for a line splitter (requests.iter_lines) to cut at
    return b"event: " + name.encode() + b"\ndata: " + json.dumps(data).encode() + b"\n\n"


def sse_response(
    state: ServerState, run: Run, *, agent_wire: bool, stream_output: bool
) -> EventSourceResponse:
    """Proxy-friendly SSE of ``run``: ``X-Accel-Buffering: no``, ``Cache-Control: no-store``, keep-alives."""
    frames = _frames(state, run, agent_wire=agent_wire, stream_output=stream_output)
    return EventSourceResponse(frames, ping=state.ping, sep="\n")


async def _frames(
    state: ServerState, run: Run, *, agent_wire: bool, stream_output: bool
) -> AsyncIterator[bytes]:
    """The SSE bytes of ``run``, coalesced: frames that pile up while a write goes out leave as one write.

    A producer task iterates the run (``_event_frames``); this generator sends whatever it has
    buffered. Under load that is one write per loop turn instead of one per token (each write
    costs more than encoding a frame); an idle stream still sends every frame at once.
    """
    buffer: list[bytes] = []
    ready = asyncio.Event()

    async def produce() -> None:
        state.track(run)  # here: a producer cancelled before its first step never starts the run
        try:
            async for frame in _event_frames(run, agent_wire=agent_wire, stream_output=stream_output):
                buffer.append(frame)
                ready.set()
        finally:
            ready.set()

    producer = asyncio.get_running_loop().create_task(produce())
    try:
        while True:
            if not buffer:
                if producer.done():
                    break
                await ready.wait()
                ready.clear()
                continue
            data = b"".join(buffer) if len(buffer) > 1 else buffer[0]
            buffer.clear()
            yield data
    finally:
        run.cancel()  # a no-op for a finished run; a disconnected client's agents stop here, at once
        producer.cancel()


async def _event_frames(run: Run, *, agent_wire: bool, stream_output: bool) -> AsyncIterator[bytes]:
    """One SSE frame per event of ``run`` (``async for`` on this loop), then a clean ending in any case."""
    running: dict[str, str] = {}  # agent -> its turn's text so far, kept only when the client wants output
    seq = 0
    try:
        async for event in run:
            seq = event.seq
            kind = event.type
            if kind == "chunk":
                if stream_output:
                    text = running[event.agent] = running.get(event.agent, "") + event.content
                    yield _frame(*to_wire(event, running_output=text))
                else:
                    yield _frame(*to_wire(event))
                continue
            if kind == "agent_start":
                running.pop(event.agent, None)
            if not (agent_wire and kind in _AGENT_WIRE_SKIPS):
                yield _frame(*to_wire(event))
        if run.end is None:  # the body failed outside any agent
            try:
                await run
                message = "the run ended without an end event"
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
            raise RuntimeError(message)
    except Exception as exc:  # report it on the stream, then end the stream cleanly
        seq += 1
        error = Error(
            run_id=run.run_id,
            seq=seq,
            t=run.elapsed(),
            agent=None,
            error_type="ServerError",
            message=str(exc),
        )
        yield _frame(*to_wire(error))
        if not agent_wire:
            end = End(
                run_id=run.run_id,
                seq=seq + 1,
                t=run.elapsed(),
                execution_time=run.elapsed(),
                output="",
                status="failed",
            )
            yield _frame(*to_wire(end))
    finally:
        run.cancel()  # also when this generator alone is closed or cancelled
    if agent_wire:
        yield _frame(*_done(run, seq + 1))


def _done(run: Run, seq: int) -> tuple[str, dict[str, Any]]:
    """The seed's ``{"status": "finished"}``, with the run's outcome for clients that want it."""
    name, data = to_wire(Done(run_id=run.run_id, seq=seq, t=run.elapsed(), status="finished"))
    end = run.end
    data["run_status"] = end.status if end else "failed"
    if end is not None:
        data["execution_time"] = end.execution_time
        data["output"] = end.output
    return name, data
