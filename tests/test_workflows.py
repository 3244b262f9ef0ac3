"""Workflows on one engine: hand-over, real interleaving, failure isolation, cancellation, callbacks."""

from __future__ import annotations

import _thread
import threading
from itertools import pairwise

import pytest

from nbswarm import Agent, AgentError, AgentRearrange, ConcurrentWorkflow, InvalidArgument, SequentialWorkflow
from nbswarm._engine_loop import pending_tasks
from nbswarm.models.sim import SimProfile, SimProvider


def sim_agents(names, profile: SimProfile | None = None, **kwargs) -> list[Agent]:
    provider = SimProvider(profile) if profile else None
    return [
        Agent(agent_name=n, system_prompt=f"You are {n}.", provider=provider, print_on=False, **kwargs)
        for n in names
    ]


REALISTIC = SimProfile(ttft=0.05, tokens_per_second=200, jitter=0.5, length=60, delay_scale=1.0)


def flips(run) -> int:
    agents = [e.agent for e in run.events if e.type == "chunk"]
    return sum(1 for a, b in pairwise(agents) if a != b)


def test_parallel_step_interleaves_and_the_next_step_waits_for_both() -> None:
    run = AgentRearrange(agents=sim_agents("ABC", REALISTIC), flow="A, B -> C").stream("Solar storage")
    run.result()
    assert flips(run) >= 3  # the seed's own criterion for real parallel streaming
    events = run.events
    ends = {e.agent: e.seq for e in events if e.type == "agent_end"}
    c_chunks = [e.seq for e in events if e.type == "chunk" and e.agent == "C"]
    assert c_chunks and min(c_chunks) > max(ends["A"], ends["B"])
    assert [e.step for e in events if e.type == "agent_start"] == [0, 0, 1]


def test_sequential_streams_one_agent_after_another_with_the_hand_over() -> None:
    a, b = sim_agents(["Researcher", "Writer"])
    run = SequentialWorkflow(agents=[a, b]).stream("The future of renewable energy technology")
    final = run.result()
    assert flips(run) == 1
    assert final == run.outputs["Writer"]
    assert "Researcher" in run.outputs["Writer"]  # the sim answers to the context it was given


def test_context_hand_over_is_attributed_and_parallel_agents_do_not_see_each_other(scripted) -> None:
    providers = {n: scripted([f"{n} says hi."]) for n in "ABC"}
    agents = [
        Agent(agent_name=n, system_prompt=f"role {n}", provider=providers[n], print_on=False) for n in "ABC"
    ]
    AgentRearrange(agents=agents, flow="A, B -> C").run("the task")
    a_messages = providers["A"].requests[0].messages
    assert a_messages == [{"role": "system", "content": "role A"}, {"role": "user", "content": "the task"}]
    assert "B says" not in str(a_messages)
    c_messages = providers["C"].requests[0].messages
    assert c_messages[0] == {"role": "system", "content": "role C"}
    assert {"role": "user", "content": "A: A says hi."} in c_messages
    assert {"role": "user", "content": "B: B says hi."} in c_messages


def test_max_loops_repeats_the_flow_with_history(scripted) -> None:
    provider = scripted(["x"])
    agents = [Agent(agent_name=n, provider=provider, print_on=False) for n in "AB"]
    run = SequentialWorkflow(agents=agents, max_loops=2).stream("t")
    run.result()
    assert [(e.agent, e.loop) for e in run.events if e.type == "agent_start"] == [
        ("A", 0),
        ("B", 0),
        ("A", 1),
        ("B", 1),
    ]
    assert len(provider.requests[-1].messages) == 1 + 3  # task + three earlier turns


def test_concurrent_returns_all_outputs_attributed(scripted) -> None:
    agents = [Agent(agent_name=n, provider=scripted([f"{n} out"]), print_on=False) for n in "AB"]
    assert ConcurrentWorkflow(agents=agents).run("t") == "A: A out\n\nB: B out"


def test_a_failing_agent_does_not_harm_its_neighbours_and_later_steps_run(scripted) -> None:
    broken = Agent(
        agent_name="A", provider=scripted(["par", "tial", "!"], fail_after=2, delay=0.001), print_on=False
    )
    fine = Agent(agent_name="B", provider=scripted(["fine"], delay=0.002), print_on=False)
    after = Agent(agent_name="C", provider=scripted(["summary"]), print_on=False)
    run = AgentRearrange(agents=[broken, fine, after], flow="A, B -> C").stream("t")
    assert run.result() == "summary"
    assert run.status == "failed"
    errors = [e for e in run.events if e.type == "error"]
    assert [(e.agent, e.error_type) for e in errors] == [("A", "ConnectionError")]
    assert run.outputs == {"A": "partial", "B": "fine", "C": "summary"}
    finish = {e.agent: e.finish_reason for e in run.turns}
    assert finish == {"A": "error", "B": "stop", "C": "stop"}


def test_on_agent_error_stop_and_raise(scripted) -> None:
    def agents():
        return [
            Agent(agent_name="A", provider=scripted(["a"], fail_after=0), print_on=False),
            Agent(agent_name="B", provider=scripted(["b"]), print_on=False),
        ]

    run = SequentialWorkflow(agents=agents(), on_agent_error="stop").stream("t")
    run.result()
    assert [e.agent for e in run.events if e.type == "agent_start"] == ["A"]
    with pytest.raises(AgentError, match="'A' failed"):
        SequentialWorkflow(agents=agents(), on_agent_error="raise").run("t")
    with pytest.raises(InvalidArgument, match="on_agent_error"):
        SequentialWorkflow(agents=agents(), on_agent_error="ignore")


def test_cancel_ends_every_running_agent_and_keeps_the_events() -> None:
    slow = SimProfile(ttft=0.0, tokens_per_second=50, jitter=0.0, length=500, delay_scale=1.0)
    run = ConcurrentWorkflow(agents=sim_agents("AB", slow)).stream("t")
    seen = []
    for event in run:
        seen.append(event)
        if sum(e.type == "chunk" for e in seen) == 6:
            threading.Thread(target=run.cancel).start()
    assert seen == list(run.events)
    assert {e.agent: e.finish_reason for e in run.turns} == {"A": "cancelled", "B": "cancelled"}
    assert run.status == "cancelled" and seen[-1].type == "end"
    assert pending_tasks() == set()


def test_workflow_callback_and_each_agents_own_callback(scripted) -> None:
    calls: list[tuple[str, str, bool]] = []
    own: list[str] = []
    a = Agent(agent_name="A", provider=scripted(["a1", "a2"]), print_on=False, streaming_callback=own.append)
    b = Agent(agent_name="B", provider=scripted(["b1"]), print_on=False)
    SequentialWorkflow(agents=[a, b], streaming_callback=lambda *args: calls.append(args)).run("t")
    assert calls == [
        ("A", "a1", False),
        ("A", "a2", False),
        ("A", "", True),
        ("B", "b1", False),
        ("B", "", True),
    ]
    assert own == ["a1", "a2"]


@pytest.mark.parametrize(
    ("agents", "message"),
    [([], "must not be empty"), ("A", "must be a list"), ([object()], "agents\\[0\\] is a object")],
)
def test_bad_agent_lists_are_rejected(agents, message) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ConcurrentWorkflow(agents=agents)


def test_duplicate_names_rejected_for_every_workflow() -> None:
    with pytest.raises(InvalidArgument, match="two agents are named 'A'"):
        SequentialWorkflow(agents=sim_agents("AA"))


def test_keyboard_interrupt_cancels_every_agent_promptly_and_keeps_events() -> None:
    # What a kernel interrupt does: KeyboardInterrupt in the thread that called run().
    slow = SimProfile(ttft=0.0, tokens_per_second=100, jitter=0.0, length=2000, delay_scale=1.0)
    workflow = ConcurrentWorkflow(agents=sim_agents("AB", slow))
    seen: list = []
    threading.Timer(0.3, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        workflow.run("t", recorder=seen.append)
    assert seen[-1].type == "end" and seen[-1].status == "cancelled"
    assert {e.agent: e.finish_reason for e in seen if e.type == "agent_end"} == {
        "A": "cancelled",
        "B": "cancelled",
    }
    chunks = [e for e in seen if e.type == "chunk"]
    assert 0 < len(chunks) < 4000  # stopped long before the 2 x 2000 tokens (20 s) were due
    assert pending_tasks() == set()
