"""In a real browser: the delay from the last token generated to the last token on screen.

JupyterLab with stock server settings (iopub rate limit, ZeroMQ queues, websocket ping as
shipped) and headless Chromium. The kernel streams at full speed; the last token carries a
random marker; the page watches the cell's output (a MutationObserver that only sets a flag,
read on requestAnimationFrame) and notes when the marker is visible. Both clocks are this
machine's wall clock. Run by ``bench/widget.py --browser``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import browser_util as bu  # noqa: E402
from widget import KERNEL_SETUP  # noqa: E402

WATCH_JS = """([index, marker, count]) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  window.__seen = null;
  let dirty = true;
  const observer = new MutationObserver(() => (dirty = true));
  observer.observe(cell.node, {subtree: true, childList: true, characterData: true});
  const loop = () => {
    if (dirty) {
      dirty = false;
      const area = cell.node.querySelector(".jp-Cell-outputArea");
      const text = area ? area.textContent : "";
      if (text.split(marker + "-last").length - 1 >= count) {
        window.__seen = Date.now() / 1000;
        observer.disconnect();
        return;
      }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}"""

CELLS = [
    KERNEL_SETUP + "\nimport secrets\n",
    "marker = 'm' + secrets.token_hex(5); print('MARKER:' + marker)",
    "_result = scenario(KIND, TOKENS, AGENTS, marker)",
    "print('LAST:%r' % LAST['t'])",
]


def one(page: Any, kind: str, tokens: int, agents: int, timeout: float) -> str:
    page.evaluate(
        """([kind, tokens, agents]) => {
          const cells = window.jupyterapp.shell.currentWidget.content.widgets;
          const source = `KIND, TOKENS, AGENTS = ${JSON.stringify(kind)}, ${tokens}, ${agents}\\n` +
            "_result = scenario(KIND, TOKENS, AGENTS, marker)";
          cells[2].model.sharedModel.setSource(source);
        }""",
        [kind, tokens, agents],
    )
    bu.start_cell(page, 1)
    bu.wait_cell(page, 1)
    marker = bu.cell_output_text(page, 1).split("MARKER:", 1)[1].strip()
    page.evaluate(WATCH_JS, [2, marker, agents])
    started = time.time()
    bu.start_cell(page, 2)
    try:
        bu.wait_cell(page, 2, timeout=timeout)
    except TimeoutError:
        return f"cell still running after {timeout:.0f} s"
    bu.start_cell(page, 3)
    bu.wait_cell(page, 3)
    last = float(bu.cell_output_text(page, 3).split("LAST:", 1)[1].strip())
    generated = last - started
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = page.evaluate("() => window.__seen")
        if seen is not None:
            return f"{seen - last:7.2f} s  (tokens generated in {generated:.2f} s)"
        time.sleep(0.1)
    return f"last token NOT visible {timeout:.0f} s after generation (lost or still queued)"


def browser_side(*, quick: bool = False) -> None:
    if bu.chromium_path() is None:
        print("\nIn the browser: skipped (chromium is not installed)")
        return
    scenarios = [("nbswarm", 2000, 1), ("print", 2000, 1), ("nbswarm", 20000, 1), ("nbswarm", 20000, 3)]
    if not quick:
        scenarios.append(("print", 20000, 1))
    print("\nIn the browser (JupyterLab, stock settings, headless Chromium): last token generated -> visible")
    with bu.jupyter_lab({"NBSWARM_SIM_DELAY_SCALE": "0"}) as lab:
        bu.write_notebook(lab.root / "bench.ipynb", CELLS)
        with bu.chromium_page() as page:
            bu.open_notebook(page, lab, "bench.ipynb")
            bu.start_cell(page, 0)
            bu.wait_cell(page, 0)
            for kind, tokens, agents in scenarios:
                # Clear earlier outputs so the page has only this scenario's output to lay out.
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
                outcome = one(page, kind, tokens, agents, timeout=60.0)
                print(f"  {kind:8s} {tokens:>6,} tok x {agents}: {outcome}", flush=True)
