# %% [markdown]
# # 2 · Sequential and concurrent workflows
#
# One agent is a conversation; a **workflow** is a team. nbswarm runs the two classic shapes from
# the swarms streaming guide on one async engine, so every agent streams for real:
#
# * `ConcurrentWorkflow`: all agents work on the same task **at the same time**;
# * `SequentialWorkflow`: agents work **one after another**, each seeing what the ones before said.
#
# With `show_dashboard=True` a workflow shows every agent live, side by side, in one dashboard.
# Runs offline on the sim model (see notebook 1 for using a real model).

# %%
import os

from nbswarm import Agent, ConcurrentWorkflow, SequentialWorkflow

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")  # set NBSWARM_MODEL (and a key) for a real model

# %% [markdown]
# ## A concurrent workflow with a dashboard
#
# Three analysts look at the same stock from three angles. They are silent on their own
# (`print_on=False`): the workflow's dashboard shows all three at once. Watch the panels fill
# **simultaneously**: the whole run takes about as long as the slowest analyst, not the sum of all
# three.

# %%
market_researcher = Agent(
    agent_name="Market-Researcher",
    system_prompt="""You are a market research specialist. Analyze market trends
    and provide actionable insights.""",
    model_name=MODEL,
    max_loops=1,
    streaming_on=True,
    print_on=False,  # silent: the dashboard shows it
)

financial_analyst = Agent(
    agent_name="Financial-Analyst",
    system_prompt="""You are a financial analysis expert. Evaluate investment
    opportunities and assess risks.""",
    model_name=MODEL,
    max_loops=1,
    streaming_on=True,
    print_on=False,
)

technical_analyst = Agent(
    agent_name="Technical-Analyst",
    system_prompt="""You are a technical analysis specialist. Analyze price patterns
    and provide trading recommendations.""",
    model_name=MODEL,
    max_loops=1,
    streaming_on=True,
    print_on=False,
)

workflow = ConcurrentWorkflow(
    name="market-analysis-workflow",
    agents=[market_researcher, financial_analyst, technical_analyst],
    max_loops=1,
    show_dashboard=True,  # every agent live, side by side
)

result = workflow.run("Analyze Tesla (TSLA) stock from market, financial, and technical perspectives")

# %% [markdown]
# `run()` returns the workflow's output: for a concurrent workflow, each agent's answer under its
# name.

# %%
print(result[:600], "…")

# %% [markdown]
# ## A sequential workflow
#
# A researcher, then a writer. These agents keep the default `print_on=True`, so each shows its
# own live panel as its turn comes. The writer's prompt contains the task **and the researcher's
# answer**, which is how a sequential workflow passes work along.

# %%
researcher = Agent(
    agent_name="Researcher",
    system_prompt="Research the topic and provide detailed analysis",
    model_name=MODEL,
    streaming_on=True,
)

writer = Agent(
    agent_name="Writer",
    system_prompt="Write engaging content based on research",
    model_name=MODEL,
    streaming_on=True,
)

workflow = SequentialWorkflow(agents=[researcher, writer], max_loops=1)

final_output = workflow.run("The future of renewable energy technology")

# %% [markdown]
# A sequential workflow's output is the last agent's answer.

# %%
print(final_output[:400], "…")

# %% [markdown]
# ## The run behind a workflow
#
# Like an agent, a workflow has `.stream(task)`, which returns its `Run` (the display still
# attaches). From the run you can read each agent's output, the usage and cost, and every event.
# Let's check the claim that concurrent agents overlap: each agent's turn is the time between its
# `agent_start` and `agent_end` events.

# %%
run = ConcurrentWorkflow(
    name="overlap-check",
    agents=[market_researcher, financial_analyst, technical_analyst],
    show_dashboard=True,
).stream("Analyze Nvidia (NVDA) stock")
run.result()

turns = {}
for event in run.events:
    if event.type == "agent_start":
        turns[event.agent] = [event.t, None]
    elif event.type == "agent_end":
        turns[event.agent][1] = event.t

for agent, (start, end) in turns.items():
    print(f"{agent:<18} {start:6.3f} s -> {end:6.3f} s")
latest_start = max(start for start, _ in turns.values())
earliest_end = min(end for _, end in turns.values())
print("all three were working at the same time:", latest_start < earliest_end)
print(f"tokens: {run.usage.total_tokens}, cost: ${run.usage.cost:.5f}")

# %% [markdown]
# ## Callbacks for workflows
#
# A workflow's `streaming_callback` receives `(agent_name, chunk, is_final)`: every chunk of every
# agent, and an empty final chunk when an agent is done. Here it counts chunks per agent.

# %%
from collections import Counter

chunks = Counter()
finished = []


def on_chunk(agent_name: str, chunk: str, is_final: bool) -> None:
    if is_final:
        finished.append(agent_name)
    else:
        chunks[agent_name] += 1


ConcurrentWorkflow(agents=[market_researcher, financial_analyst]).run(
    "Compare Tesla and BYD", streaming_callback=on_chunk
)
print(dict(chunks))
print("finished:", finished)

# %% [markdown]
# ## When an agent fails
#
# Real streams break: a timeout, a rate limit, a dropped connection. A failing agent gets an
# `error` event and keeps its partial text; **the other agents are not harmed**. To see it, one
# agent uses a sim model that fails after 25 tokens (`SimProfile(fail_after=25)`).
# `on_agent_error` chooses what the workflow does: `"continue"` (the default), `"stop"` the
# remaining steps, or `"raise"` an `AgentError` at the end.

# %%
from nbswarm import SimProfile, SimProvider

flaky = Agent(
    agent_name="Flaky-Analyst",
    system_prompt="You are an analyst on an unreliable connection.",
    provider=SimProvider(SimProfile(fail_after=25)),
    print_on=False,
)

failing = ConcurrentWorkflow(name="one-fails", agents=[market_researcher, flaky], show_dashboard=True)
run = failing.stream("Analyze Apple (AAPL) stock")
run.result()

for error in run.errors:
    print(f"{error.agent}: {error.error_type}: {error.message}")
for turn in run.turns:
    print(f"{turn.agent:<18} finish_reason={turn.finish_reason:<6} {len(turn.output.split())} words kept")

# %% [markdown]
# **Next:** [03-parallel-flows](03-parallel-flows.ipynb) mixes the two shapes in one flow:
# two agents in parallel, then a third that reads both.
