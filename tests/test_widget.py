"""The live view's Python side, without a browser: what it sends, how often, and what it keeps.

Messages are captured with a recording comm in place of the kernel's (as anywidget's own tests
do), so these are the exact messages a frontend would receive.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import os
import re
import sys
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import comm
import pytest
from rich.console import Console
from widget_util import RecordingComm

import nbswarm
import nbswarm.display as display
from nbswarm import Agent
from nbswarm.dashboard import Dashboard, render_state
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Error, Metadata, Start, Usage
from nbswarm.flow import parse_flow
from nbswarm.run import Run
from nbswarm.widget import LiveView, ViewState
from nbswarm.workflows import AgentRearrange, ConcurrentWorkflow, SequentialWorkflow


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


def panel_text(panel: dict[str, Any]) -> str:
    """A snapshot panel's text: its turns one after another (a later one starts with the separator)."""
    return "".join(turn["text"] for turn in panel.get("turns", []))


def replay_frontend(initial: dict[str, Any], messages: list[dict[str, Any]]) -> dict[int, str]:
    """Text per panel id from the messages (a check of the wire format; tests/test_view_js.py
    drives the real view.js with such messages)."""
    turns = {p["id"]: [t["text"] for t in p.get("turns", [])] for p in initial.get("panels", [])}
    seq = initial.get("seq", 0)
    for message in messages:
        if message["k"] == "d":
            assert message["seq"] == seq + 1, "deltas must arrive numbered without gaps"
            seq = message["seq"]
            for key, pieces in message["x"].items():
                panel = turns.setdefault(int(key), [])
                for number, piece in pieces:
                    panel.extend([""] * (number + 1 - len(panel)))
                    panel[number] += piece
        elif message["k"] == "snap":
            turns = {p["id"]: [t["text"] for t in p["turns"]] for p in message["state"]["panels"]}
            seq = message["state"]["seq"]
    return {pid: "".join(texts) for pid, texts in turns.items()}


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
    sent = [piece for m in recording.custom for pieces in m["x"].values() for _, piece in pieces]
    sent_chars = sum(len(piece) for piece in sent)
    assert sent_chars == sum(len(text) for text in run.outputs.values())


def test_bytes_sent_grow_linearly_with_the_text() -> None:
    sizes = {}
    for tokens in (1000, 4000):
        run = scripted_run([["A", "B", "C"]], swarm_type="ConcurrentWorkflow", tokens=tokens, bursts=4)
        view = LiveView().watch(run)
        run.result()
        text_bytes = sum(len(t.encode()) for t in run.outputs.values())
        panels = view.view_state["panels"]
        html_bytes = sum(len(json.dumps(t["html"])) for p in panels for t in p["turns"])
        # Deltas carry the text once and each turn's HTML once; the final state carries both once
        # more; the rest is small figures.
        overhead = 600 * (len(view.comm.sent) + 2)
        assert view.comm.nbytes() <= 2 * (text_bytes + html_bytes) + overhead
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
    assert view.comm.custom[-1]["x"] == {"0": [[0, "x" * 500]]}
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
    assert {p["agent"]: panel_text(p) for p in state["panels"]} == run.outputs
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
    assert all(panel_text(p) == "" for state in seen_traits for p in state["panels"])
    assert panel_text(view.view_state["panels"][0]) == run.outputs["A"]


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
    assert panel_text(panels["Bad"]) == "partial"
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
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    run = scripted_run([["A"], ["B"]], swarm_type="SequentialWorkflow", tokens=200, bursts=1, pause=0)
    run.result()
    view = display.show(run)
    assert shown == [view]
    assert view.comm.opened["state"]["view_state"]["closed"] is True
    assert view.comm.sent == []  # everything went in the one comm_open
    assert {p["agent"]: panel_text(p) for p in view.view_state["panels"]} == run.outputs
    assert display.show(run) is view  # shown again: the same widget, a second view of it
    assert shown == [view, view]


def test_show_events_of_several_runs_gives_one_view_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: None)
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
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
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
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
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
    panels = [(p["agent"], p["status"], panel_text(p)) for p in views[0]["panels"]]
    assert panels == [("Writer", "done", text)]


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
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
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
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: None)
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


# -- markdown, turns, reasoning, memory, front ends (issue 16) ------------------------------------


def test_markdown_renders_what_models_write_and_nothing_unsafe() -> None:
    from nbswarm.widget.markdown import render_markdown

    html = render_markdown(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n  - nested\n- two\n\n3. three\n4. four\n\n"
        "~~~\nplain\n~~~\n\n[wiki](https://en.wikipedia.org/wiki/Python_(language)) <b>bold</b>\n"
        "[x](javascript:alert(1)) ![i](http://example.com/i.png)"
    )
    assert "<table>" in html and "<td>1</td>" in html
    assert "<li>one\n<ul>\n<li>nested</li>" in html
    assert '<ol start="3">' in html
    assert "<pre><code>plain\n</code></pre>" in html
    assert 'href="https://en.wikipedia.org/wiki/Python_(language)"' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html.split("[x]")[0] and 'href="javascript' not in html
    assert "<img" not in html
    with pytest.raises(TypeError):
        render_markdown(None)  # type: ignore[arg-type]


def test_each_turn_of_a_panel_is_rendered_when_it_ends_and_the_text_joins_the_turns() -> None:
    agent = Agent(agent_name="Solo", max_loops=2, streaming_on=True, print_on=False)
    run = agent.stream("Explain rainbows")
    view = LiveView().watch(run)
    text = run.result()
    deltas = view.comm.custom
    rendered = [number for m in deltas for pieces in m.get("h", {}).values() for number, _ in pieces]
    assert rendered == [0, 1]  # each turn once, as it ended
    turns = view.view_state["panels"][0]["turns"]
    assert len(turns) == 2 and all(t["html"] for t in turns)
    assert "".join(t["text"] for t in turns) == text == view.texts["Solo"]


def test_reasoning_is_kept_beside_the_text_never_in_it() -> None:
    state = ViewState()
    state(metadata("Agent", ("A",)))
    state(AgentStart(run_id="r", seq=1, t=0.0, agent="A"))
    state(Chunk(run_id="r", seq=2, t=0.1, agent="A", content="hmm, ", kind="reasoning"))
    state(Chunk(run_id="r", seq=3, t=0.2, agent="A", content="Answer.", index=1))
    delta = state.take_delta()
    assert delta["r"] == {"0": [[0, "hmm, "]]} and delta["x"] == {"0": [[0, "Answer."]]}
    assert state.texts() == {"A": "Answer."}
    assert state.panels[0].turns[0].reasoning == "hmm, "


def test_the_models_token_count_replaces_the_chunk_count() -> None:
    state = ViewState()
    state(metadata("Agent", ("A",)))
    state(AgentStart(run_id="r", seq=1, t=0.0, agent="A"))
    for i in range(4):
        state(Chunk(run_id="r", seq=2 + i, t=0.1 * i, agent="A", content="xy", index=i))
    assert state.panels[0].tokens == 4
    state(AgentEnd(run_id="r", seq=6, t=1.0, agent="A", output="xyxyxyxy"))
    state(Usage(run_id="r", seq=7, t=1.0, agent="A", output_tokens=9, total_tokens=9))
    assert state.panels[0].figures(1.0)["n"] == 9


def test_tokens_per_second_is_one_figure_in_panel_dashboard_and_metrics() -> None:
    from nbswarm.dashboard import _figures
    from nbswarm.recorder import record

    with record() as rec:
        run = scripted_run([["A", "B"]], swarm_type="ConcurrentWorkflow", tokens=40, bursts=4, pause=0.1)
        view = LiveView().watch(run)
        run.result()
    metrics = rec.metrics().agents.reset_index().set_index("agent")["tokens_per_s"]
    for panel in view.view_state["panels"]:
        assert panel["tps"] == pytest.approx(metrics[panel["agent"]], abs=0.051)
        assert f"{panel['tps']:.1f} tok/s" in _figures(panel)


def test_a_finished_view_keeps_its_text_once_and_old_views_can_be_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nbswarm.widget import view as view_module

    updates: list[tuple[Any, str]] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr(view_module, "_CREATED", [])

    class Handle:
        display_id = "d1"

    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: Handle())
    monkeypatch.setattr(
        "IPython.display.update_display", lambda obj, display_id: updates.append((obj, display_id))
    )
    runs = []
    for _ in range(3):
        run = scripted_run([["A"]], swarm_type="Agent", tokens=50, bursts=1, pause=0)
        display.show(run)
        run.result()
        runs.append(run)
    views = [display._views[run] for run in runs]
    for view in views:  # the text lives once: in the synced state, not in the Python state too
        assert all(not t.parts and not t.pending for p in view.state.panels for t in p.turns)
        assert view.texts == runs[0].outputs
    assert nbswarm.release_views(keep=1) == 2
    assert [v.comm is None for v in views] == [True, True, False]
    released = [weakref.ref(view) for view in views[:2]]
    kept = views[2]
    del views, view, runs, run
    deadline = time.monotonic() + 10  # a finished run's driver lets go of it (and its sinks) shortly
    while any(ref() is not None for ref in released) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert [ref() for ref in released] == [None, None]  # nothing in the kernel holds them any more
    assert [display_id for _, display_id in updates] == ["d1", "d1"]
    assert "a49" in updates[0][0].data and "nbswarm-panel" in updates[0][0].data
    assert nbswarm.release_views() == 1 and kept.comm is None
    with pytest.raises(ValueError):
        nbswarm.release_views(keep=-1)


def test_notebook_front_ends_are_detected_by_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython
    from ipykernel.zmqshell import ZMQInteractiveShell

    class Shell(ZMQInteractiveShell):  # what Google Colab runs: a subclass of ipykernel's shell
        pass

    class TerminalShell:  # IPython in a terminal: no kernel
        kernel = None

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell.__new__(Shell))
    assert display.in_notebook()
    monkeypatch.setattr(IPython, "get_ipython", lambda: TerminalShell())
    assert not display.in_notebook()
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert not display.in_notebook()

    # In Colab, showing a view first turns on Colab's manager for third-party widgets (once).
    import types

    enabled: list[bool] = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append(True))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(display, "_colab_ready", False)
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: None)
    run = scripted_run([["A"]], swarm_type="Agent", tokens=5, bursts=1, pause=0)
    run.result()
    display._display(LiveView(run.events, final=True), run)
    display._display(LiveView(run.events, final=True), run)
    assert enabled == [True]


# -- the terminal (issue 16) -----------------------------------------------------------------------


def test_streamed_text_on_a_terminal_wraps_between_words() -> None:
    from nbswarm.console import ConsolePrinter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    text = "The quick brown fox jumps over the lazy dog, then naps beside the riverbank.\nNew line here."
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]  # pieces that cut words apart
    out = Terminal()
    printer = ConsolePrinter({"A": 1}, file=out, width=20)
    printer(AgentStart(run_id="r", seq=0, t=0.0, agent="A"))
    for i, piece in enumerate(pieces):
        printer(Chunk(run_id="r", seq=1 + i, t=0.0, agent="A", content=piece, index=i))
    printer(AgentEnd(run_id="r", seq=99, t=0.0, agent="A", output=text))
    body = out.getvalue().split("━\n", 1)[1]
    lines = body.rstrip("\n").split("\n")
    assert all(len(line) <= 20 for line in lines), lines
    assert body.split() == text.split()  # every word whole, none split, none lost
    piped = io.StringIO()  # not a terminal: exactly as streamed
    printer = ConsolePrinter({"A": 1}, file=piped)
    printer(AgentStart(run_id="r", seq=0, t=0.0, agent="A"))
    for i, piece in enumerate(pieces):
        printer(Chunk(run_id="r", seq=1 + i, t=0.0, agent="A", content=piece, index=i))
    assert piped.getvalue().endswith(text)


def test_dashboard_output_ends_with_a_newline_outside_a_terminal() -> None:
    out = io.StringIO()
    board = Dashboard(console=Console(file=out, width=60))
    run = scripted_run([["A"]], swarm_type="Agent", tokens=10, bursts=1, pause=0)
    run.add_sink(board)
    run.result()
    assert out.getvalue().endswith("╯\n")


def test_replay_in_a_terminal_shows_parallel_agents_in_their_own_panels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nbswarm.cli import main
    from nbswarm.recorder import record

    with record() as rec:
        scripted_run([["A", "B"]], swarm_type="ConcurrentWorkflow", tokens=40, bursts=2, pause=0).result()
    path = tmp_path / "run.jsonl"
    rec.save(path)
    assert main(["replay", str(path), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(" a39" in line for line in lines) and any(" b39" in line for line in lines)
    # Each agent's words sit in its own panel: no line mixes the two agents' tokens.
    assert not [line for line in lines if re.search(r"\ba\d+\b", line) and re.search(r"\bb\d+\b", line)]
    assert out.endswith("\n")


def test_ctrl_c_ends_the_demo_with_one_line() -> None:
    import signal
    import subprocess
    import sys

    repo = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=repo, NBSWARM_SIM_DELAY_SCALE="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "nbswarm", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("1/2")  # the demo is streaming
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 130
    assert err.strip() == "nbswarm demo: interrupted"


def test_dashboard_says_thinking_while_a_reasoning_model_has_no_text_yet() -> None:
    state = ViewState()
    state(metadata("Agent", ("A",)))
    state(AgentStart(run_id="r", seq=1, t=0.0, agent="A"))
    state(Chunk(run_id="r", seq=2, t=0.1, agent="A", content="Let me see", kind="reasoning"))
    out = io.StringIO()
    Console(file=out, width=60).print(render_state(state, width=60, lines=5))
    assert "thinking…" in out.getvalue() and "Let me see" not in out.getvalue()
    state(Chunk(run_id="r", seq=3, t=0.2, agent="A", content="Answer", index=1))
    out = io.StringIO()
    Console(file=out, width=60).print(render_state(state, width=60, lines=5))
    assert "thinking…" not in out.getvalue() and "Answer" in out.getvalue()


def test_a_sim_reasoning_models_thinking_is_kept_apart_from_its_answer() -> None:
    agent = Agent(agent_name="R", model_name="sim/o3-mini", print_on=False, streaming_on=True)
    run = agent.stream("Why is the sky blue?")
    view = LiveView().watch(run)
    run.result()
    (turn,) = view.view_state["panels"][0]["turns"]
    assert turn["think"] and turn["think"] not in turn["text"]
    assert turn["text"] == run.outputs["R"] and turn["html"]
