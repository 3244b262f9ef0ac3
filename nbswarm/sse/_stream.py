"""The streaming side of ``nbswarm serve``: runs -> coalesced, bounded SSE responses.

``run_response`` streams a Run as SSE frames (``_frames.FrameEncoder``). Two tasks
share one bounded buffer (``_Pipe``): a producer does ``async for event in run``
and appends frame bytes; the sender, once frames wait, gathers ``coalesce``
seconds of them (5 ms) into one write. This is where the server's cost per token goes
(a socket write costs far more than encoding a frame), and what backpressure
means here:

* the buffer holds at most ``client_buffer`` bytes of frames not yet handed to
  the socket; when it is full the producer waits (the run goes on, its events
  are the Run's own and bounded by the request's work budget), so a slow client
  costs no more than that buffer;
* a client more than ``max_lag`` seconds behind its run (one that never reads,
  or reads slower than its agents write), or one write that the socket does not
  take within ``write_timeout`` seconds, is disconnected and its run cancelled;
* a client that disconnects cancels its run at once: a task waits on the ASGI
  ``http.disconnect`` message, so nothing waits for the next write to fail.

A failure during a stream is an ``error`` frame and the stream still ends with
``end`` (swarm wire) or ``done`` (single-agent wire). Keep-alive comments
(``: ping``) go out every ``ping`` seconds of silence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..run import Run
from ._frames import FrameEncoder, frame
from ._http import ABORT
from ._state import ServerState, Settings

__all__ = ["FrameStream", "run_response", "stream_response"]

logger = logging.getLogger("nbswarm.serve")

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
    (b"connection", b"keep-alive"),
]


class _Pipe:
    """Frame bytes between a producer and the sender, at most ``limit`` bytes of them."""

    __slots__ = ("closed", "frames", "limit", "on_overflow", "overflow", "ready", "room", "size")

    def __init__(self, limit: int) -> None:
        self.frames: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.ready = asyncio.Event()
        """Set when there are frames to send (or the producer is done)."""
        self.room = asyncio.Event()
        """Set when the sender has taken the frames."""
        self.closed = False
        """The producer is done (or gone): nothing more will come."""
        self.overflow = False
        """The client fell too far behind: it is to be disconnected."""
        self.on_overflow: Callable[[], Any] = lambda: None

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def put(self, data: bytes) -> None:
        self.frames.append(data)
        self.size += len(data)
        self.ready.set()

    async def wait_room(self, seconds: float) -> bool:
        """Wait until the sender has taken the frames; False (the client is dropped) after ``seconds``."""
        if seconds > 0:
            self.room.clear()
            timer = asyncio.get_running_loop().call_later(seconds, self.room.set)
            try:
                await self.room.wait()
            finally:
                timer.cancel()
            if not self.full:
                return True
        self.overflow = self.closed = True
        self.frames.clear()
        self.ready.set()
        self.on_overflow()  # the sender may be blocked on the slow socket: stop it now
        return False

    def take(self) -> bytes:
        frames = self.frames
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        self.frames = []
        self.size = 0
        self.room.set()
        return data

    def close(self) -> None:
        self.closed = True
        self.ready.set()


Produce = Callable[[_Pipe], Awaitable[None]]


class FrameStream:
    """An ASGI response of SSE frames made by ``produce(pipe)``, sent coalesced, bounded and cancellable.

    ``on_close()`` runs when the response ends for any reason (the run's cancel: a no-op for a
    finished run, at once for a client that left or fell behind).
    """

    def __init__(self, state: ServerState, produce: Produce, on_close: Callable[[], None]) -> None:
        self.state = state
        self.produce = produce
        self.on_close = on_close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        settings = self.state.settings
        pipe = _Pipe(settings.client_buffer)
        loop = asyncio.get_running_loop()
        clock = _WriteClock()
        producer = loop.create_task(self._produce(pipe))
        sender = loop.create_task(self._send(pipe, send, settings, clock))
        pipe.on_overflow = sender.cancel
        watcher = loop.create_task(_wait_disconnect(receive))
        ticker = loop.create_task(self._tick(pipe, sender, settings, clock))
        try:
            await asyncio.wait((sender, watcher), return_when=asyncio.FIRST_COMPLETED)
            outcome = None
            if sender.done() and not sender.cancelled():
                failure = sender.exception()
                outcome = "failed" if failure is not None else sender.result()
                if failure is not None:
                    logger.info("a stream's write failed: %r", failure)
            if outcome in ("overflow", "stalled"):
                self.state.dropped_clients += 1
                client = scope.get("client")
                logger.warning(
                    "client %s fell behind (%s): disconnected, its run cancelled",
                    f"{client[0]}:{client[1]}" if client else "?",
                    f"over {settings.max_lag:g} s behind" if pipe.overflow else "a write stalled",
                )
                abort = scope.get("extensions", {}).get(ABORT)
                if abort is not None:
                    abort()  # a plain close would wait for the client to read what is buffered
                    await asyncio.sleep(0)  # uvicorn sees the connection lost before the app returns
        finally:
            self.on_close()
            for task in (producer, sender, watcher, ticker):
                task.cancel()

    async def _produce(self, pipe: _Pipe) -> None:
        try:
            await self.produce(pipe)
        finally:
            if pipe.overflow:
                self.on_close()  # the client is too far behind: stop its agents now
            pipe.close()

    async def _send(self, pipe: _Pipe, send: Any, settings: Settings, clock: _WriteClock) -> str:
        """Write frames until the producer is done; returns how it ended.

        Once frames are waiting, the sender sleeps ``coalesce`` seconds before it takes them: under
        load a loop turn is longer than that window and every agent adds about one token per turn,
        so a rule on the time since the last write alone would still write every turn.
        """
        loop = asyncio.get_running_loop()

        async def write(data: bytes, more: bool = True) -> None:
            clock.since = loop.time()
            await send({"type": "http.response.body", "body": data, "more_body": more})
            clock.last = loop.time()
            clock.since = None

        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            clock.last = loop.time()
            coalesce = settings.coalesce
            while True:
                if not pipe.frames:
                    if pipe.closed:
                        break
                    pipe.ready.clear()
                    await pipe.ready.wait()  # a frame, the end, or the ticker: a ping is due
                    if not pipe.frames and not pipe.closed:
                        await write(b": ping\n\n")
                    continue
                if coalesce and not pipe.closed:
                    await asyncio.sleep(coalesce)  # gather the next few ms of frames into this write
                if pipe.overflow:
                    return "overflow"
                await write(pipe.take())
            if pipe.overflow:
                return "overflow"
            await write(b"", more=False)
            return "complete"
        except asyncio.CancelledError:
            if clock.stalled:
                return "stalled"
            if pipe.overflow:
                return "overflow"
            raise

    @staticmethod
    async def _tick(pipe: _Pipe, sender: asyncio.Task[str], settings: Settings, clock: _WriteClock) -> None:
        """One timer per stream, not per write: wakes the sender for pings, stops it on a stalled write."""
        loop = asyncio.get_running_loop()
        period = max(0.02, min(settings.ping, settings.write_timeout) / 4)
        while not sender.done():
            await asyncio.sleep(period)
            now = loop.time()
            if clock.since is not None:
                if now - clock.since > settings.write_timeout:
                    clock.stalled = True
                    sender.cancel()
                    return
            elif now - clock.last >= settings.ping and not pipe.frames:
                pipe.ready.set()


class _WriteClock:
    """When the sender last wrote, and since when it is blocked in a write (None: it is not)."""

    __slots__ = ("last", "since", "stalled")

    def __init__(self) -> None:
        self.last = 0.0
        self.since: float | None = None
        self.stalled = False


async def _wait_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def run_response(state: ServerState, run: Run, *, agent_wire: bool, stream_output: bool) -> FrameStream:
    """The SSE response of ``run`` (already tracked by ``state``)."""
    encoder = FrameEncoder(
        agent_wire=agent_wire, stream_output=stream_output, redact=state.settings.redact_errors
    )

    max_lag = state.settings.max_lag

    async def produce(pipe: _Pipe) -> None:
        put = pipe.put
        encode = encoder.encode
        try:
            async for event in run:
                data = encode(event)
                if data:
                    if pipe.full and not await pipe.wait_room(max_lag - (run.elapsed() - event.t)):
                        return  # too far behind: dropped
                    put(data)
            if run.end is None:  # the body failed outside any agent
                try:
                    await run
                    message = "the run ended without an end event"
                except Exception as exc:
                    message = f"{type(exc).__name__}: {exc}"
                raise RuntimeError(message)
        except Exception as exc:  # report it on the stream, then end the stream cleanly
            put(encoder.server_error(run.run_id, run.elapsed(), str(exc)))
            if not agent_wire:
                end = {"run_id": run.run_id, "seq": encoder.seq + 1, "t": run.elapsed(), "type": "end"}
                end.update(execution_time=run.elapsed(), output="", status="failed")
                put(frame("end", end))
        if agent_wire:
            put(encoder.done(run.run_id, run.elapsed(), run.end))

    def close() -> None:
        run.cancel()
        state.release(run)

    return FrameStream(state, produce, close)


def stream_response(state: ServerState, frames: Callable[[], AsyncIterator[bytes]]) -> FrameStream:
    """The SSE response of an async generator of frame bytes (the OpenAI-compatible endpoint)."""

    max_lag = state.settings.max_lag

    async def produce(pipe: _Pipe) -> None:
        async for data in frames():  # the producer task is cancelled when the response ends
            if pipe.full and not await pipe.wait_room(max_lag):
                return
            pipe.put(data)

    return FrameStream(state, produce, lambda: None)
