"""nbswarm serve under hostile input and load (issue 13): every limit, on real loopback servers.

Each test is one way the server was broken before: unbounded work per request, runs that outlive
their clients, unbounded buffers for slow clients, quadratic bytes, retention by count, slowloris,
whole chunked bodies, no run limit, cross-site requests, verbatim provider errors, unencodable text.
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
import requests
from sse_util import LiveServer, wait_until
from test_sse_server import agent_payload, seed_agent_snippet, sse_frames, swarm_payload

from nbswarm.models import Completion
from nbswarm.models.sim import SimProfile
from nbswarm.sse import remote_run
from nbswarm.sse.server import create_app

FAST = SimProfile(length=8, delay_scale=0)
OUTPUT_LIMIT = 16_384
"""The documented bound on a chunk's running ``output`` (README; ``_frames.OUTPUT_LIMIT``)."""
SLOW = SimProfile(ttft=0.0, tokens_per_second=40, length=4000, delay_scale=1.0)  # ~100 s if left running


def raw_request(port: int, head: bytes, body: bytes = b"", rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(10)
    sock.sendall(head + body)
    return sock


def post_head(path: str, length: int | None, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while piece := sock.recv(65536):
            data += piece
    except (TimeoutError, ConnectionResetError):
        pass
    return data


# -- one request's work -------------------------------------------------------------------------


def test_a_repeated_agent_cannot_get_around_the_limits():
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        flow = " -> ".join(["A"] * 100)
        payload = swarm_payload(flow=flow, agents=[{"agent_name": "A", "max_tokens": 1}], stream=False)
        response = requests.post(f"{live.url}/v1/swarm/completions", json=payload)
        assert response.status_code == 422
        body = response.json()
        assert body["limit"] == "max_turns" and body["value"] == 100 and "64" in body["error"]
        loops = swarm_payload(
            flow="A -> A -> A -> A", agents=[{"agent_name": "A", "max_tokens": 8000}], max_loops=10
        )
        body = requests.post(f"{live.url}/v1/swarm/completions", json=loops).json()
        assert body["limit"] == "max_total_tokens" and body["value"] == 4 * 10 * 8000
        own_loops = swarm_payload(  # an agent's own max_loops repeats its turn within its step
            "ConcurrentWorkflow", flow=None, agents=[{"agent_name": n, "max_loops": 10} for n in "ABCDEFG"]
        )
        body = requests.post(f"{live.url}/v1/swarm/completions", json=own_loops).json()
        assert body["limit"] == "max_turns" and body["value"] == 70
        long_flow = swarm_payload(flow=" -> ".join(["A"] * 2000), agents=[{"agent_name": "A"}])
        assert requests.post(f"{live.url}/v1/swarm/completions", json=long_flow).json()["limit"] == (
            "max_flow_chars"
        )
        assert not live.app.state.nbswarm.recent  # nothing ran


# -- runs end with their clients ---------------------------------------------------------------


def test_a_non_streaming_request_is_cancelled_when_its_client_leaves():
    app = create_app(api_key="", sim_profile=SLOW)
    state = app.state.nbswarm
    with LiveServer(app) as live:
        body = json.dumps(swarm_payload("ConcurrentWorkflow", flow=None, stream=False)).encode()
        sock = raw_request(live.port, post_head("/v1/swarm/completions", len(body)), body)
        assert wait_until(lambda: state.active_runs == 1, timeout=10)
        sock.close()
        assert wait_until(lambda: state.active_runs == 0, timeout=5)
        assert state.recent[-1].end.status == "cancelled"


def test_a_client_that_never_reads_is_dropped_and_its_run_cancelled(caplog):
    fast_long = SimProfile(ttft=0.0, tokens_per_second=2000, length=8000, delay_scale=1.0)  # 4 s, 700 KB/s
    app = create_app(api_key="", sim_profile=fast_long, client_buffer=64 * 1024, max_lag=1.0)
    state = app.state.nbswarm
    with LiveServer(app) as live:
        agents = [{"agent_name": "A", "max_tokens": 8000}, {"agent_name": "B", "max_tokens": 8000}]
        body = json.dumps(swarm_payload("ConcurrentWorkflow", flow=None, agents=agents)).encode()
        sock = raw_request(live.port, post_head("/v1/swarm/completions", len(body)), body, rcvbuf=4096)
        try:
            assert wait_until(lambda: state.recent and state.recent[-1].done, timeout=20)
            run = state.recent[-1]
            assert run.end.status == "cancelled"  # not run to its end for nobody
            assert state.dropped_clients == 1
        finally:
            sock.close()
    assert any("fell behind" in record.getMessage() for record in caplog.records)


# -- bytes on the wire ---------------------------------------------------------------------------


def test_chunks_carry_content_only_by_default_and_bounded_output_when_asked():
    long = SimProfile(length=6000, delay_scale=0)
    with LiveServer(create_app(api_key="", sim_profile=long)) as live:
        agents = [{"agent_name": "A", "max_tokens": 6000}]
        plain = sse_frames(
            requests.post(
                f"{live.url}/v1/swarm/completions",
                json=swarm_payload("SequentialWorkflow", flow=None, agents=agents),
                stream=True,
            )
        )
        asked = sse_frames(
            requests.post(
                f"{live.url}/v1/swarm/completions",
                json=swarm_payload("SequentialWorkflow", flow=None, agents=agents, stream_output=True),
                stream=True,
            )
        )
    assert all("output" not in data for name, data in plain if name == "chunk")
    chunks = [data for name, data in asked if name == "chunk"]
    text = "".join(data["content"] for data in chunks)
    assert len(text) > OUTPUT_LIMIT
    with_output = [data for data in chunks if "output" in data]
    assert len(with_output) < len(chunks)  # past the bound, chunks carry content only
    assert with_output and all(len(data["output"]) <= OUTPUT_LIMIT for data in with_output)
    assert text.startswith(with_output[-1]["output"])
    assert [data["output"] for name, data in asked if name == "agent_end"] == [text]  # whole at the end


# -- what is kept --------------------------------------------------------------------------------


def test_finished_runs_are_kept_within_a_memory_budget():
    app = create_app(api_key="", sim_profile=SimProfile(length=100, delay_scale=0), retain_bytes=200_000)
    state = app.state.nbswarm
    with LiveServer(app) as live:
        for _ in range(8):
            payload = swarm_payload("ConcurrentWorkflow", flow=None, stream=False)
            payload["agents"] = [{"agent_name": n, "max_tokens": 100} for n in ("A", "B")]
            assert requests.post(f"{live.url}/v1/swarm/completions", json=payload).ok
    assert state.retained_bytes <= 200_000
    assert 0 < len(state.recent) < 8


# -- the HTTP layer ------------------------------------------------------------------------------


def test_slow_headers_are_cut_and_connections_are_capped():
    with LiveServer(create_app(api_key="", sim_profile=FAST), header_timeout=0.5, max_connections=3) as live:
        slow = socket.create_connection(("127.0.0.1", live.port), timeout=10)
        slow.sendall(b"POST /v1/agent/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
        assert slow.recv(1024) == b""  # closed by the server, not held
        slow.close()
        held = [socket.create_connection(("127.0.0.1", live.port), timeout=10) for _ in range(3)]
        extra = socket.create_connection(("127.0.0.1", live.port), timeout=10)
        answer = read_all(extra)
        assert answer.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in answer.lower()
        for sock in [*held, extra]:
            sock.close()


def test_a_chunked_body_is_refused_while_it_is_read():
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        sock = raw_request(live.port, post_head("/v1/agent/completions", None))
        piece = b"x" * 65536
        try:
            for _ in range(20):  # 1.3 MB, over the 1 MB limit, and the body never ends
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        except OSError:
            pass  # the server may close before we are done sending
        answer = read_all(sock)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["field"] == "body"


def test_a_client_leaving_mid_body_is_one_log_line(caplog):
    caplog.set_level(logging.INFO)
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        sock = raw_request(live.port, post_head("/v1/agent/completions", 5000), b'{"task": ')
        time.sleep(0.2)  # let the server start reading the body
        sock.close()
        assert wait_until(lambda: any("disconnected while" in r.getMessage() for r in caplog.records))
    assert not [r for r in caplog.records if r.exc_info or "Exception in ASGI" in r.getMessage()]


def test_runs_past_the_server_limit_get_429_with_retry_after():
    app = create_app(api_key="", sim_profile=SLOW, max_runs=1)
    with LiveServer(app) as live:
        first = requests.post(f"{live.url}/v1/agent/completions", json=agent_payload(), stream=True)
        assert wait_until(lambda: app.state.nbswarm.active_runs == 1)
        second = requests.post(f"{live.url}/v1/agent/completions", json=agent_payload())
        first.close()
    assert second.status_code == 429 and second.headers["retry-after"] == "1"
    assert second.json()["limit"] == "max_runs"


def test_cross_site_requests_and_foreign_hosts_are_refused():
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        url = f"{live.url}/v1/agent/completions"
        body = json.dumps(agent_payload(streaming_on=False))
        csrf = requests.post(
            url, data=body, headers={"Content-Type": "text/plain", "Origin": "https://evil.test"}
        )
        plain = requests.post(url, data=body, headers={"Content-Type": "text/plain"})
        rebound = requests.post(
            url, data=body, headers={"Content-Type": "application/json", "Host": "evil.test"}
        )
        assert not live.app.state.nbswarm.recent  # none of them ran
        ok = requests.post(url, data=body, headers={"Content-Type": "application/json"})
    assert csrf.status_code == 403 and csrf.json()["field"] == "origin"
    assert plain.status_code == 415
    assert rebound.status_code == 421 and rebound.json()["field"] == "host"
    assert ok.status_code == 200


def test_an_allowed_origin_gets_cors_and_others_do_not():
    app = create_app(api_key="", sim_profile=FAST, cors_origins=["https://app.test"])
    with LiveServer(app) as live:
        url = f"{live.url}/v1/agent/completions"
        preflight = requests.options(
            url,
            headers={
                "Origin": "https://app.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        allowed = requests.post(
            url, json=agent_payload(streaming_on=False), headers={"Origin": "https://app.test"}
        )
        foreign = requests.post(
            url, json=agent_payload(streaming_on=False), headers={"Origin": "https://x.test"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.test"
    assert allowed.ok and allowed.headers["access-control-allow-origin"] == "https://app.test"
    assert foreign.status_code == 403


# -- input hygiene -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"agent_config": {"agent_name": "A\\ud800"}, "task": "t"}', "agent_config.agent_name"),
        ('{"agent_config": {"model_name": "\\udfff"}, "task": "t"}', "agent_config.model_name"),
        ('{"agent_config": {}, "task": "x\\ud800"}', "task"),
        ('{"agent_config": {"agent_name": "A\\u0000"}, "task": "t"}', "agent_config.agent_name"),
        ('{"agent_config": {"agent_name": "A\\nB"}, "task": "t"}', "agent_config.agent_name"),
    ],
)
def test_unencodable_and_control_characters_are_422(raw, field):
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        response = requests.post(
            f"{live.url}/v1/agent/completions", data=raw, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422 and response.json()["field"] == field


def test_names_are_stripped_before_they_are_compared_and_errors_do_not_echo_input():
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        url = f"{live.url}/v1/swarm/completions"
        twins = swarm_payload(
            "ConcurrentWorkflow", flow=None, agents=[{"agent_name": " A"}, {"agent_name": "A"}]
        )
        dup = requests.post(url, json=twins)
        huge = "Z" * 3000
        flow = swarm_payload(flow=f"Researcher -> {huge}")
        unknown = requests.post(url, json=flow)
        stripped = swarm_payload(flow=" Researcher ,Critic->  Writer ", stream=False)
        stripped["agents"][0]["agent_name"] = "  Researcher"
        ok = requests.post(url, json=stripped)
    assert dup.status_code == 422 and dup.json()["field"] == "agents[1].agent_name"
    assert unknown.status_code == 422 and huge not in unknown.json()["error"]
    shown, caret = unknown.json()["error"].splitlines()[1:3]  # a window of the flow, the caret in it
    assert len(shown) < 100 and shown[caret.index("^")] == "Z"
    assert ok.status_code == 200
    assert {o["agent"] for o in ok.json()["outputs"]} == {"Researcher", "Critic", "Writer"}


# -- what the wire says (issue 14 point 4, reasoning) -------------------------------------------


def test_the_agent_wire_has_one_usage_and_the_swarm_usage_has_billing_info():
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:
        agent = sse_frames(
            requests.post(f"{live.url}/v1/agent/completions", json=agent_payload(max_loops=2), stream=True)
        )
        swarm = sse_frames(
            requests.post(f"{live.url}/v1/swarm/completions", json=swarm_payload(), stream=True)
        )
    usages = [data for name, data in agent if name == "usage"]
    assert len(usages) == 1
    total = usages[0]
    assert len(total["turns"]) == 2
    assert total["total_tokens"] == sum(turn["total_tokens"] for turn in total["turns"])
    assert total["cost"] == pytest.approx(sum(turn["cost"] for turn in total["turns"]))
    run_usage = [data for name, data in swarm if name == "usage" and data["agent"] is None]
    assert len(run_usage) == 1 and run_usage[0]["billing_info"]["total_cost"] == run_usage[0]["cost"] > 0


class Thinker:
    """A reasoning model: thinking first, then the answer (the provider contract's typed deltas)."""

    async def stream(self, request):
        from nbswarm.models import Reasoning, Text  # the provider contract's typed deltas

        for piece in ("Let me think.", " Hmm."):
            yield Reasoning(piece)
        for piece in ("The answer", " is 42."):
            yield Text(piece)
        yield Completion(input_tokens=3, output_tokens=4)


def test_reasoning_chunks_are_marked_and_never_part_of_the_text():
    with LiveServer(create_app(api_key="", provider_for=lambda name: Thinker())) as live:
        printed = seed_agent_snippet(live.url, "")  # a text-only client joining every content
        frames = sse_frames(
            requests.post(f"{live.url}/v1/agent/completions", json=agent_payload(), stream=True)
        )
        run = remote_run(f"{live.url}/v1/agent/completions", agent_payload())
        output = run.result()
    assert printed == "The answer is 42."
    thinking = [data for name, data in frames if name == "chunk" and data["kind"] == "reasoning"]
    assert [d["reasoning_content"] for d in thinking] == ["Let me think.", " Hmm."]
    assert all(d["content"] == "" for d in thinking)
    assert frames[-1][1]["output"] == "The answer is 42."
    assert output == "The answer is 42."
    chunks = [e for e in run.events if e.type == "chunk"]
    assert [(c.kind, c.content) for c in chunks[:2]] == [
        ("reasoning", "Let me think."),
        ("reasoning", " Hmm."),
    ]
    assert run.turns[0].output == "The answer is 42."


def test_serving_beyond_loopback_without_a_key_warns():
    from nbswarm.sse.server import exposure_warning

    assert "no API key" in exposure_warning("0.0.0.0", None)
    assert "no API key" in exposure_warning("192.168.1.20", "")
    assert exposure_warning("0.0.0.0", "secret") is None
    assert exposure_warning("127.0.0.1", None) is None and exposure_warning("::1", None) is None


def test_a_body_sent_too_slowly_is_408():
    with LiveServer(create_app(api_key="", sim_profile=FAST, body_timeout=0.5)) as live:
        sock = raw_request(live.port, post_head("/v1/agent/completions", 5000), b'{"task": ')
        answer = read_all(sock)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408")


class Leaky:
    """A provider whose error message holds what must never reach a remote client."""

    async def stream(self, request):
        yield "partial"
        raise RuntimeError("auth failed for key sk-live-1234 at http://10.0.0.7:4000")


def test_non_streaming_errors_are_redacted_too():
    with LiveServer(create_app(api_key="", provider_for=lambda name: Leaky())) as live:
        body = requests.post(
            f"{live.url}/v1/agent/completions", json=agent_payload(streaming_on=False)
        ).json()
    assert body["status"] == "failed" and body["errors"][0]["error_type"] == "RuntimeError"
    assert "sk-live" not in json.dumps(body) and "10.0.0.7" not in json.dumps(body)


def test_the_openai_stream_sends_reasoning_apart_from_content():
    import asyncio

    from nbswarm.models import ModelRequest
    from nbswarm.sse._openai import _chunks

    async def frames():
        request = ModelRequest(model="m", messages=[{"role": "user", "content": "hi"}])
        return [frame async for frame in _chunks(Thinker(), request, "id", 0, False, True)]

    datas = [json.loads(f[6:]) for f in asyncio.run(frames()) if f.startswith(b"data: {")]
    deltas = [d["choices"][0]["delta"] for d in datas if d["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == "The answer is 42."
    assert "".join(d.get("reasoning_content") or "" for d in deltas) == "Let me think. Hmm."


def test_the_limits_are_flags_of_nbswarm_serve():
    from sse_util import ServeProcess

    env = {"NBSWARM_SIM_DELAY_SCALE": "0", "NBSWARM_API_KEY": ""}
    with ServeProcess("--max-turns", "2", "--max-runs", "3", "--max-lag", "5", env=env) as served:
        body = requests.post(f"{served.url}/v1/swarm/completions", json=swarm_payload(stream=False)).json()
        health = requests.get(f"{served.url}/health").json()
    assert body["limit"] == "max_turns" and body["value"] == 3
    assert health["max_runs"] == 3


def test_an_agent_config_without_temperature_sends_none_so_reasoning_models_accept_it() -> None:
    from nbswarm.models import resolve
    from nbswarm.sse._payload import Limits, agent_request

    body = {"agent_config": {"agent_name": "A", "model_name": "gpt-5-mini"}, "task": "hi"}
    request = agent_request(body, Limits(), lambda name: resolve(name)[0])
    assert request.agent.temperature is None
    body["agent_config"]["temperature"] = 0.2
    assert agent_request(body, Limits(), lambda name: resolve(name)[0]).agent.temperature == 0.2
