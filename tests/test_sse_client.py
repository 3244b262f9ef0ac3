"""nbswarm.sse.client: real httpx + httpx-sse + the real decoder, over fakes, raw sockets and live servers."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sse_util import REPO, LiveServer, RawServer, free_port, sse_response, wait_until

from nbswarm.errors import InvalidArgument, StreamError
from nbswarm.events import AgentEnd, Chunk, Done, End, Error, Metadata, Usage
from nbswarm.models.sim import SimProfile
from nbswarm.recorder import Recorder
from nbswarm.sse import astream_events, remote_run, stream_events
from nbswarm.sse.server import create_app

URL = "http://swarms.test/v1/swarm/completions"

# api-agent-sse.md's example stream, byte for byte (the hosted API's terse single-agent wire)
SEED_AGENT_STREAM = b"""event: metadata
data: {"job_id": "abc123", "name": "Creative Writer"}

event: chunk
data: {"content": "Once upon a time"}

event: chunk
data: {"content": ", in a workshop filled with"}

event: usage
data: {"tokens_used": 150, "cost": 0.003}

event: done
data: {"status": "finished"}

"""


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given pieces (to split lines and \\r\\n anywhere)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self):
        yield from self.pieces

    async def __aiter__(self):
        for piece in self.pieces:
            yield piece


def fake(body: bytes | list[bytes], status: int = 200, content_type: str = "text/event-stream"):
    pieces = [body] if isinstance(body, bytes) else body

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"content-type": content_type}, stream=Pieces(pieces))

    return httpx.MockTransport(handler)


def decode(body: bytes | list[bytes], **kw) -> list:
    with httpx.Client(transport=fake(body, **kw)) as client:
        return list(stream_events(URL, {"stream": True}, client=client))


def types(events) -> list[str]:
    return [event.type for event in events]


# -- what real producers send ----------------------------------------------------------------


def test_the_seed_agent_stream_becomes_a_complete_run():
    events = decode(SEED_AGENT_STREAM)
    assert types(events) == [
        "metadata", "start", "agent_start", "chunk", "chunk", "agent_end", "usage", "end", "done",
    ]  # fmt: skip
    meta, chunk = events[0], events[3]
    assert isinstance(meta, Metadata) and meta.run_id == "abc123" and meta.agents == ("Creative Writer",)
    assert isinstance(chunk, Chunk) and chunk.agent == "Creative Writer" and chunk.index == 0
    assert events[4].index == 1
    text = "Once upon a time, in a workshop filled with"
    assert isinstance(events[5], AgentEnd) and events[5].output == text and events[5].finish_reason == "stop"
    usage = events[6]
    assert (
        isinstance(usage, Usage) and usage.agent is None and usage.total_tokens == 150 and usage.cost == 0.003
    )
    assert isinstance(events[7], End) and events[7].output == text and events[7].status == "completed"
    assert isinstance(events[8], Done)
    assert [e.seq for e in events] == list(range(9)) and {e.run_id for e in events} == {"abc123"}
    assert all(later.t >= earlier.t for earlier, later in itertools.pairwise(events))


def test_crlf_comments_multiline_data_and_frames_typed_only_in_json():
    body = (
        b": keep-alive\r\n\r\n"
        b'data: {"type": "metadata", "swarm_name": "S", "swarm_type": "SequentialWorkflow",\r\n'
        b'data:  "agents": ["A"]}\r\n\r\n'
        b": ping - 2024-01-01\r\n"
        b'data: {"type": "agent_start", "agent_name": "A"}\r\n\r\n'
        b'event: chunk\r\ndata: {"agent_name": "A", "token": "Hi"}\r\n\r\n'
        b"id: 7\r\nretry: 100\r\nevent: heartbeat\r\ndata: {}\r\n\r\n"
        b"\r\n\r\n"
        b'event: agent_end\r\ndata: {"agent_name": "A", "final_output": "Hi"}\r\n\r\n'
        b'event: usage\r\ndata: {"input_tokens": 3, "output_tokens": 1, "total_cost": 0.5}\r\n\r\n'
        b'event: end\r\ndata: {"final_output": "Hi", "execution_time_seconds": 1.5}\r\n\r\n'
    )
    for pieces in ([body], [body[i : i + 1] for i in range(len(body))]):  # whole, and byte by byte
        events = decode(pieces)
        assert types(events) == ["metadata", "start", "agent_start", "chunk", "agent_end", "usage", "end"]
        assert events[0].name == "S" and events[0].swarm_type == "SequentialWorkflow"
        assert events[3].agent == "A" and events[3].content == "Hi"
        assert events[4].output == "Hi"
        assert events[5].total_tokens == 4 and events[5].cost == 0.5
        assert events[6].execution_time == 1.5 and events[6].output == "Hi"


def test_the_swarm_seed_field_names():
    frames = [
        (
            "metadata",
            {"job_id": "j", "swarm_name": "EV", "swarm_type": "AgentRearrange", "number_of_agents": 2},
        ),
        ("start", {"status": "running"}),
        ("agent_start", {"agent": "A"}),
        ("agent_start", {"agent": "B"}),
        ("chunk", {"agent": "A", "content": "x", "output": "x"}),
        ("chunk", {"agent": "B", "content": "y", "output": "y"}),
        ("chunk", {"agent": "A", "content": "z", "output": "xz"}),
        ("agent_end", {"agent": "A", "content": "xz"}),
        ("agent_end", {"agent": "B", "content": "y"}),
        (
            "usage",
            {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8, "billing_info": {"total_cost": 0.25}},
        ),
        ("end", {"execution_time": 0.5, "output": "xz"}),
    ]
    body = b"".join(b"event: %s\ndata: %s\n\n" % (n.encode(), json.dumps(d).encode()) for n, d in frames)
    events = decode(body)
    assert types(events) == [name for name, _ in frames]  # complete already: nothing added
    assert [(e.agent, e.index) for e in events if e.type == "chunk"] == [("A", 0), ("B", 0), ("A", 1)]
    assert [e.output for e in events if e.type == "agent_end"] == ["xz", "y"]
    assert events[9].cost == 0.25 and events[9].total_tokens == 8


def test_an_agent_error_and_the_openai_done_sentinel():
    body = (
        b'event: metadata\ndata: {"job_id": "j", "name": "W"}\n\n'
        b'event: chunk\ndata: {"content": "par"}\n\n'
        b'event: error\ndata: {"agent": "W", "error": "rate limited", "type": "RateLimitError"}\n\n'
        b"data: [DONE]\n\n"
        b"this is never read\n\n"
    )
    events = decode(body)
    assert types(events) == ["metadata", "start", "agent_start", "chunk", "error", "agent_end", "end", "done"]
    error, end_turn, end = events[4], events[5], events[6]
    assert (
        isinstance(error, Error) and error.error_type == "RateLimitError" and error.message == "rate limited"
    )
    assert end_turn.finish_reason == "error" and end_turn.output == "par"
    assert end.status == "failed"


# -- what is not a stream -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (SEED_AGENT_STREAM.split(b"event: done")[0], "truncated"),
        (b"", "truncated"),
        (b": only keep-alives\n\n: more\n\n", "truncated"),
        (b"event: chunk\ndata: Once upon a time\n\n", "not JSON"),
        (b"event: chunk\ndata: [1, 2]\n\n", "not a JSON object"),
        (b'event: chunk\ndata: {"content": 5}\n\n', "'content' should be str"),
        (b'event: usage\ndata: {"input_tokens": "many"}\n\n', "malformed"),
        (b'event: metadata\ndata: {"agents": [1]}\n\n', "malformed"),
        (b"data: " + b"[" * 100_000 + b"\n\n", "not JSON"),
    ],
)
def test_broken_streams_raise_stream_error(body, words):
    with pytest.raises(StreamError, match=words):
        decode(body)


def test_http_errors_carry_status_and_body():
    with pytest.raises(StreamError) as info:
        decode(b'{"error": "missing or invalid API key"}', status=401, content_type="application/json")
    assert "HTTP 401" in str(info.value) and "missing or invalid API key" in str(info.value)
    with pytest.raises(StreamError, match=r"not text/event-stream.*streaming"):
        decode(b'{"outputs": "whole answer"}', content_type="application/json")


def test_bad_arguments_fail_before_any_request():
    with pytest.raises(InvalidArgument, match="url"):
        list(stream_events("ftp://x", {}))
    with pytest.raises(InvalidArgument, match="JSON-serializable"):
        list(stream_events(URL, {"task": object()}))
    with pytest.raises(InvalidArgument, match="payload"):
        remote_run(URL, ["not", "a", "dict"])  # type: ignore[arg-type]


# -- malformed input, property-based --------------------------------------------------------------

FRAGMENTS = [
    b"event: chunk\n", b"event: metadata\n", b"event: end\n", b"event: done\n", b"event: usage\n",
    b"event: agent_end\n", b"event: error\n", b"event: \n", b"data: \n", b"data: [DONE]\n",
    b'data: {"content": "x"}\n', b'data: {"agent": "A", "content": "\\u2028"}\n', b"data: {\n", b"data: }\n",
    b'data: {"type": "usage", "cost": "x"}\n', b'data: {"type": "end"}\n', b"data: null\n", b"data: 1e999\n",
    b'data: {"agents": "AB", "number_of_agents": true}\n', b'data: {"agent": ["A"]}\n', b": ping\n",
    b"id: 1\n", b"id: \x00\n", b"retry: x\n", b"\n", b"\r\n", b"\r", b"\xff\xfe", b"\xe2\x80", b"data:\xc3\n",
    b"data", b":",
]  # fmt: skip

KEYS = [
    "type", "agent", "agent_name", "content", "token", "output", "final_output", "index", "job_id",
    "name", "swarm_type", "agents", "number_of_agents", "input_tokens", "output_tokens", "total_tokens",
    "tokens_used", "cost", "total_cost", "billing_info", "execution_time", "status", "run_status", "error",
    "message", "t", "seq", "run_id", "step", "loop", "finish_reason",
]  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["chunk", "metadata", "end", "done", "usage", "A", "B"]),
    st.lists(
        st.one_of(st.text(max_size=3), st.integers(), st.dictionaries(st.just("agent_name"), st.integers())),
        max_size=3,
    ),
    st.dictionaries(
        st.sampled_from(["total_cost", "cost"]), st.one_of(st.integers(), st.text(max_size=3)), max_size=2
    ),
)
NAMES = [
    b"metadata",
    b"start",
    b"agent_start",
    b"chunk",
    b"agent_end",
    b"usage",
    b"end",
    b"error",
    b"done",
    b"message",
    b"ping",
    b"",
]
frames = st.tuples(
    st.sampled_from([b"", *(b"event: " + n + b"\n" for n in NAMES)]),
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6).map(
        lambda d: b"data: " + json.dumps(d).encode() + b"\n"
    ),
    st.sampled_from([b"\n", b"\r\n", b"", b": ping\n\n"]),
).map(b"".join)

streams = st.one_of(
    st.binary(max_size=600),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=8)), max_size=60).map(b"".join),
    st.lists(frames, max_size=12).map(b"".join),
)


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    return [body[a:b] for a, b in itertools.pairwise([0, *points, len(body)]) if b > a]


def check_complete(events) -> None:
    """A stream that did not raise must be a whole run: ends with end/done, seq 0..n-1."""
    assert events and events[-1].type in ("end", "done")
    assert [e.seq for e in events] == list(range(len(events)))
    assert types(events)[0] == "metadata" and sum(t == "end" for t in types(events)) == 1


@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(body=streams, cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=8))
def test_any_bytes_give_a_whole_run_or_stream_error(body, cuts):
    try:
        events = decode(split(body, cuts))
    except StreamError:
        return
    check_complete(events)


def _valid_stream() -> bytes:
    frames = [
        ("metadata", {"job_id": "j", "name": "S", "swarm_type": "ConcurrentWorkflow", "agents": ["A", "B"]}),
        ("start", {}),
        *[("chunk", {"agent": "AB"[i % 2], "content": f" w{i}\r\n"}) for i in range(6)],
        ("usage", {"input_tokens": 1, "output_tokens": 6}),
        ("end", {"execution_time": 1.0, "output": "done"}),
    ]
    return b"".join(
        b"event: %s\r\ndata: %s\r\n\r\n" % (n.encode(), json.dumps(d).encode()) for n, d in frames
    )


VALID = _valid_stream()


@settings(max_examples=150, deadline=2000)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(VALID)), max_size=12),
    keep=st.integers(0, len(VALID)),
)
def test_a_valid_stream_split_anywhere_decodes_the_same_and_any_cut_before_its_end_is_an_error(cuts, keep):
    expected = [(e.type, getattr(e, "agent", None), getattr(e, "content", None)) for e in decode(VALID)]
    got = [
        (e.type, getattr(e, "agent", None), getattr(e, "content", None)) for e in decode(split(VALID, cuts))
    ]
    assert got == expected
    end_frame = VALID.rindex(b"event: end")
    if keep <= end_frame + len(b"event: end\r\ndata: ") + 5:
        with pytest.raises(StreamError):
            decode(split(VALID[:keep], cuts))


@pytest.mark.timeout(120)
@settings(max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(body=streams, chunked=st.booleans())
def test_any_bytes_from_a_real_socket_give_a_whole_run_or_stream_error(body, chunked):
    with RawServer(sse_response(body, chunked=chunked)) as raw:
        try:
            events = list(stream_events(f"{raw.url}/v1/swarm/completions", {}, timeout=5))
        except StreamError:
            return
    check_complete(events)  # a cut chunked body is fine if the run's end came before the cut


def test_a_silent_server_and_a_closed_port_are_stream_errors():
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    with RawServer(head, hold=3) as raw, pytest.raises(StreamError, match=r"timed out|silent"):
        list(stream_events(raw.url, {}, timeout=httpx.Timeout(5.0, read=0.3)))
    with pytest.raises(StreamError, match="ConnectError"):
        list(stream_events(f"http://127.0.0.1:{free_port()}/v1/swarm/completions", {}))


# -- against nbswarm serve ----------------------------------------------------------------------------


def swarm_payload(**extra):
    agents = [
        {"agent_name": "Researcher", "system_prompt": "You are a market researcher.", "max_tokens": 40},
        {"agent_name": "Critic", "system_prompt": "You are a skeptical analyst.", "max_tokens": 40},
        {"agent_name": "Writer", "system_prompt": "You are a concise report writer.", "max_tokens": 40},
    ]
    return {
        "name": "EV Analysis",
        "swarm_type": "AgentRearrange",
        "rearrange_flow": "Researcher, Critic -> Writer",
        "agents": agents,
        "task": "Assess the electric vehicle market in Norway",
        "stream": True,
        **extra,
    }


@pytest.fixture(scope="module")
def realistic():
    """A server whose sim streams at realistic speed (short answers: a rearrange takes about a second)."""
    timing = SimProfile(ttft=0.1, tokens_per_second=80, length=40, delay_scale=1.0)
    with LiveServer(create_app(api_key="k", sim_profile=timing)) as live:
        yield live


def test_remote_rearrange_is_recorded_like_a_local_run_with_its_interleaving(realistic):
    rec = Recorder()
    run = remote_run(
        f"{realistic.url}/v1/swarm/completions", swarm_payload(), {"x-api-key": "k"}, recorder=rec
    )
    output = run.result()
    df = rec.df
    chunks = df[df["event"] == "chunk"]
    order = [agent for agent in chunks["agent"] if agent != "Writer"]
    assert sum(a != b for a, b in itertools.pairwise(order)) >= 3  # flips: parallel agents interleave
    assert list(chunks["agent"])[len(order) :] == ["Writer"] * (len(chunks) - len(order))
    assert run.status == "completed" and output == run.outputs["Writer"] and output
    assert run.metadata.swarm_type == "AgentRearrange" and run.metadata.flow == "Researcher, Critic -> Writer"
    assert set(df["event"]) == {"metadata", "start", "agent_start", "chunk", "agent_end", "usage", "end"}
    for agent in ("Researcher", "Critic", "Writer"):
        text = "".join(chunks[chunks["agent"] == agent]["content"])
        assert text == run.outputs[agent]
    assert run.usage.cost > 0 and df["seq"].is_monotonic_increasing


def test_sync_and_async_clients_agree(realistic):
    url, headers = f"{realistic.url}/v1/swarm/completions", {"x-api-key": "k"}
    payload = swarm_payload(swarm_type="SequentialWorkflow", stream_output=False)
    sync = list(stream_events(url, payload, headers))

    async def collect():
        return [event async for event in astream_events(url, payload, headers)]

    async_events = asyncio.run(collect())
    shape = lambda events: [(e.type, getattr(e, "agent", None), getattr(e, "content", None)) for e in events]  # noqa: E731
    assert shape(sync) == shape(async_events)
    assert sync[0].run_id != async_events[0].run_id  # two runs on the server
    assert types(sync)[-1] == "end"


def test_closing_the_client_cancels_the_remote_run():
    slow = SimProfile(ttft=0.0, tokens_per_second=50, length=3000, delay_scale=1.0)
    app = create_app(api_key="", sim_profile=slow)
    with LiveServer(app) as live:
        events = stream_events(
            f"{live.url}/v1/swarm/completions", swarm_payload(swarm_type="ConcurrentWorkflow")
        )
        for event in events:
            if event.type == "chunk":
                break
        assert app.state.nbswarm.active_runs == 1
        events.close()  # the sync generator closed early: the connection closes, the server stops
        assert wait_until(lambda: app.state.nbswarm.active_runs == 0, timeout=10)
        assert app.state.nbswarm.recent[-1].end.status == "cancelled"

        run = remote_run(f"{live.url}/v1/swarm/completions", swarm_payload(swarm_type="ConcurrentWorkflow"))
        seen = 0
        for event in run:
            seen += event.type == "chunk"
            if seen == 10:
                run.cancel()
        assert run.status == "cancelled" and {t.finish_reason for t in run.turns} == {"cancelled"}
        assert types(run.events)[-1] == "end" and len(run.turns) == 3
        assert wait_until(lambda: app.state.nbswarm.active_runs == 0, timeout=10)
        assert requests.get(f"{live.url}/health").json()["active_runs"] == 0


def test_a_stream_cut_mid_run_fails_the_remote_run_visibly():
    body = SEED_AGENT_STREAM.split(b"event: usage")[0]
    with RawServer(sse_response(body, chunked=True)) as raw:
        run = remote_run(f"{raw.url}/v1/agent/completions", {"agent_config": {}, "task": "t"})
        with pytest.raises(StreamError, match="broke"):
            run.result()
    assert types(run.events)[-3:] == ["error", "agent_end", "end"]
    assert run.errors[0].error_type == "StreamError"
    assert run.turns[-1].output == "Once upon a time, in a workshop filled with"
    assert run.turns[-1].finish_reason == "error" and run.end.status == "failed"


def test_a_connection_lost_after_the_end_loses_nothing():
    with RawServer(sse_response(VALID, chunked=True)) as raw:
        events = list(stream_events(raw.url, {}))
        assert types(events)[-1] == "end" and events[-1].output == "done"
    cut = VALID[: VALID.rindex(b"event: end")]
    with (
        RawServer(sse_response(cut, chunked=True)) as raw,
        pytest.raises(StreamError, match="RemoteProtocolError"),
    ):
        list(stream_events(raw.url, {}))


def test_the_client_does_not_import_the_server_stack():
    heavy = "('starlette', 'uvicorn', 'sse_starlette', 'litellm')"
    code = f"import sys, nbswarm.sse; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
