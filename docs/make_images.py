"""Regenerate the README's pictures from the real code, so they stay true.

    .venv/bin/python docs/make_images.py

1. docs/images/live-view.png: JupyterLab in headless Chromium (Debian's chromium) running
   ``AgentRearrange(flow="Researcher, Critic -> Editor")`` on the sim, caught while Researcher and
   Critic are typing at the same time;
2. docs/images/live-view-done.png: the same view when the run has finished;
3. docs/images/timeline.png: ``rec.plot()`` of the same kind of run, recorded in this process.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
sys.path.insert(0, str(HERE.parent / "tests"))

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SWARM = """
from nbswarm import Agent, AgentRearrange
roles = {
    "Researcher": "You are a research analyst. Gather the key facts.",
    "Critic": "You are a sceptical critic. Find the weak points.",
    "Editor": "You are an editor. Merge the research and the critique into a recommendation.",
}
agents = [
    Agent(agent_name=name, system_prompt=prompt, model_name="sim/gpt-4o-mini", print_on=False)
    for name, prompt in roles.items()
]
swarm = AgentRearrange(
    name="research-swarm", agents=agents, flow="Researcher, Critic -> Editor", show_dashboard=True
)
"""
TASK = "Should a mid-sized city invest in grid-scale battery storage?"


def live_view() -> None:
    import browser_util as bu

    with (
        bu.jupyter_lab({"NBSWARM_SIM_DELAY_SCALE": "1"}) as lab,
        bu.chromium_page(width=1200, height=900) as page,
    ):
        bu.write_notebook(lab.root / "demo.ipynb", [SWARM, f"swarm.run({TASK!r});"])
        bu.open_notebook(page, lab, "demo.ipynb")
        bu.start_cell(page, 0)
        bu.wait_cell(page, 0)
        bu.start_cell(page, 1)
        area = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-Cell-outputArea")
        time.sleep(2.2)  # ~0.3 s to the first token, then both parallel agents are typing
        area.screenshot(path=str(IMAGES / "live-view.png"))
        bu.wait_cell(page, 1, timeout=120)
        time.sleep(0.5)
        area.screenshot(path=str(IMAGES / "live-view-done.png"))


def timeline() -> None:
    import matplotlib

    matplotlib.use("Agg")
    os.environ["NBSWARM_SIM_DELAY_SCALE"] = "0.25"
    import nbswarm

    namespace: dict[str, object] = {}
    exec(SWARM.replace("show_dashboard=True", "show_dashboard=False"), namespace)
    rec = nbswarm.Recorder()
    namespace["swarm"].run(TASK, recorder=rec)  # type: ignore[attr-defined]
    figure = rec.plot()
    figure.savefig(IMAGES / "timeline.png", dpi=90, bbox_inches="tight")


if __name__ == "__main__":
    IMAGES.mkdir(exist_ok=True)
    timeline()
    live_view()
    for image in sorted(IMAGES.glob("*.png")):
        print(image.relative_to(HERE.parent), f"{image.stat().st_size // 1024} kB")
