"""A Run is safe to leave, close, nest, fork, cancel and display (issue 11).

Each test here failed on the code before the rebuild (commit e265360): leaving a run early leaked
it, a nested sync run deadlocked the engine loop, a sibling's own cancellation left the other agent
streaming past ``end``, a forked child hung, display never started a run, ``record()`` captured
other threads' runs, and a KeyboardInterrupt inside a callback took that event away from later sinks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import threading
from typing import Any

import pytest
from conftest import ScriptedProvider

from nbswarm import Agent, ConcurrentWorkflow, Run
from nbswarm._engine_loop import pending_tasks
from nbswarm.events import Chunk, End
from nbswarm.recorder import record

WAIT = 10.0  # every wait in these tests is bounded


class ClosingSink:
    """Records events and whether the run closed it."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.closed = threading.Event()

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed.set()


def slow_agent(name: str = "A", pieces: int = 2000, delay: float = 0.005) -> tuple[Agent, ScriptedProvider]:
    provider = ScriptedProvider([f" w{i}" for i in range(pieces)], delay=delay)
    return Agent(agent_name=name, provider=provider, print_on=False), provider


def assert_left_cleanly(run: Run, sink: ClosingSink, provider: ScriptedProvider) -> None:
    """Within 1 s of leaving: cancelled ``end`` last, every sink closed, no task left, provider stopped."""
    assert sink.closed.wait(1.0), "the sink was not closed"
    assert run.done and run.status == "cancelled"
    count = len(run.events)
    assert run.events[-1].type == "end"
    assert provider.cancelled == 1
    assert pending_tasks() == set()
    assert len(run.events) == count  # nothing after end
    assert [e.seq for e in sink.events] == [e.seq for e in run.events]


def test_break_out_of_the_loop_cancels_the_run_and_closes_the_sinks() -> None:
    agent, provider = slow_agent()
    sink = ClosingSink()
    run = agent.stream("x")
    run.add_sink(sink)
    for event in run:
        if isinstance(event, Chunk) and event.index == 3:
            break
    assert_left_cleanly(run, sink, provider)


def test_an_exception_in_the_loop_body_cancels_the_run() -> None:
    agent, provider = slow_agent()
    sink = ClosingSink()
    run = agent.stream("x")
    run.add_sink(sink)
    with pytest.raises(ValueError):
        for event in run:
            if isinstance(event, Chunk):
                raise ValueError("user code failed")
    assert_left_cleanly(run, sink, provider)


def test_leaving_a_with_block_closes_the_run() -> None:
    agent, provider = slow_agent()
    sink = ClosingSink()
    with agent.stream("x") as run:
        run.add_sink(sink)
        for event in run:
            if isinstance(event, Chunk):
                break
    assert_left_cleanly(run, sink, provider)
    run.close()  # idempotent


def test_close_stops_a_started_run() -> None:
    agent, provider = slow_agent()
    sink = ClosingSink()
    run = agent.stream("x")
    run.add_sink(sink)
    got_chunk = threading.Event()
    run.add_sink(lambda e: got_chunk.set() if isinstance(e, Chunk) else None)
    assert run.start() is run
    assert got_chunk.wait(WAIT)
    run.close()
    assert_left_cleanly(run, sink, provider)


def test_async_with_and_break_out_of_async_for_cancel_the_run() -> None:
    agent, provider = slow_agent()
    sink = ClosingSink()

    async def main() -> Run:
        async with agent.stream("x") as run:
            run.add_sink(sink)
            async for event in run:
                if isinstance(event, Chunk):
                    break
        return run

    run = asyncio.run(main())
    assert_left_cleanly(run, sink, provider)


def test_aclose_cancels_the_run() -> None:
    agent, provider = slow_agent()
    sink = ClosingSink()

    async def main() -> Run:
        run = agent.stream("x")
        run.add_sink(sink)
        async for _ in run:
            await run.aclose()
        return run

    run = asyncio.run(main())
    assert_left_cleanly(run, sink, provider)


class CallsHelper:
    """A provider that, like an agent-as-tool, runs another agent synchronously inside its stream."""

    def __init__(self, helper: Agent) -> None:
        self.helper = helper

    async def stream(self, request: Any) -> Any:
        from nbswarm.models import Completion

        yield "helper says: " + self.helper.run("help")  # blocking call on the engine loop
        yield Completion(output_tokens=1)


def test_a_sync_run_nested_in_code_on_the_engine_loop_completes() -> None:
    helper = Agent(agent_name="Helper", provider=ScriptedProvider(["ok"]), print_on=False)
    outer = Agent(agent_name="Outer", provider=CallsHelper(helper), print_on=False)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        result = pool.submit(outer.run, "x").result(timeout=WAIT)
    assert result == "helper says: ok"
    # The engine loop is still usable afterwards.
    assert Agent(agent_name="Next", provider=ScriptedProvider(["fine"]), print_on=False).run("y") == "fine"


class CancelsItself(ScriptedProvider):
    """A stream that raises CancelledError by itself (a library cancelling its own task)."""

    async def stream(self, request: Any) -> Any:
        yield "first"
        await asyncio.sleep(0.02)
        raise asyncio.CancelledError


def test_an_agent_cancelled_by_itself_cancels_its_siblings_and_nothing_follows_end() -> None:
    slow = ScriptedProvider([f" s{i}" for i in range(400)], delay=0.005)
    agents = [
        Agent(agent_name="Slow", provider=slow, print_on=False),
        Agent(agent_name="Quits", provider=CancelsItself(), print_on=False),
    ]
    run = ConcurrentWorkflow(agents=agents).stream("x")
    events = list(run)
    assert run.status == "cancelled"
    ends = [i for i, e in enumerate(run.events) if isinstance(e, End)]
    assert ends == [len(run.events) - 1]  # one end, and it is last
    assert events == list(run.events)
    assert slow.cancelled == 1
    assert pending_tasks() == set()
    assert {t.agent: t.finish_reason for t in run.turns} == {"Slow": "cancelled", "Quits": "cancelled"}


def _child_runs_an_agent(queue: Any) -> None:
    agent = Agent(agent_name="Child", provider=ScriptedProvider(["from", " child"]), print_on=False)
    queue.put(agent.run("x"))


def test_a_forked_child_can_run_agents() -> None:
    Agent(agent_name="Parent", provider=ScriptedProvider(["p"]), print_on=False).run("x")  # loop started
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_runs_an_agent, args=(queue,))
    child.start()
    child.join(WAIT)
    if child.is_alive():
        child.kill()
        child.join(WAIT)
        pytest.fail("the forked child hung running an agent")
    assert child.exitcode == 0
    assert queue.get(timeout=WAIT) == "from child"


def test_record_captures_only_the_runs_of_its_own_context() -> None:
    other_started = threading.Event()
    inside = threading.Event()

    def other_thread() -> None:
        inside.wait(WAIT)
        Agent(agent_name="Other", provider=ScriptedProvider(["o"]), print_on=False).run("x")
        other_started.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with record() as rec:
        inside.set()
        assert other_started.wait(WAIT)
        Agent(agent_name="Mine", provider=ScriptedProvider(["m"]), print_on=False).run("x")
    thread.join(WAIT)
    names = {e.name for e in rec.events() if e.type == "metadata"}
    assert names == {"Mine"}


def test_a_callback_interrupted_by_keyboardinterrupt_does_not_drop_the_event_for_later_sinks() -> None:
    agent, _ = slow_agent(pieces=50, delay=0.001)
    run = agent.stream("x")
    later: list[int] = []

    def interrupted(event: Any) -> None:
        if isinstance(event, Chunk) and event.index == 5:
            raise KeyboardInterrupt

    run.add_sink(interrupted)
    run.add_sink(lambda e: later.append(e.seq))
    with pytest.raises(KeyboardInterrupt):
        run.result()
    assert run.done
    assert later == [e.seq for e in run.events]  # every event, the interrupted one included


def test_a_body_failure_the_caller_handles_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    async def body(run: Run) -> None:
        raise KeyError("handled by the caller")

    caplog.set_level(logging.DEBUG, logger="nbswarm")
    with pytest.raises(KeyError):
        Run(body).result()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_displaying_a_run_starts_it_and_show_displays_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbswarm import display

    shown: list[Any] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    agent = Agent(agent_name="A", provider=ScriptedProvider(["a", "b"]), print_on=False)
    run = agent.stream("x")
    ended = threading.Event()
    run.add_sink(lambda e: ended.set() if isinstance(e, End) else None)
    run._ipython_display_()  # a bare `run` at the end of a cell
    assert run.status != "pending"
    assert ended.wait(WAIT)  # nobody iterates: the view still streams to the end
    assert len(shown) == 1
    view = shown[0]
    assert view.texts == {"A": "ab"}
    # The view show() returns is the cell's Out[n]: it must not display a second widget.
    assert set(view._repr_mimebundle_()) == {"text/plain"}


def test_showing_a_replay_starts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbswarm import display, replay

    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: None)
    with record() as rec:
        Agent(agent_name="A", provider=ScriptedProvider(["a", "b"]), print_on=False).run("x")
    again = replay(rec, speed=1000)
    ended = threading.Event()
    again.add_sink(lambda e: ended.set() if isinstance(e, End) else None)
    view = display.show(again)
    assert ended.wait(WAIT)
    assert view.texts == {"A": "ab"}


def test_the_terminal_dashboard_does_not_import_the_widget_package() -> None:
    import subprocess
    import sys

    code = "import sys, nbswarm.dashboard; print('nbswarm.widget' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


class AwaitsHelper:
    """A provider that awaits another agent (the async way to use an agent as a tool)."""

    def __init__(self, helper: Agent) -> None:
        self.helper = helper

    async def stream(self, request: Any) -> Any:
        from nbswarm.models import Completion

        yield "helper says: " + await self.helper.arun("help")
        yield Completion(output_tokens=1)


def test_an_async_run_nested_in_a_provider_completes() -> None:
    helper = Agent(agent_name="Helper", provider=ScriptedProvider(["ok"]), print_on=False)
    outer = Agent(agent_name="Outer", provider=AwaitsHelper(helper), print_on=False)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(outer.run, "x").result(timeout=WAIT) == "helper says: ok"


def test_result_after_start_calls_the_sinks_in_the_waiting_thread() -> None:
    agent, _ = slow_agent(pieces=200, delay=0.002)
    run = agent.stream("x")
    threads: dict[str, int] = {}
    first = threading.Event()

    def sink(event: Any) -> None:
        threads.setdefault(event.type, threading.get_ident())
        first.set()

    run.add_sink(sink)
    run.start()
    assert first.wait(WAIT)
    assert threads["metadata"] != threading.get_ident()  # nobody waited: the engine loop fed the sinks
    run.result()
    assert threads["end"] == threading.get_ident()  # once someone waits, the sinks run in its thread
