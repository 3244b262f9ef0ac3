"""Recorder: one row per event, losslessly; every way in; JSONL streaming; exact save/load."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbswarm import Agent
from nbswarm._frame import from_frame, to_frame
from nbswarm.events import AgentEnd, AgentStart, Chunk, Done, End, Error, Metadata, Start, Usage
from nbswarm.recorder import COLUMNS, Recorder, SeqGapError, record
from nbswarm.run import Run
from nbswarm.workflows import AgentRearrange

DTYPES = {
    "run_id": "category",
    "seq": "int32",
    "t": "float64",
    "wall_time": "datetime64[ns, UTC]",
    "event": "category",
    "agent": "category",
    "step": "int32[pyarrow]",
    "loop": "int32[pyarrow]",
    "chunk_index": "int32[pyarrow]",
    "kind": "category",
    "content": "string[pyarrow]",
    "n_chars": "int32[pyarrow]",
    "input_tokens": "int32[pyarrow]",
    "output_tokens": "int32[pyarrow]",
    "total_tokens": "int32[pyarrow]",
    "cost": "float64",
    "estimated": "bool[pyarrow]",
    "model": "category",
    "finish_reason": "category",
    "status": "category",
    "execution_time": "float64",
    "error": "category",
    "name": "category",
    "swarm_type": "category",
    "job_id": "category",
    "number_of_agents": "int32[pyarrow]",
    "agents": "list<item: string>[pyarrow]",
    "flow": "category",
    "steps": "list<item: list<item: string>>[pyarrow]",
    "description": "category",
}


def odd_events(run_id: str = "odd") -> list:
    """Every event type, with the awkward values: None, empty strings, unicode, a failed turn."""
    fields = dict(run_id=run_id)
    return [
        Metadata(
            **fields,
            seq=0,
            t=0.0,
            job_id="job-1",
            name="ünï",
            swarm_type="Agent",
            number_of_agents=1,
            agents=("α",),
            flow=None,
            description="",
        ),
        Start(**fields, seq=1, t=0.125),
        AgentStart(**fields, seq=2, t=0.25, agent="α", step=0, loop=0),
        Chunk(**fields, seq=3, t=0.5, agent="α", content="日本\n", index=0),
        Chunk(**fields, seq=4, t=0.625, agent="α", content="", index=1),
        Error(**fields, seq=5, t=0.75, agent="α", error_type="Boom", message='said "no"'),
        AgentEnd(**fields, seq=6, t=1.0, agent="α", output="日本\n", finish_reason=None, step=0, loop=0),
        Usage(
            **fields,
            seq=7,
            t=1.0,
            agent="α",
            input_tokens=3,
            output_tokens=2,
            total_tokens=5,
            cost=1e-7,
            model=None,
        ),
        Error(**fields, seq=8, t=1.0, agent=None, error_type="CallbackError", message=""),
        Usage(**fields, seq=9, t=1.0, agent=None, input_tokens=3, output_tokens=2, total_tokens=5, cost=0.0),
        End(**fields, seq=10, t=1.5, execution_time=1.5, output="", status="failed"),
        Done(**fields, seq=11, t=1.5),
    ]


def scripted_run(scripted, rec: Recorder | None = None) -> Run:
    agents = [
        Agent(agent_name=n, print_on=False, provider=scripted(["a", "b", "c"])) for n in ("A", "B", "C")
    ]
    run = AgentRearrange(agents=agents, flow="A, B -> C").stream("task", recorder=rec)
    run.result()
    return run


def test_rows_equal_the_runs_events_one_to_one(scripted) -> None:
    rec = Recorder()
    run = scripted_run(scripted, rec)
    df = rec.df
    assert len(df) == len(run.events) > 20
    assert df["seq"].tolist() == [e.seq for e in run.events]
    assert df["event"].astype(str).tolist() == [e.type for e in run.events]
    assert df["t"].tolist() == [e.t for e in run.events]
    assert from_frame(df) == list(run.events)
    assert rec.events() == list(run.events)


def test_chunks_joined_per_agent_equal_each_agents_output() -> None:
    agents = [Agent(agent_name=n, print_on=False) for n in ("Researcher", "Critic", "Summary")]
    rec = Recorder()
    run = AgentRearrange(agents=agents, flow="Researcher, Critic -> Summary").stream("why SSE?", recorder=rec)
    run.result()
    chunks = rec.df[rec.df["event"] == "chunk"]
    joined = chunks.groupby("agent", observed=True)["content"].agg("".join).to_dict()
    assert joined == run.outputs and all(run.outputs.values())
    assert (chunks["n_chars"] == chunks["content"].str.len()).all()


def test_columns_and_dtypes_are_the_documented_ones(scripted) -> None:
    rec = Recorder()
    scripted_run(scripted, rec)
    df = rec.df
    assert tuple(df.columns) == COLUMNS and "output" not in df.columns
    assert {c: str(t) for c, t in df.dtypes.items()} == DTYPES
    assert list(df["agent"].cat.categories) == ["A", "B", "C"]  # flow order
    assert set(df["name"].astype(str)) == {"AgentRearrange"}  # the run's metadata on every row
    assert df["agent"].isna().tolist() == [getattr(e, "agent", None) is None for e in rec.events()]
    empty = Recorder().df
    assert tuple(empty.columns) == COLUMNS and len(empty) == 0


def test_wall_time_is_the_runs_wall_start_plus_t(scripted) -> None:
    before = time.time()
    rec = Recorder()
    scripted_run(scripted, rec)
    df = rec.df
    assert str(df["wall_time"].dt.tz) == "UTC"
    starts = (df["wall_time"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() - df["t"]
    assert starts.max() - starts.min() < 1e-5  # one start per run (ns rounding only)
    assert before - 1 <= starts.iloc[0] <= time.time()


def test_record_block_records_runs_created_inside_and_only_once(scripted) -> None:
    with record() as rec:
        run = scripted_run(scripted, rec)  # also recorder=: must not duplicate
        Agent(agent_name="solo", print_on=False, provider=scripted(["x"])).run("hi")
    scripted_run(scripted)  # after the block: not recorded
    assert len(rec.runs) == 2
    assert rec.events(run.run_id) == list(run.events)
    assert len(rec) == len(run.events) + len(rec.events(rec.runs[1]))


def test_add_after_the_fact_and_twice_does_not_duplicate(scripted) -> None:
    run = scripted_run(scripted)
    rec = Recorder().add(run)
    assert rec.events() == list(run.events)
    rec.add(run).add(run.events).add(rec).add(rec.df)
    assert rec.events() == list(run.events)
    copy = Recorder().add(rec.df)
    assert copy.events() == list(run.events)
    pd.testing.assert_frame_equal(copy.df, rec.df)


def test_add_a_live_run_records_what_came_before_and_after(scripted) -> None:
    agent = Agent(agent_name="A", print_on=False, provider=scripted(list("abcdef")))
    run = agent.stream("task")
    rec = Recorder()
    for event in run:
        if event.type == "chunk" and event.index == 2:
            rec.add(run)
    assert rec.events() == list(run.events)


def test_runs_recorded_from_several_threads_keep_every_event_in_order(scripted) -> None:
    rec = Recorder()
    runs: list[Run] = []

    def work(n: int) -> None:
        agent = Agent(agent_name=f"A{n}", print_on=False, provider=scripted(["p"] * 200))
        run = agent.stream("task", recorder=rec)
        run.result()
        runs.append(run)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rec) == sum(len(r.events) for r in runs)
    for run in runs:
        assert rec.events(run.run_id) == list(run.events)


def test_async_runs_record_too(scripted) -> None:
    rec = Recorder()
    agent = Agent(agent_name="A", print_on=False, provider=scripted(["x", "y"]))
    assert asyncio.run(agent.arun("task", recorder=rec)) == "xy"
    assert rec.df["content"][rec.df["event"] == "chunk"].tolist() == ["x", "y"]


def test_df_is_cached_until_new_events_arrive() -> None:
    events = odd_events()
    rec = Recorder().add(events[:5])
    first = rec.df
    assert rec.df is first
    rec.add(events[5:])
    assert rec.df is not first and len(rec.df) == len(events)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_save_load_round_trips_exactly(tmp_path, scripted, suffix: str) -> None:
    rec = Recorder()
    scripted_run(scripted, rec)
    rec.add(odd_events())
    path = rec.save(tmp_path / f"run{suffix}")
    loaded = Recorder.load(path)
    pd.testing.assert_frame_equal(loaded.df, rec.df, check_exact=True)
    assert loaded.events() == rec.events()
    assert loaded.runs == rec.runs


def test_stream_to_jsonl_writes_each_event_and_flushes_on_the_run_tick(tmp_path) -> None:
    path = tmp_path / "live.jsonl"
    rec = Recorder(path=path)
    events = odd_events()
    for event in events[:4]:
        rec(event)
    rec.flush()  # what the run does every FLUSH_INTERVAL
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [0, 1, 2, 3]
    assert "wall_start" in json.loads(lines[0]) and "wall_start" not in json.loads(lines[1])
    for event in events[4:]:
        rec(event)
    rec.close()  # a run ended: flushed, file still open for the next run
    assert Recorder.load(path).events() == events
    rec.stop_streaming()
    rec(Chunk(run_id="other", seq=0, t=0.0, agent="B", content="x"))
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(events)


def test_streaming_a_real_run_to_disk_matches_memory(tmp_path, scripted) -> None:
    with record(path=tmp_path / "rec.jsonl") as rec:
        scripted_run(scripted)
    rec.stop_streaming()
    pd.testing.assert_frame_equal(Recorder.load(tmp_path / "rec.jsonl").df, rec.df, check_exact=True)


def test_stream_to_writes_what_was_recorded_before(tmp_path) -> None:
    rec = Recorder().add(odd_events())
    rec.stream_to(tmp_path / "late.jsonl").stop_streaming()
    assert Recorder.load(tmp_path / "late.jsonl").events() == odd_events()


def test_a_crash_mid_line_loses_only_that_line(tmp_path) -> None:
    path = tmp_path / "crash.jsonl"
    Recorder().add(odd_events()).save(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 20], encoding="utf-8")  # the last line cut short
    assert Recorder.load(path).events() == odd_events()[:-1]
    path.write_text('{"type": "nope"}\n' + text, encoding="utf-8")
    with pytest.raises(ValueError, match=":1: not an nbswarm event"):
        Recorder.load(path)


def test_bad_input_fails_clearly(tmp_path) -> None:
    rec = Recorder()
    with pytest.raises(TypeError, match="takes a Run"):
        rec.add(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Recorder\.load"):
        rec.add("run.jsonl")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item 1 is not an nbswarm event"):
        rec.add([odd_events()[0], {"type": "chunk"}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"\.parquet or \.jsonl"):
        rec.save(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="JSONL"):
        rec.stream_to(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError):
        Recorder.load(tmp_path / "missing.parquet")
    with pytest.raises(KeyError, match="no run"):
        rec.events("nope")
    with pytest.raises(ValueError, match="missing column"):
        rec.add(pd.DataFrame({"x": [1]}))
    unstamped = [Chunk(run_id="", seq=0, t=0.0, agent="A", content=c) for c in "ab"]  # seq never assigned
    with pytest.raises(ValueError, match="increasing seq"):
        rec.add(unstamped)
    rec.add(unstamped[:1])
    with pytest.raises(ValueError, match="already recorded as a different event"):
        rec.add(unstamped[1:])
    assert len(rec) == 1
    assert repr(Recorder()) == "<Recorder runs=0 events=0>"


text = st.text(max_size=12)
name = st.text(min_size=0, max_size=6)
count = st.integers(min_value=0, max_value=2**40)
seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False)
maybe = st.one_of(st.none(), text)
FIELDS = {
    Metadata: dict(
        job_id=text,
        name=text,
        swarm_type=text,
        number_of_agents=count,
        agents=st.lists(name, max_size=3).map(tuple),
        flow=maybe,
        description=text,
    ),
    Start: dict(status=text),
    AgentStart: dict(agent=name, step=count, loop=count),
    Chunk: dict(agent=name, content=text, index=count),
    AgentEnd: dict(agent=name, output=text, finish_reason=maybe, step=count, loop=count),
    Usage: dict(
        agent=st.one_of(st.none(), name),
        input_tokens=count,
        output_tokens=count,
        total_tokens=count,
        cost=seconds,
        model=maybe,
    ),
    End: dict(execution_time=seconds, output=text, status=text),
    Error: dict(agent=st.one_of(st.none(), name), error_type=text, message=text),
    Done: dict(status=text),
}
any_event = st.one_of(
    *(st.fixed_dictionaries(fields).map(lambda f, c=cls: (c, f)) for cls, fields in FIELDS.items())
)


@st.composite
def streams(draw) -> list:
    """Events of up to three runs, interleaved, each run's seq increasing."""
    events, seqs = [], {}
    for cls, fields in draw(st.lists(any_event, max_size=25)):
        run_id = draw(st.sampled_from(["r1", "r2", "r3"]))
        seq = seqs[run_id] = seqs.get(run_id, -1) + draw(st.integers(1, 3))
        events.append(cls(run_id=run_id, seq=seq, t=draw(seconds), **fields))
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_any_stream_survives_the_dataframe_and_both_files(tmp_path_factory, events: list) -> None:
    df = to_frame(events, {"r1": 1.7e9})
    assert from_frame(df) == events
    rec = Recorder().add(events)
    folder = tmp_path_factory.mktemp("h")
    for suffix in (".jsonl", ".parquet"):
        loaded = Recorder.load(rec.save(folder / f"h{suffix}"))
        assert loaded.events() == events
        pd.testing.assert_frame_equal(loaded.df, rec.df, check_exact=True)


def stream_of(run_id: str, n: int) -> list:
    return [Chunk(run_id=run_id, seq=i, t=i * 0.01, agent="A", content=str(i), index=i) for i in range(n)]


def test_add_batch_records_remote_batches_with_their_wall_starts_and_skips_duplicates() -> None:
    rec = Recorder()
    a, b = stream_of("a", 6), stream_of("b", 4)
    assert rec.add_batch([*a[:3], *b[:2]], {"a": 1_700_000_000.0, "b": 1_700_000_100.0}) == 5
    assert rec.add_batch([*a[2:], *b[1:]]) == 5  # a[2] and b[1] arrive twice: skipped
    assert [(e.run_id, e.seq) for e in rec.events()] == [
        *((e.run_id, e.seq) for e in (*a[:3], *b[:2], *a[3:], *b[2:]))
    ]
    assert rec.gaps == {}
    starts = (rec.df["wall_time"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() - rec.df["t"]
    assert starts[rec.df["run_id"] == "a"].round(3).unique().tolist() == [1_700_000_000.0]
    assert starts[rec.df["run_id"] == "b"].round(3).unique().tolist() == [1_700_000_100.0]
    with pytest.raises(TypeError, match="expected nbswarm events"):
        rec.add_batch([{"type": "chunk"}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="list of events"):
        rec.add_batch(a[0])  # type: ignore[arg-type]


def test_a_seq_jump_is_counted_or_raised_never_silently_accepted(caplog) -> None:
    a = stream_of("a", 10)
    rec = Recorder()
    rec.add_batch(a[:3])
    rec.add_batch(a[6:])  # 3, 4, 5 were lost on the way
    rec(Chunk(run_id="late", seq=2, t=0.0, agent="A", content="x"))  # its 0 and 1 never came
    assert rec.gaps == {"a": 3, "late": 2}
    assert "seq jumps from 2 to 6" in caplog.text
    strict = Recorder(on_gap="raise")
    strict.add_batch(a[:3])
    with pytest.raises(SeqGapError, match="jumps from seq 2 to 6: 3 event"):
        strict.add_batch(a[6:])
    with pytest.raises(SeqGapError):
        strict(a[7])
    assert len(strict) == 3 and strict.gaps == {}
    with pytest.raises(ValueError, match="on_gap"):
        Recorder(on_gap="ignore")


def test_the_frame_is_compact_at_sweep_scale() -> None:
    """Many runs, mostly chunks: dictionary-encoded ids and Arrow columns keep a row near 100 bytes."""
    events = [e for r in range(200) for e in odd_events(f"run-{r}")[:4] + stream_of(f"run-{r}", 0)]
    events += [
        Chunk(run_id=f"run-{r}", seq=4 + i, t=1.0 + i, agent="α", content=" tok", index=2 + i)
        for r in range(200)
        for i in range(200)
    ]
    df = Recorder().add(events).df
    assert df["run_id"].cat.codes.dtype.itemsize <= 2 and df["agent"].cat.codes.dtype.itemsize == 1
    assert df.memory_usage(deep=True).sum() / len(df) < 110


def test_metrics_of_a_sweep_sized_recorder_without_errors() -> None:
    """Past 127 runs the run ids' codes widen; metrics() used to fail when no run had an error."""
    events = []
    for r in range(130):
        run = dict(run_id=f"r{r}")
        events += [
            Metadata(**run, seq=0, t=0.0, job_id="j", name="n", swarm_type="Agent", number_of_agents=1),
            Start(**run, seq=1, t=0.0),
            AgentStart(**run, seq=2, t=0.1, agent="A"),
            Chunk(**run, seq=3, t=0.2, agent="A", content="a", index=0),
            Chunk(**run, seq=4, t=0.3, agent="A", content="b", index=1),
            AgentEnd(**run, seq=5, t=0.3, agent="A", output="ab"),
            Usage(**run, seq=6, t=0.3, agent="A", input_tokens=1, output_tokens=2, total_tokens=3),
            Usage(**run, seq=7, t=0.3, input_tokens=1, output_tokens=2, total_tokens=3),
            End(**run, seq=8, t=0.4, execution_time=0.4, output="ab"),
        ]
    metrics = Recorder().add(events).metrics()
    assert len(metrics.runs) == 130 and (metrics.runs["errors"] == 0).all()
    assert len(metrics.agents) == 130 and (metrics.agents["chunks"] == 2).all()
    # And a sweep where every model failed before its first token: no chunks, no gaps, no TTFT.
    failed = [e for e in events if e.type != "chunk"]
    failed = [dataclasses.replace(e, seq=i % 7) for i, e in enumerate(failed)]
    metrics = Recorder().add(failed).metrics()
    assert len(metrics.agents) == 130 and metrics.agents["ttft"].isna().all()
    assert (metrics.agents["chunks"] == 0).all() and metrics.agents["gap_max"].isna().all()
