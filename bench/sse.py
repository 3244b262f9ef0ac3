"""SSE benchmark: what ``nbswarm serve`` sustains, and what the client's decoding costs.

1. Server: chunks per second to N = 1, 10, 100 concurrent streaming clients on loopback
   (``nbswarm serve`` in its own process, sim at zero latency with exact answer lengths; the load
   generator is raw asyncio sockets that only count ``event: chunk``, so it is cheaper than the
   server). Baseline: the same workflow run in-process with ``async for`` and no HTTP at all.
2. Client: decode cost per event of ``stream_events`` (httpx + httpx-sse + the nbswarm decoder)
   over the bytes of one recorded stream, against plain ``httpx`` line iteration of the same bytes
   (all through ``httpx.MockTransport``, so no network time is in any), with the steps between:
   httpx-sse's framing alone, and framing + ``json.loads``.

Run: ``cd /work/main && .venv/bin/python bench/sse.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["NBSWARM_SIM_DELAY_SCALE"] = "0"
os.environ["NBSWARM_SIM_FILL"] = "1"

import httpx  # noqa: E402
from httpx_sse import EventSource  # noqa: E402

import nbswarm  # noqa: E402
from nbswarm.sse import stream_events  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from sse_util import ServeProcess  # noqa: E402

LOADS = [(1, 8000), (10, 2000), (100, 300)]
"""(concurrent clients, tokens per agent); every swarm has 2 concurrent agents."""
REPEAT = 3
"""Each figure is the best of this many runs (the machine may be shared)."""


def swarm(tokens: int, stream_output: bool = False) -> dict:
    return {
        "name": "bench",
        "swarm_type": "ConcurrentWorkflow",
        "agents": [{"agent_name": "A", "max_tokens": tokens}, {"agent_name": "B", "max_tokens": tokens}],
        "task": "Benchmark the server",
        "stream": True,
        "stream_output": stream_output,
    }


async def one_client(port: int, body: bytes) -> tuple[int, float]:
    """POST one swarm, read the stream to EOF; returns (chunk frames, seconds to first byte)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /v1/swarm/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(body) + body
    )
    await writer.drain()
    count, tail, first = 0, b"", None
    while piece := await reader.read(1 << 16):
        if first is None:
            first = time.perf_counter() - started
        window = tail + piece
        count += window.count(b"event: chunk")
        tail = window[-11:]  # shorter than the marker: a match is never counted twice
    writer.close()
    return count, first or 0.0


async def load(port: int, clients: int, tokens: int, stream_output: bool = False) -> tuple[float, float]:
    body = json.dumps(swarm(tokens, stream_output)).encode()
    started = time.perf_counter()
    results = await asyncio.gather(*(one_client(port, body) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    chunks = sum(count for count, _ in results)
    expected = clients * 2 * tokens
    if chunks != expected:
        raise RuntimeError(f"expected {expected} chunks, got {chunks}")
    return chunks / elapsed, max(first for _, first in results)


async def in_process(tokens: int) -> float:
    agents = [nbswarm.Agent(agent_name=n, max_tokens=tokens, print_on=False) for n in "AB"]
    run = nbswarm.ConcurrentWorkflow(agents).stream("Benchmark the server")
    started = time.perf_counter()
    chunks = sum([event.type == "chunk" async for event in run])
    return chunks / (time.perf_counter() - started)


def server_bench() -> bytes:
    print("1. server: chunks/s to N concurrent streaming clients (2 concurrent agents per swarm)")
    baseline = max(asyncio.run(in_process(8000)) for _ in range(REPEAT))
    print(f"   baseline, same workflow in-process (no HTTP): {baseline:10,.0f} chunks/s")
    env = {"NBSWARM_SIM_DELAY_SCALE": "0", "NBSWARM_SIM_FILL": "1", "NBSWARM_API_KEY": ""}
    with ServeProcess(env=env) as served:
        port = served.port
        asyncio.run(load(port, 2, 200))  # warm-up
        for clients, tokens in LOADS:
            rate, first = max(asyncio.run(load(port, clients, tokens)) for _ in range(REPEAT))
            print(
                f"   N={clients:<4} {clients * 2 * tokens:>7,} chunks: {rate:10,.0f} chunks/s"
                f"  = {rate / baseline:5.2f}x in-process   (slowest first byte {first * 1000:5.1f} ms)"
            )
        rate, _ = max(asyncio.run(load(port, 10, 2000, stream_output=True)) for _ in range(REPEAT))
        print(f"   N=10   with running 'output' on chunks (O(n^2) bytes): {rate:10,.0f} chunks/s")
        recorded = httpx.post(
            f"{served.url}/v1/swarm/completions",
            json=swarm(8000),
            timeout=120,
            headers={"accept": "text/event-stream"},
        ).content
    return recorded


def client_bench(stream: bytes) -> None:
    events = stream.count(b"\n\n")
    print(f"2. client: decode cost per event over one recorded stream ({events:,} events, {len(stream):,} B)")

    def transport() -> httpx.MockTransport:
        pieces = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
        return httpx.MockTransport(
            lambda request: httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=iter(pieces)
            )
        )

    def lines() -> None:
        with httpx.Client(transport=transport()) as client, client.stream("POST", "http://b/") as response:
            for _ in response.iter_lines():
                pass

    def decoded() -> None:
        with httpx.Client(transport=transport()) as client:
            count = sum(1 for _ in stream_events("http://b/", {}, client=client))
        if count < events:
            raise RuntimeError(f"decoded {count} events from {events} frames")

    def best(fn, repeat: int = 5) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times) / events * 1e6

    def framed(parse: bool) -> None:
        with httpx.Client(transport=transport()) as client, client.stream("POST", "http://b/") as response:
            for sse in EventSource(response).iter_sse():
                if parse:
                    json.loads(sse.data)

    baseline, ours = best(lines), best(decoded)
    framing, parsing = best(lambda: framed(False)), best(lambda: framed(True))
    print(f"   baseline, httpx iter_lines:               {baseline:6.2f} us/event")
    for label, value in (("httpx-sse framing only", framing), ("framing + json.loads", parsing)):
        print(f"   {label + ':':<42}{value:6.2f} us/event  = {value / baseline:4.1f}x baseline")
    ratio = ours / baseline
    print(f"   nbswarm stream_events (typed events):     {ours:6.2f} us/event  = {ratio:4.1f}x baseline")


if __name__ == "__main__":
    client_bench(server_bench())
