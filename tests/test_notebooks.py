"""The tutorial notebooks run top to bottom offline, and show what their prose says they show.

Each notebook is executed once per session with nbclient in a fresh kernel of this interpreter
(a kernelspec written for ``sys.executable``, so a user's own ``python3`` kernel never gets in the
way), with the live views' widget state stored, as a headless run of the notebook would save it.
The sim runs at a small delay scale: real sleeps and real interleaving, but fast.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(path.stem for path in NOTEBOOKS.glob("[0-9]*.ipynb"))
CELL_TIMEOUT = 120
DELAY_SCALE = "0.05"
"""Sim latency in the notebooks: 1/20 of a real model's, so sleeps and overlap are real but short."""

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@dataclass
class Executed:
    """An executed notebook and what it showed."""

    nb: Any

    @functools.cached_property
    def stdout(self) -> str:
        return "".join(o.get("text", "") for o in self._outputs() if o.output_type == "stream")

    @functools.cached_property
    def results(self) -> list[str]:
        """The plain-text form of each displayed value (tables, reprs)."""
        return [str(o["data"]["text/plain"]) for o in self._outputs() if "text/plain" in o.get("data", {})]

    @functools.cached_property
    def html(self) -> str:
        return "".join(str(o.get("data", {}).get("text/html", "")) for o in self._outputs())

    @functools.cached_property
    def images(self) -> int:
        return sum("image/png" in o.get("data", {}) for o in self._outputs())

    @functools.cached_property
    def widgets(self) -> dict[str, dict]:
        """model_id -> stored state of every widget the notebook displayed."""
        stored = self.nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        return {model_id: model["state"] for model_id, model in stored.items()}

    @functools.cached_property
    def views(self) -> list[dict]:
        """The final state of each live view displayed, in display order."""
        shown = [
            o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
            for o in self._outputs()
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        return [self.widgets[i]["view_state"] for i in shown if "view_state" in self.widgets.get(i, {})]

    def panels(self, view: dict) -> dict[str, dict]:
        """Each panel's stored state, with ``text``: its turns one after another."""
        return {
            panel["agent"]: {**panel, "text": "".join(turn["text"] for turn in panel.get("turns", []))}
            for panel in view["panels"]
        }

    def _outputs(self) -> list[Any]:
        return [o for cell in self.nb.cells if cell.cell_type == "code" for o in cell.outputs]


@pytest.fixture(scope="module")
def kernel_spec_manager(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A kernelspec for exactly this interpreter (the venv's python), and nothing else."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / "nbswarm-test")
    return KernelSpecManager(kernel_dirs=[str(kernels)])


@pytest.fixture(scope="module")
def run_notebook(kernel_spec_manager: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``run_notebook(name) -> Executed``, each notebook executed once per module."""
    from jupyter_client.manager import KernelManager

    env = {k: v for k, v in os.environ.items() if not k.startswith("NBSWARM_")}  # never a real model
    env.update(
        NBSWARM_SIM_DELAY_SCALE=DELAY_SCALE,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        TMPDIR=str(tmp_path_factory.mktemp("tmp")),  # the notebooks' saved recordings and server logs
    )
    cache: dict[str, Executed] = {}

    def run(name: str) -> Executed:
        if name not in cache:
            nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
            km = KernelManager(kernel_name="nbswarm-test", kernel_spec_manager=kernel_spec_manager)
            client = nbclient.NotebookClient(
                nb,
                km=km,
                timeout=CELL_TIMEOUT,
                store_widget_state=True,
                resources={"metadata": {"path": str(tmp_path_factory.mktemp(name))}},
            )
            client.execute(env=env)  # raises CellExecutionError (with the cell and traceback) on any error
            cache[name] = Executed(nb)
        return cache[name]

    return run


# -- every notebook ------------------------------------------------------------------------------


def test_all_six_tutorials_exist() -> None:
    assert [name[:2] for name in NAMES] == ["01", "02", "03", "04", "05", "06"], NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs_and_reads_model_from_env(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert 'MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")' in code[0].source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_notebooks_are_built_from_their_sources() -> None:
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    _build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_build)
    assert sorted(nb.stem for nb in _build.targets().values()) == NAMES
    assert _build.stale() == [], "notebooks differ from notebooks/_src: run python notebooks/_build.py"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name: str, run_notebook: Any) -> None:
    executed = run_notebook(name)
    code = [cell for cell in executed.nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]


# -- what each notebook shows ---------------------------------------------------------------------


def test_01_streaming_basics(run_notebook: Any) -> None:
    ex = run_notebook("01-streaming-basics")
    assert "tokens join to the response: True" in ex.stdout
    assert "the panel shows the whole story: True" in ex.stdout
    assert "'finish_reason': 'stop'" in ex.stdout and "'usage': {'input_tokens'" in ex.stdout
    # The streaming agent's live view was saved with its final text.
    live = ex.panels(ex.views[0])["Streaming-Agent"]
    assert live["status"] == "done" and "neural networks" in live["text"] and live["n"] > 50
    # The custom display (an ipywidgets.HTML drawn on flush) ended on its final frame.
    custom = [w["value"] for w in ex.widgets.values() if "✅ Custom-Display-Agent" in str(w.get("value"))]
    assert len(custom) == 1 and len(custom[0]) > 500
    kinds = re.search(
        r"\{'metadata': 1, 'start': 1, 'agent_start': 1, 'chunk': (\d+), 'agent_end': 1", ex.stdout
    )
    assert kinds and int(kinds[1]) > 50


def test_02_dashboard_shows_every_agent_and_a_failure_spares_the_others(run_notebook: Any) -> None:
    ex = run_notebook("02-sequential-and-concurrent")
    analysts = {"Market-Researcher", "Financial-Analyst", "Technical-Analyst"}
    dashboard = ex.panels(ex.views[0])
    assert set(dashboard) == analysts
    assert all(p["status"] == "done" and len(p["text"]) > 200 for p in dashboard.values())
    sequential = {agent for view in ex.views for agent in ex.panels(view)}
    assert {"Researcher", "Writer"} <= sequential
    assert "all three were working at the same time: True" in ex.stdout
    assert "Flaky-Analyst: SimulatedFailure" in ex.stdout
    assert re.search(r"Flaky-Analyst\s+finish_reason=error", ex.stdout)
    assert re.search(r"Market-Researcher\s+finish_reason=stop", ex.stdout)
    failed = ex.panels(ex.views[-1])
    assert failed["Flaky-Analyst"]["status"] == "error" and failed["Market-Researcher"]["status"] == "done"


def test_03_parallel_branches_interleave(run_notebook: Any) -> None:
    ex = run_notebook("03-parallel-flows")
    flips = re.search(r"^flips: (\d+)$", ex.stdout, re.M)
    assert flips and int(flips[1]) >= 3
    assert "sequential flips: 2" in ex.stdout
    assert ex.stdout.count("matches its output: True") == 3
    assert "did you mean 'Summary'" in ex.stdout
    panels = ex.panels(ex.views[0])
    assert list(panels) == ["Market-Researcher", "Financial-Analyst", "Summary"]
    assert all(p["status"] == "done" and p["text"] for p in panels.values())
    assert ex.images == 1  # the timeline


def test_04_metrics_plots_files_and_replay(run_notebook: Any) -> None:
    ex = run_notebook("04-analyzing-streams")
    for agent in ("Market-Researcher", "Financial-Analyst", "Summary", "Explainer"):
        assert agent in ex.html  # the metrics tables
    for column in ("ttft", "tokens_per_s", "critical_path", "flips"):
        assert column in ex.html
    assert ex.images == 5  # timeline, tokens, gaps, cost, summary
    assert "loaded the same events: True" in ex.stdout
    assert "the replay streamed the same events in the same order: True" in ex.stdout
    first, replayed = ex.panels(ex.views[0]), ex.panels(ex.views[-1])
    assert list(replayed) == ["Market-Researcher", "Financial-Analyst", "Summary"]
    assert all(replayed[a]["text"] == first[a]["text"] != "" for a in replayed)


def test_05_variants_in_one_table_and_one_figure(run_notebook: Any) -> None:
    ex = run_notebook("05-prompt-design")
    variants = ["baseline", "expert", "expert-hot", "expert-short", "expert-big-model"]
    panels = ex.panels(ex.views[0])
    assert list(panels) == variants and all(p["status"] == "done" for p in panels.values())
    # The table is a styled HTML table: one row per variant, its output column left-aligned and wrapped.
    rows = {
        re.search(r'class="row_heading[^>]*>([^<]+)</th>', row)[1]: row
        for row in re.findall(r"<tr>(.*?)</tr>", ex.html, re.S)
        if re.search(r'class="row_heading[^>]*>([^<]+)</th>', row)
    }
    assert sorted(rows) == sorted(variants)
    assert ">length<" in rows["expert-short"]  # its max_tokens cut it
    assert all(">stop<" in rows[v] for v in variants if v != "expert-short")
    assert re.search(r"text-align: left;\s*white-space: normal", ex.html)
    assert ex.images == 1
    assert "=== baseline ===" in ex.stdout and "=== expert ===" in ex.stdout


def test_06_remote_stream_is_shown_recorded_and_the_server_stopped(run_notebook: Any) -> None:
    ex = run_notebook("06-remote-streams")
    assert "'status': 'ok'" in ex.stdout and "'simulated': True" in ex.stdout
    assert "200 text/event-stream" in ex.stdout and "event: done" in ex.stdout
    panels = ex.panels(ex.views[0])  # the live view fed from the network
    assert list(panels) == ["Market-Researcher", "Financial-Analyst", "Summary"]
    assert all(p["status"] == "done" and len(p["text"]) > 200 for p in panels.values())
    flips = re.search(r"^flips in the remote stream: (\d+)$", ex.stdout, re.M)
    assert flips and int(flips[1]) >= 3
    assert "'agent_start': 3" in ex.stdout and "'agent_end': 3" in ex.stdout
    assert "HTTP 422" in ex.stdout and "(field: rearrange_flow)" in ex.stdout
    assert re.search(r"^ +\^$", ex.stdout, re.M)  # the server's caret, on a line of its own
    assert "HTTP 401" in ex.stdout
    assert ex.images == 1
    assert "server stopped: True" in ex.stdout and "Finished server process" in ex.stdout
