"""Replay: the same events, in the same order, at the recorded times divided by speed."""

from __future__ import annotations

import asyncio
import math

import pytest

from nbswarm import Agent
from nbswarm._replay import replay, replay_to_terminal
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Metadata, Start, Usage
from nbswarm.recorder import Recorder
from nbswarm.workflows import AgentRearrange


class FakeTime:
    """A clock that only moves when the replay sleeps, so every wait is checked exactly."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def recorded_events(run_id: str = "r") -> list:
    times = [0.0, 0.0, 0.25, 0.5, 0.5, 1.25, 2.0, 2.0, 2.5]
    kinds = [
        (Metadata, dict(job_id=run_id, name="n", swarm_type="Agent", number_of_agents=1, agents=("A",))),
        (Start, {}),
        (AgentStart, dict(agent="A")),
        (Chunk, dict(agent="A", content="Hel", index=0)),
        (Chunk, dict(agent="A", content="lo", index=1)),
        (Chunk, dict(agent="A", content="!", index=2)),
        (AgentEnd, dict(agent="A", output="Hello!")),
        (Usage, dict(agent="A", input_tokens=1, output_tokens=3, total_tokens=4, cost=0.5)),
        (End, dict(execution_time=2.5, output="Hello!")),
    ]
    return [
        cls(run_id=run_id, seq=i, t=t, **f) for i, (t, (cls, f)) in enumerate(zip(times, kinds, strict=True))
    ]


def content(event) -> dict:
    """Everything but the stamps a new run gives an event (and the job_id that follows its run_id)."""
    fields = {name: getattr(event, name) for name in event.__dataclass_fields__}
    for name in ("run_id", "seq", "t", "job_id"):
        fields.pop(name, None)
    return fields


@pytest.mark.parametrize("speed", [1.0, 2.0, 0.5])
def test_replay_emits_the_same_events_at_scaled_times(speed: float) -> None:
    original = recorded_events()
    fake = FakeTime()
    run = replay(original, speed=speed, clock=fake.clock, sleep=fake.sleep)
    assert run.result() == "Hello!"
    assert [content(e) for e in run.events] == [content(e) for e in original]
    assert [type(e) for e in run.events] == [type(e) for e in original]
    assert [e.t for e in run.events] == [e.t / speed for e in original]
    assert fake.waits == [0.25 / speed, 0.25 / speed, 0.75 / speed, 0.75 / speed, 0.5 / speed]
    assert run.run_id != "r" and run.metadata.job_id == run.run_id
    assert [e.seq for e in run.events] == list(range(len(original)))


@pytest.mark.parametrize("speed", [0, math.inf])
def test_speed_zero_or_inf_never_waits(speed: float) -> None:
    fake = FakeTime()
    run = replay(recorded_events(), speed=speed, clock=fake.clock, sleep=fake.sleep)
    run.result()
    assert fake.waits == [] and len(run.events) == 9


def test_a_replay_is_a_run_that_can_be_recorded_and_replayed_again(scripted) -> None:
    agents = [Agent(agent_name=n, print_on=False, provider=scripted(list("abc"))) for n in ("A", "B", "C")]
    rec = Recorder()
    AgentRearrange(agents=agents, flow="A, B -> C").run("task", recorder=rec)
    again = Recorder()
    run = replay(rec, speed=0)
    again.add(run)
    run.result()
    assert [content(e) for e in again.events()] == [content(e) for e in rec.events()]
    twice = replay(again.df, speed=0)
    assert [content(e) for e in twice] == [content(e) for e in rec.events()]


def test_replay_can_be_awaited_on_the_callers_loop() -> None:
    fake = FakeTime()
    run = replay(recorded_events(), speed=4, clock=fake.clock, sleep=fake.sleep)

    async def main() -> str:
        return await run

    assert asyncio.run(main()) == "Hello!"
    assert sum(fake.waits) == 2.5 / 4


def test_replay_from_a_saved_file_picks_one_run(tmp_path) -> None:
    rec = Recorder().add(recorded_events("r1") + recorded_events("r2"))
    path = rec.save(tmp_path / "two.jsonl")
    with pytest.raises(ValueError, match="holds 2 runs"):
        replay(path)
    with pytest.raises(KeyError, match="no run 'r3'"):
        replay(rec, "r3")
    run = replay(path, "r2", speed=0)
    run.result()
    assert [content(e) for e in run.events] == [content(e) for e in recorded_events()]


def test_replay_checks_its_arguments() -> None:
    for bad in (-1, float("nan"), "fast", True):
        with pytest.raises(ValueError, match="speed"):
            replay(recorded_events(), speed=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a Recorder"):
        replay(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nbswarm events"):
        replay([{"type": "chunk"}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no events"):
        replay([])


def test_show_prints_the_replay_and_the_cli_replays_a_file(tmp_path, capsys) -> None:
    replay(recorded_events(), speed=0, show=True).result()
    assert "Hello!" in capsys.readouterr().out
    path = Recorder().add(recorded_events()).save(tmp_path / "r.parquet")
    assert replay_to_terminal(path, speed=0) == 0
    out = capsys.readouterr().out
    assert "A  done" in out and "Hello!" in out  # the per-agent dashboard of a live run
    assert replay_to_terminal(tmp_path / "missing.jsonl", speed=0) == 2
    assert "no recording" in capsys.readouterr().err
