"""The event log's fast chunk constructor builds the very object ``Chunk(...)`` would.

``new_chunk`` skips the frozen dataclass's ``__init__`` (the per-chunk hot path); these tests pin
that nothing else changes: equality, hashing, repr, pickling, the wire form, immutability, the
errors for bad arguments, and that a run's chunks are what ``Chunk`` itself makes.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbswarm import Agent
from nbswarm._eventlog import FAST_CHUNK, EventLog, new_chunk
from nbswarm.events import Chunk, from_wire, to_wire
from nbswarm.models.sim import SimProfile, SimProvider

texts = st.text(max_size=20)


def test_fast_path_is_in_use() -> None:
    # If Chunk gains a field or a __post_init__, new_chunk falls back to Chunk(...): still right,
    # but the hot path is slow again -- update _eventlog._CHUNK_FIELDS with the new field.
    assert FAST_CHUNK


@given(
    run_id=texts,
    seq=st.integers(min_value=0),
    t=st.floats(allow_nan=False),
    agent=texts,
    content=texts,
    index=st.integers(min_value=0),
    kind=st.sampled_from(["text", "reasoning"]),
)
def test_new_chunk_equals_chunk(
    run_id: str, seq: int, t: float, agent: str, content: str, index: int, kind: str
) -> None:
    fast = new_chunk(run_id, seq, t, agent=agent, content=content, index=index, kind=kind)
    slow = Chunk(run_id=run_id, seq=seq, t=t, agent=agent, content=content, index=index, kind=kind)
    assert type(fast) is Chunk
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert dataclasses.asdict(fast) == dataclasses.asdict(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow
    assert to_wire(fast) == to_wire(slow)
    assert from_wire(*to_wire(fast)) == from_wire(*to_wire(slow))
    assert dataclasses.replace(fast, content="x") == dataclasses.replace(slow, content="x")


def test_new_chunk_defaults_and_immutability() -> None:
    fast = new_chunk("r", 0, 0.5, agent="A", content="hi")
    assert fast == Chunk(run_id="r", seq=0, t=0.5, agent="A", content="hi")
    assert (fast.type, fast.index, fast.kind) == ("chunk", 0, "text")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.content = "changed"  # type: ignore[misc]


def test_new_chunk_rejects_what_chunk_rejects() -> None:
    with pytest.raises(TypeError):
        new_chunk("r", 0, 0.5, agent="A", content="hi", colour="red")
    with pytest.raises(TypeError):
        new_chunk("r", 0, 0.5, agent="A")  # no content
    with pytest.raises(TypeError):
        new_chunk("r", 0, 0.5, "A", "hi")  # fields by keyword only, as Chunk(kw_only=True)


def test_log_append_stamps_chunks() -> None:
    log = EventLog("run1", clock=lambda: 2.0)
    log.restart_clock()
    first = log.append(Chunk, {"agent": "A", "content": "x"})
    second = log.append(Chunk, {"agent": "A", "content": "y", "index": 1, "kind": "reasoning"})
    assert log.events == [first, second]
    assert first == Chunk(run_id="run1", seq=0, t=0.0, agent="A", content="x")
    assert second == Chunk(run_id="run1", seq=1, t=0.0, agent="A", content="y", index=1, kind="reasoning")


def test_a_runs_chunks_are_real_chunks() -> None:
    agent = Agent(agent_name="A", provider=SimProvider(SimProfile(delay_scale=0)), print_on=False)
    run = agent.stream("Report on the quarter")
    output = run.result()
    chunks = [event for event in run.events if event.type == "chunk"]
    assert chunks and all(type(chunk) is Chunk for chunk in chunks)
    assert "".join(chunk.content for chunk in chunks) == output
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    seqs = [event.seq for event in run.events]
    assert seqs == list(range(len(seqs)))
    for chunk in chunks:
        rebuilt = Chunk(**{f.name: getattr(chunk, f.name) for f in dataclasses.fields(Chunk)})
        assert rebuilt == chunk
