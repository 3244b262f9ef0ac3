"""The real litellm path (nbswarm.models.litellm) against nbswarm serve's OpenAI endpoint on loopback,
and litellm kept off the engine loop: imported (with what its first call imports) before a turn starts."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports litellm

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sse_util import REPO, LiveServer, free_port

import nbswarm
from nbswarm.models.litellm import LiteLLMProvider
from nbswarm.models.sim import SimProfile
from nbswarm.recorder import Recorder
from nbswarm.sse.server import create_app

pytest.importorskip("litellm")

KEY = "sk-test"


@pytest.fixture(scope="module")
def openai_server():
    with LiveServer(create_app(api_key=KEY, sim_profile=SimProfile(length=30, delay_scale=0))) as live:
        yield live


@pytest.fixture(autouse=True)
def force_litellm(monkeypatch):
    monkeypatch.setenv("NBSWARM_FORCE_LITELLM", "1")  # openai/ names take the fast path otherwise


def real_agent(name: str, base_url: str, **kw) -> nbswarm.Agent:
    return nbswarm.Agent(
        agent_name=name,
        model_name="openai/gpt-4o-mini",
        llm_base_url=base_url,
        llm_api_key=KEY,
        print_on=False,
        **kw,
    )


def test_import_nbswarm_does_not_import_litellm():
    code = "import sys, nbswarm; print('litellm' in sys.modules, 'openai' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, env={**os.environ}
    )
    assert out.stdout.split() == ["False", "False"]


def test_litellm_streams_tokens_usage_and_cost_from_the_server(openai_server):
    agent = real_agent("Remote", f"{openai_server.url}/v1", max_tokens=100)
    tokens: list[str] = []
    run = agent.stream("Explain why robots paint", streaming_callback=tokens.append)
    text = run.result()
    assert text and "".join(tokens) == text
    assert not run.errors and run.end.status == "completed"
    turn_usage = next(e for e in run.events if e.type == "usage" and e.agent == "Remote")
    assert turn_usage.output_tokens == len(tokens)  # the usage chunk's completion_tokens came through
    assert turn_usage.input_tokens > 0 and turn_usage.model == "openai/gpt-4o-mini"
    assert run.usage.cost > 0  # priced gpt-4o-mini from the one price source
    assert isinstance(agent._provider()[0], LiteLLMProvider)  # really the litellm path, not the sim


def test_an_unreachable_endpoint_fails_one_agent_and_not_the_other(openai_server):
    closed = f"http://127.0.0.1:{free_port()}/v1"
    broken = real_agent("Broken", closed)
    working = real_agent("Working", f"{openai_server.url}/v1", max_tokens=50)
    rec = Recorder()
    run = nbswarm.ConcurrentWorkflow([broken, working]).stream("Summarise the robot market", recorder=rec)
    run.result()
    errors = [e for e in run.events if e.type == "error"]
    assert [e.agent for e in errors] == ["Broken"] and "Connection" in errors[0].message
    ends = {e.agent: e for e in run.events if e.type == "agent_end"}
    assert ends["Broken"].finish_reason == "error" and ends["Broken"].output == ""
    assert ends["Working"].finish_reason in ("stop", "length") and ends["Working"].output
    assert run.end.status == "failed"
    chunks = rec.df[rec.df["event"] == "chunk"]
    assert set(chunks["agent"]) == {"Working"}


OFF_LOOP = r"""
import asyncio, json, logging, os, sys
sys.path.insert(0, os.environ["TESTS"])
from wire_util import Reply, WireServer
import wire_formats as wire
import nbswarm
from nbswarm.models.sim import SimProfile, SimProvider

import threading
imported_on = {}  # module -> thread name, for litellm and what it loads on its first call
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("litellm", "openai", "tiktoken", "tokenizers", "httpx", "aiohttp"):
            imported_on.setdefault(name, threading.current_thread().name)
        return None  # only watching: the usual finders import it
sys.meta_path.insert(0, Watch())

blocked = []
class Collect(logging.Handler):
    def emit(self, record):
        if "blocked for" in record.getMessage():
            blocked.append(record.getMessage())
logging.getLogger("nbswarm").addHandler(Collect())

seen = {}
def sink(event):  # at each turn's start: has litellm finished loading (import and first-call modules)?
    if event.type == "agent_start":
        module = sys.modules.get("nbswarm.models.litellm")
        seen[event.agent] = module is not None and "anthropic/claude-sonnet-4-5" in module._warmed

with WireServer(lambda s: Reply(body=wire.ANTHROPIC_THINKING)) as server:
    profile = SimProfile(ttft=0.0, tokens_per_second=100, length=150, delay_scale=1.0)
    sim = nbswarm.Agent(agent_name="Sim", print_on=False, provider=SimProvider(profile))
    real = nbswarm.Agent(agent_name="Real", model_name="anthropic/claude-sonnet-4-5", llm_base_url=server.url,
                         llm_api_key="k", print_on=False)
    run = nbswarm.ConcurrentWorkflow([sim, real]).stream("Why do robots paint?")
    run.add_sink(sink)
    async def main():
        return await run
    asyncio.run(main())
on_loop = sorted(m for m, thread in imported_on.items() if thread.startswith("nbswarm"))
print(json.dumps({"seen": seen, "errors": [e.message for e in run.errors], "blocked": blocked,
                  "outputs": run.outputs, "on_loop": on_loop, "watched": len(imported_on)}))
"""


def test_litellm_is_imported_off_the_loop_before_the_turn_starts():
    """Fresh process: a real-model agent beside a streaming sim agent. litellm is already imported
    when the real agent's turn starts (so TTFT excludes it), and no module of litellm (or of what
    its first call loads) is imported on the engine loop's thread. (How long the loop was blocked
    is a timing figure, for bench/real_models.py, not for a pass/fail test on a shared machine.)"""
    code_root = str(Path(nbswarm.__file__).resolve().parent.parent)  # the nbswarm under test
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONPATH": code_root, "TESTS": tests, "NBSWARM_DEBUG": "1"}
    env.pop("NBSWARM_FORCE_LITELLM", None)
    out = subprocess.run(
        [sys.executable, "-c", OFF_LOOP], capture_output=True, text=True, cwd=tests, env=env, timeout=240
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == [] and result["outputs"]["Real"] == "27 * 453 = 12,231"
    assert result["seen"] == {"Sim": False, "Real": True}
    assert result["watched"] > 50 and result["on_loop"] == []
