# %% [markdown]
# # 1 · Streaming basics
#
# An LLM answers token by token. **Streaming** shows those tokens as they arrive instead of making
# you stare at a spinner until the whole answer is done. This notebook walks through every way
# nbswarm lets you consume a stream, following the swarms streaming guide:
#
# 1. a streaming agent, shown live,
# 2. a callback that receives each token,
# 3. *detailed* mode: a dict per token, then usage and the finish reason,
# 4. *silent* mode: no display, just the final text,
# 5. a custom display of your own,
# 6. what is underneath all of them: one ordered stream of events.
#
# Everything here runs **offline** on nbswarm's built-in `sim` model: it streams realistic text
# with a real model's latency, speed and prices, so you need no key and no network.

# %% [markdown]
# ## Setup: the sim, or a real model
#
# `MODEL` is used by every agent below. It defaults to `sim/gpt-4o-mini` (the offline simulator
# of gpt-4o-mini). To run this notebook against a real model, set two environment variables
# **before starting Jupyter** (nbswarm sends real models through [litellm](https://docs.litellm.ai/),
# so any litellm model name works):
#
# ```bash
# export NBSWARM_MODEL=gpt-4o-mini        # or anthropic/claude-3-5-haiku-20241022, ollama/llama3.2, ...
# export OPENAI_API_KEY=sk-...            # the key your provider's litellm name expects
# ```
#
# (For a local server such as Ollama, also pass `llm_base_url="http://localhost:11434"` to `Agent`.
# On Binder, `NBSWARM_SIMULATE=1` routes every model to the sim, since Binder has no keys.)
# `NBSWARM_SIM_DELAY_SCALE` speeds the sim up: `0.1` is ten times faster, `0` does not wait at all.

# %%
import os

import nbswarm
from nbswarm import Agent

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")
print(f"nbswarm {nbswarm.__version__}, model: {MODEL}")

# %% [markdown]
# ## 1. Basic streaming
#
# `streaming_on=True` makes the agent stream. In a notebook the stream is shown in a **live panel**:
# the text grows as tokens arrive, with the agent's status, tokens, speed, time to first token
# (TTFT) and cost. `run()` still returns the complete text at the end, so code after it is the
# same as without streaming.

# %%
agent = Agent(
    agent_name="Streaming-Agent",
    model_name=MODEL,
    max_loops=1,
    streaming_on=True,  # stream, and show the stream live
)

response = agent.run("Write a detailed explanation of how neural networks work")

print(f"{len(response.split())} words; it starts: {response[:120]!r}")

# %% [markdown]
# ## 2. Streaming with a callback
#
# Pass `streaming_callback=` to receive each token as a `str` the moment it arrives: to send it to
# a websocket, update your own UI, log it, or analyse it. A callback replaces the default display.
# Here is the swarms guide's callback, on a short answer (`max_tokens=60`):

# %%
def streaming_callback(token: str) -> None:
    """Called for each streaming token."""
    print(token, end="", flush=True)


short = Agent(agent_name="Interactive-Agent", model_name=MODEL, max_tokens=60, streaming_on=True)
response = short.run(task="Explain quantum computing", streaming_callback=streaming_callback)

# %% [markdown]
# A callback can do anything with the tokens. This one keeps them, so we can check a property
# every stream has: **the tokens join up to exactly the returned text**.

# %%
tokens: list[str] = []

response = agent.run("Explain quantum computing", streaming_callback=tokens.append)

print(f"{len(tokens)} tokens, e.g. {tokens[:8]}")
print("tokens join to the response:", "".join(tokens) == response)

# %% [markdown]
# ## 3. Detailed streaming (`stream=True`)
#
# With `stream=True` the callback gets a **dict** instead: one per token with its `content` (and
# `agent` and `index`), then, when the agent finishes, one with the `finish_reason` and the `usage`
# (tokens and cost in US dollars).

# %%
infos: list[dict] = []

detailed = Agent(
    agent_name="Detailed-Streaming-Agent",
    model_name=MODEL,
    max_loops=1,
    stream=True,  # detailed streaming: dicts, not strings
)
response = detailed.run(
    task="Analyze the current state of AI technology",
    streaming_callback=infos.append,
)

print("first:", infos[0])
print("last: ", infos[-1])

# %% [markdown]
# `finish_reason` is `"stop"` when the model ended its answer and `"length"` when it hit
# `max_tokens`. The usage dict is what the provider charged, so a stream can keep a running bill.

# %% [markdown]
# ## 4. Silent streaming
#
# `print_on=False` shows nothing: the agent still streams (so a callback or recorder would see
# every token), but you only use the final text.

# %%
silent = Agent(
    agent_name="Silent-Streamer",
    model_name=MODEL,
    max_loops=1,
    streaming_on=True,
    print_on=False,  # no display
)

response = silent.run("Generate a report on market trends")

print("=== Final Response ===")
print(response[:400], "…")

# %% [markdown]
# ## 5. A custom display
#
# The swarms guide builds a custom panel with a callback that clears the screen and redraws a
# `rich` panel on **every token**. In a notebook that would print hundreds of panels, and each
# redraw costs more as the text grows. nbswarm gives a display a better hook: any object with
# `__call__(event)` is a **sink** of the run's events, and if it also has `flush()`, the run calls
# that at most every 0.04 s while events arrive. So the sink only collects text per event (cheap)
# and redraws in `flush()` (at most 25 times a second, however fast the tokens come).
# `close()` is called once at the end.

# %%
import html

import ipywidgets as widgets
from IPython.display import display


class ThinkingPanel:
    """A custom live display: a titled box with the agent's text so far."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.pieces: list[str] = []
        self.drawn = 0
        self.box = widgets.HTML()
        display(self.box)

    def __call__(self, event) -> None:  # every event: keep the text, nothing else
        if event.type == "chunk":
            self.pieces.append(event.content)

    def flush(self) -> None:  # at most every 0.04 s: redraw if there is new text
        if len(self.pieces) != self.drawn:
            self.draw("🤖 " + self.title + " thinking…")

    def close(self) -> None:  # once, at the end
        self.draw("✅ " + self.title)

    def draw(self, heading: str) -> None:
        self.drawn = len(self.pieces)
        text = html.escape("".join(self.pieces))
        self.box.value = (
            f"<div style='border:2px solid #4a7bd0;border-radius:6px;padding:8px;max-height:14em;"
            f"overflow:auto'><b>{heading}</b><pre style='white-space:pre-wrap'>{text}</pre></div>"
        )


writer = Agent(agent_name="Custom-Display-Agent", model_name=MODEL, streaming_on=True, print_on=False)

run = writer.stream("Write a creative story")  # the run, not started yet
panel = ThinkingPanel(writer.agent_name)
run.add_sink(panel)
story = run.result()  # start it, show it, and wait for the text

print("the panel shows the whole story:", html.escape(story) in panel.box.value)

# %% [markdown]
# ## 6. Underneath: one stream of events
#
# Every way of consuming a stream above reads the same thing: the run's **events**.
# `agent.stream(task)` returns the `Run` itself; iterating it yields each event as it happens.
# A run is `metadata`, `start`, then per agent turn `agent_start`, many `chunk`s and `agent_end`,
# then `usage` and `end`. Every event has the `run_id`, a `seq` number (strictly increasing) and
# `t`, the seconds since the run started.

# %%
from collections import Counter

run = silent.stream("Summarise the history of the transistor")
kinds = Counter()
for event in run:  # events arrive while the agent streams
    kinds[event.type] += 1
    if event.type != "chunk" or event.index < 2:
        print(f"{event.seq:>4}  t={event.t:6.3f}s  {event.type:<12}", getattr(event, "content", "") or "")

print(dict(kinds))

# %% [markdown]
# After the run, its results are at hand without re-running anything:

# %%
print("status:", run.status)
print("output:", run.outputs[silent.agent_name][:80], "…")
print(f"usage: {run.usage.input_tokens} tokens in, {run.usage.output_tokens} out, ${run.usage.cost:.6f}")
print(f"took {run.end.execution_time:.2f} s")

# %% [markdown]
# ## 7. A reasoning model's thinking
#
# Reasoning models (OpenAI's o-series, Claude and Gemini with thinking, DeepSeek-R1...) think before
# they answer. nbswarm streams that thinking as `chunk` events with `kind="reasoning"`: the live panel
# folds it into a "thinking" section, the recorder keeps it in its `kind` column, and
# `analysis.agent_metrics` reports the time to first reasoning (`ttfr`) beside the time to the first
# answer token (`ttft`). The thinking is never part of the answer text.
#
# The sim emulates one offline: `sim/o3-mini` thinks first (more with a higher `reasoning_effort`),
# then answers. With a key, `model_name="openai/o3-mini"` or `"anthropic/claude-sonnet-4-5"` with
# `reasoning_effort="medium"` streams the real model's thinking the same way.

# %%
from nbswarm.analysis import agent_metrics

thinker = Agent(agent_name="Thinker", model_name="sim/o3-mini", reasoning_effort="low", streaming_on=True)
recorder = nbswarm.Recorder()
answer = thinker.run("Should a small bakery switch to a four-day week?", recorder=recorder)
print(f"answer: {answer[:100]!r} …")

# %% [markdown]
# The recording tells thinking from answer, and the metrics time both:

# %%
chunks = recorder.df[recorder.df["event"] == "chunk"]
print(chunks.groupby("kind").size().to_dict())
print(agent_metrics(recorder.df)[["ttfr", "ttft", "chunks", "output_tokens"]])

# %% [markdown]
# Your own model is anything with an async `stream(request)` that yields pieces: `Reasoning(...)` for
# thinking, `Text(...)` (or a plain `str`) for the answer, then one `Completion` with the usage.

# %%
import asyncio

from nbswarm.models import Completion, Reasoning, Text


class Arithmetic:
    """A tiny offline reasoning model: a few thoughts, then the answer."""

    async def stream(self, request):
        for thought in ["453 = 400 + 50 + 3.", " 27×400 = 10,800; 27×50 = 1,350; 27×3 = 81."]:
            await asyncio.sleep(0.2)
            yield Reasoning(thought)
        for word in ["27", " ×", " 453", " =", " **12,231**."]:
            await asyncio.sleep(0.05)
            yield Text(word)
        yield Completion(input_tokens=20, output_tokens=40, cost=0.0)


print(Agent(agent_name="Solver", provider=Arithmetic(), streaming_on=True).run("What is 27 * 453?"))

# %% [markdown]
# **Next:** [02-sequential-and-concurrent](02-sequential-and-concurrent.ipynb) streams several agents
# at once into one dashboard.
