"""The hosted Swarms API's streams, read completely by the client: final texts rebuilt from the chunks.

Since its 2026 docs the hosted API sends text only in ``chunk`` events: ``chunk`` has no running
``output`` and ``agent_end`` / ``end`` carry no text. The decoder rebuilds each turn's text and
the run's final output (by the local engine's rule), so ``remote_run(...).result()``, the
recorder and the live view hold what a local run of the same agents holds. Every stream here is
served by a real loopback server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sse_util import RawServer, sse_response

from nbswarm import Agent, AgentRearrange, ConcurrentWorkflow, SequentialWorkflow
from nbswarm.events import AgentEnd, AgentStart, End, Event, Metadata, to_wire
from nbswarm.recorder import Recorder
from nbswarm.sse import astream_events, remote_run, stream_events

# The hosted API's documented agent streams, byte for byte: docs.swarms.ai/examples/streaming
# ("Stream Format") and docs.swarms.ai/capabilities/tools ("Stream Format").
DOCUMENTED_AGENT_STREAMS = {
    "Once upon a time, in a workshop filled with": b"""event: metadata
data: {"job_id": "abc123", "name": "Creative Writer"}

event: chunk
data: {"content": "Once upon a time"}

event: chunk
data: {"content": ", in a workshop filled with"}

event: usage
data: {"tokens_used": 150, "cost": 0.003}

event: done
data: {"status": "finished"}

""",
    "Based on current research, AI development shows": b"""event: metadata
data: {"job_id": "abc123", "name": "Research Analyst"}

event: chunk
data: {"content": "Based on current research"}

event: chunk
data: {"content": ", AI development shows"}

event: usage
data: {"tokens_used": 150, "cost": 0.003}

event: done
data: {"status": "finished"}

""",
}

# A swarm stream in the current format, event by event as the hosted API's swarm-streaming page
# tables them (metadata: job_id, swarm_name, swarm_type, number_of_agents; agent_start: agent;
# chunk: agent, content; agent_end: agent; usage: tokens and billing_info; end: execution_time).
# The docs show no verbatim swarm stream, so this one is built from that table.
HOSTED_REARRANGE_STREAM = b"""event: metadata
data: {"job_id": "job-7", "swarm_name": "Views", "swarm_type": "AgentRearrange", "number_of_agents": 3}

event: start
data: {"status": "running"}

event: agent_start
data: {"agent": "Optimist"}

event: agent_start
data: {"agent": "Pessimist"}

event: chunk
data: {"agent": "Optimist", "content": "Bright"}

event: chunk
data: {"agent": "Pessimist", "content": "Grim"}

event: chunk
data: {"agent": "Optimist", "content": " days."}

event: chunk
data: {"agent": "Pessimist", "content": " skies."}

event: agent_end
data: {"agent": "Pessimist"}

event: agent_end
data: {"agent": "Optimist"}

event: agent_start
data: {"agent": "Summary"}

event: chunk
data: {"agent": "Summary", "content": "Mixed"}

event: chunk
data: {"agent": "Summary", "content": " outlook."}

event: agent_end
data: {"agent": "Summary"}

event: usage
data: {"input_tokens": 30, "output_tokens": 6, "total_tokens": 36, "billing_info": {"total_cost": 0.01}}

event: end
data: {"execution_time": 2.5}

"""

URL_PATH = "/v1/swarm/completions"


def served(body: bytes) -> RawServer:
    return RawServer(sse_response(body))


@pytest.mark.parametrize("text", sorted(DOCUMENTED_AGENT_STREAMS))
def test_the_documented_agent_streams_give_their_text(text):
    with served(DOCUMENTED_AGENT_STREAMS[text]) as server:
        recorder = Recorder()
        run = remote_run(server.url + "/v1/agent/completions", {"stream": True}, recorder=recorder)
        assert run.result() == text
        assert run.outputs == {next(iter(run.outputs)): text}
        assert run.usage is not None and run.usage.total_tokens == 150


def test_the_current_swarm_stream_gives_each_agents_text_and_the_final_output():
    with served(HOSTED_REARRANGE_STREAM) as server:
        run = remote_run(server.url + URL_PATH, {"stream": True})
        assert run.result() == "Mixed outlook."
    texts = {"Optimist": "Bright days.", "Pessimist": "Grim skies.", "Summary": "Mixed outlook."}
    assert run.outputs == texts
    assert [e.output for e in run.events if isinstance(e, AgentEnd)] == [
        "Grim skies.", "Bright days.", "Mixed outlook.",
    ]  # fmt: skip
    assert run.usage is not None and run.usage.cost == 0.01
    assert run.end is not None and run.end.execution_time == 2.5 and run.end.status == "completed"


def test_sync_and_async_clients_rebuild_the_same_texts():
    with served(HOSTED_REARRANGE_STREAM) as server:
        sync = list(stream_events(server.url + URL_PATH, {"stream": True}))

        async def collect() -> list[Event]:
            return [e async for e in astream_events(server.url + URL_PATH, {"stream": True})]

        async_ = asyncio.run(collect())
    for events in (sync, async_):
        assert [e.output for e in events if isinstance(e, End)] == ["Mixed outlook."]
        assert {e.agent: e.output for e in events if isinstance(e, AgentEnd)}["Optimist"] == "Bright days."
    assert [(e.type, getattr(e, "output", None)) for e in sync] == [
        (e.type, getattr(e, "output", None)) for e in async_
    ]


def test_a_parallel_last_step_is_joined_and_attributed_like_a_local_run():
    body = HOSTED_REARRANGE_STREAM.split(b'event: agent_start\ndata: {"agent": "Summary"}')[0]
    body += b'event: end\ndata: {"execution_time": 1.0}\n\n'
    with served(body) as server:
        run = remote_run(server.url + URL_PATH, {"stream": True})
        assert run.result() == "Optimist: Bright days.\n\nPessimist: Grim skies."


# -- the same rule as the local engine, for every kind of run ---------------------------------


def hosted_wire(events: list[Event], *, placed: bool = False) -> bytes:
    """A local run's events as the hosted API's current format sends them: text only in chunks.

    A single agent's stream is the documented ``metadata, chunk*, usage, done``; a swarm's has
    one ``agent_start`` / ``agent_end`` per agent and step. ``placed`` keeps nbswarm's ``step`` and
    ``loop`` on them (then every turn has its own), as ``nbswarm serve`` sends them.
    """
    single = not placed and isinstance(events[0], Metadata) and events[0].swarm_type == "Agent"
    turn = ("agent", "step", "loop") if placed else ("agent",)
    keep = {
        "metadata": ("job_id", "swarm_name", "swarm_type", "number_of_agents"),
        "start": ("status",),
        "agent_start": turn,
        "chunk": ("agent", "content"),
        "agent_end": turn,
        "usage": ("agent", "input_tokens", "output_tokens", "total_tokens"),
        "error": ("agent", "error_type", "message"),
        "end": ("execution_time",),
    }
    loops = {}
    if not placed and not single:
        loops = {e.agent: e.loop + 1 for e in events if isinstance(e, AgentStart)}  # each agent's own turns
    frames = []
    for event in events:
        name, data = to_wire(event)
        if name == "usage" and data["agent"] is not None:
            continue  # the hosted swarm stream sends one usage, the run's
        if single and name in ("start", "agent_start", "agent_end", "end"):
            continue
        if name == "agent_start" and loops and event.loop % loops[event.agent]:
            continue  # hosted: an agent's own loops are inside one agent_start ... agent_end
        if name == "agent_end" and loops and event.loop % loops[event.agent] != loops[event.agent] - 1:
            continue
        fields: dict[str, Any] = {key: data[key] for key in keep[name]}
        if name == "error":
            fields = {"agent": data["agent"], "type": data["error_type"], "error": data["message"]}
        frames.append(b"event: %s\ndata: %s\n\n" % (name.encode(), json.dumps(fields).encode()))
    if single:
        frames.append(b'event: done\ndata: {"status": "finished"}\n\n')
    return b"".join(frames)


def flows(scripted):
    def agents(*names):
        return [Agent(agent_name=n, print_on=False) for n in names]

    failing = Agent(agent_name="Broken", provider=scripted(["half ", "said"], fail_after=1), print_on=False)
    looping = Agent(agent_name="Twice", max_loops=2, print_on=False)
    return {
        "agent": Agent(agent_name="Solo", print_on=False),
        "agent, 3 loops": Agent(agent_name="Solo", max_loops=3, print_on=False),
        "sequential": SequentialWorkflow(agents("A", "B", "C")),
        "rearrange": AgentRearrange(agents("A", "B", "C"), flow="A -> B, C"),
        "concurrent": ConcurrentWorkflow(agents("X", "Y")),
        "an agent's own loops in a step": ConcurrentWorkflow([*agents("X"), looping]),
        "failed parallel": ConcurrentWorkflow([*agents("Fine"), failing]),
        "flow loops, placed": AgentRearrange(agents("A", "B"), flow="A, B", max_loops=2),
        "agent loops, placed": Agent(agent_name="Solo", max_loops=2, print_on=False),
    }


KINDS = [
    "agent", "agent, 3 loops", "sequential", "rearrange", "concurrent", "an agent's own loops in a step",
    "failed parallel", "flow loops, placed", "agent loops, placed",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_the_rebuilt_final_output_is_the_local_runs(kind, scripted):
    made = flows(scripted)
    assert list(made) == KINDS
    local = made[kind].stream("Tidal energy in 2030")
    expected = local.result()
    wire = hosted_wire(list(local.events), placed=kind.endswith("placed"))
    with served(wire) as server:
        remote = remote_run(server.url + URL_PATH, {"stream": True})
        assert remote.result() == expected
    assert remote.status == local.status
    if kind.endswith("placed") or not kind.startswith(("agent", "an agent")):
        assert [e.output for e in remote.turns] == [e.output for e in local.turns]


def test_reasoning_chunks_on_the_wire_are_no_part_of_the_text():
    body = (
        b'event: metadata\ndata: {"job_id": "r", "name": "Thinker"}\n\n'
        b'event: chunk\ndata: {"content": "hmm, 6 times 7", "kind": "reasoning"}\n\n'
        b'event: chunk\ndata: {"content": "", "reasoning_content": " is 42", "kind": "reasoning"}\n\n'
        b'event: chunk\ndata: {"content": "42"}\n\n'
        b'event: done\ndata: {"status": "finished"}\n\n'
    )
    with served(body) as server:
        run = remote_run(server.url + "/v1/agent/completions", {"stream": True})
        assert run.result() == "42"
    assert [(c.content, c.kind) for c in run.events if c.type == "chunk"] == [
        ("hmm, 6 times 7", "reasoning"), (" is 42", "reasoning"), ("42", "text"),
    ]  # fmt: skip
