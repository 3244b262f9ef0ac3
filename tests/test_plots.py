"""Plots render to PNG, with one lane per agent, the agents' colours, and several runs side by side."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from nbswarm import Agent, plots
from nbswarm.palette import agent_colors
from nbswarm.recorder import Recorder
from nbswarm.workflows import AgentRearrange

PIECES = {"A": list("abcde"), "B": list("fgh"), "C": list("ijklmn")}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def recorded(scripted, runs: int = 1) -> Recorder:
    rec = Recorder()
    for _ in range(runs):
        agents = [Agent(agent_name=n, print_on=False, provider=scripted(p)) for n, p in PIECES.items()]
        AgentRearrange(agents=agents, flow="A, B -> C").run("task", recorder=rec)
    return rec


def lane_labels(ax) -> list[str]:
    return [label.get_text() for label in ax.get_yticklabels()]


def test_timeline_has_a_lane_per_agent_with_turn_bars_and_chunk_ticks(scripted) -> None:
    df = recorded(scripted).df
    ax = plots.timeline(df)
    assert lane_labels(ax) == ["A", "B", "C"]
    colors = agent_colors(["A", "B", "C"])
    bars = ax.collections  # one set of turn bars per lane
    assert [to_hex(b.get_facecolor()[0]) for b in bars] == list(colors.values())
    assert [len(b.get_paths()) for b in bars] == [1, 1, 1]  # one turn each
    ticks = {to_hex(line.get_color()): len(line.get_xdata()) for line in ax.get_lines()}
    assert ticks == {colors[a]: len(p) for a, p in PIECES.items()}
    assert [line.get_ydata()[0] for line in ax.get_lines()] == [0, -1, -2]  # each agent in its lane
    a_bar, b_bar, c_bar = (b.get_paths()[0].get_extents() for b in bars)
    assert c_bar.x0 >= max(a_bar.x1, b_bar.x1)  # C starts after both parallel agents ended


def test_timelines_of_several_runs_are_stacked(scripted) -> None:
    rec = recorded(scripted, runs=2)
    ax = plots.timeline(rec.df)
    assert lane_labels(ax) == [f"run {r} · {a}" for r in (1, 2) for a in "ABC"]
    one = plots.timeline(rec.df, run_id=rec.runs[1])
    assert lane_labels(one) == ["A", "B", "C"]


def test_cumulative_tokens_end_at_each_agents_chunk_count(scripted) -> None:
    ax = plots.cumulative_tokens(recorded(scripted).df)
    finals = {to_hex(line.get_color()): line.get_ydata()[-1] for line in ax.get_lines()}
    colors = agent_colors(["A", "B", "C"])
    assert finals == {colors[a]: len(p) for a, p in PIECES.items()}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B", "C"]


def test_gap_distribution_counts_every_gap(scripted) -> None:
    rec = Recorder()
    Agent(agent_name="A", print_on=False, provider=scripted(list("abcd"), delay=0.002)).run("t", recorder=rec)
    ax = plots.gap_distribution(rec.df)
    counts = sum(patch.get_path().vertices[:, 1].max() > 0 for patch in ax.patches)
    assert counts == 1  # one agent's histogram
    outline = ax.patches[0].get_path().vertices  # a step outline: each bin's height appears twice
    assert outline[1:-1:2, 1].sum() == 3  # 4 chunks -> 3 gaps


def test_cost_bars_stack_input_and_output_to_the_agents_cost(scripted) -> None:
    ax = plots.cost(recorded(scripted).df)
    inputs, outputs = ax.patches[:3], ax.patches[3:]
    totals = [i.get_width() + o.get_width() for i, o in zip(inputs, outputs, strict=True)]
    assert totals == pytest.approx([0.002] * 3)  # the scripted provider's cost per turn
    assert all(o.get_x() == pytest.approx(i.get_width()) for i, o in zip(inputs, outputs, strict=True))
    assert lane_labels(ax) == ["A", "B", "C"]


def test_summary_and_rec_plot_render_to_png(tmp_path, scripted) -> None:
    for runs in (1, 2):
        rec = recorded(scripted, runs=runs)
        fig = rec.plot()
        assert len(fig.axes) == 4
        path = tmp_path / f"summary{runs}.png"
        fig.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert fig.number not in plt.get_fignums()  # closed in pyplot: a notebook shows it once, as the result
    empty = plots.summary(Recorder().df)
    empty.savefig(tmp_path / "empty.png")


def test_plots_draw_on_a_given_axes_and_check_input(scripted) -> None:
    df = recorded(scripted).df
    _, ax = plt.subplots()
    assert plots.timeline(df, ax=ax) is ax
    with pytest.raises(KeyError, match="no run"):
        plots.cost(df, run_id="nope")
    with pytest.raises(TypeError, match="recorder DataFrame"):
        plots.timeline({"a": 1})  # type: ignore[arg-type]
