# %% [markdown]
# # 4 · Analyzing streams: record, measure, plot, replay
#
# Watching a stream tells you *that* it works; recording it tells you *how well*. How long until
# the first token? How fast after that? Were there stalls? Did the parallel agents really overlap?
# What did it cost?
#
# nbswarm's **recorder** keeps every event of a run, losslessly and in order, and turns them into a
# pandas **DataFrame** with one row per event. Everything in this notebook (metrics, plots, files,
# replay) works from that recording, so you can measure a live run, a saved one, or a remote one
# (notebook 6) the same way.
#
# Runs offline on the sim model, whose timing is realistic: a time to first token of about 0.3 s
# and about 80 tokens a second, with jitter.

# %%
import os
import tempfile
from pathlib import Path

from nbswarm import Agent, AgentRearrange, Recorder, plots, record, replay

MODEL = os.environ.get("NBSWARM_MODEL", "sim/gpt-4o-mini")  # set NBSWARM_MODEL (and a key) for a real model

# %% [markdown]
# ## Recording a run
#
# There are two ways to record. Pass `recorder=` to a single `run()`, or record **every run made
# inside a block** with `with record() as rec:`. Here we record a parallel flow (two analysts at
# once, then a summary) and a single agent, into one recorder.

# %%
analysts = [
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
        max_tokens=150,
        print_on=False,
    ),
]
swarm = AgentRearrange(
    name="tesla-analysis",
    agents=analysts,
    flow="Market-Researcher, Financial-Analyst -> Summary",
    show_dashboard=True,
)
explainer = Agent(agent_name="Explainer", model_name=MODEL, streaming_on=True)

with record() as rec:
    swarm.run("Analyze Tesla (TSLA) stock from market and financial perspectives")
    explainer.run("Explain what a P/E ratio tells an investor")

rec

# %% [markdown]
# ## The DataFrame
#
# `rec.df` has one row per event. Chunks carry the new text (`content`) and its size (`n_chars`);
# `usage` rows carry tokens and cost; every row has the run, its `seq` number and `t`, the seconds
# since its run started. (An agent's text is never repeated per row: join its chunks, or read its
# `agent_end` row.)

# %%
df = rec.df
print(f"{len(df)} events from {df['run_id'].nunique()} runs")
df[["run_id", "seq", "t", "event", "agent", "content", "n_chars", "output_tokens", "cost"]].head(8)

# %% [markdown]
# It is an ordinary DataFrame, so pandas answers questions directly. How many chunks and
# characters did each agent stream, and when did its first and last chunk arrive?

# %%
chunks = df[df["event"] == "chunk"]
chunks.groupby("agent", observed=True).agg(
    chunks=("seq", "size"), chars=("n_chars", "sum"), first=("t", "min"), last=("t", "max")
)

# %% [markdown]
# ## Metrics
#
# `rec.metrics()` computes the standard measures in three tables (see `nbswarm.analysis` for the
# exact definitions):
#
# * **agents**: per agent, `ttft` (time to first token), `duration`, `tokens_per_s`, the gaps
#   between its chunks (`gap_median`, `gap_p95`, `gap_max`: a stall shows here), tokens and `cost`;
# * **runs**: per run, `total_time`, `busy_time` (all agents' time added up), the `critical_path`
#   (the longest agent of each phase, added up: the least time the flow can take), the
#   `max_concurrency` and `parallelism`, tokens and cost;
# * **interleaving**: per run, `flips` (how often consecutive chunks switch agent), the longest
#   stretch from one agent, and `overlap`, the seconds during which two or more agents ran at once.

# %%
metrics = rec.metrics()
metrics

# %% [markdown]
# Each table is a DataFrame you can sort, filter or export. For example, the slowest start and the
# worst stall:

# %%
agents = metrics.agents
print("slowest first token:", agents["ttft"].idxmax()[1], f"{agents['ttft'].max():.3f} s")
print("longest gap between chunks:", agents["gap_max"].idxmax()[1], f"{agents['gap_max'].max() * 1e3:.1f} ms")
print(f"total cost of both runs: ${metrics.runs['cost'].sum():.5f}")

# %% [markdown]
# ## Plots
#
# Every plot takes the recorder's DataFrame and returns a matplotlib `Axes` (pass `ax=` to place it
# in your own figure, `run_id=` to pick one run). Agents keep their live-view colours.
#
# **The timeline**: one lane per agent, each turn a bar, each chunk a tick. The two analysts'
# overlapping bars are the parallel phase; the summary starts when both have finished.

# %%
flow_run = rec.runs[0]
plots.timeline(rec.df, run_id=flow_run);

# %% [markdown]
# **Cumulative tokens**: the slope is the streaming speed, the flat start is the time to first token.

# %%
plots.cumulative_tokens(rec.df, run_id=flow_run);

# %% [markdown]
# **Gap distribution**: how regular the stream is. A long tail means stalls that a user would
# notice as stutter.

# %%
plots.gap_distribution(rec.df);

# %% [markdown]
# **Cost** per agent, split into what the prompt (input) and the answer (output) cost. The summary
# reads both analysts' answers, so its input is the largest.

# %%
plots.cost(rec.df, run_id=flow_run);

# %% [markdown]
# **All four at once**: `rec.plot()` (the same as `plots.summary(rec.df)`).

# %%
rec.plot(run_id=flow_run)

# %% [markdown]
# ## Saving and loading
#
# `rec.save()` writes every event to Parquet (`.parquet`, compact and typed) or JSON Lines
# (`.jsonl`, one event per line, readable anywhere), and `Recorder.load()` reads it back exactly.
# To keep a recording safe even if the kernel dies mid-run, give the recorder a path:
# `Recorder(path="run.jsonl")` writes each event as it arrives.

# %%
folder = Path(tempfile.mkdtemp(prefix="nbswarm-"))
parquet = rec.save(folder / "analysis.parquet")
jsonl = rec.save(folder / "analysis.jsonl")
for path in (parquet, jsonl):
    print(f"{path.name:<18} {path.stat().st_size:>8,} bytes")

loaded = Recorder.load(parquet)
print("loaded the same events:", loaded.events() == rec.events())

# %% [markdown]
# ## Replaying a run
#
# `replay()` turns a recorded run back into a live run, with its original timing divided by
# `speed`. Anything that follows a live run follows a replay: here the live view
# (`show=True`), and a recorder. It is handy for teaching demos, and for looking at a stream again
# without paying for it twice. (From a terminal: `nbswarm replay analysis.jsonl`.)

# %%
again = replay(loaded, run_id=flow_run, speed=2, show=True)
replayed = Recorder()
again.add_sink(replayed)
again.result()

original = [(e.type, getattr(e, "content", None)) for e in rec.events(flow_run)]
copy = [(e.type, getattr(e, "content", None)) for e in replayed.events()]
print("the replay streamed the same events in the same order:", copy == original)

# %% [markdown]
# **Next:** [05-prompt-design](05-prompt-design.ipynb) uses the recorder to compare prompt variants
# side by side.
