"""The HTTP layer's guards for ``nbswarm serve``: who may call, how much they may send, how slowly.

* ``Guard`` (ASGI middleware): the ``Host`` header must name this server (a page
  on another site that rebinds its DNS name to 127.0.0.1 sends its own name:
  421); a browser ``Origin`` must be allowed (``--cors-origin``), else 403, so a
  foreign page cannot drive a local server even with a ``text/plain`` "simple"
  request; POSTs must say ``Content-Type: application/json`` (415). Allowed
  origins also get CORS headers and preflights from Starlette's
  ``CORSMiddleware``.
* ``read_json``: the request body, refused (413) as soon as it passes the limit
  while being read (chunked bodies have no ``Content-Length`` to check first),
  within a time limit (408); a client that leaves mid-body is one log line.
* ``protocol(...)``: uvicorn's h11 protocol with two guards uvicorn has no
  setting for: a connection must finish its request headers within
  ``header_timeout`` seconds (slowloris), and connections past
  ``max_connections`` get a 503 with ``Retry-After`` at once, before they can
  hold a file descriptor; and each connection's kernel send buffer is capped
  at ``SEND_BUFFER`` (Linux grows it to 4 MB for a client that does not read,
  kernel memory no bound of ours would see). Keep-alive idling (``timeout_keep_alive``), header
  size (``h11_max_incomplete_event_size``) and the task limit
  (``limit_concurrency``) are uvicorn's own settings, set by ``serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from typing import Any

from starlette.requests import ClientDisconnect, Request

from ._payload import PayloadError

__all__ = [
    "ABORT",
    "LOOPBACK_NAMES",
    "Disconnected",
    "Guard",
    "is_loopback",
    "protocol",
    "quiet_accept_errors",
    "read_json",
]

logger = logging.getLogger("nbswarm.serve")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
ABORT = "nbswarm.abort"
"""The ASGI scope extension (uvicorn served by ``serve``) that resets the connection at once."""
SEND_BUFFER = 256 * 1024
"""Bytes of a connection's kernel send buffer (``SO_SNDBUF``; the kernel doubles it)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8000`` -> ``::1``, ``Example:80`` -> ``example``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rpartition(":")[0] if header.count(":") == 1 else header


async def _json_response(send: Any, status: int, body: dict[str, Any], headers: Iterable = ()) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class Guard:
    """Host, Origin and Content-Type checks before any endpoint (see the module docstring)."""

    def __init__(self, app: Any, allowed_hosts: Iterable[str] | None, cors_origins: Iterable[str]) -> None:
        self.app = app
        self.hosts = (
            None if allowed_hosts is None else frozenset(h.lower().strip("[]") for h in allowed_hosts)
        )
        self.origins = frozenset(o.rstrip("/").lower() for o in cors_origins)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if self.hosts is not None and _host_name(host) not in self.hosts:
            message = "this server does not answer to that Host name (see nbswarm serve --allowed-host)"
            await _json_response(send, 421, {"error": message, "field": "host"})
            return
        origin = headers.get(b"origin")
        if origin is not None:
            text = origin.decode("latin-1").rstrip("/").lower()
            same = text.partition("://")[2] == host.lower()
            if "*" not in self.origins and text not in self.origins and not same:
                message = "browser requests from this origin are refused (see nbswarm serve --cors-origin)"
                await _json_response(send, 403, {"error": message, "field": "origin"})
                return
        if scope["method"] == "POST":
            kind = headers.get(b"content-type", b"").partition(b";")[0].strip().lower()
            if kind != b"application/json":
                message = "POST bodies must be JSON sent with Content-Type: application/json"
                await _json_response(send, 415, {"error": message, "field": "content-type"})
                return
        await self.app(scope, receive, send)


class Disconnected(Exception):
    """The client left while sending its request: nothing to answer."""


async def read_json(request: Request, limit: int, timeout: float) -> Any:
    """The JSON body, read within ``limit`` bytes and ``timeout`` seconds (413 / 408 / 422)."""
    declared = request.headers.get("content-length", "")
    too_big = f"is larger than this server's limit of {limit} bytes"
    if declared.isdigit() and int(declared) > limit:
        raise PayloadError("body", too_big, status=413)

    async def read() -> bytes:
        pieces: list[bytes] = []
        size = 0
        async for piece in request.stream():
            size += len(piece)
            if size > limit:
                raise PayloadError("body", too_big, status=413)
            pieces.append(piece)
        return b"".join(pieces)

    try:
        raw = await asyncio.wait_for(read(), timeout)
    except asyncio.TimeoutError:
        raise PayloadError("body", f"was not received within {timeout:g} s", status=408) from None
    except ClientDisconnect:
        client = request.client
        logger.info("client %s disconnected while sending its request body", client and client.host)
        raise Disconnected from None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("body", f"is not valid JSON: {str(exc)[:200]}") from None


_BUSY = json.dumps({"error": "this server has as many connections as it allows; retry shortly"}).encode()
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(_BUSY) + _BUSY
)


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Out of file descriptors, asyncio logs a traceback per refused accept (thousands a second):
    make that one warning line every few seconds; every other loop error is logged as before."""
    last = [0.0]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != "socket.accept() out of system resource":
            loop.default_exception_handler(context)
            return
        now = loop.time()
        if now - last[0] >= 5.0:
            last[0] = now
            logger.warning(
                "out of file descriptors (%s): new connections wait; raise `ulimit -n` or lower "
                "--max-connections",
                context.get("exception"),
            )

    loop.set_exception_handler(handler)


def protocol(header_timeout: float, max_connections: int) -> type:
    """uvicorn's h11 protocol with a header read timeout and a connection cap (see the module docstring)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11(H11Protocol):  # type: ignore[misc]
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.write(_BUSY_RESPONSE)
                transport.close()
                return
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.scope is not None:  # lets a stream drop a client that does not read (close() would wait)
                self.scope.setdefault("extensions", {})[ABORT] = self.transport.abort
            if self.conn.their_state is h11.IDLE:
                self._arm()  # a request's headers have begun: they must be done in time
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                logger.info(
                    "closed a connection that sent no complete request headers in %g s", header_timeout
                )
                self.transport.close()

    return GuardedH11
