"""Metrics checked exactly on hand-built streams with known times, and on real engine runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from nbswarm import Agent
from nbswarm.analysis import agent_metrics, chunk_gaps, interleaving, metrics, run_metrics, turns
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Error, Metadata, Start, Usage
from nbswarm.recorder import Recorder
from nbswarm.workflows import AgentRearrange, SequentialWorkflow


class Stream:
    """Builds one run's events with explicit times (multiples of 1/4, so all sums are exact)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.events: list = []

    def add(self, cls: type, t: float, **fields: object) -> Stream:
        self.events.append(cls(run_id=self.run_id, seq=len(self.events), t=t, **fields))
        return self


def rearrange_stream(run_id: str = "r1") -> list:
    """'A, B -> C': A and B type at once (A 0..2 s, B 0..3 s), then C (3..5 s)."""
    s = Stream(run_id)
    s.add(
        Metadata,
        0.0,
        job_id=run_id,
        name="swarm",
        swarm_type="AgentRearrange",
        number_of_agents=3,
        agents=("A", "B", "C"),
        flow="A, B -> C",
    )
    s.add(Start, 0.0).add(AgentStart, 0.0, agent="A", step=0).add(AgentStart, 0.0, agent="B", step=0)
    s.add(Chunk, 0.5, agent="A", content="He", index=0).add(Chunk, 0.75, agent="B", content="Hi", index=0)
    s.add(Chunk, 1.0, agent="A", content="llo", index=1).add(
        Chunk, 1.25, agent="A", content=" there", index=2
    )
    s.add(Chunk, 1.5, agent="B", content="!", index=1)
    s.add(AgentEnd, 2.0, agent="A", output="Hello there", step=0)
    s.add(Usage, 2.0, agent="A", input_tokens=10, output_tokens=3, total_tokens=13, cost=0.25, model="m")
    s.add(AgentEnd, 3.0, agent="B", output="Hi!", step=0)
    s.add(Usage, 3.0, agent="B", input_tokens=10, output_tokens=2, total_tokens=12, cost=0.125, model="m")
    s.add(AgentStart, 3.0, agent="C", step=1)
    s.add(Chunk, 3.5, agent="C", content="Sum", index=0).add(Chunk, 4.0, agent="C", content="mary", index=1)
    s.add(Chunk, 4.5, agent="C", content=".", index=2)
    s.add(AgentEnd, 5.0, agent="C", output="Summary.", step=1)
    s.add(Usage, 5.0, agent="C", input_tokens=20, output_tokens=3, total_tokens=23, cost=0.5, model="m")
    s.add(Usage, 5.0, input_tokens=40, output_tokens=8, total_tokens=48, cost=0.875)
    s.add(End, 5.0, execution_time=5.0, output="Summary.")
    return s.events


def looping_stream(run_id: str = "r2") -> list:
    """One agent X, two loops, an error in the second: gaps must not cross turns."""
    s = Stream(run_id)
    s.add(Metadata, 0.0, job_id=run_id, name="X", swarm_type="Agent", number_of_agents=1, agents=("X",))
    s.add(Start, 0.0).add(AgentStart, 0.25, agent="X", loop=0)
    s.add(Chunk, 1.0, agent="X", content="ab", index=0).add(Chunk, 1.5, agent="X", content="c", index=1)
    s.add(AgentEnd, 2.0, agent="X", output="abc", loop=0)
    s.add(Usage, 2.0, agent="X", input_tokens=5, output_tokens=2, total_tokens=7, cost=0.5)
    s.add(AgentStart, 2.0, agent="X", loop=1).add(Chunk, 3.0, agent="X", content="d", index=2)
    s.add(Error, 3.25, agent="X", error_type="ConnectionError", message="gone")
    s.add(AgentEnd, 3.5, agent="X", output="d", finish_reason="error", loop=1)
    s.add(Usage, 3.5, agent="X", input_tokens=6, output_tokens=1, total_tokens=7, cost=0.25)
    s.add(End, 4.0, execution_time=4.0, output="abc\nd", status="failed")
    return s.events


def frame(*streams: list) -> pd.DataFrame:
    return Recorder().add([e for stream in streams for e in stream]).df


def test_agent_metrics_are_exact_on_a_known_parallel_stream() -> None:
    m = agent_metrics(frame(rearrange_stream())).loc["r1"]
    assert list(m.index) == ["A", "B", "C"]
    assert m["ttft"].tolist() == [0.5, 0.75, 0.5]
    assert m["duration"].tolist() == [2.0, 3.0, 2.0]
    assert m["start"].tolist() == [0.0, 0.0, 3.0] and m["end"].tolist() == [2.0, 3.0, 5.0]
    assert m["chunks"].tolist() == [3, 2, 3]
    assert m["chars"].tolist() == [11, 3, 8]
    assert m["output_tokens"].tolist() == [3, 2, 3] and m["input_tokens"].tolist() == [10, 10, 20]
    assert m["tokens_per_s"].tolist() == [1.5, 2 / 3, 1.5]
    assert m["gap_median"].tolist() == [0.375, 0.75, 0.5]
    assert m["gap_p95"].tolist() == [np.percentile([0.5, 0.25], 95), 0.75, 0.5]
    assert m.loc["A", "gap_p95"] == pytest.approx(0.4875)
    assert m["gap_max"].tolist() == [0.5, 0.75, 0.5]
    assert m["cost"].tolist() == [0.25, 0.125, 0.5]
    assert m["errors"].tolist() == [0, 0, 0]


def test_run_metrics_define_critical_path_and_parallel_efficiency_exactly() -> None:
    r = run_metrics(frame(rearrange_stream())).loc["r1"]
    assert r["total_time"] == 5.0
    assert r["busy_time"] == 7.0  # 2 + 3 + 2
    assert r["critical_path"] == 5.0  # the longer of A/B (3) then C (2)
    assert r["critical_agents"] == "B -> C"
    assert r["max_concurrency"] == 2
    assert r["parallelism"] == 7.0 / 5.0
    assert r["parallel_efficiency"] == 7.0 / (5.0 * 2)
    assert (r["input_tokens"], r["output_tokens"], r["total_tokens"], r["cost"]) == (40, 8, 48, 0.875)
    assert (r["name"], r["swarm_type"], r["status"]) == ("swarm", "AgentRearrange", "completed")
    assert (r["agents"], r["turns"], r["chunks"], r["errors"]) == (3, 3, 8, 0)


def test_phases_come_from_the_times_not_the_step_numbers() -> None:
    unnumbered = [  # another SSE producer may send no step numbers at all
        dataclasses.replace(e, step=0) if isinstance(e, (AgentStart, AgentEnd)) else e
        for e in rearrange_stream()
    ]
    r = run_metrics(frame(unnumbered)).loc["r1"]
    assert (r["critical_path"], r["critical_agents"]) == (5.0, "B -> C")


def test_interleaving_counts_flips_runs_and_overlap() -> None:
    i = interleaving(frame(rearrange_stream())).loc["r1"]
    # chunk agents: A B A A B C C C
    assert (i["chunks"], i["flips"]) == (8, 4)
    assert (i["longest_run"], i["longest_run_agent"]) == (3, "C")
    assert i["overlap"] == 2.0  # A [0, 2) and B [0, 3)


def test_turns_and_gaps_stay_within_a_turn() -> None:
    df = frame(looping_stream())
    tr = turns(df)
    assert tr["start"].tolist() == [0.25, 2.0] and tr["end"].tolist() == [2.0, 3.5]
    assert tr["loop"].tolist() == [0, 1] and tr["finish_reason"].tolist() == ["stop", "error"]
    assert tr["chunks"].tolist() == [2, 1] and tr["ttft"].tolist() == [0.75, 1.0]
    assert chunk_gaps(df)["gap"].tolist() == [0.5]  # 1.5 -> 3.0 crosses turns: not a gap
    m = agent_metrics(df).loc[("r2", "X")]
    assert (m["turns"], m["duration"], m["ttft"], m["errors"]) == (2, 1.75 + 1.5, 0.75, 1)
    assert (m["output_tokens"], m["cost"]) == (3, 0.75)
    r = run_metrics(df).loc["r2"]
    assert (r["status"], r["errors"], r["critical_path"], r["max_concurrency"]) == ("failed", 1, 3.25, 1)
    # no run-level usage event: the run's tokens are the sum of its agents'
    assert (r["input_tokens"], r["output_tokens"], r["cost"]) == (11, 3, 0.75)


def test_several_runs_are_kept_apart() -> None:
    df = frame(rearrange_stream("r1"), looping_stream("r2"))
    assert list(run_metrics(df).index) == ["r1", "r2"]
    assert interleaving(df)["flips"].tolist() == [4, 0]
    assert list(agent_metrics(df).index) == [("r1", "A"), ("r1", "B"), ("r1", "C"), ("r2", "X")]


def test_an_unfinished_turn_counts_until_the_last_event() -> None:
    live = rearrange_stream()[:9]  # A and B started, last event: B's chunk at 1.5
    df = frame(live)
    assert turns(df)["duration"].isna().all()
    assert interleaving(df).loc["r1", "overlap"] == 1.5
    assert run_metrics(df).loc["r1", "max_concurrency"] == 2


def test_metrics_bundle_and_bad_input() -> None:
    bundle = metrics(frame(rearrange_stream()))
    assert bundle.agents.shape[0] == 3 and "flips" in bundle.interleaving
    assert "<h4>agents</h4>" in bundle._repr_html_() and "critical_path" in repr(bundle)
    with pytest.raises(TypeError, match="recorder DataFrame"):
        agent_metrics([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing column"):
        run_metrics(pd.DataFrame({"x": [1]}))
    empty = Recorder().df
    assert agent_metrics(empty).empty and run_metrics(empty).empty and interleaving(empty).empty


def test_a_real_parallel_swarm_interleaves_and_hands_over(scripted) -> None:
    agents = [Agent(agent_name=n, print_on=False, provider=scripted(list("abcdef"))) for n in ("A", "B", "C")]
    rec = Recorder()
    AgentRearrange(agents=agents, flow="A, B -> C").run("task", recorder=rec)
    i = interleaving(rec.df).iloc[0]
    assert i["flips"] >= 3  # the seed's test of a truly parallel phase
    assert (i["longest_run"], i["longest_run_agent"]) == (6, "C")  # C runs alone, after both
    r = run_metrics(rec.df).iloc[0]
    assert r["max_concurrency"] == 2 and r["chunks"] == 18 and r["turns"] == 3
    assert r["critical_path"] <= r["busy_time"] and r["parallel_efficiency"] <= 1.0
    m = agent_metrics(rec.df)
    assert m["chunks"].tolist() == [6, 6, 6] and m["output_tokens"].tolist() == [6, 6, 6]
    assert m["cost"].sum() == pytest.approx(3 * 0.002)


def test_a_sequential_workflow_never_flips_inside_an_agent(scripted) -> None:
    agents = [Agent(agent_name=n, print_on=False, provider=scripted(list("xyz"))) for n in ("A", "B")]
    rec = Recorder()
    SequentialWorkflow(agents=agents).run("task", recorder=rec)
    i = interleaving(rec.df).iloc[0]
    assert (i["flips"], i["longest_run"], i["overlap"]) == (1, 3, 0.0)
    assert run_metrics(rec.df).iloc[0]["max_concurrency"] == 1


def test_ttft_is_the_first_answer_token_and_ttfr_the_first_thought() -> None:
    from nbswarm.models import Completion, Reasoning, Text

    class Thinker:
        async def stream(self, request):
            yield Reasoning("hmm")
            yield Reasoning(" yes")
            yield Text("Answer")
            yield Completion(output_tokens=3)

    rec = Recorder()
    Agent(agent_name="T", provider=Thinker(), print_on=False).run("task", recorder=rec)
    tr = turns(rec.df).iloc[0]
    chunks = rec.df[rec.df["event"] == "chunk"]
    first_text = chunks[chunks["kind"] == "text"]["t"].min()
    first_thought = chunks[chunks["kind"] == "reasoning"]["t"].min()
    assert tr["ttft"] == pytest.approx(first_text - tr["start"])
    assert tr["ttfr"] == pytest.approx(first_thought - tr["start"]) and tr["ttfr"] <= tr["ttft"]
    row = agent_metrics(rec.df).iloc[0]
    assert row["ttfr"] == pytest.approx(tr["ttfr"]) and row["ttft"] == pytest.approx(tr["ttft"])
