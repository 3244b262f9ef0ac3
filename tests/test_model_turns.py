"""One real-model turn around the stream: options, timeouts, retries, true cost, clear errors.

Providers are real loopback servers speaking OpenAI's wire format (``wire_util``), reached by the
fast path and by litellm, or the sim; nothing of nbswarm's own is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import pytest
import wire_formats as wire
from sse_util import wait_until
from wire_util import DROP, STALL, Reply, Seen, WireServer

import nbswarm
from nbswarm import Agent, ConcurrentWorkflow
from nbswarm.errors import AgentError, InvalidArgument
from nbswarm.models import prices
from nbswarm.models.sim import SimProfile, SimProvider, estimate_input_tokens

JSON = "application/json"


@pytest.fixture(params=["fast", "litellm"])
def path(request, monkeypatch):
    if request.param == "litellm":
        pytest.importorskip("litellm")
        monkeypatch.setenv("NBSWARM_FORCE_LITELLM", "1")
    else:
        monkeypatch.delenv("NBSWARM_FORCE_LITELLM", raising=False)
    return request.param


def real(name: str, server: WireServer, **kw) -> Agent:
    kw.setdefault("llm_api_key", "sk-test")
    kw.setdefault("print_on", False)
    return Agent(agent_name=name, model_name="openai/gpt-4o-mini", llm_base_url=f"{server.url}/v1", **kw)


def usage_of(run, agent: str):
    return next(e for e in run.events if e.type == "usage" and e.agent == agent)


# -- options -------------------------------------------------------------------


def test_temperature_defaults_to_none_and_options_are_validated():
    agent = Agent(print_on=False)
    assert agent.temperature is None and agent.top_p is None and agent.stop is None
    assert agent.idle_timeout == 60.0 and agent.timeout is None and agent.num_retries == 2
    assert Agent(stop="END").stop == ("END",) and Agent(temperature=None).temperature is None
    bad = [
        dict(temperature=3),
        dict(top_p=1.5),
        dict(stop=["a", ""]),
        dict(stop=["a"] * 5),
        dict(timeout=0),
        dict(idle_timeout=-1),
        dict(num_retries=-1),
        dict(num_retries=True),
        dict(response_format="json"),
        dict(model_kwargs={"temperature": 1}),
        dict(model_kwargs=[("a", 1)]),
        dict(reasoning_effort=3),
    ]
    for kwargs in bad:
        name = next(iter(kwargs))
        with pytest.raises(InvalidArgument, match=name):
            Agent(**kwargs)


def test_the_sim_accepts_every_option():
    text = Agent(
        model_name="sim/o3-mini",
        temperature=0.3,
        top_p=0.5,
        stop=["zzz"],
        seed=3,
        reasoning_effort="low",
        response_format={"type": "text"},
        timeout=30,
        model_kwargs={"user": "u"},
        print_on=False,
    ).run("Explain tides")
    assert text


# -- timeouts --------------------------------------------------------------------


def test_a_stalled_stream_becomes_an_error_with_its_partial_text_and_the_others_go_on(path):
    def reply(seen: Seen) -> Reply:
        frames = wire.openai_stream()
        return Reply(body=[*frames[:4], STALL, *frames[4:]])  # role + 3 words, then silence

    with WireServer(reply, stall_limit=20) as server:
        stalled = real("Stalled", server, idle_timeout=0.5, num_retries=0)
        sim = Agent(
            agent_name="Sim", print_on=False, provider=SimProvider(SimProfile(length=20, delay_scale=0))
        )
        run = ConcurrentWorkflow([stalled, sim]).stream("Why do robots paint?")
        run.result()
        server.release()
    errors = [e for e in run.events if e.type == "error"]
    assert [(e.agent, e.error_type) for e in errors] == [("Stalled", "ModelTimeout")]
    assert "idle_timeout=0.5" in errors[0].message and "partial text kept" in errors[0].message
    ends = {e.agent: e for e in run.events if e.type == "agent_end"}
    assert ends["Stalled"].output == "Robots paint because" and ends["Stalled"].finish_reason == "error"
    assert ends["Sim"].finish_reason == "stop" and ends["Sim"].output
    assert run.end.status == "failed"
    usage = usage_of(run, "Stalled")  # billed: the prompt and the 3 tokens that came, estimated
    assert usage.estimated and usage.output_tokens == 3 and usage.input_tokens > 0 and usage.cost > 0


def test_a_turn_timeout_ends_a_stream_that_keeps_trickling():
    class Trickle:
        async def stream(self, request):
            for i in range(1000):
                await asyncio.sleep(0.05)
                yield f"w{i} "

    agent = Agent(agent_name="T", provider=Trickle(), timeout=0.4, idle_timeout=5, print_on=False)
    run = agent.stream("x")
    with pytest.raises(AgentError, match=r"timeout=0\.4"):
        agent._checked(run, run.result())
    end = next(e for e in run.events if e.type == "agent_end")
    assert end.output.startswith("w0 w1 ") and end.finish_reason == "error"


def test_a_real_cancel_is_still_a_cancel_and_is_billed():
    gate = threading.Event()

    class Slow:
        async def stream(self, request):
            for i in range(500):
                if i == 5:
                    gate.set()
                await asyncio.sleep(0.01)
                yield "tok "

    agent = Agent(agent_name="C", model_name="gpt-4o", provider=Slow(), print_on=False)
    run = agent.stream("Summarise the robot market")
    threading.Thread(target=lambda: (gate.wait(10), run.cancel())).start()
    with contextlib.suppress(BaseException):  # a cancelled run may raise CancelledError
        run.result()
    end = next(e for e in run.events if e.type == "agent_end")
    assert end.finish_reason == "cancelled"
    usage = usage_of(run, "C")
    streamed = len(end.output.split())
    assert usage.estimated and usage.output_tokens == streamed >= 5
    messages = [{"role": "user", "content": "Summarise the robot market"}]
    assert usage.input_tokens == estimate_input_tokens(messages)
    assert (
        usage.cost == pytest.approx(prices.cost_usd("gpt-4o", usage.input_tokens, streamed))
        and usage.cost > 0
    )
    assert run.usage.estimated and run.usage.cost == pytest.approx(usage.cost)


# -- retries ---------------------------------------------------------------------


def test_connection_failures_before_the_first_token_are_retried(path):
    answers = [Reply(503, JSON, [b'{"error":{"message":"overloaded","type":"server_error"}}'])]

    def reply(seen: Seen) -> Reply:
        return answers.pop() if answers else Reply(body=wire.openai_stream())

    with WireServer(reply) as server:
        run = real("R", server, num_retries=2).stream("x")
        assert run.result() == "".join(wire.OPENAI_WORDS)
        assert len(server.requests) == 2 and not run.errors


def test_a_stream_that_breaks_after_the_first_token_is_not_retried(path):
    def reply(seen: Seen) -> Reply:
        frames = wire.openai_stream()
        return Reply(body=[*frames[:3], DROP])

    with WireServer(reply) as server:
        run = real("R", server, num_retries=3).stream("x")
        run.result()
        assert len(server.requests) == 1  # a retried stream would splice two different answers
    end = next(e for e in run.events if e.type == "agent_end")
    assert end.output == "Robots paint" and end.finish_reason == "error"
    usage = usage_of(run, "R")
    assert usage.estimated and usage.output_tokens == 2 and usage.cost > 0


# -- clear errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error_type", "words"),
    [
        (401, wire.OPENAI_INVALID_KEY, "AuthenticationFailed", ["rejected the API key", "OPENAI_API_KEY"]),
        (429, wire.OPENAI_RATE_LIMIT, "RateLimited", ["rate limit"]),
        (404, wire.OPENAI_NOT_FOUND, "ModelNotFound", ["no such model"]),
        (400, wire.OPENAI_CONTEXT, "ContextWindowExceeded", ["context window"]),
    ],
)
def test_each_provider_refusal_has_its_own_one_line_message(path, status, body, error_type, words, capsys):
    with WireServer(lambda seen: Reply(status, JSON, [body])) as server:
        agent = real("E", server, print_on=True)
        with pytest.raises(AgentError) as info:
            agent.run("x")
        assert len(server.requests) == 1  # a refusal is not retried
    run = info.value.run
    (error,) = run.errors
    assert error.error_type == error_type and "\n" not in error.message
    assert all(word in error.message for word in words), error.message
    assert usage_of(run, "E").cost == 0.0  # a refused request is not billed
    printed = capsys.readouterr()
    assert (printed.out + printed.err).count(error.message) <= 1


def test_a_missing_key_names_the_variable_and_the_offline_sim(path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    agent = Agent(agent_name="K", model_name="openai/gpt-4o-mini", print_on=False)
    with pytest.raises(AgentError) as info:
        agent.run("x")
    (error,) = info.value.run.errors
    assert error.error_type == "MissingCredentials" and "\n" not in error.message
    for part in ("OPENAI_API_KEY", "sim/gpt-4o-mini", "NBSWARM_SIMULATE=1"):
        assert part in error.message


def test_a_missing_anthropic_key_names_its_variable(monkeypatch):
    pytest.importorskip("litellm")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    agent = Agent(agent_name="K", model_name="anthropic/claude-sonnet-4-5", print_on=False)
    with pytest.raises(AgentError, match="ANTHROPIC_API_KEY") as info:
        agent.run("x")
    assert "sim/claude-sonnet-4-5" in str(info.value)


def test_the_error_is_one_line_said_once_by_the_exception(monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent(agent_name="K", model_name="openai/gpt-4o-mini")
    with pytest.raises(AgentError) as info:
        agent.run("x")
    printed = capsys.readouterr()
    message = info.value.run.errors[0].message
    assert message in str(info.value) and "\n" not in message
    assert (printed.out + printed.err).count(message) == 0  # no second copy: printer, litellm or a logger
    assert "Traceback" not in printed.err and "litellm" not in (printed.out + printed.err).lower()


# -- the engine loop stays free --------------------------------------------------------


def test_debug_mode_warns_when_the_loop_is_blocked(monkeypatch, caplog):
    import time

    class Blocking:
        async def stream(self, request):
            time.sleep(0.3)  # a provider doing blocking work on the loop
            yield "done"

    monkeypatch.setenv("NBSWARM_DEBUG", "1")

    async def main():
        return await Agent(agent_name="B", provider=Blocking(), print_on=False).arun("x")

    def blocked() -> list[str]:
        return [r.getMessage() for r in caplog.records if "blocked for" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="nbswarm"):
        assert asyncio.run(main()) == "done"
        assert wait_until(lambda: bool(blocked()), timeout=5)  # the watchdog thread logs it
    assert "NBSWARM_DEBUG" in blocked()[0]


def test_simulate_covers_real_names_with_options():
    with nbswarm.simulate():
        assert Agent(model_name="openai/o3-mini", temperature=0.5, print_on=False).run("x")


def test_litellm_exceptions_map_to_one_clear_error_each():
    litellm = pytest.importorskip("litellm")
    from nbswarm.models.errors import explain

    model = "openai/gpt-4o-mini"
    cases = [
        (litellm.AuthenticationError("bad key", llm_provider="openai", model=model), "AuthenticationFailed"),
        (litellm.RateLimitError("slow down", llm_provider="openai", model=model), "RateLimited"),
        (litellm.NotFoundError("no model", llm_provider="openai", model=model), "ModelNotFound"),
        (
            litellm.ContextWindowExceededError("too long", model=model, llm_provider="openai"),
            "ContextWindowExceeded",
        ),
        (
            litellm.InternalServerError(
                "OpenAIException - Missing credentials. Please pass an `api_key`",
                llm_provider="openai",
                model=model,
            ),
            "MissingCredentials",
        ),
        (litellm.APIConnectionError("refused", llm_provider="openai", model=model), "ModelUnavailable"),
        (litellm.Timeout("slow", model=model, llm_provider="openai"), "ModelTimeout"),
        (ValueError("ours"), "ValueError"),
    ]
    for exc, name in cases:
        explained = explain(exc, model)
        assert type(explained).__name__ == name, (exc, explained)
        assert "\n" not in str(explained)
        assert "litellm." not in str(explained)  # no repeated class-name prefixes
