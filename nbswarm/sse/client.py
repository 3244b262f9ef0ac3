"""The SSE client: any Swarms-style event stream -> the same events a local run yields.

``stream_events(url, payload)`` (sync) and ``astream_events(url, payload)``
(async) POST the payload and yield nbswarm events as they arrive;
``remote_run(url, payload)`` wraps the stream in a ``Run``, so ``Recorder``,
callbacks and the live view treat a remote swarm exactly like a local one::

    run = remote_run("http://127.0.0.1:8000/v1/swarm/completions", payload, {"x-api-key": key})
    run.result()                      # or: for event in run: ...

SSE framing is httpx-sse's (comments, keep-alives, multi-line data, ``\\r\\n``
split anywhere); what the frames mean is ``_decode.FrameDecoder``'s (old and
new field names, frames typed only in their JSON, terse single-agent streams
completed to a full run). Every failure is a ``StreamError``: an HTTP error
status (with the status and the start of the body), a response that is not an
event stream, a connection that fails or stalls, data that is not JSON, and a
stream that ends before its ``end``/``done`` event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from ..errors import InvalidArgument, StreamError
from ..events import Error, Event
from ..run import Run, Sink
from ._decode import FrameDecoder

__all__ = ["DEFAULT_TIMEOUT", "astream_events", "remote_run", "stream_events"]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=120.0)
"""Connect/write within 30 s; a stream silent for 120 s is dead (``nbswarm serve`` pings every 15 s)."""

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
    sent = {"Accept": "text/event-stream", "Cache-Control": "no-store", **(headers or {})}
    args: dict[str, Any] = {"method": method.upper(), "url": url, "headers": sent}
    if payload is not None:
        try:
            args["content"] = json.dumps(payload, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"payload must be JSON-serializable: {exc}") from None
        sent.setdefault("Content-Type", "application/json")
    return args


def _head(response: httpx.Response) -> bytes:
    """The start of a refused response's body (never the whole of a huge one)."""
    body = b""
    for piece in response.iter_bytes():
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
    async for piece in response.aiter_bytes():
        body += piece
        if len(body) >= _BODY_LIMIT:
            break
    return body


def _refusal(response: httpx.Response, body: bytes) -> StreamError:
    """The error for a response that is not a stream we can read, with what the server said."""
    text = body[:_BODY_LIMIT].decode("utf-8", "replace")
    where = f"{response.request.method} {response.request.url}"
    if response.status_code >= 400:
        return StreamError(f"{where} failed with HTTP {response.status_code}: {_said(text)}")
    kind = response.headers.get("content-type", "").partition(";")[0].strip()
    hint = " (did the payload ask for streaming: 'stream'/'streaming_on': true?)" if "json" in kind else ""
    return StreamError(f"{where} answered {kind or 'no content type'}, not text/event-stream{hint}: {text}")


def _stream_failure(exc: Exception, url: str, decoder: FrameDecoder) -> StreamError:
    if isinstance(exc, httpx.TimeoutException):
        what = "timed out" if decoder.frames == 0 else f"went silent after {decoder.frames} frames"
        return StreamError(f"the SSE stream from {url} {what} ({type(exc).__name__})")
    if isinstance(exc, SSEError):
        return StreamError(f"the SSE stream from {url} is not an event stream: {exc}")
    broke = f"broke after {decoder.frames} frames"
    return StreamError(f"the SSE stream from {url} {broke}: {type(exc).__name__}: {exc}")


def _is_stream(response: httpx.Response) -> bool:
    return response.status_code < 400 and "text/event-stream" in response.headers.get("content-type", "")


def _pump(http: httpx.Client, args: dict[str, Any], decoder: FrameDecoder) -> Iterator[Event]:
    url = str(args["url"])
    try:
        with http.stream(**args) as response:
            if not _is_stream(response):
                raise _refusal(response, _head(response))
            for sse in EventSource(response).iter_sse():
                yield from decoder.decode(sse.event, sse.data)
                if decoder.done:
                    return
            yield from decoder.finish()
    except httpx.HTTPError as exc:
        if not decoder.complete:  # a connection lost after ``end`` loses nothing
            raise _stream_failure(exc, url, decoder) from exc


async def _apump(
    http: httpx.AsyncClient, args: dict[str, Any], decoder: FrameDecoder
) -> AsyncIterator[Event]:
    url = str(args["url"])
    try:
        async with http.stream(**args) as response:
            if not _is_stream(response):
                raise _refusal(response, await _ahead(response))
            async for sse in EventSource(response).aiter_sse():
                for event in decoder.decode(sse.event, sse.data):
                    yield event
                if decoder.done:
                    return
            for event in decoder.finish():
                yield event
    except httpx.HTTPError as exc:
        if not decoder.complete:  # a connection lost after ``end`` loses nothing
            raise _stream_failure(exc, url, decoder) from exc


def stream_events(
    url: str,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    client: httpx.Client | None = None,
) -> Iterator[Event]:
    """POST ``payload`` to ``url`` and yield its SSE stream as nbswarm events; ``StreamError`` on failure.

    Closing the generator early closes the connection (a server then cancels its agents).
    Pass ``client`` to reuse connections (or to test with ``httpx.MockTransport``).
    """
    args = _request_args(url, payload, headers, method)
    if client is not None:
        yield from _pump(client, args, FrameDecoder())
        return
    with httpx.Client(timeout=timeout) as http:
        yield from _pump(http, args, FrameDecoder())


async def astream_events(
    url: str,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    client: httpx.AsyncClient | None = None,
) -> AsyncIterator[Event]:
    """``stream_events`` for ``async for``; cancelling the consumer closes the connection at once."""
    args = _request_args(url, payload, headers, method)
    if client is not None:
        async for event in _apump(client, args, FrameDecoder()):
            yield event
        return
    async with httpx.AsyncClient(timeout=timeout) as http:
        async for event in _apump(http, args, FrameDecoder()):
            yield event


def remote_run(
    url: str,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
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

    async def body(run: Run) -> None:
        decoder = FrameDecoder()
        try:
            async with httpx.AsyncClient(timeout=timeout, transport=transport) as http:
                async for event in _apump(http, args, decoder):
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
