"""The event model and its one SSE wire function pair."""

from __future__ import annotations

import dataclasses
import json

import pytest

from nbswarm.events import EVENT_TYPES, AgentEnd, Chunk, End, Error, Metadata, Usage, from_wire, to_wire


def test_events_are_immutable_and_tagged() -> None:
    chunk = Chunk(run_id="r", seq=3, t=0.5, agent="A", content="hi", index=0)
    assert chunk.type == "chunk"
    with pytest.raises(dataclasses.FrozenInstanceError):
        chunk.content = "changed"  # type: ignore[misc]
    assert set(EVENT_TYPES) == {
        "metadata",
        "start",
        "agent_start",
        "chunk",
        "agent_end",
        "usage",
        "end",
        "error",
        "done",
    }


@pytest.mark.parametrize(
    "event",
    [
        Metadata(
            run_id="r",
            seq=0,
            t=0.0,
            job_id="r",
            name="swarm",
            swarm_type="AgentRearrange",
            number_of_agents=3,
            agents=("A", "B", "C"),
            flow="A, B -> C",
        ),
        Chunk(run_id="r", seq=5, t=1.25, agent="A", content=" token", index=4),
        AgentEnd(
            run_id="r", seq=9, t=2.0, agent="B", output="all text", finish_reason="length", step=1, loop=0
        ),
        Usage(
            run_id="r",
            seq=10,
            t=2.0,
            agent=None,
            input_tokens=10,
            output_tokens=5,
            total_tokens=15,
            cost=0.25,
        ),
        End(run_id="r", seq=11, t=2.1, execution_time=2.1, output="final", status="failed"),
        Error(run_id="r", seq=12, t=2.2, agent="A", error_type="Timeout", message="slow"),
    ],
)
def test_wire_round_trip_through_json(event) -> None:
    name, data = to_wire(event)
    assert name == event.type
    decoded = from_wire(name, json.loads(json.dumps(data)))
    assert decoded == event


def test_running_output_exists_only_on_the_wire() -> None:
    chunk = Chunk(run_id="r", seq=1, t=0.1, agent="A", content="b", index=1)
    _, data = to_wire(chunk, running_output="ab")
    assert data["output"] == "ab"
    assert not hasattr(from_wire("chunk", data), "output")


def test_seed_agent_frames_decode_with_defaults() -> None:
    # The frames of api-agent-sse.md carry no run_id/seq/t: the caller supplies them.
    meta = from_wire("metadata", {"job_id": "abc123", "name": "Creative Writer"}, seq=0, t=0.0)
    assert (meta.run_id, meta.job_id, meta.name, meta.number_of_agents) == (
        "abc123",
        "abc123",
        "Creative Writer",
        1,
    )
    usage = from_wire("usage", {"tokens_used": 150, "cost": 0.003}, run_id="abc123", seq=3, t=1.0)
    assert (usage.total_tokens, usage.cost) == (150, 0.003)
    done = from_wire("done", {"status": "finished"}, run_id="abc123", seq=4, t=1.1)
    assert done.status == "finished"


def test_type_from_json_when_no_event_line_and_old_field_names() -> None:
    chunk = from_wire(None, {"type": "chunk", "agent_name": "A", "token": "x"}, run_id="r", seq=1, t=0)
    assert (chunk.agent, chunk.content) == ("A", "x")
    usage = from_wire(
        "usage", {"input_tokens": 3, "output_tokens": 4, "total_cost": 0.5}, run_id="r", seq=2, t=0
    )
    assert (usage.total_tokens, usage.cost) == (7, 0.5)


def test_unknown_or_malformed_frames_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown SSE event type"):
        from_wire("bogus", {})
    with pytest.raises(ValueError, match="unknown SSE event type"):
        from_wire(None, {"content": "no type anywhere"})
