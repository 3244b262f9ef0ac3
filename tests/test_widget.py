"""The live view's Python side, without a browser: what it sends, how often, and what it keeps.

Messages are captured with a recording comm in place of the kernel's (as anywidget's own tests
do), so these are the exact messages a frontend would receive.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import comm
import pytest
from rich.console import Console

import nbswarm.display as display
from nbswarm import Agent
from nbswarm.dashboard import Dashboard, render_state
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Error, Metadata, Start, Usage
from nbswarm.flow import parse_flow
from nbswarm.run import Run
from nbswarm.widget import LiveView, ViewState
from nbswarm.workflows import AgentRearrange, ConcurrentWorkflow, SequentialWorkflow


class RecordingComm:
    """Stands in for a kernel comm: records what the widget sends, lets a test play the frontend."""

    def __init__(self, **kwargs: Any) -> None:
        self.opened = kwargs.get("data")
        self.sent: list[dict[str, Any]] = []
        self.comm_id = "test-comm"
        self._handler: Any = None

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.sent.append(data)

    def on_msg(self, handler: Any) -> None:
        self._handler = handler

    def on_close(self, handler: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass

    def from_frontend(self, content: dict[str, Any]) -> None:
        self._handler({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})

    @property
    def custom(self) -> list[dict[str, Any]]:
        return [m["content"] for m in self.sent if m.get("method") == "custom"]

    @property
    def updates(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.sent if m.get("method") == "update"]

    def nbytes(self) -> int:
        return sum(len(json.dumps(m, separators=(",", ":")).encode()) for m in self.sent)


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))


class CountingView(LiveView):
    """Counts the Run's flush() calls, to compare with the messages sent."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def words(agent: str, count: int) -> list[str]:
    return [f" {agent.lower()}{i}" for i in range(count)]


def scripted_run(
    steps: Sequence[Sequence[str]],
    *,
    swarm_type: str = "AgentRearrange",
    flow: str | None = None,
    tokens: int = 600,
    bursts: int = 4,
    pause: float = 0.05,
) -> Run:
    """A run that streams ``tokens`` pieces per agent in ``bursts``, pausing between bursts so
    the driver flushes several times while it streams (each agent of a step interleaved)."""
    agents = tuple(dict.fromkeys(name for step in steps for name in step))

    async def body(run: Run) -> None:
        run.emit(
            Metadata,
            job_id=run.run_id,
            name="scripted",
            swarm_type=swarm_type,
            number_of_agents=len(agents),
            agents=agents,
            flow=flow,
            steps=tuple(tuple(step) for step in steps),
        )
        run.emit(Start)
        for index, step in enumerate(steps):
            texts = {name: words(name, tokens) for name in step}
            for name in step:
                run.emit(AgentStart, agent=name, step=index)
            per_burst = -(-tokens // bursts)
            for start in range(0, tokens, per_burst):
                for i in range(start, min(tokens, start + per_burst)):
                    for name in step:
                        run.emit(Chunk, agent=name, content=texts[name][i], index=i)
                await asyncio.sleep(pause)
            for name in step:
                run.emit(AgentEnd, agent=name, output="".join(texts[name]), step=index)
                run.emit(Usage, agent=name, output_tokens=tokens, total_tokens=tokens, cost=0.001)
        run.emit(Usage, agent=None, output_tokens=tokens * len(agents), cost=0.001 * len(agents))
        run.emit(End, execution_time=run.elapsed(), output="", status="completed")

    return Run(body)


def replay_frontend(initial: dict[str, Any], messages: list[dict[str, Any]]) -> dict[int, str]:
    """What the JS store does with the messages: text per panel id."""
    texts = {p["id"]: p.get("text", "") for p in initial.get("panels", [])}
    seq = initial.get("seq", 0)
    for message in messages:
        if message["k"] == "d":
            assert message["seq"] == seq + 1, "deltas must arrive numbered without gaps"
            seq = message["seq"]
            for key, piece in message["x"].items():
                texts[int(key)] = texts.get(int(key), "") + piece
        elif message["k"] == "snap":
            texts = {p["id"]: p["text"] for p in message["state"]["panels"]}
            seq = message["state"]["seq"]
    return texts


# -- messages: bounded by flushes, linear in the text, lossless -------------------------------------


def test_one_message_per_flush_at_most_whatever_the_token_count() -> None:
    run = scripted_run([["A", "B"], ["C"]], flow="A, B -> C", tokens=2000, bursts=5)
    view = CountingView().watch(run)
    run.result()
    deltas = view.comm.custom
    tokens = 3 * 2000
    assert 2 <= len(deltas) <= view.flushes  # several live updates, never more than one per flush
    assert len(deltas) < tokens / 50
    assert all(m["k"] == "d" for m in deltas)
    assert [m["seq"] for m in deltas] == list(range(1, len(deltas) + 1))
    # Live: text reached the frontend before the end of the run, not only in the final flush.
    assert any(m["x"] and m["run"]["status"] == "running" for m in deltas[:-1])


def test_deltas_concatenate_to_each_agents_output_and_send_each_character_once() -> None:
    run = scripted_run([["A", "B"], ["C"]], flow="A, B -> C", tokens=1500, bursts=4)
    view = LiveView().watch(run)
    run.result()
    recording = view.comm
    texts = replay_frontend(recording.opened["state"]["view_state"], recording.custom)
    by_agent = {view.state.panels[pid].agent: text for pid, text in texts.items()}
    assert by_agent == run.outputs
    sent_chars = sum(len(piece) for m in recording.custom for piece in m["x"].values())
    assert sent_chars == sum(len(text) for text in run.outputs.values())


def test_bytes_sent_grow_linearly_with_the_text() -> None:
    sizes = {}
    for tokens in (1000, 4000):
        run = scripted_run([["A", "B", "C"]], swarm_type="ConcurrentWorkflow", tokens=tokens, bursts=4)
        view = LiveView().watch(run)
        run.result()
        text_bytes = sum(len(t.encode()) for t in run.outputs.values())
        # Deltas carry the text once; the final state carries it once more; the rest is small figures.
        overhead = 600 * (len(view.comm.sent) + 2)
        assert view.comm.nbytes() <= 2 * text_bytes + overhead
        sizes[tokens] = view.comm.nbytes()
    assert sizes[4000] < 5 * sizes[1000]  # 4x the text: ~4x the bytes, not ~16x


def test_chunks_alone_send_nothing_until_a_flush() -> None:
    view = LiveView()
    state = view.state
    state(
        Metadata(
            run_id="r",
            seq=0,
            t=0.0,
            job_id="r",
            name="x",
            swarm_type="Agent",
            number_of_agents=1,
            agents=("A",),
        )
    )
    state(AgentStart(run_id="r", seq=1, t=0.0, agent="A"))
    before = len(view.comm.sent)
    for i in range(500):
        view.sink(Chunk(run_id="r", seq=2 + i, t=0.001 * i, agent="A", content="x", index=i))
    assert len(view.comm.sent) == before
    view.flush()
    assert len(view.comm.sent) == before + 1
    assert view.comm.custom[-1]["x"] == {"0": "x" * 500}
    view.flush()  # nothing new: nothing sent
    assert len(view.comm.sent) == before + 1


# -- final state: in synced traits, for saved and headless notebooks --------------------------------


def test_final_state_trait_holds_full_text_and_statuses() -> None:
    run = scripted_run([["A", "B"], ["C"]], flow="A, B -> C", tokens=300, bursts=2)
    view = LiveView().watch(run)
    run.result()
    state = view.view_state
    assert state["closed"] is True
    assert state["run"]["status"] == "completed"
    assert {p["agent"]: p["text"] for p in state["panels"]} == run.outputs
    assert {p["agent"]: p["status"] for p in state["panels"]} == {"A": "done", "B": "done", "C": "done"}
    assert all(p["n"] == 300 for p in state["panels"])
    # The frontend got the same state through the comm (what nbclient stores in the notebook).
    assert view.comm.updates[-1]["view_state"] == state


def test_view_state_is_empty_of_text_while_live() -> None:
    run = scripted_run([["A"]], swarm_type="Agent", tokens=400, bursts=2)
    view = LiveView().watch(run)
    seen_traits = []
    for event in run:
        if isinstance(event, Chunk):
            seen_traits.append(view.view_state)
    assert all(p["text"] == "" for state in seen_traits for p in state["panels"])
    assert view.view_state["panels"][0]["text"] == run.outputs["A"]


# -- layout -----------------------------------------------------------------------------------------


def names(state: ViewState) -> list[list[str]]:
    return [[state.panels[i].agent for i in row] for row in state.rows]


def metadata(swarm_type: str, agents: tuple[str, ...], flow: str | None = None) -> Metadata:
    steps = parse_flow(flow, agents) if flow else ((agents,) if swarm_type != "SequentialWorkflow" else ())
    return Metadata(
        steps=steps,
        run_id="r",
        seq=0,
        t=0.0,
        job_id="r",
        name="w",
        swarm_type=swarm_type,
        number_of_agents=len(agents),
        agents=agents,
        flow=flow,
    )


def test_rearrange_rows_follow_the_flow_before_any_agent_starts() -> None:
    state = ViewState()
    state(metadata("AgentRearrange", ("A", "B", "C"), "A, B -> C"))
    assert state.layout == "rows"
    assert names(state) == [["A", "B"], ["C"]]
    assert [p.status for p in state.panels] == ["waiting"] * 3


def test_real_rearrange_run_rows_and_texts() -> None:
    agents = [Agent(agent_name=n, streaming_on=True, print_on=False) for n in ("A", "B", "C")]
    run = AgentRearrange(agents=agents, flow="A, B -> C").stream("Compare tea and coffee")
    view = LiveView().watch(run)
    run.result()
    assert names(view.state) == [["A", "B"], ["C"]]
    assert view.texts == run.outputs
    assert all(p.status == "done" for p in view.state.panels)


def test_concurrent_is_a_grid_of_all_agents_and_sequential_panels_appear_in_order() -> None:
    state = ViewState()
    state(metadata("ConcurrentWorkflow", ("A", "B", "C")))
    assert (state.layout, names(state)) == ("grid", [["A", "B", "C"]])

    agents = [Agent(agent_name=n, print_on=False) for n in ("R", "W")]
    run = SequentialWorkflow(agents=agents).stream("Write about tides")
    state = ViewState()
    shown = []
    for event in run:
        state(event)
        shown.append([p.agent for p in state.panels])
    assert state.layout == "stack"
    assert [] in shown and ["R"] in shown and ["R", "W"] in shown  # one after the other
    assert names(state) == [["R"], ["W"]]


def test_single_agent_loops_join_like_its_returned_text() -> None:
    agent = Agent(agent_name="Solo", max_loops=2, streaming_on=True, print_on=False)
    run = agent.stream("Explain rainbows")
    view = LiveView().watch(run)
    text = run.result()
    assert view.state.layout == "single"
    assert len(view.state.panels) == 1
    assert view.texts["Solo"] == text


def test_failed_agent_keeps_partial_text_and_shows_error(scripted: Any) -> None:
    good = Agent(agent_name="Good", provider=scripted(["ok", "!"]), print_on=False)
    bad = Agent(agent_name="Bad", provider=scripted(["par", "tial", "x"], fail_after=2), print_on=False)
    run = ConcurrentWorkflow(agents=[good, bad]).stream("go")
    view = LiveView().watch(run)
    run.result()
    panels = {p["agent"]: p for p in view.view_state["panels"]}
    assert panels["Bad"]["status"] == "error"
    assert panels["Bad"]["text"] == "partial"
    assert "went away" in panels["Bad"]["err"]
    assert panels["Good"]["status"] == "done"
    assert view.view_state["run"]["status"] == "failed"


# -- late frontends, late views, recorded runs ------------------------------------------------------


def test_hello_mid_run_gets_a_snapshot_that_deltas_continue_from() -> None:
    run = scripted_run([["A", "B"]], swarm_type="ConcurrentWorkflow", tokens=800, bursts=4)
    view = LiveView().watch(run)
    asked = False
    for event in run:
        if not asked and isinstance(event, Chunk) and view.comm.custom:
            view.comm.from_frontend({"k": "hello", "seq": 0})  # a page reloaded mid-run
            asked = True
    messages = view.comm.custom
    snaps = [i for i, m in enumerate(messages) if m["k"] == "snap"]
    assert len(snaps) == 1
    # A frontend that starts from the snapshot and applies the later deltas ends with everything.
    later = replay_frontend({"panels": [], "seq": 0}, messages[snaps[0] :])
    assert {view.state.panels[i].agent: t for i, t in later.items()} == run.outputs
    # After the run, the final trait has it all: a hello then is not answered.
    count = len(view.comm.sent)
    view.comm.from_frontend({"k": "hello", "seq": 0})
    assert len(view.comm.sent) == count


def test_show_a_finished_run_sends_the_whole_state_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    run = scripted_run([["A"], ["B"]], swarm_type="SequentialWorkflow", tokens=200, bursts=1, pause=0)
    run.result()
    view = display.show(run)
    assert shown == [view]
    assert view.comm.opened["state"]["view_state"]["closed"] is True
    assert view.comm.sent == []  # everything went in the one comm_open
    assert {p["agent"]: p["text"] for p in view.view_state["panels"]} == run.outputs
    assert display.show(run) is view  # shown again: the same widget, a second view of it
    assert shown == [view, view]


def test_show_events_of_several_runs_gives_one_view_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    first = scripted_run([["A"]], swarm_type="Agent", tokens=20, bursts=1, pause=0)
    second = scripted_run([["B"]], swarm_type="Agent", tokens=30, bursts=1, pause=0)
    first.result()
    second.result()
    views = display.show(list(first.events) + list(second.events))
    assert [v.texts for v in views] == [first.outputs, second.outputs]
    with pytest.raises(TypeError):
        display.show(42)
    with pytest.raises(ValueError):
        display.show([])


def test_a_view_added_while_running_catches_up_in_its_first_flush() -> None:
    run = scripted_run([["A"]], swarm_type="Agent", tokens=400, bursts=4)
    view = None
    for event in run:
        if view is None and isinstance(event, Chunk) and event.index == 150:
            view = LiveView().watch(run)
    assert view is not None
    texts = replay_frontend(view.comm.opened["state"]["view_state"], view.comm.custom)
    assert texts[0] == run.outputs["A"]


# -- where output goes ------------------------------------------------------------------------------


def test_streaming_agent_in_a_notebook_shows_the_view_instead_of_printing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    text = Agent(agent_name="Writer", streaming_on=True, print_on=True).run("Describe the sea")
    assert len(shown) == 1 and isinstance(shown[0], LiveView)
    assert shown[0].texts == {"Writer": text}
    assert capsys.readouterr().out == ""


def test_streaming_agent_in_a_terminal_prints(capsys: pytest.CaptureFixture[str]) -> None:
    text = Agent(agent_name="Writer", streaming_on=True, print_on=True).run("Describe the sea")
    out = capsys.readouterr().out
    assert "Writer" in out and text in out


def test_dashboard_in_a_notebook_is_the_view(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    agents = [Agent(agent_name=n, streaming_on=True, print_on=False) for n in ("M", "F", "T")]
    ConcurrentWorkflow(agents=agents, show_dashboard=True).run("Analyze TSLA")
    assert len(shown) == 1
    assert shown[0].state.layout == "grid"
    assert [p["status"] for p in shown[0].view_state["panels"]] == ["done"] * 3


# -- terminal dashboard -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_dashboard_redraws_at_its_rate_not_per_token() -> None:
    clock = FakeClock()
    out = io.StringIO()
    board = Dashboard(console=Console(file=out, width=80, height=40), fps=10, clock=clock)
    board(metadata("ConcurrentWorkflow", ("A", "B")))
    for name in ("A", "B"):
        board(AgentStart(run_id="r", seq=1, t=0.0, agent=name))
    for i in range(2000):  # 2,000 tokens over 2 s, the driver flushing every 0.04 s
        clock.now = i * 0.001
        board(Chunk(run_id="r", seq=2 + i, t=clock.now, agent="AB"[i % 2], content=f"w{i} ", index=i // 2))
        if i % 40 == 0:
            board.flush()
    for name in ("A", "B"):
        board(AgentEnd(run_id="r", seq=9000, t=2.0, agent=name, output=""))
    board(End(run_id="r", seq=9001, t=2.0, execution_time=2.0, output="", status="completed"))
    board.close()
    assert 2 <= board.draws <= 2 * 10 + 2  # ~10 frames a second, plus the final one
    final = out.getvalue()
    assert "w1999" in final and "completed" in final


def test_dashboard_frame_shows_only_the_tail_of_long_text() -> None:
    state = ViewState()
    state(metadata("Agent", ("A",)))
    state(AgentStart(run_id="r", seq=1, t=0.0, agent="A"))
    for i in range(50_000):
        state(Chunk(run_id="r", seq=2 + i, t=0.0, agent="A", content=f"word{i} ", index=i))
    out = io.StringIO()
    Console(file=out, width=60).print(render_state(state, width=60, lines=5))
    frame = out.getvalue()
    assert "word49999" in frame and "word10 " not in frame
    assert frame.count("\n") < 15


def test_errors_without_an_agent_are_shown_on_the_run() -> None:
    state = ViewState()
    state(metadata("Agent", ("A",)))
    state(Error(run_id="r", seq=1, t=0.0, agent=None, error_type="CallbackError", message="boom"))
    assert state.run["errors"] == ["CallbackError: boom"]
    assert state.take_delta()["run"]["errors"] == ["CallbackError: boom"]


def test_bad_arguments_fail_clearly() -> None:
    with pytest.raises(ValueError, match="max_height"):
        LiveView(max_height=3)
    with pytest.raises(ValueError, match="fps"):
        Dashboard(fps=0)


# -- headless execution: the final state is stored in the notebook ---------------------------------


def test_nbclient_stores_the_final_text_in_the_notebooks_widget_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    repo = str(Path(__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("NBSWARM_SIM_DELAY_SCALE", "0")
    source = (
        "import json\n"
        "from nbswarm import Agent\n"
        "agent = Agent(agent_name='Writer', streaming_on=True, print_on=True)\n"
        "text = agent.run('Describe the sea')\n"
        "print(json.dumps(text))"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    text = json.loads("".join(o.get("text", "") for o in outputs if o.output_type == "stream"))
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    states = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    views = [s["state"]["view_state"] for s in states.values() if "view_state" in s["state"]]
    assert len(views) == 1
    assert views[0]["closed"] is True
    assert [(p["agent"], p["status"], p["text"]) for p in views[0]["panels"]] == [("Writer", "done", text)]


def test_show_in_a_terminal_prints_the_finished_run(capsys: pytest.CaptureFixture[str]) -> None:
    run = scripted_run([["A", "B"]], swarm_type="ConcurrentWorkflow", tokens=30, bursts=1, pause=0)
    run.result()
    assert display.show(run) is None
    out = capsys.readouterr().out
    assert "A" in out and "b29" in out and "a29" in out and "completed" in out


def test_parallel_streaming_flow_in_a_notebook_gets_the_view_even_if_not_printed_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    run = scripted_run([["A", "B"], ["C"]], flow="A, B -> C", tokens=10, bursts=1, pause=0)
    display.attach_output(run, {"A": 1, "B": 1, "C": 1}, live=False, streaming=True)
    run.result()
    assert len(shown) == 1 and shown[0].texts == run.outputs
    quiet = scripted_run([["A"]], swarm_type="Agent", tokens=10, bursts=1, pause=0)
    display.attach_output(quiet, {"A": 1}, live=False, streaming=False)
    assert len(shown) == 1  # not streaming: printed at the end, as the seed does


def test_a_recorded_run_can_be_shown_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nbswarm.recorder import Recorder, record

    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    agents = [Agent(agent_name=n, streaming_on=True, print_on=False) for n in ("A", "B", "C")]
    with record() as rec:
        run = AgentRearrange(agents=agents, flow="A, B -> C").stream("Plan a garden")
        run.result()
    path = tmp_path / "run.jsonl"
    rec.save(path)
    view = display.show(Recorder.load(path))
    assert view.texts == run.outputs
    assert names(view.state) == [["A", "B"], ["C"]]
    assert view.view_state["closed"] is True
