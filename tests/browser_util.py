"""A real JupyterLab on 127.0.0.1 and a headless Chromium page driving it, for the browser tests.

The server runs with its own config, data and runtime dirs (so no user setting leaks in), a free
port, a random token, and in its own process group, so the test stops exactly what it started.
Its kernel is this interpreter (the venv's python) under its own kernelspec name, with the repo
on ``PYTHONPATH``. ``window.jupyterapp`` is exposed so the page is driven through JupyterLab's
own commands rather than by typing into editors.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
KERNEL_NAME = "nbswarm-test"


def chromium_path() -> str | None:
    """Debian's chromium (never a browser that playwright downloads itself)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def notebook7_url(self, notebook: str) -> str:
        """The same notebook in Notebook 7 (the ``notebook`` package, served by the same server)."""
        return f"{self.url}/notebooks/{notebook}?token={self.token}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def _prepare_dirs(base: Path, kernel_env: Mapping[str, str]) -> dict[str, str]:
    config, data, runtime = base / "config", base / "data", base / "runtime"
    env = dict(os.environ)
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(data), JUPYTER_RUNTIME_DIR=str(runtime))
    env.pop("JUPYTER_PATH", None)
    env["JUPYTER_PLATFORM_DIRS"] = "0"
    _write_json(
        data / "kernels" / KERNEL_NAME / "kernel.json",
        {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "nbswarm test (venv python)",
            "language": "python",
            "env": {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                **kernel_env,
            },
        },
    )
    settings = config / "lab" / "user-settings"
    _write_json(
        settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings", {"autosave": False}
    )
    _write_json(
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    return env


@contextlib.contextmanager
def jupyter_lab(kernel_env: Mapping[str, str] | None = None, *, timeout: float = 90.0) -> Iterator[Lab]:
    """Start JupyterLab, yield where it is, stop it (and only it) afterwards."""
    base = Path(tempfile.mkdtemp(prefix="nbswarm-lab-"))
    root = base / "notebooks"
    root.mkdir()
    env = _prepare_dirs(base, kernel_env or {})
    port, token = free_port(), secrets.token_hex(16)
    log = base / "lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabServerApp.announcements_url=",
    ]
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log)
    try:
        _wait_ready(lab, process, timeout)
        yield lab
    finally:
        _stop(lab, process)
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(lab: Lab, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{lab.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{lab.url}/api/status?token={lab.token}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not start in {timeout} s:\n{lab.log_text()[-3000:]}")


def _stop(lab: Lab, process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        request = urllib.request.Request(f"{lab.url}/api/shutdown?token={lab.token}", method="POST")
        urllib.request.urlopen(request, timeout=5).close()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    # Kernels started by the server are in its process group: make sure none outlives it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of code cells, on the test kernel."""
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
            for source in cells
        ],
        "metadata": {
            "kernelspec": {"name": KERNEL_NAME, "display_name": "nbswarm test", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


@contextlib.contextmanager
def chromium_page(*, width: int = 1300, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium page (playwright, driving Debian's chromium)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("chromium is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding",
            ],
        )
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield context.new_page()
        finally:
            browser.close()


# -- driving a notebook through window.jupyterapp -------------------------------------------------

OPEN_JS = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext) return false;
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === "idle" && panel.content.widgets.length > 0;
}"""

RUN_CELL_JS = """async (index) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  panel.content.activeCellIndex = index;
  app.commands.execute("notebook:run-cell");  // not awaited: the test watches the page meanwhile
  return true;
}"""

CELL_STATE_JS = """(index) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const count = cell.model.executionCount;
  const pending = cell.node.querySelector(".jp-InputArea-prompt");
  return {count: count, prompt: pending ? pending.textContent : ""};
}"""


def open_notebook(page: Any, lab: Lab, name: str, *, timeout: float = 60.0, notebook7: bool = False) -> None:
    """Open ``name`` (in JupyterLab, or in Notebook 7) and wait until its kernel is idle."""
    from playwright.sync_api import Error as PlaywrightError

    page.goto(lab.notebook7_url(name) if notebook7 else lab.page_url(name))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # JupyterLab may navigate once more (a second tab gets its own workspace): retry then.
        try:
            if page.evaluate("() => !!window.jupyterapp") and page.evaluate(OPEN_JS):
                return
        except PlaywrightError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the notebook's kernel did not become idle in {timeout} s:\n{lab.log_text()[-3000:]}")


def start_cell(page: Any, index: int) -> None:
    page.evaluate(RUN_CELL_JS, index)


def wait_cell(page: Any, index: int, *, timeout: float = 60.0) -> None:
    """Wait until cell ``index`` has run (its prompt shows a number, not ``*``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATE_JS, index)
        if state["count"] is not None and "*" not in state["prompt"]:
            return
        time.sleep(0.1)
    raise TimeoutError(f"cell {index} did not finish in {timeout} s")


def cell_output_text(page: Any, index: int) -> str:
    return page.evaluate(
        """(index) => {
          const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
          const area = cell.node.querySelector(".jp-Cell-outputArea");
          return area ? area.innerText : "";
        }""",
        index,
    )


# Samples every panel of a cell's output ~every 30 ms: status and text length per agent, the
# run's status; kept in window.__nbswarmSamples[index] for the test to read afterwards.
SAMPLER_JS = """(index) => {
  window.__nbswarmSamples = window.__nbswarmSamples || {};
  const samples = (window.__nbswarmSamples[index] = []);
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
  const t0 = performance.now();
  const take = () => {
    const root = cell.node.querySelector(".nbswarm");
    if (!root) return;
    const panels = {};
    for (const el of root.querySelectorAll(".nbswarm-panel")) {
      const turns = [...el.querySelectorAll(".nbswarm-turn > .nbswarm-text")];
      panels[el.dataset.agent] = {
        status: el.dataset.status,
        chars: turns.reduce((n, t) => n + t.textContent.length, 0),
      };
    }
    samples.push({t: performance.now() - t0, run: root.dataset.runStatus, panels});
  };
  const timer = setInterval(take, 30);
  window.__nbswarmStop = window.__nbswarmStop || {};
  window.__nbswarmStop[index] = () => { take(); clearInterval(timer); };
  return true;
}"""


def start_sampling(page: Any, index: int) -> None:
    page.evaluate(SAMPLER_JS, index)


def stop_sampling(page: Any, index: int) -> list[dict[str, Any]]:
    return page.evaluate("(i) => { window.__nbswarmStop[i](); return window.__nbswarmSamples[i]; }", index)


# A panel's raw text: its turns' texts joined by a blank line, as the agent joins its loops.
PANEL_TEXT_JS = """(el) => [...el.querySelectorAll(".nbswarm-turn > .nbswarm-text")]
  .map((t) => t.textContent).join("")"""


def panels_in_cell(page: Any, index: int) -> list[dict[str, Any]]:
    """Every panel of the view in cell ``index``: agent, status, raw text, row, visible text, and
    per turn: raw text, rendered HTML, and which of the two is on screen."""
    return page.evaluate(
        """([index, panelText]) => {
          const text = eval(panelText);
          const cell = window.jupyterapp.shell.currentWidget.content.widgets[index];
          const rows = [...cell.node.querySelectorAll(".nbswarm .nbswarm-row")];
          return rows.flatMap((row, r) => [...row.querySelectorAll(".nbswarm-panel")].map((el) => ({
            agent: el.dataset.agent,
            status: el.dataset.status,
            row: r,
            raw: text(el),
            visible: el.querySelector(".nbswarm-scroll").innerText,
            rendered: el.classList.contains("nbswarm-rendered") && [...el.querySelectorAll(".nbswarm-turn")]
              .every((t) => t.classList.contains("nbswarm-has-md")),
            turns: [...el.querySelectorAll(".nbswarm-turn")].map((t) => ({
              raw: t.querySelector(".nbswarm-text").textContent,
              md: t.querySelector(".nbswarm-md").innerHTML,
              mdShown: t.querySelector(".nbswarm-md").offsetParent !== null,
            })),
          })));
        }""",
        [index, PANEL_TEXT_JS],
    )
