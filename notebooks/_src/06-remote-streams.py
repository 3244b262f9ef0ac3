# %% [markdown]
# # 6 · Remote streams: `nbswarm serve` and the Swarms SSE API
#
# Agents often run on a server, not in your notebook. The Swarms API streams them over
# **Server-Sent Events** (SSE): one HTTP response that stays open, with one `event:`/`data:` frame
# per event (`metadata`, `agent_start`, `chunk`, `agent_end`, `usage`, `end`).
#
# nbswarm has both ends of that wire:
#
# * **`nbswarm serve`** runs a Swarms-style API on your machine (`/v1/agent/completions` and
#   `/v1/swarm/completions`), on the sim model by default, so it needs no key;
# * **`nbswarm.remote_run`** (from `nbswarm.sse.client`) turns any such stream (from
#   `nbswarm serve` or the hosted Swarms API) back into nbswarm events, so the live view, the
#   recorder and the plots work on a remote swarm exactly as on a local one.
#
# This notebook starts a server in the background, streams from it, records a remote run, and
# stops the server at the end.

# %%
import atexit
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from nbswarm import plots, record, remote_run, show

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")  # set NBSWARM_MODEL (and a key) for a real model

# %% [markdown]
# ## Start the server
#
# From a terminal you would run `nbswarm serve --port 8000`. Here we start the same command in the
# background on a free port, with a random API key that every request must send in `x-api-key`
# (as the hosted API requires). The server serves every model name from the offline sim (at that
# model's price) unless it is started with `--real-models`, which we add when `MODEL` is a real
# model; the server then needs the provider's key in its environment, which it inherits from
# this kernel.

# %%
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = free_port()
API_KEY = secrets.token_hex(16)
BASE_URL = f"http://127.0.0.1:{PORT}"
HEADERS = {"x-api-key": API_KEY, "Content-Type": "application/json"}

log_path = Path(tempfile.mkdtemp(prefix="nbswarm-serve-")) / "server.log"
log = log_path.open("w")
command = [sys.executable, "-m", "nbswarm", "serve", "--port", str(PORT), "--api-key", API_KEY]
if not MODEL.startswith("sim/"):
    command.append("--real-models")  # send model names to litellm, with the keys this kernel has
server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
atexit.register(server.terminate)  # the server stops with this kernel, even if the last cell never runs


def wait_for_server(timeout: float = 30.0) -> dict:
    """Poll /health until the server answers (it takes a second or two to start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}):\n{log_path.read_text()}")
        try:
            return httpx.get(f"{BASE_URL}/health", timeout=1).json()
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"no answer from {BASE_URL} within {timeout} s:\n{log_path.read_text()}")


print(wait_for_server())

# %% [markdown]
# ## The raw wire: one agent
#
# First, the plain HTTP view. A POST to `/v1/agent/completions` with `"streaming_on": true` answers
# with an event stream. Here are its first frames as they arrive on the wire (this is the request
# from the Swarms agent streaming guide; only the URL is different).

# %%
payload = {
    "agent_config": {
        "agent_name": "Creative Writer",
        "description": "A creative writing specialist",
        "system_prompt": "You are a creative writer who specializes in storytelling.",
        "model_name": MODEL.removeprefix("sim/"),
        "max_tokens": 120,
        "temperature": 0.8,
        "streaming_on": True,
    },
    "task": "Write a short story about a robot learning to paint",
}

lines = []
with httpx.stream("POST", f"{BASE_URL}/v1/agent/completions", headers=HEADERS, json=payload) as response:
    print(response.status_code, response.headers["content-type"])
    for line in response.iter_lines():
        lines.append(line)


def short(line: str, width: int = 150) -> str:
    return line if len(line) <= width else line[:width] + " …"


for line in lines[:9]:
    print(short(line))
print(f"… {len(lines)} lines in all; the last frames:")
for line in lines[-5:]:
    print(short(line))

# %% [markdown]
# Every frame is an `event:` line naming the event and a `data:` line with its JSON. Parsing that by
# hand is what the seeds do with `requests`; nbswarm's client does it for you and gives back
# **events**, the same objects a local run produces.
#
# ## A remote swarm, live and recorded
#
# `remote_run(url, payload, headers)` sends the request and returns a `Run` whose events are the
# remote stream's. So everything from the earlier notebooks applies unchanged: `show(run)` opens
# the live view, `with record() as rec:` records it (a remote run is recorded like any run made
# in the block), and `run.result()` waits for the final output.
#
# The payload is the Swarms API's swarm spec: an `AgentRearrange` whose two analysts run in
# parallel before a summary, with `"stream": true`.

# %%
def analyst(name: str, role: str, max_tokens: int = 400) -> dict:
    return {
        "agent_name": name,
        "system_prompt": role,
        "model_name": MODEL.removeprefix("sim/"),
        "max_tokens": max_tokens,
    }


swarm_payload = {
    "name": "remote-tesla-analysis",
    "swarm_type": "AgentRearrange",
    "rearrange_flow": "Market-Researcher, Financial-Analyst -> Summary",
    "agents": [
        analyst("Market-Researcher", "You are a market research specialist. Analyze demand and competition."),
        analyst("Financial-Analyst", "You are a financial analysis expert. Evaluate revenue and risks."),
        analyst("Summary", "You synthesise the analysts' findings into a short recommendation.", 200),
    ],
    "task": "Analyze Tesla (TSLA) stock from market and financial perspectives",
    "stream": True,
}

with record() as rec:
    run = remote_run(f"{BASE_URL}/v1/swarm/completions", swarm_payload, HEADERS)
    show(run)  # the live view, fed from the network
    output = run.result()

print(output[:300], "…")

# %% [markdown]
# The client rebuilt the run from the wire: same event types, same per-agent texts, and the
# parallel phase still interleaved (the flips from notebook 3), now measured on a stream that
# crossed HTTP.

# %%
from collections import Counter

print(dict(Counter(event.type for event in run.events)))
print({agent: len(text) for agent, text in run.outputs.items()})

metrics = rec.metrics()
print(f"flips in the remote stream: {int(metrics.interleaving['flips'].iloc[0])}")
metrics.agents[["ttft", "duration", "output_tokens", "cost"]]

# %%
plots.timeline(rec.df);

# %% [markdown]
# ## Errors come back with their place
#
# The server checks a request before running anything and answers `422` naming the field that is
# wrong. The client raises a `StreamError` with what the server said, line breaks and all, so the
# caret sits under the unknown name. Here the flow names an agent the swarm does not have:

# %%
from nbswarm import StreamError

bad = {**swarm_payload, "rearrange_flow": "Market-Researcher, Financial-Analyst -> Summariser"}
try:
    remote_run(f"{BASE_URL}/v1/swarm/completions", bad, HEADERS).result()
except StreamError as error:
    print(str(error)[:400])

# %% [markdown]
# Without the API key, the server refuses (`401`):

# %%
try:
    remote_run(f"{BASE_URL}/v1/swarm/completions", swarm_payload).result()
except StreamError as error:
    print(str(error)[:200])

# %% [markdown]
# ## The hosted Swarms API
#
# The same client reads the hosted API's streams: change the URL and the key.
#
# ```python
# BASE_URL = "https://swarms-api-285321057562.us-east1.run.app"
# HEADERS = {"x-api-key": os.environ["SWARMS_API_KEY"], "Content-Type": "application/json"}
# run = remote_run(f"{BASE_URL}/v1/swarm/completions", swarm_payload, HEADERS)
# ```
#
# ## Stop the server

# %%
server.terminate()
server.wait(timeout=15)
log.close()
print("server stopped:", server.returncode is not None)
print("its log:", *log_path.read_text().splitlines()[-3:], sep="\n  ")
