"""Run: ordered stamping, fan-out in the caller's thread, sync/async drivers, isolation of failing sinks."""

from __future__ import annotations

import asyncio
import threading
from itertools import pairwise

import pytest

from nbswarm import Run
from nbswarm._engine_loop import pending_tasks
from nbswarm.events import Chunk, End, Error, Metadata
from nbswarm.run import on_run_created


def body_of(n: int, delay: float = 0.0):
    async def body(run: Run) -> None:
        run.emit(Metadata, job_id=run.run_id, name="t", swarm_type="Agent", number_of_agents=1, agents=("A",))
        for i in range(n):
            if delay:
                await asyncio.sleep(delay)
            run.emit(Chunk, agent="A", content=f"<{i}>", index=i)
        run.emit(End, execution_time=run.elapsed(), output="done")

    return body


def test_events_are_stamped_in_order_and_replayed() -> None:
    run = Run(body_of(50))
    first = list(run)
    assert [e.seq for e in first] == list(range(52))
    assert all(e.run_id == run.run_id for e in first)
    assert all(a.t <= b.t for a, b in pairwise(first))
    assert list(run) == first  # a finished run replays
    assert run.result() == "done"


def test_sinks_run_in_the_calling_thread_in_order() -> None:
    seen: list[tuple[int, str]] = []
    threads: set[int] = set()

    def sink(event) -> None:
        threads.add(threading.get_ident())
        seen.append((event.seq, event.type))

    Run(body_of(20, delay=0.001), sinks=[sink]).result()
    assert threads == {threading.get_ident()}
    assert [s for s, _ in seen] == list(range(22))


def test_a_failing_sink_becomes_one_error_event_and_others_still_get_everything(caplog) -> None:
    good: list[int] = []

    def broken(event) -> None:
        if event.type == "chunk":
            raise RuntimeError("display exploded")

    run = Run(body_of(10), sinks=[broken, lambda e: good.append(e.seq)])
    assert run.result() == "done"
    errors = [e for e in run.events if isinstance(e, Error)]
    assert len(errors) == 1 and errors[0].error_type == "CallbackError"
    assert "broken" in errors[0].message and "display exploded" in errors[0].message
    assert good == [e.seq for e in run.events]  # the good sink saw every event, including the error
    assert "display exploded" in caplog.text


def test_a_late_sink_catches_up_with_everything_already_delivered() -> None:
    run = Run(body_of(5))
    run.result()
    late: list[int] = []
    run.add_sink(lambda e: late.append(e.seq))
    assert late == [e.seq for e in run.events]


def test_flush_is_rate_limited_and_close_is_called_once() -> None:
    class Display:
        def __init__(self) -> None:
            self.events = 0
            self.flushes = 0
            self.closes = 0

        def __call__(self, event) -> None:
            self.events += 1

        def flush(self) -> None:
            self.flushes += 1

        def close(self) -> None:
            self.closes += 1

    display = Display()
    Run(body_of(2000), sinks=[display]).result()
    assert display.events == 2002
    assert display.closes == 1
    assert 1 <= display.flushes < 200  # coalesced: far fewer flushes than events


def test_async_driver_runs_on_the_callers_loop() -> None:
    async def main() -> tuple[list[int], str, set[int]]:
        threads: set[int] = set()
        run = Run(body_of(10, delay=0.001), sinks=[lambda e: threads.add(threading.get_ident())])
        seqs = [e.seq async for e in run]
        return seqs, await run, threads

    seqs, result, threads = asyncio.run(main())
    assert seqs == list(range(12))
    assert result == "done"
    assert threads == {threading.get_ident()}


def test_sync_result_works_inside_a_running_loop() -> None:
    # A notebook cell: the kernel's loop is running in this thread; asyncio.run would fail here.
    async def cell() -> str:
        return Run(body_of(3, delay=0.001)).result()

    assert asyncio.run(cell()) == "done"


def test_body_exception_is_raised_by_result_and_events_are_kept() -> None:
    async def body(run: Run) -> None:
        run.emit(Chunk, agent="A", content="x", index=0)
        raise KeyError("bug")

    run = Run(body)
    with pytest.raises(KeyError):
        run.result()
    assert [e.type for e in run.events] == ["chunk"]


def test_cancel_stops_the_body_and_leaves_no_task() -> None:
    started = threading.Event()

    async def body(run: Run) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            run.emit(End, execution_time=run.elapsed(), output="", status="cancelled")
            raise

    run = Run(body)
    iterator = iter(run)
    threading.Timer(0.05, run.cancel).start()
    events = list(iterator)
    assert events[-1].type == "end" and events[-1].status == "cancelled"
    assert run.done
    assert pending_tasks() == set()


def test_on_run_created_sees_new_runs_until_removed() -> None:
    created: list[Run] = []
    remove = on_run_created(created.append)
    first = Run(body_of(1))
    remove()
    Run(body_of(1))
    assert created == [first]
