"""A consumer in another thread is handed the GIL when it has not looked at the log for a while.

A busy engine loop releases the GIL in every ``select`` and takes it back before the woken
consumer thread can run, so with hundreds of agents the consumer lost that race for hundreds
of ms (``bench/parallel.py``: p99 lag 70-290 ms at 1,000 agents on an idle machine). The loop
now waits, bounded, for a starved consumer to run. These tests drive the run's clock by hand,
so "starved" is decided by event times, not by how busy the machine is.
"""

from __future__ import annotations

import asyncio
import threading

from nbswarm import Run
from nbswarm._driver import HANDOFF_TIMEOUT, STARVED_AFTER
from nbswarm._engine_loop import pending_tasks
from nbswarm.events import Chunk, End

WAIT = 5.0  # seconds any step of these tests may take before it counts as hung


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stuck_consumer_run() -> tuple[Run, Clock, list[object], list[float]]:
    """A run whose consumer's sink blocks on its first chunk until the body lets it go.

    The body emits a chunk the consumer has not seen, then three more, each ``2 * STARVED_AFTER``
    later on the run's clock: each window the loop must try to hand over and -- the consumer being
    stuck in its sink -- give up after ``HANDOFF_TIMEOUT`` instead of waiting for it."""
    clock = Clock()
    entered, gate = threading.Event(), threading.Event()
    received: list[object] = []
    blocked_for: list[float] = []

    def sink(event: object) -> None:
        received.append(event)
        if isinstance(event, Chunk) and event.index == 0:
            entered.set()
            assert gate.wait(WAIT), "the body never let the consumer go"

    async def body(run: Run) -> None:
        loop = asyncio.get_running_loop()
        run.emit(Chunk, agent="A", content="a", index=0)
        assert await loop.run_in_executor(None, entered.wait, WAIT), "the consumer never started"
        run.emit(Chunk, agent="A", content="b", index=1)  # unseen: the consumer is stuck
        for index, content in enumerate("cde", start=2):  # starved windows, one after another
            clock.now += 2 * STARVED_AFTER
            start = loop.time()
            run.emit(Chunk, agent="A", content=content, index=index)  # the first hands over
            blocked_for.append(loop.time() - start)
            await asyncio.sleep(0.005)  # the window's timer: the next event opens a new window
        blocked_for.append(run._handovers)  # counted before the consumer can go on
        gate.set()
        run.emit(End, execution_time=clock.now, output="abcde", status="completed")

    run = Run(body, clock=clock, sinks=[sink])
    return run, clock, received, blocked_for


def test_sync_consumer_starved_gets_a_handover_bounded() -> None:
    run, _, received, blocked_for = stuck_consumer_run()
    assert run.result() == "abcde"
    *waits, handovers = blocked_for
    assert handovers == 3  # one per starved window
    assert max(waits) < HANDOFF_TIMEOUT + 1.0  # bounded: a stuck consumer never stalls the loop
    assert [e.content for e in received if isinstance(e, Chunk)] == ["a", "b", "c", "d", "e"]
    assert pending_tasks() == set()


def test_async_consumer_in_another_thread_starved_gets_a_handover() -> None:
    run, _, received, blocked_for = stuck_consumer_run()

    async def consume() -> str:
        return await run

    assert asyncio.run(consume()) == "abcde"
    assert blocked_for[-1] == 3
    assert [e.content for e in received if isinstance(e, Chunk)] == ["a", "b", "c", "d", "e"]


def test_no_handover_while_the_consumer_keeps_up() -> None:
    """Events close together on the run's clock: the consumer is never starved, the loop never waits."""
    clock = Clock()

    async def body(run: Run) -> None:
        for i in range(500):
            run.emit(Chunk, agent="A", content="x", index=i)
            if i % 50 == 0:
                await asyncio.sleep(0)
        run.emit(End, execution_time=0.0, output="x" * 500, status="completed")

    run = Run(body, clock=clock)
    assert run.result() == "x" * 500
    assert run._handovers == 0


def test_no_handover_for_a_run_nobody_waits_for() -> None:
    """A started run delivers on its own loop: there is no other thread to hand over to."""
    clock = Clock()
    done = threading.Event()

    async def body(run: Run) -> None:
        run.emit(Chunk, agent="A", content="a", index=0)
        clock.now += 2 * STARVED_AFTER
        run.emit(Chunk, agent="A", content="b", index=1)
        run.emit(End, execution_time=clock.now, output="ab", status="completed")

    run = Run(body, clock=clock, sinks=[lambda e: done.set() if isinstance(e, End) else None])
    run.start()
    assert done.wait(WAIT)
    assert run._handovers == 0


def test_no_handover_while_the_caller_runs_its_own_code() -> None:
    """The body of ``for ev in run`` may be slow on purpose: the loop never waits for it."""
    clock = Clock()
    gate = threading.Event()

    async def body(run: Run) -> None:
        loop = asyncio.get_running_loop()
        run.emit(Chunk, agent="A", content="a", index=0)
        for index, content in enumerate("bcd", start=1):
            await asyncio.sleep(0.005)
            clock.now += 2 * STARVED_AFTER
            run.emit(Chunk, agent="A", content=content, index=index)
        await loop.run_in_executor(None, gate.set)
        run.emit(End, execution_time=clock.now, output="abcd", status="completed")

    run = Run(body, clock=clock)
    contents = []
    for event in run:
        if isinstance(event, Chunk):
            contents.append(event.content)
            if event.index == 0:
                assert gate.wait(WAIT), "the body never finished its starved windows"
    assert contents == ["a", "b", "c", "d"]
    assert run._handovers == 0
