# %% [markdown]
# # 5 · Sweeping prompt variants
#
# Prompt design is an experiment: change the system prompt, the temperature, the length limit or
# the model, run each version on a few inputs, and compare what comes back -- the words, but also
# how fast the first token arrives, how long the answer takes and what it costs.
#
# `nbswarm.sweep` runs that experiment for you:
#
# 1. `nbswarm.grid(...)` describes the **variants**: every combination of the settings you list;
# 2. `make(variant)` builds the Agent (or workflow) for one variant;
# 3. `nbswarm.sweep(variants, make, tasks)` runs every variant on every task, many at once, and
#    shows a **live progress view**; every event goes into one `Recorder`;
# 4. `sw.table` has **one row per run**: the variant's settings, status, time to first token,
#    tokens, cost and output, ready for pandas; `sw.plot()` and `sw.side_by_side(...)` compare.
#
# Runs offline on the sim model, which models timing, length limits and each model's real prices;
# its text follows the task and the role in the system prompt, and the temperature varies it as it
# would a real model's (not finer instructions). With a real model (`NBSWARM_MODEL` and a key, see
# notebook 1) every setting below matters -- and a re-executed cell replays the recorded streams
# instead of paying again.

# %%
import os

import nbswarm
from nbswarm import Agent, Recorder

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")  # set NBSWARM_MODEL (and a key) for a real model
# A second model to compare against; set NBSWARM_MODEL_B (e.g. "gpt-4o") when using real models.
MODEL_B = os.environ.get("NBSWARM_MODEL_B", "sim/gpt-4o" if MODEL.startswith("sim/") else MODEL)

TASKS = [
    "Recommend whether a small online shop should offer a subscription plan",
    "Explain the trade-offs of server-sent events versus WebSockets for a chat app",
]

# %% [markdown]
# ## The variants
#
# Each keyword of `grid` is an axis; its values are the options to try. Two prompts x two models x
# two length limits is eight variants; on two tasks, sixteen runs.

# %%
PROMPTS = {
    "baseline": "You are a helpful assistant.",
    "expert": "You are a senior e-commerce and web strategist. Be specific and quantify where you can.",
}

variants = nbswarm.grid(prompt=list(PROMPTS), model=[MODEL, MODEL_B], max_tokens=[120, 600])
print(len(variants), "variants, e.g.", variants[0])

# %% [markdown]
# ## One function builds a variant
#
# `make(variant)` gets one dict from the grid and returns what to run. It runs where the run runs
# (in this kernel here; in a worker process or on a Ray cluster with another backend), so it only
# builds the agent.

# %%
def make(variant):
    return Agent(
        agent_name=variant["prompt"],
        system_prompt=PROMPTS[variant["prompt"]],
        model_name=variant["model"],
        max_tokens=variant["max_tokens"],
    )


# %% [markdown]
# ## Run the sweep, live
#
# `sweep` returns at once; the progress view fills in as runs stream: runs by status, events per
# second, tokens and cost so far, and the latest runs. `concurrency` caps the runs in flight;
# `max_cost` (dollars) would stop starting runs when the budget is reached.

# %%
rec = Recorder()
sw = nbswarm.sweep(variants, make, TASKS, recorder=rec, concurrency=16, max_cost=1.0)
sw

# %%
sw.wait()
print("lost events:", sum(rec.gaps.values()), "| runs:", len(rec.runs), "| events:", len(rec))

# %% [markdown]
# ## One table: one row per run
#
# The variant's settings first, then what was measured. A run whose worker died would appear twice:
# a `failed` attempt and its retry (`attempt` 2, its own `run_id`).

# %%
table = sw.table
shown = table.drop(columns=["task", "item", "worker", "error"]).assign(
    output=table["output"].str.slice(0, 160).str.replace("\n", " ") + "…"
)
# Text reads left-aligned and wrapped (notebooks right-align table cells): a pandas Styler says so.
shown.style.format({"ttft": "{:.2f}", "duration": "{:.2f}", "tokens_per_s": "{:.0f}", "cost": "{:.5f}"}).set_properties(
    subset=["output"], **{"text-align": "left", "white-space": "normal", "min-width": "24em"}
)

# %% [markdown]
# Averages per variant are one `groupby` away. The limit of 120 tokens shows in `output_tokens`;
# the bigger model costs several times more for answers of the same length.

# %%
table.groupby(["prompt", "model", "max_tokens"])[["ttft", "duration", "output_tokens", "cost"]].mean().round(4)

# %% [markdown]
# ## Compare in one figure
#
# Left, each run's cost against its duration, coloured by variant; right, the length of each
# variant's answers. `sw.plot(x=..., y=..., by="model")` picks other metrics or groups.

# %%
fig = sw.plot()

# %% [markdown]
# ## Outputs side by side
#
# One column per value of an axis, one row per combination of the others: here the two prompts'
# answers next to each other.

# %%
sw.side_by_side("prompt", width=70)

# %% [markdown]
# ## Every event, joined on `run_id`
#
# The recorder holds every event of every run (notebook 4 shows what to do with it). Its per-agent
# metrics join the table on `run_id`, e.g. the gaps between tokens (the stalls a reader sees) per
# model:

# %%
agents = rec.metrics().agents.reset_index()
joined = table.merge(agents[["run_id", "chunks", "gap_median", "gap_max"]], on="run_id")
print("every run has its chunks in the recorder:", len(joined) == len(table) and (joined["chunks"] > 0).all())
joined.groupby("model")[["gap_median", "gap_max"]].mean().round(4)

# %% [markdown]
# ## Open one run
#
# `sw.run(i)` is row `i`'s run, to show in the live view (live while it streams, or finished):

# %%
sw.run(0)

# %% [markdown]
# ## Bigger sweeps: processes or a Ray cluster
#
# The same call runs on worker processes (`backend="process"`, one per core) or on a Ray cluster
# (`backend="ray"`, `pip install 'nbswarm[ray]'`; with no `ray_address` it starts a local Ray,
# `ray_address="auto"` joins a running cluster). Every event still comes back to this notebook's
# recorder; a worker that dies leaves its runs `failed` and they run again as new attempts. The
# README says how many concurrent streams each backend carries. Set `USE_RAY = True` to try it.

# %%
USE_RAY = False
if USE_RAY:
    on_ray = nbswarm.sweep(variants, make, TASKS, backend="ray", concurrency=64)
    display(on_ray)  # noqa: F821 (a notebook builtin)
    on_ray.wait()

# %% [markdown]
# ## Your turn
#
# Add an axis (`temperature=[0.2, 1.0]`), a prompt, or a task, and run the sweep again. With a real
# model, a re-executed cell replays the streams it already recorded instead of calling the model
# (`cache=False` turns that off), and `rec.save("sweep.parquet")` keeps the whole experiment.
#
# **Next:** [06-remote-streams](06-remote-streams.ipynb) streams the same kind of run from a server.
