"""``nbswarm demo``: a streaming agent and a parallel swarm, offline on the sim model."""

from __future__ import annotations

import os
from itertools import pairwise

from .agent import Agent
from .display import attach_dashboard
from .workflows import AgentRearrange

TASK = "Analyze Tesla (TSLA) stock from market and financial perspectives"


def run_demo(*, fast: bool = False) -> int:
    """Stream one agent, then ``"Market-Researcher, Financial-Analyst -> Summary"``; print what happened."""
    if fast:
        os.environ["NBSWARM_SIM_DELAY_SCALE"] = "0"
    print("1/2  One agent, streaming token by token (model: sim/gpt-4o-mini, offline)")
    agent = Agent(agent_name="Streaming-Agent", model_name="sim/gpt-4o-mini", max_loops=1, streaming_on=True)
    agent.run("Write a short explanation of how neural networks work")

    print("\n2/2  A swarm: two agents stream at the same time, then a third synthesises")
    swarm = AgentRearrange(
        name="market-analysis",
        agents=[
            Agent(agent_name=name, system_prompt=prompt, model_name="sim/gpt-4o-mini", print_on=False)
            for name, prompt in (
                ("Market-Researcher", "You are a market research specialist. Analyze market trends."),
                ("Financial-Analyst", "You are a financial analysis expert. Evaluate risks and returns."),
                ("Summary", "You synthesise the analysts' findings into a short recommendation."),
            )
        ],
        flow="Market-Researcher, Financial-Analyst -> Summary",
    )
    run = swarm.stream(TASK)
    attach_dashboard(run)
    run.result()
    chunks = [e.agent for e in run.events if e.type == "chunk"]
    flips = sum(1 for a, b in pairwise(chunks) if a != b)
    usage = run.usage
    print(f"\n{len(chunks)} chunks; the chunk stream switched agents {flips} times (parallel streaming)")
    if usage is not None:
        tokens = f"tokens: {usage.input_tokens} in, {usage.output_tokens} out"
        print(f"{tokens}; cost ${usage.cost:.5f} at gpt-4o-mini prices")
    print(f"finished in {run.end.execution_time:.1f} s" if run.end else "")
    return 0
