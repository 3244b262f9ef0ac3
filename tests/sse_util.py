"""Real loopback servers for the SSE tests: uvicorn in a thread or ``nbswarm serve`` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port nothing listens on right now (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread: ``with LiveServer(app) as s:``.

    An nbswarm app is served with ``nbswarm serve``'s own uvicorn settings (header timeout, connection
    cap); ``options`` go to them (``max_connections``, ``header_timeout``).
    """

    def __init__(self, app: Any, **options: Any) -> None:
        self.app = app
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        common: dict[str, Any] = {"log_level": "warning", "timeout_graceful_shutdown": 2, "lifespan": "off"}
        try:
            from nbswarm.sse.server import uvicorn_config
        except ImportError:  # an nbswarm from before these settings (the tests are run there too)
            uvicorn_config = None
        if uvicorn_config is not None and hasattr(getattr(app, "state", None), "nbswarm"):
            config = uvicorn_config(app, **common, **options)
        else:
            config = uvicorn.Config(app, **common)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        if not wait_until(lambda: self.server.started, timeout=15):
            raise RuntimeError("uvicorn did not start within 15 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class ServeProcess:
    """``python -m nbswarm.cli serve`` in a subprocess, as an operator would start it."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "nbswarm.cli", "serve", "--port", str(self.port), *args]
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.process = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"nbswarm serve exited early:\n{self.process.stdout.read()}")  # type: ignore[union-attr]
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def __enter__(self) -> ServeProcess:
        if not wait_until(self._healthy, timeout=30, interval=0.1):
            self.__exit__()
            raise RuntimeError("nbswarm serve did not answer /health within 30 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.output = self.process.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.output = self.process.communicate()[0]


class RawServer:
    """A loopback TCP server that answers every request with fixed bytes, then closes the connection.

    For what real servers rarely send on purpose: truncated chunked bodies, garbage, silence.
    ``response`` is the whole HTTP response (status line, headers, body); ``hold`` keeps the
    connection open (silent) that many seconds before closing it.
    """

    def __init__(self, response: bytes, hold: float = 0.0) -> None:
        self.response = response
        self.hold = hold
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    _read_request(conn)
                    self._answer(conn)
                except OSError:
                    pass

    def _answer(self, conn: socket.socket) -> None:
        conn.sendall(self.response)
        if self.hold:
            self._stop.wait(self.hold)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            return
        body += piece


def sse_response(body: bytes, *, chunked: bool = False, content_type: bytes = b"text/event-stream") -> bytes:
    """An HTTP/1.1 response carrying ``body`` until the connection closes; ``chunked`` sends it as one
    chunk and never the terminating zero chunk, so the HTTP body itself is truncated."""
    head = b"HTTP/1.1 200 OK\r\ncontent-type: " + content_type + b"\r\n"
    if chunked:
        return head + b"transfer-encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n"
    return head + b"connection: close\r\n\r\n" + body


class DripServer(RawServer):
    """A loopback server that sends ``response``, then ``drip`` every ``interval`` seconds until stopped.

    For a stream that never ends but is never silent: keep-alive comments, a byte at a time.
    """

    def __init__(self, response: bytes, drip: bytes, interval: float) -> None:
        super().__init__(response)
        self.drip = drip
        self.interval = interval

    def _answer(self, conn: socket.socket) -> None:
        conn.sendall(self.response)
        while not self._stop.wait(self.interval):
            conn.sendall(self.drip)
