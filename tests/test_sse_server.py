"""nbswarm.sse.server on real loopback servers: the seeds' own clients, auth, validation, cancellation."""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import redirect_stdout

import httpx
import pytest
import requests
from sse_util import LiveServer, ServeProcess, wait_until
from starlette.applications import Starlette

from nbswarm.errors import InvalidArgument
from nbswarm.models import Completion, ModelRequest
from nbswarm.models.sim import SimProfile, SimProvider
from nbswarm.sse import remote_run
from nbswarm.sse.server import create_app, serve, serve_in_thread

KEY = "test-key"
FAST = SimProfile(length=24, delay_scale=0)


@pytest.fixture(scope="module")
def server():
    """One fast server for the tests that only read what it answers."""
    with LiveServer(create_app(api_key=KEY, sim_profile=FAST, max_agents=4, max_tokens=4096)) as live:
        yield live


@pytest.fixture(scope="module")
def strict():
    """A server that only ever gets invalid payloads: nothing may run on it."""
    with LiveServer(create_app(api_key=KEY, sim_profile=FAST, max_agents=4, max_tokens=500)) as live:
        yield live


def agent_payload(**config):
    return {
        "agent_config": {
            "agent_name": "Creative Writer",
            "description": "A creative writing specialist",
            "system_prompt": "You are a creative writer who specializes in storytelling.",
            "model_name": "gpt-4o-mini",
            "max_tokens": 200,
            "temperature": 0.8,
            "streaming_on": True,
            **config,
        },
        "task": "Write a short story about a robot learning to paint",
    }


def swarm_payload(swarm_type="AgentRearrange", flow="Researcher, Critic -> Writer", **extra):
    agents = [
        {"agent_name": "Researcher", "system_prompt": "You are a market researcher.", "max_tokens": 40},
        {"agent_name": "Critic", "system_prompt": "You are a skeptical analyst.", "max_tokens": 40},
        {"agent_name": "Writer", "system_prompt": "You are a concise report writer.", "max_tokens": 40},
    ]
    payload = {
        "name": "EV Analysis",
        "description": "research, critique, write",
        "swarm_type": swarm_type,
        "agents": agents,
        "task": "Assess the electric vehicle market in Norway",
        "stream": True,
    }
    if flow is not None:
        payload["rearrange_flow"] = flow
    return {**payload, **extra}


def sse_frames(response) -> list[tuple[str, dict]]:
    """A seed-style parser: requests + iter_lines, one (event, data) per frame."""
    frames, name = [], None
    for line in response.iter_lines():
        line = line.decode("utf-8") if isinstance(line, bytes) else line
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            frames.append((name, json.loads(line[len("data: ") :])))
            name = None
    return frames


def flips(agents: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(agents) if a != b)


# -- the seed's own client ---------------------------------------------------------------


def seed_agent_snippet(base_url: str, api_key: str) -> str:
    """api-agent-sse.md's Quick Start, verbatim but for BASE_URL and the key (returns what it printed)."""
    API_KEY = api_key  # noqa: N806 (the seed's names)
    BASE_URL = base_url  # noqa: N806
    headers = {
        "x-api-key": API_KEY,
        "Content-Type": "application/json",
        "Connection": "keep-alive",
        "X-Accel-Buffering": "no",
    }
    payload = {
        "agent_config": {
            "agent_name": "Creative Writer",
            "description": "A creative writing specialist",
            "system_prompt": "You are a creative writer who specializes in storytelling.",
            "model_name": "gpt-4o-mini",
            "max_tokens": 2048,
            "temperature": 0.8,
            "streaming_on": True,
        },
        "task": "Write a short story about a robot learning to paint",
    }
    printed = io.StringIO()
    with redirect_stdout(printed):
        response = requests.post(
            f"{BASE_URL}/v1/agent/completions", headers=headers, json=payload, stream=True
        )
        # Process the streaming response
        for line in response.iter_lines():
            if line:
                line = line.decode("utf-8")
                if line.startswith("data: "):
                    try:
                        data = json.loads(line[6:])
                        if "content" in data:
                            print(data["content"], end="", flush=True)
                    except json.JSONDecodeError:
                        continue
    return printed.getvalue()


def test_seed_agent_snippet_prints_the_agents_whole_answer(server):
    printed = seed_agent_snippet(server.url, KEY)
    whole = requests.post(
        f"{server.url}/v1/agent/completions",
        headers={"x-api-key": KEY},
        json={**agent_payload(max_tokens=2048, streaming_on=False)},
    ).json()
    assert whole["status"] == "completed"
    assert printed == whole["outputs"]  # the sim is deterministic: same prompt, same answer
    assert len(printed.split()) > 5


def test_agent_stream_keeps_the_seed_taxonomy(server):
    response = requests.post(
        f"{server.url}/v1/agent/completions", headers={"x-api-key": KEY}, json=agent_payload(), stream=True
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-accel-buffering"] == "no"
    frames = sse_frames(response)
    names = [name for name, _ in frames]
    assert names[0] == "metadata" and names[-1] == "done"
    assert set(names) == {"metadata", "chunk", "usage", "done"}
    meta, done = frames[0][1], frames[-1][1]
    assert meta["name"] == "Creative Writer" and meta["job_id"]
    assert done["status"] == "finished" and done["run_status"] == "completed"
    text = "".join(data["content"] for name, data in frames if name == "chunk")
    assert done["output"] == text
    total = [data for name, data in frames if name == "usage" and data["agent"] is None]
    assert len(total) == 1 and total[0]["tokens_used"] == total[0]["total_tokens"] > 0
    assert total[0]["cost"] > 0
    assert all("output" not in data for name, data in frames if name == "chunk")


def test_swarm_stream_has_the_swarm_seed_events_with_running_output(server):
    response = requests.post(
        f"{server.url}/v1/swarm/completions",
        headers={"x-api-key": KEY},
        json=swarm_payload(stream_output=True),
        stream=True,
    )
    frames = sse_frames(response)
    names = [name for name, _ in frames]
    assert names[:2] == ["metadata", "start"] and names[-1] == "end"
    assert {"agent_start", "chunk", "agent_end", "usage"} <= set(names)
    meta = frames[0][1]
    assert meta["swarm_name"] == "EV Analysis" and meta["swarm_type"] == "AgentRearrange"
    assert meta["number_of_agents"] == 3 and meta["flow"] == "Researcher, Critic -> Writer"
    running: dict[str, str] = {}
    for name, data in frames:
        if name == "chunk":
            running[data["agent"]] = running.get(data["agent"], "") + data["content"]
            assert data["output"] == running[data["agent"]]
        elif name == "agent_end":
            assert data["output"] == running[data["agent"]]
    assert set(running) == {"Researcher", "Critic", "Writer"}
    assert frames[-1][1]["status"] == "completed" and frames[-1][1]["output"] == running["Writer"]


def test_stream_output_false_drops_the_running_output(server):
    payload = swarm_payload(stream_output=False)
    response = requests.post(
        f"{server.url}/v1/swarm/completions", headers={"x-api-key": KEY}, json=payload, stream=True
    )
    chunks = [data for name, data in sse_frames(response) if name == "chunk"]
    assert chunks and all("output" not in data and data["content"] for data in chunks)


def test_realistic_rearrange_interleaves_parallel_agents_on_the_wire():
    timing = SimProfile(ttft=0.1, tokens_per_second=80, length=40, delay_scale=1.0)
    with LiveServer(create_app(api_key="", sim_profile=timing)) as live:
        response = requests.post(f"{live.url}/v1/swarm/completions", json=swarm_payload(), stream=True)
        frames = sse_frames(response)
    order = [data["agent"] for name, data in frames if name == "chunk"]
    parallel = [agent for agent in order if agent != "Writer"]
    assert flips(parallel) >= 3  # Researcher and Critic really stream at the same time
    assert order[len(parallel) :] == ["Writer"] * (len(order) - len(parallel))  # then the Writer alone


def test_non_streaming_swarm_answers_json(server):
    body = requests.post(
        f"{server.url}/v1/swarm/completions",
        headers={"x-api-key": KEY},
        json=swarm_payload("SequentialWorkflow", flow=None, stream=False),
    ).json()
    assert body["status"] == "completed" and body["swarm_type"] == "SequentialWorkflow"
    assert [o["agent"] for o in body["outputs"]] == ["Researcher", "Critic", "Writer"]
    assert body["output"] == body["outputs"][-1]["output"]
    assert body["usage"]["total_tokens"] > 0


def test_health_and_available(server):
    health = requests.get(f"{server.url}/health")  # no key needed
    assert (
        health.status_code == 200 and health.json()["status"] == "ok" and health.json()["simulated"] is True
    )
    available = requests.get(f"{server.url}/v1/swarms/available", headers={"x-api-key": KEY}).json()
    assert set(available["swarm_types"]) == {"SequentialWorkflow", "ConcurrentWorkflow", "AgentRearrange"}
    assert all(d["streaming"] == "per_token" for d in available["details"])


# -- auth and validation -------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"Authorization": "Bearer wrong"}])
def test_missing_or_wrong_key_is_401_json(server, headers):
    for path in ("/v1/agent/completions", "/v1/swarm/completions", "/v1/chat/completions"):
        response = requests.post(f"{server.url}{path}", headers=headers, json=agent_payload())
        assert response.status_code == 401, path
        assert response.json()["field"] == "x-api-key"
    assert requests.get(f"{server.url}/v1/swarms/available", headers=headers).status_code == 401


def test_bearer_key_is_accepted(server):
    response = requests.get(f"{server.url}/v1/swarms/available", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200


def _agents(**changes):
    agents = swarm_payload()["agents"]
    index = changes.pop("index", 1)
    agents[index] = {**agents[index], **changes}
    return agents


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        (swarm_payload(agents=_agents(max_loops=0)), "agents[1].max_loops", "from 1 to"),
        (swarm_payload(agents=_agents(max_tokens=501)), "agents[1].max_tokens", "500"),
        (swarm_payload(agents=_agents(max_tokens="many")), "agents[1].max_tokens", "must be int"),
        (swarm_payload(agents=_agents(temperature=9)), "agents[1].temperature", "0 to 2"),
        (swarm_payload(agents=_agents(agent_name="Researcher")), "agents[1].agent_name", "agents[0]"),
        (swarm_payload(agents=_agents(index=0, agent_name="A -> B")), "agents[0].agent_name", "flow syntax"),
        (swarm_payload(agents=swarm_payload()["agents"] * 2), "agents", "up to 4"),
        (swarm_payload(agents=[]), "agents", "at least one"),
        (swarm_payload(agents=[1]), "agents[0]", "JSON object"),
        (swarm_payload(swarm_type="MixtureOfAgents"), "swarm_type", "AgentRearrange"),
        (swarm_payload(flow="Researcher, Critc -> Writer"), "rearrange_flow", "did you mean 'Critic'"),
        (swarm_payload(flow="Researcher -> -> Writer"), "rearrange_flow", "column"),
        (swarm_payload(flow=None), "rearrange_flow", "required"),
        ({**swarm_payload(), "task": "  "}, "task", "empty"),
        ({k: v for k, v in swarm_payload().items() if k != "task"}, "task", "required"),
        ({**swarm_payload(), "stream": "yes"}, "stream", "bool"),
        ([1, 2], "body", "JSON object"),
    ],
)
def test_bad_swarm_payloads_are_422_naming_the_field(strict, payload, field, words):
    response = requests.post(f"{strict.url}/v1/swarm/completions", headers={"x-api-key": KEY}, json=payload)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert words in body["error"]
    assert not strict.app.state.nbswarm.recent  # nothing ran


def test_bad_agent_payloads_and_bodies_are_422(server):
    json_type = {"x-api-key": KEY, "Content-Type": "application/json"}
    post = lambda body: requests.post(f"{server.url}/v1/agent/completions", headers=json_type, data=body)  # noqa: E731
    bad_json = post("{not json")
    assert bad_json.status_code == 422 and bad_json.json()["field"] == "body"
    missing = post(json.dumps({"task": "x"}))
    assert missing.status_code == 422 and missing.json()["field"] == "agent_config"
    loops = post(json.dumps(agent_payload(max_loops=11)))
    assert loops.status_code == 422 and loops.json()["field"] == "agent_config.max_loops"


# -- cancellation and failures -------------------------------------------------------------


def test_client_disconnect_cancels_the_run_at_once():
    slow = SimProfile(ttft=0.0, tokens_per_second=50, length=3000, delay_scale=1.0)  # ~60 s if left running
    app = create_app(api_key="", sim_profile=slow)
    state = app.state.nbswarm
    with LiveServer(app) as live:
        payload = swarm_payload(
            "ConcurrentWorkflow", flow=None, agents=[{"agent_name": "A"}, {"agent_name": "B"}]
        )
        with httpx.stream("POST", f"{live.url}/v1/swarm/completions", json=payload, timeout=30) as response:
            lines = response.iter_lines()
            chunks = 0
            for line in lines:
                chunks += line.startswith("event: chunk")
                if chunks >= 5:
                    break
            assert state.active_runs == 1
        # the connection is closed: the server must stop the agents, not let them run on
        assert wait_until(lambda: state.active_runs == 0, timeout=10)
        run = state.recent[-1]
        assert run.done and run.end.status == "cancelled"
        assert {turn.agent: turn.finish_reason for turn in run.turns} == {"A": "cancelled", "B": "cancelled"}
        produced = len(run.events)
        time.sleep(0.2)
        assert len(run.events) == produced  # nothing keeps producing
        assert requests.get(f"{live.url}/health").json()["active_runs"] == 0


class _Failing:
    """A provider that streams a few pieces and then fails, like a model whose connection drops."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[str | Completion]:
        for piece in ("partial", " text"):
            yield piece
        raise ConnectionError("upstream model went away")


def _provider_for(model_name: str):
    return _Failing() if model_name == "flaky" else SimProvider(FAST)


def test_agent_error_mid_stream_is_an_error_event_and_the_stream_ends_cleanly(caplog):
    with LiveServer(create_app(api_key="", provider_for=_provider_for)) as live:
        payload = swarm_payload(
            "ConcurrentWorkflow",
            flow=None,
            agents=[{"agent_name": "Good"}, {"agent_name": "Flaky", "model_name": "flaky"}],
        )
        frames = sse_frames(requests.post(f"{live.url}/v1/swarm/completions", json=payload, stream=True))
        single = sse_frames(
            requests.post(
                f"{live.url}/v1/agent/completions", json=agent_payload(model_name="flaky"), stream=True
            )
        )
    errors = [data for name, data in frames if name == "error"]
    assert len(errors) == 1 and errors[0]["agent"] == "Flaky" and errors[0]["error_type"] == "ConnectionError"
    # redacted: the remote client gets the type and a reference; the server log has the text
    assert "went away" not in errors[0]["message"] and "ref " in errors[0]["message"]
    ref = errors[0]["message"].rpartition("ref ")[2].rstrip(")")
    assert any("went away" in r.getMessage() and ref in r.getMessage() for r in caplog.records)
    ends = {data["agent"]: data for name, data in frames if name == "agent_end"}
    assert ends["Flaky"]["finish_reason"] == "error" and ends["Flaky"]["output"] == "partial text"
    assert ends["Good"]["finish_reason"] == "stop" and ends["Good"]["output"]
    assert frames[-1][0] == "end" and frames[-1][1]["status"] == "failed"
    names = [name for name, _ in single]
    assert names[-2:] == ["usage", "done"] and "error" in names
    assert single[-1][1]["run_status"] == "failed"


def test_keep_alive_comments_are_sent_while_agents_think():
    thinking = SimProfile(ttft=0.5, length=3, delay_scale=1.0)
    with LiveServer(create_app(api_key="", sim_profile=thinking, ping=0.1)) as live:
        raw = requests.post(f"{live.url}/v1/agent/completions", json=agent_payload(), stream=True).content
    assert raw.startswith(b": ping") or b"\n: ping" in raw
    assert b"event: done" in raw


def test_non_ascii_text_is_escaped_so_any_line_splitter_reads_it():
    class Odd:
        async def stream(self, request):
            yield "line\u2028separator\u0085and é"
            yield Completion()

    with LiveServer(create_app(api_key="", provider_for=lambda name: Odd())) as live:
        response = requests.post(f"{live.url}/v1/agent/completions", json=agent_payload(), stream=True)
        raw = response.content
    assert raw.isascii()
    assert seed_like_text(raw) == "line\u2028separator\u0085and é"


def seed_like_text(raw: bytes) -> str:
    out = []
    for line in raw.splitlines():  # the strictest splitter: also splits on U+2028 if it were raw
        line = line.decode()
        if line.startswith("data: "):
            data = json.loads(line[6:])
            if "content" in data:
                out.append(data["content"])
    return "".join(out)


# -- the OpenAI-compatible endpoint --------------------------------------------------------


def test_chat_completions_stream_in_openai_chunk_format(server):
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Say something about robots"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = requests.post(
        f"{server.url}/v1/chat/completions", headers={"x-api-key": KEY}, json=body, stream=True
    )
    datas = [line[6:] for line in response.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o-mini" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    whole = requests.post(
        f"{server.url}/v1/chat/completions", headers={"x-api-key": KEY}, json={**body, "stream": False}
    ).json()
    assert whole["object"] == "chat.completion" and whole["choices"][0]["message"]["content"] == text
    assert whole["usage"] == chunks[-1]["usage"]


def test_chat_completions_validate_and_the_openai_sdk_streams(server):
    bad = requests.post(
        f"{server.url}/v1/chat/completions", headers={"x-api-key": KEY}, json={"model": "m", "messages": [{}]}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "messages[0].role"
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert pieces and usage is not None and usage.completion_tokens == len(pieces)


# -- the command -----------------------------------------------------------------------------


def test_nbswarm_serve_command_serves_the_seed_client():
    env = {"NBSWARM_SIM_DELAY_SCALE": "0", "NBSWARM_API_KEY": ""}
    with ServeProcess("--api-key", "cli-key", "--max-tokens", "3000", env=env) as served:
        printed = seed_agent_snippet(served.url, "cli-key")
        refused = requests.post(f"{served.url}/v1/agent/completions", json=agent_payload())
        too_big = requests.post(
            f"{served.url}/v1/agent/completions",
            headers={"x-api-key": "cli-key"},
            json=agent_payload(max_tokens=3001),
        )
    assert len(printed.split()) > 20
    assert refused.status_code == 401
    assert too_big.status_code == 422 and too_big.json()["field"] == "agent_config.max_tokens"
    assert "models simulated" in served.output and "x-api-key required" in served.output


def test_api_key_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NBSWARM_API_KEY", "from-env")
    with LiveServer(create_app(sim_profile=FAST)) as live:
        assert requests.get(f"{live.url}/v1/swarms/available").status_code == 401
        assert requests.get(f"{live.url}/v1/swarms/available", headers={"x-api-key": "from-env"}).ok
    with LiveServer(create_app(api_key="", sim_profile=FAST)) as live:  # an explicit "" turns auth off
        assert requests.get(f"{live.url}/v1/swarms/available").ok


def test_bad_server_settings_fail_clearly(capsys):
    with pytest.raises(InvalidArgument, match="max_agents"):
        create_app(max_agents=0)
    with pytest.raises(InvalidArgument, match="ping"):
        create_app(ping=0)
    assert serve(port=70000) == 2
    assert "port must be" in capsys.readouterr().err


def test_module_level_app_for_any_asgi_server():
    from nbswarm.sse import server as module

    assert isinstance(module.app, Starlette) and module.app is module.app


def test_serve_in_thread_for_a_notebook_and_real_model_routing(monkeypatch):
    with serve_in_thread(api_key="", sim_profile=FAST) as served:
        assert served.port > 0 and requests.get(f"{served.url}/health").json()["simulated"] is True
        run = remote_run(f"{served.url}/v1/swarm/completions", swarm_payload("SequentialWorkflow", flow=None))
        assert run.result() and run.status == "completed"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{served.url}/health", timeout=2)  # stopped: the port is closed
    monkeypatch.setenv("NBSWARM_SERVE_REAL_MODELS", "1")
    with serve_in_thread(api_key="") as served:  # real models: "sim/" names still stream offline
        assert requests.get(f"{served.url}/health").json()["simulated"] is False
        payload = {"agent_config": {"model_name": "sim/gpt-4o-mini", "max_tokens": 5}, "task": "hi"}
        body = requests.post(f"{served.url}/v1/agent/completions", json=payload).json()
        assert body["status"] == "completed" and body["outputs"]
