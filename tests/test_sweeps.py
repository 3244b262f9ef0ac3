"""Sweeps on the local and process backends: every event of every run delivered, once; the same
events on both backends; a killed worker's runs closed and retried; cancel; budget; cache."""

from __future__ import annotations

import os
import signal
import time

import matplotlib
import pandas as pd
import pytest
from sweep_util import assert_lossless, broken_make, make, signature, stubborn_make

import nbswarm
from nbswarm import InvalidArgument, Recorder, grid, sweep
from nbswarm.run import Run
from nbswarm.sweeps._view import SweepView

matplotlib.use("Agg")

SHAPES = ["agent", "sequential", "concurrent", "rearrange"]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_grid_is_the_product_of_the_axes_in_order() -> None:
    assert grid(model=["a", "b"], temperature=[0.2, 1.0], prompt="x") == [
        {"model": "a", "temperature": 0.2, "prompt": "x"},
        {"model": "a", "temperature": 1.0, "prompt": "x"},
        {"model": "b", "temperature": 0.2, "prompt": "x"},
        {"model": "b", "temperature": 1.0, "prompt": "x"},
    ]
    with pytest.raises(InvalidArgument, match="at least one axis"):
        grid()
    with pytest.raises(InvalidArgument, match="no values"):
        grid(model=[])


def test_bad_arguments_fail_clearly() -> None:
    ok = grid(shape=["agent"])
    for kwargs, match in [
        (dict(variants={"a": 1}), "list of dicts"),
        (dict(variants=[]), "empty"),
        (dict(variants=[1]), "dict with str keys"),
        (dict(make=42), "make must be a function"),
        (dict(task=""), "non-empty str"),
        (dict(task=[]), "give a task"),
        (dict(backend="dask"), "backend must be one of"),
        (dict(concurrency=0), "concurrency must be an integer >= 1"),
        (dict(retries=-1), "retries"),
        (dict(max_cost=0), "above 0"),
        (dict(max_cost="1"), "number of dollars"),
        (dict(cache=3), "cache must be"),
        (dict(recorder=[]), "Recorder"),
        (dict(ray_address="auto"), "for backend='ray'"),
        (dict(workers=0), "workers"),
    ]:
        args = dict(variants=ok, make=make, task="t") | kwargs
        with pytest.raises(InvalidArgument, match=match):
            sweep(args.pop("variants"), args.pop("make"), args.pop("task"), **args)


def test_a_thousand_local_runs_deliver_every_event_once() -> None:
    rec = Recorder()
    variants = grid(shape=SHAPES, n=list(range(250)))
    sw = sweep(variants, make, "Compare SSE and WebSockets", recorder=rec, concurrency=200)
    sw.wait(240)
    table = sw.table
    assert len(table) == 1000 and set(table["status"]) == {"completed"}
    assert list(table.columns[:2]) == ["shape", "n"] and (table["attempt"] == 1).all()
    by_run = assert_lossless(sw)
    assert len(by_run) == 1000 and len(rec) > 50_000
    assert sw.progress()["events"] == len(rec)
    # The table joins the recorder's frame on run_id.
    joined = rec.df.merge(table[["run_id", "shape"]], on="run_id")
    assert len(joined) == len(rec)
    chunks = joined[joined["event"] == "chunk"].groupby("shape", observed=True)["agent"].nunique()
    assert chunks.to_dict() == {"agent": 1, "concurrent": 3, "rearrange": 3, "sequential": 3}
    assert (table["ttft"] > 0).all() and (table["output_tokens"] > 0).all() and (table["cost"] > 0).all()
    runs = rec.metrics().runs  # the analysis works on the sweep's whole (Arrow-backed) frame
    assert len(runs) == 1000 and (runs["status"] == "completed").all()
    assert runs.loc[table["run_id"], "output_tokens"].tolist() == table["output_tokens"].tolist()


def test_process_backend_gives_the_same_events_as_local() -> None:
    variants = grid(shape=SHAPES, model=["sim/gpt-4o-mini", "sim/gpt-4o"])
    tasks = ["Why SSE?", "Explain caching"]
    local = sweep(variants, make, tasks, concurrency=8).wait(60)
    remote = sweep(variants, make, tasks, backend="process", workers=2, concurrency=8).wait(120)
    assert_lossless(local)
    assert_lossless(remote)
    a, b = local.table, remote.table
    assert len(a) == len(b) == 16 and set(b["status"]) == {"completed"}
    assert set(b["worker"]) != {"local"} and all(":" in w for w in b["worker"])
    for (_, x), (_, y) in zip(a.iterrows(), b.iterrows(), strict=True):
        assert signature(local.recorder.events(x["run_id"])) == signature(remote.recorder.events(y["run_id"]))
    pd.testing.assert_frame_equal(
        a.drop(columns=["run_id", "worker", "ttft", "duration", "tokens_per_s"]),
        b.drop(columns=["run_id", "worker", "ttft", "duration", "tokens_per_s"]),
    )
    mirror = remote.run(3)
    assert isinstance(mirror, Run)
    assert signature(list(mirror)) == signature(remote.recorder.events(b["run_id"].iloc[3]))


def test_a_killed_worker_process_leaves_failed_attempts_and_retries_with_no_loss() -> None:
    variants = grid(shape=["agent", "concurrent"], n=list(range(20)), delay=[0.3])
    sw = sweep(variants, make, "Why SSE?", backend="process", workers=2, concurrency=16)
    pool = sw._backend.pool
    victim = pool.workers[0].process.pid
    where = lambda row: row.worker is not None and row.worker.endswith(f":{victim}")  # noqa: E731
    wait_for(lambda: any(where(r) and r.events > 3 and not r.closed for r in sw.tracker.rows.values()))
    os.kill(victim, signal.SIGKILL)
    sw.wait(120)
    table = sw.table
    failed = table[table["status"] == "failed"]
    assert len(failed) >= 1 and failed["error"].str.startswith("WorkerLost").all()
    assert (failed["attempt"] == 1).all()
    retried = table[table["attempt"] == 2]
    assert set(retried["item"]) == set(failed["item"]) and set(retried["status"]) == {"completed"}
    assert all(run_id.endswith("-a2") for run_id in retried["run_id"])
    assert not retried["worker"].str.endswith(f":{victim}").any()
    done = table[table["status"] == "completed"]
    assert sorted(done["item"]) == list(range(40))  # every item completed exactly once
    by_run = assert_lossless(sw)
    partial = 0
    for run_id in failed["run_id"]:
        events = by_run[run_id]
        assert [e.type for e in events[-3:]] == ["error", "usage", "end"] and events[-1].status == "failed"
        for agent in {e.agent for e in events if e.type == "agent_start"}:
            text = "".join(e.content for e in events if e.type == "chunk" and e.agent == agent)
            turn_end = [e for e in events if e.type == "agent_end" and e.agent == agent]
            assert len(turn_end) == 1 and turn_end[0].output == text  # the partial text is kept
            partial += bool(text)
    assert partial >= 1


def test_cancel_ends_every_started_run_cancelled_with_its_events() -> None:
    variants = grid(shape=["agent", "sequential"], n=list(range(30)), delay=[0.2])
    sw = sweep(variants, make, "Why SSE?", concurrency=10)
    wait_for(lambda: sw.tracker.events > 100)
    sw.cancel()
    sw.wait(30)
    table = sw.table
    assert set(table["status"]) <= {"cancelled", "completed", "skipped"}
    assert (table["status"] == "cancelled").sum() >= 1 and (table["status"] == "skipped").sum() >= 1
    assert_lossless(sw)


def test_process_cancel_is_cooperative() -> None:
    variants = grid(n=list(range(30)), delay=[0.3])
    sw = sweep(variants, make, "Why SSE?", backend="process", workers=2, concurrency=10)
    wait_for(lambda: sw.tracker.events > 30)
    sw.cancel()
    sw.wait(60)
    table = sw.table
    assert (table["status"] == "cancelled").sum() >= 1 and (table["status"] == "skipped").sum() >= 1
    assert "failed" not in set(table["status"])
    assert_lossless(sw)


def test_max_cost_stops_starting_runs_and_the_spend_stays_near_it() -> None:
    variants = grid(n=list(range(40)), model=["sim/gpt-4o"], max_tokens=[200], delay=[0.02])
    sw = sweep(variants, make, "Why SSE?", concurrency=4, max_cost=0.01)
    sw.wait(60)
    table = sw.table
    per_run = table.loc[table["status"] == "completed", "cost"].max()
    assert (table["status"] == "skipped").sum() >= 20
    assert sw.progress()["budget_hit"]
    assert table["cost"].sum() <= 0.01 + 4 * per_run
    assert_lossless(sw)


def test_make_failures_are_failed_runs_not_a_failed_sweep() -> None:
    variants = [{"broken": False}, {"broken": True}]
    sw = sweep(variants, broken_make, "Why SSE?").wait(30)
    table = sw.table.set_index("broken")
    assert table.loc[False, "status"] == "completed" and table.loc[True, "status"] == "failed"
    assert "no such prompt file" in table.loc[True, "error"]
    assert_lossless(sw)


def test_the_cache_replays_a_stream_instead_of_calling_the_model(tmp_path, scripted) -> None:
    provider = scripted(["Hello", " again"])

    def make_scripted(variant):
        return nbswarm.Agent(agent_name="A", model_name="gpt-4o-mini", provider=provider, **variant)

    variants = grid(temperature=[0.1, 0.9])
    first = sweep(variants, make_scripted, "hi", cache=tmp_path).wait(30)
    assert len(provider.requests) == 2
    again = sweep(variants, make_scripted, "hi", cache=tmp_path).wait(30)
    assert len(provider.requests) == 2  # replayed: no new model call
    assert again.table["output"].tolist() == first.table["output"].tolist() == ["Hello again"] * 2
    assert again.table["cost"].tolist() == first.table["cost"].tolist()
    sweep(variants, make_scripted, "hi", cache=False).wait(30)
    sweep(variants, make_scripted, "hi").wait(30)  # the default caches real models only
    assert len(provider.requests) == 6


def test_table_run_view_and_figures() -> None:
    variants = grid(shape=["agent"], model=["sim/gpt-4o-mini", "sim/gpt-4o"], prompt=["", "Be brief."])
    sw = sweep(variants, make, ["Why SSE?", "Explain caching"]).wait(30)
    run = sw.run(0)
    assert isinstance(run, Run) and list(run.events) == sw.recorder.events(sw.table["run_id"][0])
    assert sw.run(sw.table["run_id"][1]).run_id == sw.table["run_id"][1]
    with pytest.raises(IndexError):
        sw.run(99)
    with pytest.raises(KeyError):
        sw.run("nope")
    html = SweepView(sw).render()
    assert "8 completed" in html and "sim/gpt-4o" in html and "events" in html
    fig = sw.plot()
    assert len(fig.axes) == 2
    side = sw.side_by_side("model")
    assert list(side.columns) == ["sim/gpt-4o", "sim/gpt-4o-mini"] and len(side) == 4
    assert "completed=8" in repr(sw)


def test_a_kernel_interrupt_while_waiting_cancels_the_sweep() -> None:
    import signal as signals
    import threading

    variants = grid(n=list(range(20)), delay=[0.3])
    sw = sweep(variants, make, "Why SSE?", concurrency=5)
    main = threading.main_thread().ident

    def interrupt() -> None:
        wait_for(lambda: sw.tracker.events > 20)
        signals.pthread_kill(main, signals.SIGINT)  # what Jupyter's interrupt button sends the kernel

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sw.wait(60)
    assert sw.done and sw.cancelling
    table = sw.table
    assert (table["status"] == "cancelled").sum() >= 1 and "running" not in set(table["status"])
    assert_lossless(sw)


def test_a_run_that_ignores_cancel_is_stopped_hard_after_the_grace_period() -> None:
    sw = sweep(grid(n=list(range(4))), stubborn_make, "Why SSE?", backend="process", workers=1)
    wait_for(lambda: sum(r.events > 5 for r in sw.tracker.rows.values()) == 4)
    started = time.monotonic()
    sw.cancel(grace=1.0)
    sw.wait(60)
    assert 1.0 <= time.monotonic() - started < 30
    table = sw.table
    assert set(table["status"]) == {"cancelled"}
    by_run = assert_lossless(sw)
    for events in by_run.values():
        assert events[-3].type == "error" and events[-3].error_type == "Cancelled"
        assert events[-4].type == "agent_end" and events[-4].output.startswith("w0 w1 ")


def test_workers_get_the_drivers_sim_settings_but_never_its_keys(monkeypatch) -> None:
    from nbswarm.sweeps._spec import items_of

    monkeypatch.setenv("NBSWARM_SIM_DELAY_SCALE", "0.5")
    monkeypatch.setenv("NBSWARM_API_KEY", "secret")
    monkeypatch.setenv("LITELLM_MASTER_KEY", "secret")
    env = items_of("s", [{}], ["t"])[0].env
    assert env["NBSWARM_SIM_DELAY_SCALE"] == "0.5"
    assert "NBSWARM_API_KEY" not in env and "LITELLM_MASTER_KEY" not in env
