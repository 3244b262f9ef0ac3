"""Shared by the sweep tests: agents and workflows a sweep builds per variant, and the loss check."""

from __future__ import annotations

import collections
import sys
from typing import Any

import cloudpickle

from nbswarm import Agent, AgentRearrange, ConcurrentWorkflow, SequentialWorkflow
from nbswarm.models.sim import SimProfile, SimProvider

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # worker processes cannot import tests/


def make(variant: dict[str, Any]) -> Any:
    """One variant: a shape (agent, sequential, concurrent, rearrange), a model, a sim speed."""
    delay = variant.get("delay", 0.0)
    model = variant.get("model", "sim/gpt-4o-mini")

    def agent(name: str) -> Agent:
        return Agent(
            agent_name=name,
            model_name=model,
            max_tokens=variant.get("max_tokens", 40),
            seed=variant.get("seed", 1),
            provider=SimProvider(SimProfile(delay_scale=delay)),
            system_prompt=variant.get("prompt", ""),
        )

    shape = variant.get("shape", "agent")
    if shape == "agent":
        return agent("Solo")
    agents = [agent(n) for n in ("A", "B", "C")]
    if shape == "sequential":
        return SequentialWorkflow(agents=agents)
    if shape == "concurrent":
        return ConcurrentWorkflow(agents=agents)
    return AgentRearrange(agents=agents, flow="A, B -> C")


def broken_make(variant: dict[str, Any]) -> Any:
    if variant.get("broken"):
        raise RuntimeError("no such prompt file")
    return make(variant)


def assert_lossless(sw: Any) -> dict[str, list[Any]]:
    """Every run the table lists has its whole stream in the recorder: seqs 0..n-1, once each,
    ending with ``end``; nothing else is there. Returns the events by run."""
    rec = sw.recorder
    assert rec.gaps == {}
    by_run: dict[str, list[Any]] = collections.defaultdict(list)
    for event in rec.events():
        by_run[event.run_id].append(event)
    keys = [(e.run_id, e.seq) for e in rec.events()]
    assert len(keys) == len(set(keys)), "duplicate (run_id, seq)"
    table = sw.table
    ran = set(table.loc[table["status"] != "skipped", "run_id"])
    assert set(by_run) == ran
    for run_id in ran:
        events = by_run[run_id]
        assert [e.seq for e in events] == list(range(len(events))), run_id
        assert events[-1].type == "end", run_id
        row = table.set_index("run_id").loc[run_id]
        assert events[-1].status == row["status"] and row["events"] == len(events)
    return by_run


def signature(events: list[Any]) -> dict[Any, list[tuple[Any, ...]]]:
    """A run's stream without what differs between backends: run ids, times, and how concurrent
    agents' events interleave (scheduling decides that, on any backend): each agent's own events
    in order, and the run-level ones in order."""
    out: dict[Any, list[tuple[Any, ...]]] = {}
    for e in events:
        fields = {
            k: getattr(e, k)
            for k in e.__dataclass_fields__
            if k not in ("run_id", "seq", "t", "job_id", "execution_time")
        }
        out.setdefault(getattr(e, "agent", None), []).append(tuple(sorted(fields.items())))
    return out


class Stubborn:
    """A provider that ignores cancellation (a blocking SDK call, a buggy plugin): only a hard stop
    ends it."""

    async def stream(self, request: Any) -> Any:
        import asyncio
        import contextlib

        from nbswarm.models import Completion

        for i in range(10_000):
            with contextlib.suppress(asyncio.CancelledError):  # swallowed: cancelling does not work here
                await asyncio.sleep(0.01)
            yield f"w{i} "
        yield Completion(input_tokens=1, output_tokens=10_000)


def stubborn_make(variant: dict[str, Any]) -> Any:
    return Agent(agent_name="Stubborn", model_name="stubborn", provider=Stubborn())
