"""Agent: the seed's streaming behaviours, validation, failures, loops, printing, async."""

from __future__ import annotations

import asyncio

import pytest

import nbswarm
from nbswarm import Agent, AgentError, InvalidArgument


def test_streaming_callback_tokens_join_to_the_returned_text(scripted) -> None:
    tokens: list[str] = []
    agent = Agent(agent_name="A", provider=scripted(), streaming_on=True)
    text = agent.run("Explain quantum computing", streaming_callback=tokens.append)
    assert tokens == ["Hello", ",", " world", "."]
    assert "".join(tokens) == text == "Hello, world."


def test_run_callback_overrides_constructor_callback(scripted) -> None:
    from_init: list[str] = []
    from_run: list[str] = []
    agent = Agent(agent_name="A", provider=scripted(), streaming_on=True, streaming_callback=from_init.append)
    agent.run("x", streaming_callback=from_run.append)
    assert from_init == [] and "".join(from_run) == "Hello, world."
    agent.run("x")
    assert "".join(from_init) == "Hello, world."


def test_detailed_mode_sends_content_dicts_then_usage_and_finish_reason(scripted) -> None:
    infos: list[dict] = []
    Agent(agent_name="A", provider=scripted(), stream=True).run("x", streaming_callback=infos.append)
    contents = [i["content"] for i in infos if "content" in i]
    assert contents == ["Hello", ",", " world", "."]
    assert all("finish_reason" not in i for i in infos[:-1])
    final = infos[-1]
    assert final["finish_reason"] == "stop"
    assert final["usage"]["total_tokens"] == 7 + 4 and final["usage"]["cost"] == pytest.approx(0.002)


def test_print_on_prints_header_and_stream_and_silent_prints_nothing(scripted, capsys) -> None:
    Agent(agent_name="Streaming-Agent", provider=scripted(), streaming_on=True).run("x")
    out = capsys.readouterr().out
    assert "🤖 Agent: Streaming-Agent | Loops: 1" in out and "Hello, world." in out
    Agent(agent_name="Silent", provider=scripted(), streaming_on=True, print_on=False).run("x")
    assert capsys.readouterr().out == ""


def test_max_loops_each_turn_sees_the_previous_ones(scripted) -> None:
    provider = scripted()
    tokens: list[str] = []
    agent = Agent(agent_name="A", provider=provider, max_loops=3, streaming_on=True, print_on=False)
    text = agent.run("task", streaming_callback=tokens.append)
    assert text == "\n\n".join(["Hello, world."] * 3) == "".join(tokens)
    assert len(provider.requests) == 3
    third = provider.requests[2].messages
    assert [m["role"] for m in third] == ["user", "assistant", "assistant", "user"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_loops": 0}, "max_loops must be a positive integer"),
        ({"max_loops": -2}, "max_loops must be a positive integer"),
        ({"max_loops": 1.5}, "max_loops must be a positive integer"),
        ({"max_loops": True}, "max_loops must be a positive integer"),
        ({"agent_name": ""}, "agent_name must not be empty"),
        ({"temperature": 5}, "temperature must be a number from 0.0 to 2.0"),
        ({"max_tokens": 0}, "max_tokens must be a positive integer"),
        ({"streaming_callback": "print"}, "streaming_callback must be callable"),
        ({"model_name": None}, "model_name must be a string"),
    ],
)
def test_bad_arguments_are_rejected_at_construction(kwargs, message) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Agent(**kwargs)


def test_bad_task_is_rejected_before_any_model_call(scripted) -> None:
    provider = scripted()
    agent = Agent(agent_name="A", provider=provider)
    for task in ("", "   ", None, 42):
        with pytest.raises(InvalidArgument, match="task"):
            agent.run(task)  # type: ignore[arg-type]
    assert provider.requests == []


def test_provider_failing_mid_stream_keeps_partial_text_and_events(scripted) -> None:
    agent = Agent(agent_name="A", provider=scripted(fail_after=2), print_on=False)
    with pytest.raises(AgentError, match="the model server went away") as info:
        agent.run("x")
    run = info.value.run
    assert info.value.partial == "Hello,"
    types = [e.type for e in run.events]
    assert types == [
        "metadata",
        "start",
        "agent_start",
        "chunk",
        "chunk",
        "error",
        "agent_end",
        "usage",
        "usage",
        "end",
    ]
    end_of_agent = run.turns[0]
    assert (end_of_agent.output, end_of_agent.finish_reason) == ("Hello,", "error")
    assert run.status == "failed"


def test_every_run_emits_the_full_sequence_with_cost(scripted) -> None:
    run = Agent(agent_name="A", provider=scripted(), print_on=False).stream("x")
    run.result()
    types = [e.type for e in run.events]
    assert types[:3] == ["metadata", "start", "agent_start"]
    assert types[-4:] == ["agent_end", "usage", "usage", "end"]
    assert run.usage is not None and run.usage.cost == pytest.approx(0.002)
    assert run.end is not None and run.end.output == "Hello, world."


def test_arun_on_the_callers_loop(scripted) -> None:
    async def main() -> str:
        return await Agent(agent_name="A", provider=scripted(delay=0.001), print_on=False).arun("x")

    assert asyncio.run(main()) == "Hello, world."


def test_callbacks_may_use_the_callers_running_loop(scripted) -> None:
    # The seed's WebSocket example calls asyncio.create_task from the callback.
    sent: list[str] = []

    async def send(token: str) -> None:
        sent.append(token)

    async def handler() -> str:
        agent = Agent(agent_name="A", provider=scripted(), streaming_on=True, print_on=False)
        response = agent.run("x", streaming_callback=lambda token: asyncio.create_task(send(token)))
        await asyncio.sleep(0)
        return response

    assert asyncio.run(handler()) == "".join(sent)


def test_sim_model_streams_offline_with_usage_and_real_price() -> None:
    run = Agent(agent_name="A", model_name="sim/gpt-4o-mini", print_on=False).stream(
        "Explain neural networks"
    )
    text = run.result()
    chunks = [e for e in run.events if e.type == "chunk"]
    assert "".join(c.content for c in chunks) == text
    assert len(chunks) > 50
    assert run.usage.output_tokens == len(chunks) and run.usage.cost > 0


def test_simulate_routes_any_model_name_to_the_sim() -> None:
    agent = Agent(agent_name="A", model_name="gpt-4o-mini", print_on=False)
    with nbswarm.simulate():
        assert len(agent.run("Explain neural networks")) > 100


def test_a_real_model_name_without_a_server_fails_as_this_agents_error() -> None:
    agent = Agent(
        agent_name="A",
        model_name="openai/gpt-4o-mini",
        llm_base_url="http://127.0.0.1:9/v1",
        llm_api_key="sk-none",
        print_on=False,
    )
    with nbswarm.simulate(False), pytest.raises(AgentError) as info:
        agent.run("x")
    assert info.value.run.turns[0].finish_reason == "error"


@pytest.mark.parametrize("streaming_on", [True, False])
def test_a_model_error_that_run_raises_is_said_once_by_the_exception(scripted, capsys, streaming_on) -> None:
    agent = Agent(agent_name="A", provider=scripted(fail_after=2), streaming_on=streaming_on)
    with pytest.raises(AgentError, match="the model server went away"):
        agent.run("x")
    printed = capsys.readouterr().out
    assert "Hello," in printed and "the model server went away" not in printed  # the traceback says it
    for _ in agent.stream("x"):  # nothing raises here, so the printer is the only one to say it
        pass
    assert capsys.readouterr().out.count("the model server went away") == 1


def test_stream_takes_the_run_id_every_event_is_stamped_with(scripted) -> None:
    run = Agent(agent_name="A", provider=scripted(), print_on=False).stream("x", run_id="sweep-3-a2")
    run.result()
    assert run.run_id == "sweep-3-a2" and {event.run_id for event in run.events} == {"sweep-3-a2"}
    assert run.metadata is not None and run.metadata.job_id == "sweep-3-a2"
    for bad in ("", 7):
        with pytest.raises(InvalidArgument, match="run_id"):
            Agent(agent_name="A", provider=scripted(), print_on=False).stream("x", run_id=bad)
