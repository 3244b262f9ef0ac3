# %% [markdown]
# # 3 · Parallel flows: watching two agents type at once
#
# `AgentRearrange` runs any **flow** of agents, written as a string:
#
# * `->` means *then*: `"A -> B"` runs A, then B with A's output;
# * `,` means *at the same time*: `"A, B -> C"` runs A and B **in parallel**, then C, which reads
#   what both of them wrote.
#
# The parallel phase is the interesting part. Both agents stream at once, so their tokens arrive
# **interleaved** in one event stream, and every chunk names the agent that wrote it. In this
# notebook you watch that happen, then measure it the way the Swarms API guide does: by counting
# how often consecutive chunks switch agents (**flips**).

# %%
import os

from nbswarm import Agent, AgentRearrange

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")  # set NBSWARM_MODEL (and a key) for a real model

# %% [markdown]
# ## Three agents and a flow

# %%
agents = [
    Agent(
        agent_name="Market-Researcher",
        system_prompt="You are a market research specialist. Analyze demand and competition.",
        model_name=MODEL,
        print_on=False,
    ),
    Agent(
        agent_name="Financial-Analyst",
        system_prompt="You are a financial analysis expert. Evaluate revenue, margins and risks.",
        model_name=MODEL,
        print_on=False,
    ),
    Agent(
        agent_name="Summary",
        system_prompt="You synthesise the analysts' findings into a short recommendation.",
        model_name=MODEL,
        print_on=False,
    ),
]

swarm = AgentRearrange(
    name="tesla-analysis",
    agents=agents,
    flow="Market-Researcher, Financial-Analyst -> Summary",
    show_dashboard=True,
)
swarm

# %% [markdown]
# ## Run it and watch
#
# The dashboard puts the two analysts side by side: both panels grow at the same time. When both
# are done, the Summary panel starts, and its answer refers to what the analysts said.

# %%
run = swarm.stream("Analyze Tesla (TSLA) stock from market and financial perspectives")
summary = run.result()

# %% [markdown]
# ## Measuring the interleaving
#
# Each chunk event carries its `agent`. Write the chunk stream as one letter per chunk
# (**M**arket-Researcher, **F**inancial-Analyst, **S**ummary) and the shape of the run is plain to
# see: M and F alternate while they run together, then a solid block of S.

# %%
chunk_agents = [event.agent for event in run.events if event.type == "chunk"]
letters = "".join(agent[0] for agent in chunk_agents)

print(f"{len(letters)} chunks:")
for start in range(0, len(letters), 100):
    print(" ", letters[start : start + 100])

# %% [markdown]
# A **flip** is a pair of consecutive chunks from different agents. A purely sequential run of
# three agents has exactly 2 flips (M→F, F→S); the Swarms guide takes **3 or more** as the sign
# that a parallel phase really streamed in parallel.

# %%
from itertools import pairwise


def flips(agents: list[str]) -> int:
    """How often consecutive chunks come from different agents."""
    return sum(1 for a, b in pairwise(agents) if a != b)


parallel_flips = flips(chunk_agents)
print(f"flips: {parallel_flips}")
print("the parallel phase streamed in parallel:", parallel_flips >= 3)

# %% [markdown]
# For comparison, the same three agents as a purely sequential flow:

# %%
sequential = AgentRearrange(
    name="tesla-sequential", agents=agents, flow="Market-Researcher -> Financial-Analyst -> Summary"
)
seq_run = sequential.stream("Analyze Tesla (TSLA) stock from market and financial perspectives")
seq_run.result()

seq_agents = [event.agent for event in seq_run.events if event.type == "chunk"]
print("sequential flips:", flips(seq_agents))
print(f"parallel run: {run.end.execution_time:.2f} s, sequential run: {seq_run.end.execution_time:.2f} s")

# %% [markdown]
# The parallel run is also faster: its first phase lasts as long as the slower analyst, not both
# of them added up (with `NBSWARM_SIM_DELAY_SCALE=0` both take almost no time).
#
# ## Who wrote what, even when interleaved
#
# Because every chunk names its agent, putting each agent's text back together is a
# dictionary away, and it matches each agent's final output exactly. This is how the dashboard
# keeps the panels apart.

# %%
texts: dict[str, list[str]] = {}
for event in run.events:
    if event.type == "chunk":
        texts.setdefault(event.agent, []).append(event.content)

for agent, pieces in texts.items():
    print(f"{agent:<18} {len(pieces):>4} chunks, matches its output: {''.join(pieces) == run.outputs[agent]}")

# %% [markdown]
# ## Two agents of one step write two different texts
#
# Agents of one step get the same task, yet each writes in its own voice: its name, description
# and system prompt shape what it says, and the task decides the form. Here the two analysts'
# reports sit side by side, then two agents with no system prompt at all are asked for a story:
# two different stories, with their own characters, dialogue and no report headers.

# %%
import textwrap

from nbswarm import ConcurrentWorkflow


def side_by_side(outputs: dict[str, str], width: int = 48) -> None:
    """Print each agent's text in its own column."""
    columns = []
    for agent, text in outputs.items():
        lines = [agent, "-" * len(agent)]
        for paragraph in text.splitlines():
            lines += textwrap.wrap(paragraph, width) or [""]
        columns.append(lines[:24])
    for row in range(max(len(c) for c in columns)):
        print("   ".join(f"{(c[row] if row < len(c) else ''):<{width}}" for c in columns))


side_by_side({name: run.outputs[name] for name in ("Market-Researcher", "Financial-Analyst")})
print()
writers = [Agent(agent_name=name, model_name=MODEL, print_on=False) for name in ("Storyteller", "Novelist")]
stories = ConcurrentWorkflow(agents=writers).stream("Write a short story about a lighthouse keeper")
stories.result()
side_by_side(stories.outputs)

# %% [markdown]
# ## A timeline of the run
#
# nbswarm's plots draw the same thing as a picture: one lane per agent, each turn as a bar and
# each chunk as a tick. Overlapping bars are the parallel phase. (Notebook 4 covers the recorder
# and every plot.)

# %%
from nbswarm import Recorder, plots

rec = Recorder()
rec.add(run)  # a finished run: the recorder takes all its events
plots.timeline(rec.df);

# %% [markdown]
# ## Flow strings are checked before anything runs
#
# A typo in a flow fails at once, with the column it is at, before any model is called (and
# before anything is paid for).

# %%
from nbswarm import FlowError

try:
    AgentRearrange(agents=agents, flow="Market-Researcher, Financial-Analyst -> Sumary")
except FlowError as error:
    print(error)

# %% [markdown]
# **Next:** [04-analyzing-streams](04-analyzing-streams.ipynb) records runs into a DataFrame and
# measures them: time to first token, speed, gaps, cost, and every plot.
