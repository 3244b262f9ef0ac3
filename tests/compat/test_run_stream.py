"""run_stream / arun_stream yield swarms 16.0.3's shapes, read off nbswarm's own events."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sse_util import wait_until

from nbswarm import Agent, AgentRearrange, ConcurrentWorkflow, SequentialWorkflow
from nbswarm.errors import AgentError, InvalidArgument
from nbswarm.events import LOOP_SEPARATOR, AgentEnd
from nbswarm.models import Completion, Reasoning, Text


def flips(names: list[str]) -> int:
    return sum(1 for a, b in itertools.pairwise(names) if a != b)


class Thinker:
    """A reasoning model's provider: thinking first, then the answer."""

    async def stream(self, request):
        yield Reasoning("let me think")
        yield Text("The answer")
        yield Text(" is 42.")
        yield Completion(input_tokens=3, output_tokens=3)


def test_agent_tokens_are_strings_that_join_to_the_run_text(capsys):
    agent = Agent(agent_name="A", model_name="gpt-5.4", max_loops=2, seed=1)
    tokens = list(agent.run_stream("Tell me about tides."))
    assert len(tokens) > 20 and all(isinstance(t, str) for t in tokens)
    again = Agent(agent_name="A", model_name="gpt-5.4", max_loops=2, seed=1, print_on=False)
    assert "".join(tokens) == again.run("Tell me about tides.")
    assert capsys.readouterr().out == ""  # like swarms' run_stream: the caller prints


def test_reasoning_is_not_a_token():
    agent = Agent(agent_name="R", provider=Thinker())
    assert list(agent.run_stream("q")) == ["The answer", " is 42."]
    flow = SequentialWorkflow([agent])
    assert [e["type"] for e in flow.run_stream("q", with_events=True)] == [
        "agent_start", "token", "token", "agent_end",
    ]  # fmt: skip


def test_agent_arun_stream_runs_on_the_callers_loop_and_two_calls_run_at_once():
    agent = Agent(agent_name="A", model_name="gpt-5.4-mini")

    async def collect(task: str) -> list[str]:
        return [token async for token in agent.arun_stream(task)]

    async def main():
        return await asyncio.gather(collect("What is asyncio?"), collect("What is a thread pool?"))

    first, second = asyncio.run(main())
    assert first and second and "".join(first) != "".join(second)


def test_a_bad_task_raises_from_the_iteration_like_swarms():
    agent = Agent(agent_name="Bad")
    stream = agent.run_stream(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="task must be a string"):
        next(stream)

    async def consume():
        async for _ in agent.arun_stream(None):  # type: ignore[arg-type]
            pass

    with pytest.raises(InvalidArgument):
        asyncio.run(consume())


def test_a_model_failure_raises_after_the_partial_tokens(scripted):
    agent = Agent(agent_name="F", provider=scripted(["a", "b", "c"], fail_after=2))
    tokens = []
    with pytest.raises(AgentError, match="the model server went away") as info:
        for token in agent.run_stream("x"):
            tokens.append(token)
    assert tokens == ["a", "b"] and info.value.partial == "ab"


def test_rearrange_yields_interleaved_pairs_in_flow_order():
    a, b, c, d = (Agent(agent_name=n, model_name="gpt-5.4-mini") for n in "ABCD")
    flow = AgentRearrange(agents=[a, b, c, d], flow="A -> B, C -> D", max_loops=2)
    pairs = list(flow.run_stream("octopus intelligence"))
    assert all(isinstance(p, tuple) and len(p) == 2 for p in pairs)
    names = [name for name, _ in pairs]
    a_at = [i for i, n in enumerate(names) if n == "A"]
    bc_at = [i for i, n in enumerate(names) if n in "BC"]
    d_at = [i for i, n in enumerate(names) if n == "D"]
    assert max(a_at) < min(bc_at) and max(bc_at) < min(d_at)  # one pass: max_loops is run()'s
    assert flips([n for n in names if n in "BC"]) >= 3  # the parallel step interleaves


def test_sequential_yields_bare_tokens_and_events_with_with_events():
    flow = SequentialWorkflow(
        agents=[Agent(agent_name="Researcher"), Agent(agent_name="Writer")], max_loops=3
    )
    tokens = list(flow.run_stream("Summarise LLM research this year."))
    assert tokens and all(isinstance(t, str) for t in tokens)
    events = list(flow.run_stream("Summarise LLM research this year.", with_events=True))
    assert [(e["type"], e["agent"]) for e in events if e["type"] != "token"] == [
        ("agent_start", "Researcher"), ("agent_end", "Researcher"),
        ("agent_start", "Writer"), ("agent_end", "Writer"),
    ]  # fmt: skip
    assert set(events[0]) == {"type", "agent"}
    assert all(set(e) == {"type", "agent", "token"} for e in events if e["type"] == "token")
    ends = [e for e in events if e["type"] == "agent_end"]
    assert all(set(e) == {"type", "agent", "output"} for e in ends)
    for end in ends:
        said = "".join(e["token"] for e in events if e["type"] == "token" and e["agent"] == end["agent"])
        assert end["output"] == said


def test_concurrent_workflow_streams_like_a_one_step_flow():
    flow = ConcurrentWorkflow(agents=[Agent(agent_name=n) for n in ("X", "Y", "Z")])
    names = [name for name, _ in flow.run_stream("Markets in 2026")]
    assert set(names) == {"X", "Y", "Z"} and flips(names) >= 3


def test_arun_stream_with_events_on_rearrange():
    flow = AgentRearrange(agents=[Agent(agent_name=n) for n in ("A", "B", "C")], flow="A, B -> C")

    async def main():
        return [event async for event in flow.arun_stream("neural networks", with_events=True)]

    events = asyncio.run(main())
    starts = [e["agent"] for e in events if e["type"] == "agent_start"]
    assert sorted(starts[:2]) == ["A", "B"] and starts[2] == "C"
    assert sum(e["type"] == "agent_end" for e in events) == 3


def test_closing_the_generator_early_cancels_the_run(scripted):
    slow = scripted([f"t{i} " for i in range(200)], delay=0.01)
    agent = Agent(agent_name="S", provider=slow)
    stream = agent.run_stream("x")
    assert next(stream) == "t0 "
    stream.close()
    assert wait_until(lambda: slow.cancelled == 1)  # the engine thread cancels the provider


def test_the_workflow_failure_policy_is_runs(scripted):
    def flow(policy: str) -> SequentialWorkflow:
        bad = Agent(agent_name="Bad", provider=scripted(["x"], fail_after=0))
        return SequentialWorkflow([bad, Agent(agent_name="Next")], on_agent_error=policy)

    assert list(flow("continue").run_stream("t"))  # Next still streams
    with pytest.raises(AgentError, match="Bad"):
        list(flow("raise").run_stream("t"))


def test_with_events_must_be_a_bool():
    flow = SequentialWorkflow([Agent(agent_name="A")])
    with pytest.raises(InvalidArgument, match="with_events"):
        next(flow.run_stream("t", with_events="yes"))  # type: ignore[arg-type]


def test_an_agents_own_loops_are_one_agent_run_in_the_events():
    twice = Agent(agent_name="Twice", max_loops=2)
    flow = SequentialWorkflow([twice, Agent(agent_name="Then")])
    events = list(flow.run_stream("Tides", with_events=True))
    assert [(e["type"], e["agent"]) for e in events if e["type"] != "token"] == [
        ("agent_start", "Twice"), ("agent_end", "Twice"), ("agent_start", "Then"), ("agent_end", "Then"),
    ]  # fmt: skip
    end = events[[e["type"] for e in events].index("agent_end")]
    assert end["output"] == "".join(
        e["token"] for e in events if e["type"] == "token" and e["agent"] == "Twice"
    )
    run = flow.stream("Tides")  # the sim is deterministic: the same run again, as nbswarm's events
    run.result()
    turns = [e.output for e in run.events if isinstance(e, AgentEnd) and e.agent == "Twice"]
    assert len(turns) == 2 and end["output"] == LOOP_SEPARATOR.join(turns)
