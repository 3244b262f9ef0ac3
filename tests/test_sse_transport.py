"""The stream client cannot hang or blow up (issue 13): crafted loopback servers, each a way it did.

Keep-alives with no events, a byte every so often, a connection held open after ``end``, a huge
line, a gzip bomb, garbage after ``end``, a redirect: each ends in a complete run or one
``StreamError`` whose ``reason`` says which bound or failure it was.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import tracemalloc

import httpx
import pytest
from httpx_sse import EventSource
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sse_util import DripServer, RawServer, sse_response

from nbswarm.errors import StreamError
from nbswarm.sse import astream_events, remote_run, stream_events
from nbswarm.sse._reader import FrameReader

META = b'event: metadata\ndata: {"job_id": "j", "name": "A"}\n\n'
CHUNK = b'event: chunk\ndata: {"content": "hi"}\n\n'
END = b'event: end\ndata: {"output": "hi", "execution_time": 0.1}\n\n'
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
GZIP_HEAD = HEAD.replace(b"connection:", b"content-encoding: gzip\r\nconnection:")


def collect(url: str, **options) -> list:
    return list(stream_events(url + "/v1/swarm/completions", {"stream": True}, **options))


def within(seconds: float, fn):
    """``fn()`` run in a thread: its result or exception; a test failure if still going after ``seconds``."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.parametrize("drip", [b": keep-alive\n\n", b"x"], ids=["keep-alive comments", "a byte at a time"])
def test_no_events_for_idle_timeout_is_a_stream_error(drip):
    with DripServer(HEAD + META + CHUNK, drip, interval=0.05) as server, pytest.raises(StreamError) as caught:
        within(10, lambda: collect(server.url, idle_timeout=0.5))
    assert caught.value.reason == "idle_timeout" and "0.5 s" in str(caught.value)


def test_the_overall_timeout_bounds_a_stream_that_keeps_sending():
    with DripServer(HEAD + META, CHUNK, interval=0.05) as server, pytest.raises(StreamError) as caught:
        within(10, lambda: collect(server.url, total_timeout=0.5))
    assert caught.value.reason == "timeout"


def test_async_and_remote_run_take_the_idle_timeout_too():
    with DripServer(HEAD + META, b": ping\n\n", interval=0.05) as server:
        url = server.url + "/v1/swarm/completions"

        async def consume():
            return [event async for event in astream_events(url, {}, idle_timeout=0.5)]

        with pytest.raises(StreamError) as caught:
            within(10, lambda: asyncio.run(consume()))
        assert caught.value.reason == "idle_timeout"
        run = remote_run(url, {}, idle_timeout=0.5)
        with pytest.raises(StreamError):
            within(10, run.result)
    assert run.status == "failed"


def test_the_stream_ends_at_end_even_if_the_connection_stays_open():
    with RawServer(HEAD + META + CHUNK + END, hold=30) as server:
        events = within(10, lambda: collect(server.url))
    assert [e.type for e in events][-1] == "end" and events[-1].output == "hi"


def test_garbage_after_end_is_ignored():
    body = META + CHUNK + END + b"data: {not json\n\n" + b"\x00\xff" * 10
    with RawServer(sse_response(body)) as server:
        events = collect(server.url)
    assert events[-1].type == "end" and events[-1].status == "completed"


def test_a_huge_line_is_refused_at_the_bound():
    line = b"data: " + b"x" * (3 << 20)  # no newline: a line that never ends
    with RawServer(sse_response(META + line)) as server, pytest.raises(StreamError) as caught:
        collect(server.url, max_event_bytes=1 << 20)
    assert caught.value.reason == "too_large" and "1048576" in str(caught.value)


def test_a_gzip_bomb_is_inflated_within_the_bound():
    bomb = gzip.compress(META + b"data: " + b"a" * (64 << 20), compresslevel=9)  # ~64 MB from ~65 KB
    head = GZIP_HEAD
    assert len(bomb) < 200_000
    with RawServer(head + bomb) as server:
        tracemalloc.start()
        try:
            with pytest.raises(StreamError) as caught:
                collect(server.url, max_event_bytes=4 << 20)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert caught.value.reason == "too_large"
    assert peak < 32 << 20  # the bound and a few pieces, never the 64 MB


def test_a_gzip_stream_within_bounds_reads_normally():
    body = gzip.compress(META + CHUNK + END)
    head = GZIP_HEAD
    with RawServer(head + body) as server:
        events = collect(server.url)
    assert events[-1].type == "end" and events[-1].output == "hi"


def test_a_redirect_names_its_status_and_location():
    response = (
        b"HTTP/1.1 307 Temporary Redirect\r\nlocation: https://elsewhere.test/v2/swarm\r\n"
        b"content-length: 0\r\n\r\n"
    )
    with RawServer(response) as server, pytest.raises(StreamError) as caught:
        collect(server.url)
    message = str(caught.value)
    assert (
        caught.value.reason == "redirect"
        and "307" in message
        and "https://elsewhere.test/v2/swarm" in message
    )


def test_an_unsupported_encoding_is_one_stream_error():
    head = GZIP_HEAD.replace(b"gzip", b"br")
    with RawServer(head + b"\x00\x01") as server, pytest.raises(StreamError) as caught:
        collect(server.url)
    assert caught.value.reason == "encoding"


_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@st.composite
def sse_bodies(draw):
    """SSE bytes in any legal spelling: comments, ids, several data lines, any line ending."""
    frames, lines = [], []
    for _ in range(draw(st.integers(0, 6))):
        event = draw(st.none() | _TEXT.filter(lambda t: t.strip() and not t.startswith(" ")))
        datas = draw(st.lists(_TEXT, min_size=1, max_size=3))
        if draw(st.booleans()):
            lines.append(": " + draw(_TEXT))
        if event is not None:
            lines.append(f"event:{draw(st.sampled_from(['', ' ']))}{event}")
        if draw(st.booleans()):
            lines.append("id: 7")
        lines += [f"data:{draw(st.sampled_from(['', ' ']))}{d}" for d in datas]
        lines.append("")
        frames.append((event, "\n".join(d for d in datas)))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return (ending.join(lines) + (ending if lines else "")).encode(), frames


@settings(max_examples=300, deadline=None)
@given(sse_bodies(), st.lists(st.integers(0, 400), max_size=6))
@example((b"event: :\ndata:\n\n", [(":", "")]), [])  # found by hypothesis: the name is ":", not " :"
def test_the_bounded_reader_frames_like_httpx_sse(body_frames, cuts):
    """The same frames as httpx-sse (the library it stands in for), however the bytes are split."""
    body, _ = body_frames
    points = sorted({min(c, len(body)) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    reader = FrameReader(1 << 20)
    ours = [frame for piece in pieces for frame in reader.feed(piece)] + reader.flush()
    sse_type = {"content-type": "text/event-stream"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, headers=sse_type, content=body))
    with httpx.Client(transport=transport) as client, client.stream("GET", "http://x/") as response:
        theirs = [(sse.event, sse.data) for sse in EventSource(response).iter_sse()]
    assert [(name or "message", data) for name, data in ours] == theirs
