"""The live view in a real browser: JupyterLab on 127.0.0.1, a notebook in headless Chromium.

One server and one page for the module; the notebook runs, on the sim model at a realistic
(short) pace: an ``AgentRearrange("A, B -> C")`` watched live, the seed's concurrent dashboard
example, and a single streaming agent. Screenshots go to ``artifacts/`` (or
``$NBSWARM_ARTIFACTS``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_util as bu

pytestmark = [
    pytest.mark.skipif(
        bu.chromium_path() is None, reason="chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.timeout(240),
]

ARTIFACTS = Path(os.environ.get("NBSWARM_ARTIFACTS", bu.REPO / "artifacts"))

SETUP = """
import json
import nbswarm
from nbswarm import Agent
from nbswarm.display import show
from nbswarm.models.sim import SimProfile, SimProvider
from nbswarm.run import on_run_created
from nbswarm.workflows import AgentRearrange, ConcurrentWorkflow

nbswarm.simulate()  # the seed's examples name real models: route them to the offline sim
runs = []
on_run_created(runs.append)

def sim(seed):
    return SimProvider(SimProfile(ttft=0.3, tokens_per_second=90, length=120, seed=seed))
"""

REARRANGE = """
roles = {"A": "market researcher", "B": "financial analyst", "C": "editor who merges reports"}
agents = [
    Agent(agent_name=name, system_prompt=f"You are a {role}.", streaming_on=True, print_on=False,
          provider=sim(seed))
    for seed, (name, role) in enumerate(roles.items())
]
rearrange = AgentRearrange(agents=agents, flow="A, B -> C")
run = rearrange.stream("Compare solar and wind power for a small island")
show(run)
final = run.result()
"""

# The seed's "Concurrent Workflow Dashboard" example (agent-streaming.md), verbatim but shorter prompts.
CONCURRENT = """
market_researcher = Agent(
    agent_name="Market-Researcher",
    system_prompt="You are a market research specialist. Analyze market trends and opportunities.",
    model_name="gpt-4o-mini",
    max_loops=1,
    streaming_on=True,
    print_on=False,
)
financial_analyst = Agent(
    agent_name="Financial-Analyst",
    system_prompt="You are a financial analyst. Evaluate financial metrics and performance.",
    model_name="gpt-4o-mini",
    max_loops=1,
    streaming_on=True,
    print_on=False,
)
technical_analyst = Agent(
    agent_name="Technical-Analyst",
    system_prompt="You are a technical analyst. Review price action and chart patterns.",
    model_name="gpt-4o-mini",
    max_loops=1,
    streaming_on=True,
    print_on=False,
)
workflow = ConcurrentWorkflow(
    name="market-analysis-workflow",
    agents=[market_researcher, financial_analyst, technical_analyst],
    max_loops=1,
    show_dashboard=True,
)
result = workflow.run(
    "Analyze Tesla (TSLA) stock from market, financial, and technical perspectives"
)
"""

SINGLE = """
agent = Agent(agent_name="Streaming-Agent", streaming_on=True, print_on=True, provider=sim(7))
response = agent.run("Write a detailed explanation of how neural networks work")
"""

# 3 agents x 20,000 tokens at full speed (no model delay at all) on a stock server.
FULL_SPEED = """
import asyncio, hashlib
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Metadata, Start

def full_speed(tokens, names):
    pieces = [f" t{i}" + ("\\n" if i % 12 == 11 else "") for i in range(tokens)]
    async def body(run):
        run.emit(Metadata, job_id=run.run_id, name="full speed", swarm_type="ConcurrentWorkflow",
                 number_of_agents=len(names), agents=tuple(names))
        run.emit(Start)
        for name in names:
            run.emit(AgentStart, agent=name)
        for i, piece in enumerate(pieces):
            for name in names:
                run.emit(Chunk, agent=name, content=name[0] + piece, index=i)
            if i % 100 == 99:
                await asyncio.sleep(0)
        for name in names:
            run.emit(AgentEnd, agent=name, output="".join(name[0] + piece for piece in pieces))
        run.emit(End, execution_time=run.elapsed(), output="")
    return nbswarm.Run(body)

fast = full_speed(20000, ["X-agent", "Y-agent", "Z-agent"])
show(fast)
fast.result()
"""

CELLS = [
    SETUP,  # 0
    REARRANGE,  # 1
    "print('JSON:' + json.dumps(run.outputs))",  # 2
    CONCURRENT,  # 3
    "print('JSON:' + json.dumps(runs[-1].outputs))",  # 4
    SINGLE,  # 5
    "print('JSON:' + json.dumps({'Streaming-Agent': response}))",  # 6
    FULL_SPEED,  # 7
    "digests = {k: hashlib.sha256(v.encode()).hexdigest() for k, v in fast.outputs.items()}\n"
    "print('JSON:' + json.dumps(digests))",  # 8
]

# A run streaming in the background (the kernel stays free), shown in a page opened mid-run. It
# streams until the test sets `gate` (from the late page, once that page has shown the text), so
# the page is opened mid-run on every machine, however loaded.
BACKGROUND = """
import asyncio
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Metadata, Start, Usage
gate = asyncio.Event()

async def gated(run):
    names = ["Early", "Late"]
    run.emit(Metadata, job_id=run.run_id, name="gated", swarm_type="ConcurrentWorkflow",
             number_of_agents=2, agents=tuple(names))
    run.emit(Start)
    for name in names:
        run.emit(AgentStart, agent=name)
    texts = {name: [] for name in names}
    i = 0
    while not gate.is_set():  # ~60 words a second each, until the test opens the gate
        for name in names:
            piece = f" {name.lower()}{i}" + ("\\n" if i % 8 == 7 else "")
            texts[name].append(piece)
            run.emit(Chunk, agent=name, content=piece, index=i)
        i += 1
        try:
            await asyncio.wait_for(gate.wait(), 1 / 60)
        except asyncio.TimeoutError:
            pass
        if i > 20000:
            raise TimeoutError("the test never opened the gate")
    for name in names:
        run.emit(AgentEnd, agent=name, output="".join(texts[name]))
        run.emit(Usage, agent=name, output_tokens=i, total_tokens=i)
    run.emit(End, execution_time=run.elapsed(), output="", status="completed")

late = nbswarm.Run(gated)
show(late)

async def _follow():
    return await late

late_task = asyncio.ensure_future(_follow())
"""
CELLS += [
    BACKGROUND,  # 9
    "gate.set()\nawait late_task\nprint('JSON:' + json.dumps(late.outputs))",  # 10
]

# One agent, two loops, each turn markdown of the kinds models write: a table, nested and
# numbered lists, a fenced code block.
TURNS = [
    "## Costs\n\n| source | cost | note |\n|---|---|---|\n| solar | low | daytime |\n"
    "| wind | lower | gusty (see [wiki](https://en.wikipedia.org/wiki/Wind_power_(energy))) |\n",
    "Plan:\n\n- build\n  - solar first\n  - then wind\n- measure\n\n3. third\n4. fourth\n\n"
    "~~~python\ndef total(costs):\n    return sum(costs)\n~~~\n",
]
TWO_TURNS = f"""
from nbswarm.models import Completion

class TwoTurns:  # a scripted model: the turns above, word by word, at ~80 words a second
    def __init__(self):
        self.calls = 0
    async def stream(self, request):
        text = {TURNS!r}[self.calls % 2]
        self.calls += 1
        pieces = text.split(" ")
        for n, word in enumerate(pieces):
            await asyncio.sleep(0.012)
            yield word if n == 0 else " " + word
        yield Completion(input_tokens=10, output_tokens=len(pieces), cost=0.0)

looper = Agent(agent_name="Looper", max_loops=2, streaming_on=True, provider=TwoTurns())
two_turns = looper.run("Plan the island's power")
print('JSON:' + json.dumps(two_turns))
"""
CELLS += [TWO_TURNS]  # 11

AT_BOTTOM_JS = "(el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 30"

ROOT_STATUS_JS = """(index) => {
  const root = window.jupyterapp.shell.currentWidget.content.widgets[index].node.querySelector(".nbswarm");
  return root ? root.dataset.runStatus : null;
}"""

DIGESTS_JS = """async (index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const out = {};
  for (const el of cell.node.querySelectorAll(".nbswarm-panel")) {
    const turns = [...el.querySelectorAll(".nbswarm-turn > .nbswarm-text")];
    const text = turns.map((t) => t.textContent).join("");
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    out[el.dataset.agent] = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return out;
}"""


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def printed_json(page: Any, index: int) -> dict[str, str]:
    text = bu.cell_output_text(page, index)
    assert "JSON:" in text, f"cell {index} printed no JSON: {text[:500]!r}"
    return json.loads(text.split("JSON:", 1)[1].strip())


@pytest.fixture(scope="module")
def lab_and_page() -> Any:
    with bu.jupyter_lab({"NBSWARM_SIM_DELAY_SCALE": "1", "NBSWARM_SIMULATE": "0"}) as lab:
        bu.write_notebook(lab.root / "live.ipynb", CELLS)
        with bu.chromium_page() as page:
            bu.open_notebook(page, lab, "live.ipynb")
            bu.start_cell(page, 0)
            bu.wait_cell(page, 0)
            yield lab, page


@pytest.fixture
def notebook_page(lab_and_page: Any) -> Any:
    return lab_and_page[1]


def output_area(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-Cell-outputArea")


def samples_where(samples: list[dict[str, Any]], predicate: Any) -> list[dict[str, Any]]:
    return [s for s in samples if predicate(s)]


def streaming_with_text(sample: dict[str, Any], agent: str) -> bool:
    panel = sample["panels"].get(agent)
    return bool(panel) and panel["status"] == "streaming" and panel["chars"] > 0


def test_rearrange_streams_live_and_ends_with_every_character(lab_and_page: Any) -> None:
    lab, page = lab_and_page
    bu.start_sampling(page, 1)
    bu.start_cell(page, 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a picture of A and B typing side by side
        panels = {p["agent"]: p for p in bu.panels_in_cell(page, 1)}
        if all(panels.get(a, {}).get("status") == "streaming" and len(panels[a]["raw"]) > 300 for a in "AB"):
            output_area(page, 1).screenshot(path=str(ARTIFACTS / "browser-live.png"))
            break
        time.sleep(0.05)
    bu.wait_cell(page, 1)
    bu.start_cell(page, 2)
    bu.wait_cell(page, 2)
    samples = bu.stop_sampling(page, 1)
    outputs = printed_json(page, 2)
    assert set(outputs) == {"A", "B", "C"}

    # Live: A and B typed at the same time, and C typed, all while the run was still running.
    running = samples_where(samples, lambda s: s["run"] == "running")
    assert samples_where(running, lambda s: streaming_with_text(s, "A") and streaming_with_text(s, "B"))
    c_live = samples_where(running, lambda s: streaming_with_text(s, "C"))
    assert c_live, "C's panel never showed text before the run ended"
    assert all(s["panels"]["A"]["status"] == "done" and s["panels"]["B"]["status"] == "done" for s in c_live)
    # Text grows in many steps, not in one final update.
    a_sizes = {s["panels"]["A"]["chars"] for s in running if "A" in s["panels"]}
    assert len(a_sizes) >= 5

    panels = bu.panels_in_cell(page, 1)
    assert [(p["agent"], p["row"]) for p in panels] == [("A", 0), ("B", 0), ("C", 1)]
    assert {p["agent"]: p["status"] for p in panels} == {"A": "done", "B": "done", "C": "done"}
    assert {p["agent"]: p["raw"] for p in panels} == outputs
    assert all(p["rendered"] for p in panels)  # markdown rendered once each agent finished

    # The raw/markdown toggle shows exactly the text.
    cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
    cell.locator('.nbswarm-panel[data-agent="A"] .nbswarm-md-toggle').click()
    panels = {p["agent"]: p for p in bu.panels_in_cell(page, 1)}
    assert not panels["A"]["rendered"]
    assert normalise(panels["A"]["visible"]) == normalise(outputs["A"])

    # The copy button puts the agent's exact text on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    cell.locator('.nbswarm-panel[data-agent="C"] .nbswarm-copy').click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nbswarm-copy')].some(b => b.textContent === 'copied')"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == outputs["C"]
    output_area(page, 1).screenshot(path=str(ARTIFACTS / "browser-rearrange.png"))


def test_seed_concurrent_dashboard_fills_three_panels_at_once(notebook_page: Any) -> None:
    page = notebook_page
    bu.start_sampling(page, 3)
    bu.start_cell(page, 3)
    bu.wait_cell(page, 3)
    bu.start_cell(page, 4)
    bu.wait_cell(page, 4)
    samples = bu.stop_sampling(page, 3)
    outputs = printed_json(page, 4)
    agents = ["Market-Researcher", "Financial-Analyst", "Technical-Analyst"]
    assert sorted(outputs) == sorted(agents)

    together = samples_where(
        samples, lambda s: s["run"] == "running" and all(streaming_with_text(s, a) for a in agents)
    )
    assert together, "the three panels never filled at the same time"

    panels = bu.panels_in_cell(page, 3)
    assert [(p["agent"], p["row"]) for p in panels] == [(a, 0) for a in agents]  # one grid row
    assert all(p["status"] == "done" for p in panels)
    assert {p["agent"]: p["raw"] for p in panels} == outputs
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    output_area(page, 3).screenshot(path=str(ARTIFACTS / "browser-dashboard.png"))
    page.screenshot(path=str(ARTIFACTS / "browser-notebook.png"))


def test_streaming_agent_with_print_on_shows_the_view_not_printed_text(notebook_page: Any) -> None:
    page = notebook_page
    bu.start_cell(page, 5)
    bu.wait_cell(page, 5)
    bu.start_cell(page, 6)
    bu.wait_cell(page, 6)
    expected = printed_json(page, 6)["Streaming-Agent"]
    panels = bu.panels_in_cell(page, 5)
    assert [(p["agent"], p["status"]) for p in panels] == [("Streaming-Agent", "done")]
    assert panels[0]["raw"] == expected
    # Shown in the view, not printed: the cell's output text is the view's, once.
    assert normalise(bu.cell_output_text(page, 5)).count(normalise(expected)[:80]) <= 1


def test_three_agents_at_full_speed_end_with_every_character_on_screen(notebook_page: Any) -> None:
    page = notebook_page
    bu.start_cell(page, 7)
    bu.wait_cell(page, 7)
    bu.start_cell(page, 8)
    bu.wait_cell(page, 8)
    expected = printed_json(page, 8)
    assert len(expected) == 3
    assert page.evaluate(DIGESTS_JS, 7) == expected
    statuses = {p["agent"]: p["status"] for p in bu.panels_in_cell(page, 7)}
    assert statuses == {"X-agent": "done", "Y-agent": "done", "Z-agent": "done"}
    assert "IOPub message rate exceeded" not in bu.cell_output_text(page, 7)


def test_a_page_opened_mid_run_recovers_the_earlier_text(lab_and_page: Any) -> None:
    lab, page = lab_and_page
    bu.start_cell(page, 9)
    bu.wait_cell(page, 9)
    deadline = time.monotonic() + 30
    while not any(p["agent"] == "Early" and len(p["raw"]) > 200 for p in bu.panels_in_cell(page, 9)):
        assert time.monotonic() < deadline, "the background run never showed text"
        time.sleep(0.1)
    # Scrolling up in a streaming panel stops its auto-scroll; "follow" resumes it.
    late = page.locator(".jp-Notebook .jp-Cell").nth(9).locator('.nbswarm-panel[data-agent="Late"]')
    scroller = late.locator(".nbswarm-scroll")
    deadline = time.monotonic() + 30
    while scroller.evaluate("(el) => el.scrollHeight - el.clientHeight") < 150:
        assert time.monotonic() < deadline, "the panel never overflowed"
        time.sleep(0.1)
    assert scroller.evaluate(AT_BOTTOM_JS)  # following the text as it streams
    scroller.hover()
    page.mouse.wheel(0, -5000)
    # Near the top (Chromium may stop a wheel gesture a few lines short of 0 while text arrives).
    page.wait_for_function("(el) => el.scrollTop < 120", arg=scroller.element_handle(), timeout=5000)
    top = scroller.evaluate("(el) => el.scrollTop")
    height = scroller.evaluate("(el) => el.scrollHeight")
    page.wait_for_function(  # more text arrives meanwhile (the run streams until the gate opens)
        f"(el) => el.scrollHeight > {height}", arg=scroller.element_handle(), timeout=10_000
    )
    assert scroller.evaluate("(el) => el.scrollTop") == top  # the reader's place is kept
    late.locator(".nbswarm-follow").click()
    page.wait_for_function(AT_BOTTOM_JS, arg=scroller.element_handle(), timeout=5000)

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    # A second frontend: its widget model is restored from the kernel without the text so far;
    # the next delta shows it a gap, it asks for a snapshot, and the (free) kernel sends one.
    late_page = page.context.new_page()
    late_page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" when it closes
    try:
        bu.open_notebook(late_page, lab, "live.ipynb")
        early_text = None
        deadline = time.monotonic() + 30
        while early_text is None and time.monotonic() < deadline:
            root = late_page.evaluate(ROOT_STATUS_JS, 9)
            panels = {p["agent"]: p for p in bu.panels_in_cell(late_page, 9)}
            if root == "running" and len(panels.get("Early", {}).get("raw", "")) > 200:
                early_text = panels["Early"]["raw"]
            time.sleep(0.05)
        assert early_text is not None, "the late page never showed the running run"
        bu.start_cell(late_page, 10)  # opens the gate: the run ends
        bu.wait_cell(late_page, 10)
        outputs = printed_json(late_page, 10)
        # What the late page showed mid-run started at the beginning of the text, not at the gap.
        assert outputs["Early"].startswith(early_text)
        deadline = time.monotonic() + 10
        while {p["agent"]: p["raw"] for p in bu.panels_in_cell(late_page, 9)} != outputs:
            assert time.monotonic() < deadline, "the late page did not end with the full text"
            time.sleep(0.1)
        assert {p["agent"]: p["raw"] for p in bu.panels_in_cell(page, 9)} == outputs
    finally:
        late_page.close()


TURN_TWO_JS = """(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const panel = cell.node.querySelector(".nbswarm-panel");
  const turns = panel ? [...panel.querySelectorAll(".nbswarm-turn")] : [];
  if (turns.length < 2) return null;
  return {raw: turns[1].querySelector(".nbswarm-text").textContent,
          visible: panel.querySelector(".nbswarm-scroll").innerText,
          status: panel.dataset.status};
}"""


def test_a_panel_shows_every_turn_and_renders_tables_lists_and_code(notebook_page: Any) -> None:
    page = notebook_page
    bu.start_cell(page, 11)
    # While the second turn streams, its text so far is on screen (read in one go, atomically).
    seen_live = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = page.evaluate(TURN_TWO_JS, 11)
        if now and now["status"] == "streaming" and now["raw"].strip():
            assert normalise(now["raw"]) in normalise(now["visible"])
            seen_live += 1
        if now and now["status"] == "done":
            break
        time.sleep(0.03)
    assert seen_live >= 2, "the second turn was never seen streaming"
    bu.wait_cell(page, 11)
    output = printed_json(page, 11)
    (panel,) = bu.panels_in_cell(page, 11)
    assert panel["raw"] == output and len(panel["turns"]) == 2
    assert all(turn["mdShown"] for turn in panel["turns"])
    first, second = (turn["md"] for turn in panel["turns"])
    assert "<table>" in first and "<td>solar</td>" in first
    assert 'href="https://en.wikipedia.org/wiki/Wind_power_(energy)"' in first
    assert "<li>build\n<ul>\n<li>solar first</li>" in second and '<ol start="3">' in second
    assert '<code class="language-python"><span class="k">def</span>' in second
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    output_area(page, 11).screenshot(path=str(ARTIFACTS / "browser-two-turns.png"))


NB_PROBLEMS_JS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter((w) => w.model.type === "code")
  .flatMap((w) => w.model.outputs.toJSON())
  .filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr"))
  .map((o) => o.ename ? `${o.ename}: ${o.evalue}` : o.text)"""


def test_a_tutorial_notebook_runs_in_notebook_7_with_its_live_views(lab_and_page: Any) -> None:
    lab, page = lab_and_page
    notebook = json.loads((bu.REPO / "notebooks" / "01-streaming-basics.ipynb").read_text())
    notebook["metadata"]["kernelspec"] = {
        "name": bu.KERNEL_NAME,
        "display_name": "nbswarm test",
        "language": "python",
    }
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (lab.root / "nb7.ipynb").write_text(json.dumps(notebook))
    nb7 = page.context.new_page()
    nb7.on("dialog", lambda dialog: dialog.accept())
    try:
        bu.open_notebook(nb7, lab, "nb7.ipynb", notebook7=True)
        assert "/notebooks/" in nb7.url and nb7.locator("#jp-main-dock-panel").count() == 0  # not Lab
        nb7.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        code = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]
        for index in code:
            bu.wait_cell(nb7, index, timeout=180)
        assert nb7.evaluate(NB_PROBLEMS_JS) == []
        panels = [p for index in code for p in bu.panels_in_cell(nb7, index)]
        assert panels, "no live view rendered in Notebook 7"
        assert all(p["status"] == "done" and p["raw"] for p in panels)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nb7.screenshot(path=str(ARTIFACTS / "notebook7.png"))
    finally:
        nb7.close()


def test_panels_follow_the_jupyterlab_theme(notebook_page: Any) -> None:
    page = notebook_page
    background = """() => getComputedStyle(document.querySelectorAll(".jp-Notebook .jp-Cell")[3]
        .querySelector(".nbswarm-panel")).backgroundColor"""
    light = page.evaluate(background)
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
    page.wait_for_function(f"() => ({background})() !== {json.dumps(light)}", timeout=20_000)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=20_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    output_area(page, 3).screenshot(path=str(ARTIFACTS / "browser-dashboard-dark.png"))
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )
