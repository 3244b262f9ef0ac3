"""A loopback HTTP server that replays providers' streaming wire formats, byte for byte.

``WireServer`` is a real uvicorn server on 127.0.0.1 (see ``sse_util.LiveServer``). Each request
is recorded (method, path, query, headers, JSON body) and answered by ``server.reply(request)``,
which returns a ``Reply``: a status, a content type and the body as a list of byte strings,
each written (and flushed) separately so the client sees them arrive as a real stream does.
``STALL`` in the body waits (up to ``stall_limit`` seconds, or until ``release()``) before the
rest: a provider that stopped sending. ``DROP`` ends the response abruptly (a dropped connection).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sse_util import LiveServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

STALL = b"<stall>"
DROP = b"<drop>"


@dataclass
class Reply:
    status: int = 200
    content_type: str = "text/event-stream; charset=utf-8"
    body: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


class WireServer:
    """``with WireServer(reply) as server:`` ... ``server.url``, ``server.requests``."""

    def __init__(self, reply: Callable[[Seen], Reply], stall_limit: float = 30.0) -> None:
        self.reply = reply
        self.requests: list[Seen] = []
        self.stall_limit = stall_limit
        self._released = threading.Event()
        self.closed_early = threading.Event()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        self._live = LiveServer(app)

    @property
    def url(self) -> str:
        return self._live.url

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> WireServer:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._live.__exit__(*exc)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        seen = Seen(request.method, request.url.path, request.url.query, dict(request.headers), body)
        self.requests.append(seen)
        reply = self.reply(seen)
        streamed = reply.content_type.startswith(("text/event-stream", "application/x-ndjson"))
        if STALL not in reply.body and DROP not in reply.body and not streamed:
            return Response(b"".join(reply.body), reply.status, reply.headers, reply.content_type)

        async def parts():
            for part in reply.body:
                if part is STALL or part == STALL:
                    await asyncio.get_running_loop().run_in_executor(
                        None, self._released.wait, self.stall_limit
                    )
                    continue
                if part == DROP:
                    raise ConnectionResetError("the replay drops the connection here")
                yield part
                await asyncio.sleep(0)

        return StreamingResponse(parts(), reply.status, reply.headers, media_type=reply.content_type)


def sse(*payloads: Any, done: bool = True, event: str | None = None) -> list[bytes]:
    """``data: <json>\\n\\n`` frames (compact JSON, as OpenAI sends it), then ``data: [DONE]``."""
    out = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        prefix = f"event: {event}\n" if event else ""
        out.append(f"{prefix}data: {data}\n\n".encode())
    if done:
        out.append(b"data: [DONE]\n\n")
    return out
