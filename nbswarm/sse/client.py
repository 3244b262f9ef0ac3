"""The SSE client: any Swarms-style event stream -> the same events a local run yields.

``stream_events(url, payload)`` (sync) and ``astream_events(url, payload)``
(async) POST the payload and yield nbswarm events as they arrive;
``remote_run(url, payload)`` wraps the stream in a ``Run``, so ``Recorder``,
callbacks and the live view treat a remote swarm exactly like a local one::

    run = remote_run("http://127.0.0.1:8000/v1/swarm/completions", payload, {"x-api-key": key})
    run.result()                      # or: for event in run: ...

The transport cannot hang or blow up: an idle timeout (no event for
``idle_timeout`` seconds; keep-alive comments and a server dripping bytes do
not reset it), an optional overall ``total_timeout``, a bound on line and
frame size, bounded inflating of gzip/deflate bodies (``_reader``), and the
stream ends at its ``end``/``done`` event whatever follows (trailing frames,
garbage, a connection held open). What the frames mean is
``_decode.FrameDecoder``'s (old and new field names, frames typed only in their
JSON, terse single-agent streams completed to a full run; ``kind:
"reasoning"`` chunks stay reasoning). Every failure is one exception,
``StreamError``, whose ``reason`` says which: an HTTP error status (with the
start of the body), a redirect (with its status and ``Location``: a POST is
not replayed elsewhere), a response that is not an event stream, a connection
that fails, a timeout, a size bound, data that is not JSON, a truncated stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx

from ..errors import InvalidArgument, StreamError
from ..events import Error, Event
from ..run import Run, Sink
from ._decode import FrameDecoder
from ._reader import FrameReader, Inflater

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_TIMEOUT",
    "astream_events",
    "remote_run",
    "stream_events",
]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=60.0)
"""Connect/write within 30 s; no byte at all for 60 s is a dead connection."""
DEFAULT_IDLE_TIMEOUT = 60.0
"""Seconds without an event (keep-alive comments do not count) before the stream is given up."""
DEFAULT_MAX_EVENT_BYTES = 16 << 20
"""Largest SSE line or frame the client holds."""

_BODY_LIMIT = 2000


def _request_args(
    url: str, payload: Mapping[str, Any] | None, headers: Mapping[str, str] | None, method: str
) -> dict[str, Any]:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidArgument(f"url must be an http(s) URL string, got {url!r}")
    if payload is not None and not isinstance(payload, Mapping):
        raise InvalidArgument(f"payload must be a dict (the JSON body) or None, got {type(payload).__name__}")
    if headers is not None and not isinstance(headers, Mapping):
        raise InvalidArgument(f"headers must be a dict or None, got {type(headers).__name__}")
    if not isinstance(method, str) or not method:
        raise InvalidArgument(f"method must be an HTTP method name, got {method!r}")
    sent = {
        "Accept": "text/event-stream",
        "Accept-Encoding": "identity",  # compression only delays events; gzip is still read if sent
        "Cache-Control": "no-store",
        **(headers or {}),
    }
    args: dict[str, Any] = {"method": method.upper(), "url": url, "headers": sent}
    if payload is not None:
        try:
            args["content"] = json.dumps(payload, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"payload must be JSON-serializable: {exc}") from None
        sent.setdefault("Content-Type", "application/json")
    return args


class _Limits:
    """The client's bounds for one stream: idle and overall deadlines, frame size."""

    def __init__(self, idle: float | None, total: float | None, max_bytes: int) -> None:
        for name, value in (("idle_timeout", idle), ("total_timeout", total)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
            ):
                raise InvalidArgument(f"{name} must be a positive number of seconds or None, got {value!r}")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1024:
            raise InvalidArgument(f"max_event_bytes must be an integer >= 1024, got {max_bytes!r}")
        self.idle, self.total, self.max_bytes = idle, total, max_bytes
        self.started = self.last_event = 0.0

    def start(self) -> None:
        self.started = self.last_event = time.monotonic()

    def timeout(self, given: float | httpx.Timeout | None) -> httpx.Timeout:
        """httpx's timeouts, the read one no longer than the idle and overall limits."""
        timeout = given if isinstance(given, httpx.Timeout) else httpx.Timeout(given)
        bounds = [b for b in (timeout.read, self.idle, self.total) if b is not None]
        return httpx.Timeout(
            connect=timeout.connect,
            read=min(bounds) if bounds else None,
            write=timeout.write,
            pool=timeout.pool,
        )

    def check(self, url: str, frames: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self.total is not None and now - self.started > self.total:
            raise StreamError(
                f"the SSE stream from {url} took longer than total_timeout={self.total:g} s", reason="timeout"
            )
        if self.idle is not None and now - self.last_event > self.idle:
            raise StreamError(
                f"the SSE stream from {url} sent no event for {self.idle:g} s (idle_timeout) after "
                f"{frames} frames",
                reason="idle_timeout",
            )


def _refusal(response: httpx.Response, body: bytes) -> StreamError:
    """The error for a response that is not a stream we can read, with what the server said."""
    text = body[:_BODY_LIMIT].decode("utf-8", "replace")
    where = f"{response.request.method} {response.request.url}"
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location", "(no Location header)")
        return StreamError(
            f"{where} was redirected with HTTP {status} to {location}; "
            "the client does not follow redirects (a POST would lose its body): use that URL",
            reason="redirect",
        )
    if status >= 400:
        return StreamError(f"{where} failed with HTTP {status}: {_said(text)}", reason="http_status")
    kind = response.headers.get("content-type", "").partition(";")[0].strip()
    hint = " (did the payload ask for streaming: 'stream'/'streaming_on': true?)" if "json" in kind else ""
    return StreamError(
        f"{where} answered {kind or 'no content type'}, not text/event-stream{hint}: {text}", reason="not_sse"
    )


def _stream_failure(exc: Exception, url: str, decoder: FrameDecoder, limits: _Limits) -> StreamError:
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ReadTimeout):
            try:
                limits.check(url, decoder.frames)
            except StreamError as bounded:
                return bounded
        what = "timed out" if decoder.frames == 0 else f"went silent after {decoder.frames} frames"
        return StreamError(f"the SSE stream from {url} {what} ({type(exc).__name__})", reason="timeout")
    broke = f"broke after {decoder.frames} frames"
    return StreamError(f"the SSE stream from {url} {broke}: {type(exc).__name__}: {exc}", reason="connection")


def _is_stream(response: httpx.Response) -> bool:
    return response.status_code < 300 and "text/event-stream" in response.headers.get("content-type", "")


class _Session:
    """One response's bytes -> events: inflate, frame, decode, and the bounds (shared by sync and async)."""

    def __init__(self, response: httpx.Response, decoder: FrameDecoder, limits: _Limits) -> None:
        self.url = str(response.request.url)
        self.inflater = Inflater(response.headers.get("content-encoding", ""))
        self.reader = FrameReader(limits.max_bytes)
        self.decoder = decoder
        self.limits = limits

    def events(self, raw: bytes) -> list[Event]:
        """The events in ``raw``; after ``end``/``done`` later frames (even garbage) are ignored."""
        decoder = self.decoder
        decode = decoder.decode
        out: list[Event] = []
        for piece in self.inflater.pieces(raw):
            for name, data in self.reader.feed(piece):
                if decoder.ended or decoder.done:  # nothing after the end is read, not even to check it
                    return out
                out += decode(name, data)
        now = time.monotonic()
        if out:
            self.limits.last_event = now
        if not decoder.complete:
            self.limits.check(self.url, decoder.frames, now)
        return out

    def finish(self) -> list[Event]:
        events: list[Event] = []
        for name, data in self.reader.flush():
            if not self.decoder.complete:
                events += self.decoder.decode(name, data)
        if not self.decoder.complete:
            seen = self.decoder.frames
            raise StreamError(
                f"the SSE stream from {self.url} ended before its end/done event ({seen} frames): truncated",
                reason="truncated",
            )
        return events + self.decoder.finish()


def _head(response: httpx.Response) -> bytes:
    """The start of a refused response's body (never the whole of a huge one)."""
    body = b""
    for piece in response.iter_raw():
        body += piece
        if len(body) >= _BODY_LIMIT:
            break
    return body


def _said(text: str) -> str:
    """What a JSON error body says, readable: its message with real line breaks (a flow error's
    caret stays under its column) and the field it names; any other body as it came."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if not isinstance(body, dict):
        return text
    message = next((body[k] for k in ("error", "detail", "message") if isinstance(body.get(k), str)), None)
    if message is None:
        return text
    field = body.get("field")
    return f"{message}\n(field: {field})" if isinstance(field, str) else message


async def _ahead(response: httpx.Response) -> bytes:
    body = b""
    async for piece in response.aiter_raw():
        body += piece
        if len(body) >= _BODY_LIMIT:
            break
    return body


def _pump(
    http: httpx.Client | None,
    args: dict[str, Any],
    decoder: FrameDecoder,
    limits: _Limits,
    timeout: float | httpx.Timeout | None = None,
) -> Iterator[Event]:
    """The sync stream; ``http`` None: a client of its own, closed with the generator."""
    if http is None:
        with httpx.Client(timeout=limits.timeout(timeout)) as own:
            yield from _pump(own, args, decoder, limits)
        return
    url = str(args["url"])
    limits.start()
    try:
        with http.stream(**args) as response:
            if not _is_stream(response):
                raise _refusal(response, _head(response))
            session = _Session(response, decoder, limits)
            for raw in response.iter_raw():
                yield from session.events(raw)
                if decoder.complete:
                    return
            yield from session.finish()
    except httpx.HTTPError as exc:
        if not decoder.complete:  # a connection lost after ``end`` loses nothing
            raise _stream_failure(exc, url, decoder, limits) from exc


async def _apump(
    http: httpx.AsyncClient, args: dict[str, Any], decoder: FrameDecoder, limits: _Limits
) -> AsyncIterator[Event]:
    url = str(args["url"])
    limits.start()
    try:
        async with http.stream(**args) as response:
            if not _is_stream(response):
                raise _refusal(response, await _ahead(response))
            session = _Session(response, decoder, limits)
            async for raw in response.aiter_raw():
                for event in session.events(raw):
                    yield event
                if decoder.complete:
                    return
            for event in session.finish():
                yield event
    except httpx.HTTPError as exc:
        if not decoder.complete:  # a connection lost after ``end`` loses nothing
            raise _stream_failure(exc, url, decoder, limits) from exc


_OPTIONS_DOC = """
    ``idle_timeout``: seconds without an event (keep-alive comments and bytes that make no event do not
    count) before ``StreamError(reason="idle_timeout")``; ``total_timeout``: seconds for the whole
    stream (None: no limit); ``max_event_bytes``: the largest line or frame held (``too_large``).
    ``timeout`` is httpx's (connect, write, pool; its read timeout is capped by the two above).
    """


def stream_events(
    url: str,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    total_timeout: float | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    client: httpx.Client | None = None,
) -> Iterator[Event]:
    """POST ``payload`` to ``url`` and yield its SSE stream as nbswarm events; ``StreamError`` on failure.

    Closing the generator early closes the connection (a server then cancels its agents).
    Pass ``client`` to reuse connections (or to test with ``httpx.MockTransport``).
    """
    args = _request_args(url, payload, headers, method)  # bad arguments fail here, at the call
    limits = _Limits(idle_timeout, total_timeout, max_event_bytes)
    return _pump(client, args, FrameDecoder(), limits, timeout)  # no generator layer of its own


async def astream_events(
    url: str,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    total_timeout: float | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    client: httpx.AsyncClient | None = None,
) -> AsyncIterator[Event]:
    """``stream_events`` for ``async for``; cancelling the consumer closes the connection at once."""
    args = _request_args(url, payload, headers, method)
    limits = _Limits(idle_timeout, total_timeout, max_event_bytes)
    if client is not None:
        async for event in _apump(client, args, FrameDecoder(), limits):
            yield event
        return
    async with httpx.AsyncClient(timeout=limits.timeout(timeout)) as http:
        async for event in _apump(http, args, FrameDecoder(), limits):
            yield event


def remote_run(
    url: str,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    total_timeout: float | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    transport: httpx.AsyncBaseTransport | None = None,
    recorder: Sink | None = None,
) -> Run:
    """A ``Run`` (not yet started) whose events are the remote stream's, so it records and displays
    like a local run. A broken stream ends the run as ``failed`` with an ``error`` event (and
    ``result()`` raises the ``StreamError``); ``run.cancel()`` closes the connection and ends the
    run as ``cancelled``. ``transport`` replaces the network (tests); ``recorder`` is added as a sink.
    Show it like any run: ``nbswarm.show(run)`` in a notebook.
    """
    args = _request_args(url, payload, headers, method)  # bad arguments fail here, not inside the run
    limits = _Limits(idle_timeout, total_timeout, max_event_bytes)

    async def body(run: Run) -> None:
        decoder = FrameDecoder()
        try:
            async with httpx.AsyncClient(timeout=limits.timeout(timeout), transport=transport) as http:
                async for event in _apump(http, args, decoder, limits):
                    run.forward(event)
        except asyncio.CancelledError:
            for event in decoder.abort("cancelled"):
                run.forward(event)
            raise
        except StreamError as exc:
            run.emit(Error, agent=None, error_type="StreamError", message=str(exc))
            for event in decoder.abort("failed"):
                run.forward(event)
            raise

    return Run(body, sinks=() if recorder is None else (recorder,))


for _function in (stream_events, astream_events, remote_run):
    _function.__doc__ = (_function.__doc__ or "") + _OPTIONS_DOC
