"""Real models on the providers' own wire formats, served by a loopback server, through litellm's real
provider prefixes (``openai/``, ``anthropic/``, ``gemini/``, ``ollama/``) and nbswarm's fast path."""

from __future__ import annotations

import logging

import pytest
import wire_formats as wire
from wire_util import Reply, Seen, WireServer

import nbswarm
from nbswarm.models import prices

pytest.importorskip("litellm")

JSON = "application/json"
NDJSON = "application/x-ndjson"


def provider_reply(seen: Seen) -> Reply:
    """Route a request the way the providers' hosts do, to that provider's recorded stream."""
    path = seen.path
    body = seen.body if isinstance(seen.body, dict) else {}
    if path.endswith("/chat/completions"):
        model = body.get("model", "")
        if model.startswith("o3") and "temperature" in body:
            return Reply(400, JSON, [wire.OPENAI_UNSUPPORTED_TEMPERATURE])
        if model.startswith("gpt-5") and body.get("temperature", 1) != 1:
            return Reply(400, JSON, [wire.OPENAI_UNSUPPORTED_TEMPERATURE_VALUE])
        if model.startswith("o3"):
            return Reply(body=wire.openai_stream("o3-mini-2025-01-31", ["Four", "."], reasoning_tokens=192))
        if model.startswith("deepseek"):
            thoughts = ["Two plus two", " is four."]
            return Reply(body=wire.openai_stream("deepseek-reasoner", ["4"], reasoning=thoughts))
        if model == "priced-by-server":
            return Reply(body=wire.openai_stream(model, ["ok"], cost="0.0123"))
        return Reply(body=wire.openai_stream())
    if path.endswith("/v1/messages"):
        return Reply(body=wire.ANTHROPIC_THINKING)
    if ":streamGenerateContent" in path:
        return Reply(body=wire.GEMINI_THINKING)
    if path.endswith("/api/generate"):
        return Reply(content_type=NDJSON, body=wire.OLLAMA_GENERATE)
    if path.endswith("/api/chat"):
        return Reply(content_type=NDJSON, body=wire.OLLAMA_CHAT_THINKING)
    if path.endswith("/api/show"):
        return Reply(200, JSON, [b'{"model_info":{},"template":"","details":{"family":"llama"}}'])
    return Reply(404, JSON, [b'{"error":"not found"}'])


@pytest.fixture(scope="module")
def server():
    with WireServer(provider_reply) as live:
        yield live


@pytest.fixture(params=["fast", "litellm"])
def path(request, monkeypatch):
    """Every OpenAI-compatible test runs on both paths: the fast one and litellm (forced)."""
    if request.param == "litellm":
        monkeypatch.setenv("NBSWARM_FORCE_LITELLM", "1")
    else:
        monkeypatch.delenv("NBSWARM_FORCE_LITELLM", raising=False)
    return request.param


def agent(model: str, base_url: str, **kw) -> nbswarm.Agent:
    return nbswarm.Agent(
        agent_name="A", model_name=model, llm_base_url=base_url, llm_api_key="sk-test", print_on=False, **kw
    )


def chunks(run, kind: str) -> list[str]:
    return [e.content for e in run.events if e.type == "chunk" and e.kind == kind]


def turn_usage(run):
    return next(e for e in run.events if e.type == "usage" and e.agent is not None)


def last_chat_request(server: WireServer) -> Seen:
    return [s for s in server.requests if s.path.endswith("/chat/completions")][-1]


def test_openai_stream_text_usage_and_price(server, path):
    from nbswarm.models.litellm import LiteLLMProvider
    from nbswarm.models.openai_compat import OpenAICompatProvider

    a = agent("openai/gpt-4o-mini", f"{server.url}/v1", max_tokens=100)
    provider = a._provider()[0]
    assert isinstance(provider, OpenAICompatProvider if path == "fast" else LiteLLMProvider)
    run = a.stream("Why do robots paint?")
    assert run.result() == "".join(wire.OPENAI_WORDS)
    assert chunks(run, "text") == wire.OPENAI_WORDS and chunks(run, "reasoning") == []
    usage = turn_usage(run)
    assert (usage.input_tokens, usage.output_tokens, usage.estimated) == (
        19,
        7,
        False,
    )  # the final usage chunk
    assert usage.cost == pytest.approx(prices.cost_usd("gpt-4o-mini", 19, 7))
    sent = last_chat_request(server).body
    assert sent["model"] == "gpt-4o-mini" and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert "temperature" not in sent and "top_p" not in sent  # nothing the user did not set


def test_every_option_reaches_the_request_unchanged(server, path):
    options = dict(
        temperature=0.2,
        top_p=0.9,
        stop=["\n\n", "END"],
        seed=7,
        response_format={"type": "json_object"},
        model_kwargs={"extra_body": {"top_k": 40}, "user": "nb-1", "presence_penalty": 0.5},
    )
    run = agent("openai/gpt-4o-mini", f"{server.url}/v1", max_tokens=64, **options).stream("x")
    run.result()
    sent = last_chat_request(server).body
    assert sent["temperature"] == 0.2 and sent["top_p"] == 0.9 and sent["stop"] == ["\n\n", "END"]
    assert sent["seed"] == 7 and sent["max_tokens"] == 64  # reasoning_effort: the o3-mini test
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["top_k"] == 40 and sent["user"] == "nb-1" and sent["presence_penalty"] == 0.5


def test_reasoning_content_becomes_reasoning_chunks_not_output(server, path):
    run = agent("openai/deepseek-reasoner", f"{server.url}/v1").stream("2+2?")
    assert run.result() == "4"
    assert chunks(run, "reasoning") == ["Two plus two", " is four."]
    assert [e.index for e in run.events if e.type == "chunk"] == [0, 1, 2]
    assert next(e for e in run.events if e.type == "agent_end").output == "4"


def test_o_series_rejecting_temperature_is_sent_without_it_after_one_warning(
    server, path, caplog, monkeypatch
):
    from nbswarm.models import _options, openai_compat

    monkeypatch.setattr(_options, "_warned", set())
    monkeypatch.setattr(openai_compat, "_adjusted", {})
    server.requests.clear()
    a = agent("openai/o3-mini", f"{server.url}/v1", temperature=0.5, reasoning_effort="high")
    with caplog.at_level(logging.WARNING, logger="nbswarm"):
        text = a.run("What is 2+2?")
    assert text == "Four."
    warnings = [r.getMessage() for r in caplog.records if "temperature" in r.getMessage()]
    assert len(warnings) == 1 and "o3-mini" in warnings[0] and "without it" in warnings[0]
    sent = last_chat_request(server).body
    assert "temperature" not in sent and sent["reasoning_effort"] == "high"
    run = a.stream("again")
    run.result()
    assert turn_usage(run).output_tokens == 2 + 192  # the o-series reasoning tokens are billed as output
    rejected = [
        s for s in server.requests if s.body and s.body.get("model") == "o3-mini" and "temperature" in s.body
    ]
    assert len(rejected) <= 1  # learnt once (fast path) or known beforehand (litellm): not per turn


def test_gpt5_rejecting_a_temperature_value_is_dropped_too(server, path, caplog):
    with caplog.at_level(logging.WARNING, logger="nbswarm"):
        text = agent("openai/gpt-5-mini", f"{server.url}/v1", temperature=0.5).run("x")
    assert text == "".join(wire.OPENAI_WORDS)
    assert "temperature" not in last_chat_request(server).body


def test_a_cost_the_server_reports_wins_over_the_price_map(server, path):
    run = agent("openai/priced-by-server", f"{server.url}/v1").stream("x")
    run.result()
    assert prices.price_per_token("openai/priced-by-server") is None
    assert turn_usage(run).cost == pytest.approx(0.0123) and run.usage.cost == pytest.approx(0.0123)


def test_anthropic_messages_sse_with_thinking(server):
    run = agent("anthropic/claude-sonnet-4-5", server.url, max_tokens=2000).stream("27 * 453?")
    assert run.result() == "27 * 453 = 12,231"
    assert chunks(run, "reasoning") == [
        "Let me solve this step by step:\n\n1. First break down 27 * 453",
        "\n2. 453 = 400 + 50 + 3",
    ]
    usage = turn_usage(run)
    assert (usage.input_tokens, usage.output_tokens) == (25, 15)
    assert (
        usage.cost == pytest.approx(prices.cost_usd("anthropic/claude-sonnet-4-5", 25, 15)) and usage.cost > 0
    )
    sent = [s for s in server.requests if s.path.endswith("/v1/messages")][-1]
    assert sent.headers["x-api-key"] == "sk-test" and sent.body["stream"] is True
    assert "temperature" not in sent.body


def test_gemini_stream_with_thought_parts(server):
    run = agent("gemini/gemini-2.5-flash", server.url).stream("How many r's in strawberry?")
    assert run.result() == "There are three r's in strawberry."
    assert chunks(run, "reasoning") == ["**Counting the letters**\n\nStrawberry has three r's."]
    usage = turn_usage(run)
    assert usage.input_tokens == 9 and usage.output_tokens == 38  # 8 answer + 30 thinking tokens
    assert usage.cost > 0
    sent = [s for s in server.requests if ":streamGenerateContent" in s.path][-1]
    assert sent.path.endswith("/models/gemini-2.5-flash:streamGenerateContent") and "alt=sse" in sent.query


def test_ollama_ndjson_generate_and_chat_thinking(server):
    run = agent("ollama/llama3.2", server.url).stream("Why is the sky blue?")
    assert run.result() == "The sky is blue."
    usage = turn_usage(run)
    assert (usage.input_tokens, usage.output_tokens, usage.cost) == (26, 3, 0.0)  # a local model is free
    run = agent("ollama_chat/qwen3", server.url).stream("A colour?")
    assert run.result() == "Blue."
    assert chunks(run, "reasoning") == ["The user wants a colour.", " Blue is the answer."]


def test_recorder_and_metrics_see_reasoning(server):
    rec = nbswarm.Recorder()
    agent("anthropic/claude-sonnet-4-5", server.url).stream("27 * 453?", recorder=rec).result()
    df = rec.df
    kinds = df[df["event"] == "chunk"]["kind"].tolist()
    assert kinds == ["reasoning", "reasoning", "text", "text"]
    from nbswarm.analysis import agent_metrics

    row = agent_metrics(df).iloc[0]
    assert row["ttfr"] <= row["ttft"]


def test_anthropic_refusals_through_litellm_have_clear_errors_and_overload_is_retried():
    answers = {
        "auth": [Reply(401, JSON, [wire.ANTHROPIC_AUTH_ERROR])],
        "busy": [Reply(529, JSON, [wire.ANTHROPIC_OVERLOADED]), Reply(body=wire.ANTHROPIC_THINKING)],
    }
    with WireServer(lambda seen: answers[seen.headers["x-api-key"]].pop(0)) as server:
        with pytest.raises(nbswarm.AgentError) as info:
            nbswarm.Agent(
                model_name="anthropic/claude-sonnet-4-5",
                llm_base_url=server.url,
                llm_api_key="auth",
                print_on=False,
            ).run("x")
        (error,) = info.value.run.errors
        assert error.error_type == "AuthenticationFailed" and "invalid x-api-key" in error.message
        assert "ANTHROPIC_API_KEY" in error.message and "\n" not in error.message
        text = nbswarm.Agent(
            model_name="anthropic/claude-sonnet-4-5",
            llm_base_url=server.url,
            llm_api_key="busy",
            print_on=False,
        ).run("x")
        assert text == "27 * 453 = 12,231" and answers["busy"] == []  # 529 before the first token: retried
