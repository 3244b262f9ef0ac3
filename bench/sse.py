"""SSE benchmark: what ``nbswarm serve`` sustains and costs, and what the client's decoding costs.

1. Server CPU per chunk, side by side: ``nbswarm serve`` (its own process, sim at zero latency
   with exact answer lengths, the whole engine behind each chunk) against a bare sse-starlette app
   (its own process) streaming the very same frame bytes, one ``yield`` per frame. CPU is the
   server process's user+system time over the load (psutil); the load generator is raw asyncio
   sockets that only count ``event: chunk``. Also chunks/s, and the baseline of the same workflow
   run in-process with no HTTP at all.
2. 300 concurrent streaming clients on one server: events lost (must be 0), time to first byte
   p50/p99, server RSS before and after; then 300 clients that leave mid-stream, and the time
   until the server has cancelled every run (``/health`` ``active_runs`` back to 0).
3. Client decode cost per event over the bytes of one recorded stream (``httpx.MockTransport``, no
   network time in any): ``stream_events`` (typed events) against httpx-sse alone (framing +
   ``json.loads`` of each frame: the least any client does), and plain ``httpx`` line iteration.

Run: ``cd /work/main && .venv/bin/python bench/sse.py`` (a few minutes on 2 cores; ``--quick``
skips the 300-client rows).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["NBSWARM_SIM_DELAY_SCALE"] = "0"
os.environ["NBSWARM_SIM_FILL"] = "1"

import httpx  # noqa: E402
import psutil  # noqa: E402
from httpx_sse import EventSource  # noqa: E402

import nbswarm  # noqa: E402
from nbswarm.sse import stream_events  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from sse_util import ServeProcess, free_port, wait_until  # noqa: E402

LOADS = [(1, 8000), (10, 2000), (100, 300)]
"""(concurrent clients, tokens per agent); every swarm has 2 concurrent agents."""
REPEAT = 3
"""Each figure is the best of this many runs (the machine may be shared)."""
SERVE_FLAGS = ("--max-runs", "1000", "--max-connections", "1000")


def swarm(tokens: int, stream_output: bool = False) -> dict:
    return {
        "name": "bench",
        "swarm_type": "ConcurrentWorkflow",
        "agents": [{"agent_name": "A", "max_tokens": tokens}, {"agent_name": "B", "max_tokens": tokens}],
        "task": "Benchmark the server",
        "stream": True,
        "stream_output": stream_output,
    }


async def one_client(port: int, body: bytes, leave_after: int | None = None) -> tuple[int, float]:
    """POST one swarm, read the stream to EOF (or leave after some chunks); (chunk frames, first byte s)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /v1/swarm/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
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
        if leave_after is not None and count >= leave_after:
            break
    writer.close()
    return count, first or 0.0


async def load(port: int, clients: int, tokens: int, path_body: bytes | None = None) -> tuple[float, list]:
    body = path_body or json.dumps(swarm(tokens)).encode()
    started = time.perf_counter()
    results = await asyncio.gather(*(one_client(port, body) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    chunks = sum(count for count, _ in results)
    expected = clients * 2 * tokens
    if chunks != expected:
        raise RuntimeError(f"expected {expected} chunks, got {chunks} ({expected - chunks} lost)")
    return chunks / elapsed, [first for _, first in results]


def cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def in_process(tokens: int) -> float:
    agents = [nbswarm.Agent(agent_name=n, max_tokens=tokens, print_on=False) for n in "AB"]
    run = nbswarm.ConcurrentWorkflow(agents).stream("Benchmark the server")
    started = time.perf_counter()
    chunks = sum([event.type == "chunk" async for event in run])
    return chunks / (time.perf_counter() - started)


BARE_APP = """
import sys
import uvicorn
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.routing import Route

FRAMES = open(sys.argv[1], "rb").read().split(b"\\n\\n")[:-1]

async def frames():
    for frame in FRAMES:
        yield frame + b"\\n\\n"

async def endpoint(request):
    await request.body()
    return EventSourceResponse(frames(), sep="\\n")

app = Starlette(routes=[Route("/v1/swarm/completions", endpoint, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


class BareServer:
    """A bare sse-starlette app in its own process, streaming the given frames to every POST."""

    def __init__(self, frames: bytes) -> None:
        import subprocess

        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "frames"
        path.write_bytes(frames)
        script = Path(self.dir.name) / "bare.py"
        script.write_text(BARE_APP)
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, str(script), str(path), str(self.port)])

    def __enter__(self) -> BareServer:
        def up() -> bool:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return True
            except httpx.HTTPError:
                return False

        if not wait_until(up, timeout=30, interval=0.1):
            raise RuntimeError("the bare sse-starlette app did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.dir.cleanup()


def cpu_per_chunk(pid: int, port: int, clients: int, tokens: int) -> tuple[float, float]:
    """Best (us of server CPU per chunk, chunks/s) over REPEAT loads."""
    best = (float("inf"), 0.0)
    for _ in range(REPEAT):
        before = cpu(pid)
        rate, _ = asyncio.run(load(port, clients, tokens))
        used = cpu(pid) - before
        best = min(best, (used / (clients * 2 * tokens) * 1e6, rate))
    return best


def server_bench() -> bytes:
    print("1. server CPU per chunk: nbswarm serve vs a bare sse-starlette app sending the same frames")
    baseline = max(asyncio.run(in_process(8000)) for _ in range(REPEAT))
    print(f"   in-process, same workflow, no HTTP: {baseline:10,.0f} chunks/s")
    env = {"NBSWARM_SIM_DELAY_SCALE": "0", "NBSWARM_SIM_FILL": "1", "NBSWARM_API_KEY": ""}
    recorded: dict[int, bytes] = {}
    with ServeProcess(*SERVE_FLAGS, env=env) as served:
        for _, tokens in LOADS:
            recorded[tokens] = httpx.post(
                f"{served.url}/v1/swarm/completions", json=swarm(tokens), timeout=120
            ).content
        asyncio.run(load(served.port, 2, 200))  # warm-up
        ours = {load_: cpu_per_chunk(served.process.pid, served.port, *load_) for load_ in LOADS}
    for clients, tokens in LOADS:
        with BareServer(recorded[tokens]) as bare:
            asyncio.run(load(bare.port, 2, tokens))  # warm-up
            bare_us, bare_rate = cpu_per_chunk(bare.process.pid, bare.port, clients, tokens)
        us, rate = ours[(clients, tokens)]
        print(
            f"   N={clients:<4} {clients * 2 * tokens:>7,} chunks: nbswarm {us:5.1f} us/chunk "
            f"({rate:8,.0f}/s), bare sse-starlette {bare_us:5.1f} us/chunk ({bare_rate:8,.0f}/s)"
            f"  = {us / bare_us:4.2f}x"
        )
    return recorded[8000]


def many_clients_bench() -> None:
    print("2. 300 concurrent streaming clients (2 agents x 300 tokens each)")
    env = {"NBSWARM_SIM_DELAY_SCALE": "0", "NBSWARM_SIM_FILL": "1", "NBSWARM_API_KEY": ""}
    with ServeProcess(*SERVE_FLAGS, env=env) as served:
        process = psutil.Process(served.process.pid)
        asyncio.run(load(served.port, 2, 300))  # warm-up
        rss_before = process.memory_info().rss
        rate, firsts = asyncio.run(load(served.port, 300, 300))
        rss_after = process.memory_info().rss
    firsts.sort()
    p99 = firsts[min(len(firsts) - 1, int(len(firsts) * 0.99))]
    print(
        f"   {300 * 600:,} chunks, 0 lost, {rate:,.0f} chunks/s; first byte p50 "
        f"{statistics.median(firsts) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; server RSS "
        f"{rss_before / 2**20:.0f} MB before, {rss_after / 2**20:.0f} MB after"
    )
    env["NBSWARM_SIM_DELAY_SCALE"] = "1"  # realistic pacing: the runs would go on for a while
    with ServeProcess(*SERVE_FLAGS, env=env) as served:
        body = json.dumps(swarm(2000)).encode()

        async def leave() -> float:
            await asyncio.gather(*(one_client(served.port, body, leave_after=3) for _ in range(300)))
            return time.perf_counter()

        left = asyncio.run(leave())
        if not wait_until(lambda: httpx.get(f"{served.url}/health").json()["active_runs"] == 0, timeout=60):
            raise RuntimeError("runs were still going 60 s after their clients left")
        print(
            f"   300 clients leave mid-stream: every run cancelled {time.perf_counter() - left:.2f} s later"
        )


def client_bench(stream: bytes) -> None:
    events = stream.count(b"\n\n")
    print(f"3. client: decode cost per event over one recorded stream ({events:,} events, {len(stream):,} B)")

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

    def framed(parse: bool) -> None:
        with httpx.Client(transport=transport()) as client, client.stream("POST", "http://b/") as response:
            for sse in EventSource(response).iter_sse():
                if parse:
                    json.loads(sse.data)

    def best(fns: dict, repeat: int = 9) -> dict:
        """Each function's best time per event, the runs interleaved so load on the machine hits all alike."""
        times: dict = {name: [] for name in fns}
        for _ in range(repeat):
            for name, fn in fns.items():
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        return {name: min(values) / events * 1e6 for name, values in times.items()}

    got = best(
        {
            "lines": lines,
            "framing": lambda: framed(False),
            "parsing": lambda: framed(True),
            "ours": decoded,
        }
    )
    baseline, framing, parsing, ours = got["lines"], got["framing"], got["parsing"], got["ours"]
    print(f"   httpx iter_lines:                          {baseline:6.2f} us/event")
    print(f"   httpx-sse framing only:                    {framing:6.2f} us/event")
    print(f"   httpx-sse alone (framing + json.loads):    {parsing:6.2f} us/event")
    print(
        f"   nbswarm stream_events (typed events):      {ours:6.2f} us/event  = {ours / parsing:4.2f}x "
        "httpx-sse alone"
    )


if __name__ == "__main__":
    recorded = server_bench()
    if "--quick" not in sys.argv:
        many_clients_bench()
    client_bench(recorded)
