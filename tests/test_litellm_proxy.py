"""End to end through a real third-party OpenAI-compatible server: litellm's own proxy.

The proxy (``litellm.proxy.proxy_server:app``, the app ``litellm --config`` serves) runs in a
subprocess on 127.0.0.1 with a config whose model answers with litellm's ``mock_response``: no
upstream, no network. It streams OpenAI chat-completion chunks, a final usage chunk, and the
cost it computed (``usage.cost``) for a model name nbswarm's price source does not know, so the
recorded cost can only have come from the server. Both nbswarm paths are checked: the fast
OpenAI-compatible path and litellm (forced).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from sse_util import free_port

import nbswarm
from nbswarm.models import prices

pytest.importorskip("litellm")
pytest.importorskip("fastapi", reason="litellm's proxy needs its dependencies (pyproject test extra)")

KEY = "sk-proxy-1234"
ANSWER = "Robots paint because their owners asked them to."
CONFIG = f"""
model_list:
  - model_name: house-model
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-upstream-never-used
      mock_response: "{ANSWER}"
general_settings:
  master_key: {KEY}
litellm_settings:
  telemetry: false
"""


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    config = tmp_path_factory.mktemp("proxy") / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "CONFIG_FILE_PATH": str(config), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "litellm.proxy.proxy_server:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--loop", "asyncio", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # the proxy imports a lot; a loaded machine takes a while
        while True:
            if process.poll() is not None:
                pytest.fail(f"litellm proxy exited: {process.stdout.read()[-3000:]}")
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("litellm proxy did not start within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.parametrize("path", ["fast", "litellm"])
def test_streaming_usage_and_reported_cost_through_litellms_proxy(proxy, path, monkeypatch):
    if path == "litellm":
        monkeypatch.setenv("NBSWARM_FORCE_LITELLM", "1")
    else:
        monkeypatch.delenv("NBSWARM_FORCE_LITELLM", raising=False)
    agent = nbswarm.Agent(
        agent_name="Proxied",
        model_name="openai/house-model",
        llm_base_url=f"{proxy}/v1",
        llm_api_key=KEY,
        print_on=False,
    )
    rec = nbswarm.Recorder()
    tokens: list[str] = []
    run = agent.stream("Why do robots paint?", streaming_callback=tokens.append, recorder=rec)
    assert run.result() == ANSWER
    assert len(tokens) > 3 and "".join(tokens) == ANSWER  # it streamed, piece by piece
    usage = next(e for e in run.events if e.type == "usage" and e.agent == "Proxied")
    assert usage.input_tokens > 0 and usage.output_tokens > 0 and not usage.estimated
    assert prices.price_per_token("openai/house-model") is None  # only the proxy knows its price
    expected = prices.cost_usd("gpt-4o-mini", usage.input_tokens, usage.output_tokens)  # what it charges
    assert usage.cost == pytest.approx(expected) and usage.cost > 0
    assert run.usage.cost == pytest.approx(usage.cost)
    assert rec.df[rec.df["event"] == "chunk"]["kind"].eq("text").all()
