"""``max_loops``: the separator between an agent's turns is part of the stream, and an agent's own
``max_loops`` is honoured inside a workflow (both failed before the rebuild, commit e265360)."""

from __future__ import annotations

from conftest import ScriptedProvider

from nbswarm import Agent, SequentialWorkflow
from nbswarm.events import Chunk
from nbswarm.recorder import Recorder
from nbswarm.widget.view import LiveView


def test_multi_loop_chunks_join_to_the_result_for_every_consumer() -> None:
    tokens: list[str] = []
    agent = Agent(
        agent_name="A",
        provider=ScriptedProvider(["one", " two"]),
        max_loops=3,
        print_on=False,
        streaming_callback=tokens.append,
    )
    rec = Recorder()
    run = agent.stream("x", recorder=rec)
    view = LiveView().watch(run)
    result = run.result()
    assert result == "one two\n\none two\n\none two"
    assert "".join(e.content for e in run.events if isinstance(e, Chunk)) == result
    assert "".join(tokens) == result
    assert "".join(e.content for e in rec.events() if isinstance(e, Chunk)) == result
    assert view.texts == {"A": result}


def test_an_agents_own_max_loops_repeats_its_turn_inside_a_workflow() -> None:
    first = ScriptedProvider(["draft"])
    second = ScriptedProvider(["review"])
    agents = [
        Agent(agent_name="Writer", provider=first, max_loops=3, print_on=False),
        Agent(agent_name="Editor", provider=second, print_on=False),
    ]
    run = SequentialWorkflow(agents=agents).stream("x")
    assert run.result() == "review"
    assert [t.agent for t in run.turns] == ["Writer", "Writer", "Writer", "Editor"]
    assert len(first.requests) == 3
    # Each later turn sees the turns before it, as its own (assistant) messages.
    assert [m["role"] for m in first.requests[2].messages].count("assistant") == 2
    # The next agent sees the writer's whole contribution, joined as its chunks join.
    assert "Writer: draft\n\ndraft\n\ndraft" in [m["content"] for m in second.requests[0].messages]
