# %% [markdown]
# # 5 · Prompt design: compare variants side by side
#
# Prompt design is an experiment: change the system prompt, the temperature, the length limit or
# the model, and compare what comes back. Not just the words, but how fast the first token
# arrives, how long the answer takes and what it costs.
#
# The recipe in this notebook:
#
# 1. describe each **variant** as a row of settings;
# 2. make one agent per variant and run them all **at once** on the same task, in one
#    `ConcurrentWorkflow`, so the dashboard shows them side by side while they stream;
# 3. record the run and put **outputs, timing and cost in one table** and **one figure**.
#
# Runs offline on the sim model. The sim models timing, length limits and each model's real
# prices; its text follows the task (a report, a story, a list...) and the role in the system
# prompt, and the temperature changes it as it would a real model's: at 0 the same prompt always
# gives the same answer, higher values vary the wording and structure more. It does *not* follow
# finer instructions. With a real model (`NBSWARM_MODEL` and a key, see notebook 1) every setting
# below matters; that is what this notebook is for.

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd

from nbswarm import Agent, ConcurrentWorkflow, Recorder, plots

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")  # set NBSWARM_MODEL (and a key) for a real model
# A second model to compare against; set NBSWARM_MODEL_B (e.g. "gpt-4o") when using real models.
MODEL_B = os.environ.get("NBSWARM_MODEL_B", "sim/gpt-4o" if MODEL.startswith("sim/") else MODEL)

TASK = "Recommend whether a small online shop should offer a subscription plan"

# %% [markdown]
# ## The variants
#
# One row per variant. Every column is an `Agent` argument, so adding a dimension to the
# experiment (say, `max_loops`) is adding a column.

# %%
EXPERT = "You are a senior e-commerce strategist. Be specific and quantify where you can."

variants = pd.DataFrame(
    [
        {"variant": "baseline", "system_prompt": "You are a helpful assistant.", "temperature": 0.5},
        {"variant": "expert", "system_prompt": EXPERT, "temperature": 0.5},
        {"variant": "expert-hot", "system_prompt": EXPERT, "temperature": 1.2},
        {"variant": "expert-short", "system_prompt": EXPERT, "temperature": 0.5, "max_tokens": 120},
        {"variant": "expert-big-model", "system_prompt": EXPERT, "temperature": 0.5, "model_name": MODEL_B},
    ]
)
variants["model_name"] = variants["model_name"].fillna(MODEL)
variants["max_tokens"] = variants["max_tokens"].fillna(1024).astype(int)
variants.set_index("variant")

# %% [markdown]
# ## Run them all at once
#
# One agent per row, named after its variant. The dashboard shows the variants side by side as
# they stream; the recorder keeps every event for the comparison.

# %%
agents = [
    Agent(
        agent_name=row.variant,
        system_prompt=row.system_prompt,
        model_name=row.model_name,
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        print_on=False,
    )
    for row in variants.itertuples()
]

rec = Recorder()
workflow = ConcurrentWorkflow(name="prompt-variants", agents=agents, show_dashboard=True)
run = workflow.stream(TASK, recorder=rec)
run.result();

# %% [markdown]
# ## One table: outputs, timing and cost
#
# The recorder's per-agent metrics have the timing and cost of each variant (its index is
# `(run_id, agent)`); the run has each variant's output and why it stopped. Joined with the
# settings, that is the whole experiment in one table.

# %%
measured = rec.metrics().agents.droplevel("run_id")
finish = {turn.agent: turn.finish_reason for turn in run.turns}

table = variants.set_index("variant").join(
    measured[["ttft", "duration", "tokens_per_s", "input_tokens", "output_tokens", "cost"]]
)
table["finish"] = pd.Series(finish)
table["words"] = pd.Series({name: len(text.split()) for name, text in run.outputs.items()})
table["output"] = pd.Series({name: text[:240].replace("\n", " ") + "…" for name, text in run.outputs.items()})
# Text reads left-aligned and wrapped (notebooks right-align table cells): a pandas Styler says so.
table.drop(columns="system_prompt").style.format(
    {"ttft": "{:.2f}", "duration": "{:.2f}", "tokens_per_s": "{:.0f}", "cost": "{:.6f}"}
).set_properties(subset=["output"], **{"text-align": "left", "white-space": "normal", "min-width": "28em"})

# %% [markdown]
# A few things to read off the table: the `expert-short` variant stopped because of its limit
# (`finish` is `length`), so it is the cheapest and fastest but may be cut mid-thought; the
# bigger model costs several times more for an answer of the same length. Compare the `output`
# column for tone and substance, and `expert` against `expert-hot` for how much the temperature
# changes the wording (on the sim too).
#
# ## One figure: timing and cost
#
# nbswarm's plots take `ax=`, so they compose into one figure: the timeline shows when each
# variant started and finished streaming; the bars show what each cost.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 3.6), width_ratios=[3, 2])
plots.timeline(rec.df, ax=left)
plots.cost(rec.df, ax=right)
fig.suptitle(f"{len(agents)} prompt variants on one task")
fig.tight_layout()

# %% [markdown]
# ## Reading whole outputs
#
# The dashboard above keeps each variant's full text. To read two variants one after the other:

# %%
for name in ("baseline", "expert"):
    print(f"=== {name} ===\n{run.outputs[name][:500]}…\n")

# %% [markdown]
# ## Your turn
#
# Add a row to `variants` (a different role, a stricter limit, another model) and run the notebook
# again. Every run records the same way, so you can also keep the recordings (`rec.save(...)`,
# notebook 4) and compare experiments across days.
#
# **Next:** [06-remote-streams](06-remote-streams.ipynb) streams the same kind of run from a server.
