"""Client CPU per chunk on the real-model path, layer by layer, against one loopback server.

One OpenAI-compatible server (a subprocess on 127.0.0.1, so its CPU is not counted) streams
chat-completion SSE frames, each written on its own, with the final usage chunk. The same
concurrent streams are consumed, in this one run, by:

* ``httpx+json``: httpx streaming + ``json.loads`` per line (the floor: the baseline);
* ``openai``: the official async client (``AsyncOpenAI(...).chat.completions.create(stream=True)``);
* ``litellm``: bare ``litellm.acompletion(stream=True)``;
* ``nbswarm-litellm``: nbswarm agents over litellm (``NBSWARM_FORCE_LITELLM=1``), events and all;
* ``nbswarm-fast``: nbswarm agents over the OpenAI-compatible fast path (httpx + httpx-sse).

CPU is this process's ``time.process_time()`` (all threads) per chunk received, after a warm-up
run of each client. Then the first-call latency: a fresh process's first real-model turn (the
import inside it or not) and its second.

    .venv/bin/python bench/real_models.py [--streams 10] [--chunks 200] [--old-code ../base]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
REPO = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"

SERVER = r"""
import asyncio, json, sys
chunks, pace = int(sys.argv[1]), float(sys.argv[2])
def frame(obj):
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1733054400,
        "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb"}
body = [frame({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "logprobs": None, "finish_reason": None}], "usage": None})]
body += [frame({**base, "choices": [{"index": 0, "delta": {"content": f" w{i}"}, "logprobs": None,
                                     "finish_reason": None}], "usage": None}) for i in range(chunks)]
body += [frame({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
                "usage": None}),
         frame({**base, "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": chunks,
                                                  "total_tokens": 20 + chunks}}),
         b"data: [DONE]\n\n"]
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                         b"transfer-encoding: chunked\r\n\r\n")
            for part in body:
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
                if pace:
                    await asyncio.sleep(pace)  # one frame per read at the client, as a model streams them
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""

MESSAGES = [{"role": "user", "content": "Why do robots paint?"}]


async def httpx_json(url: str, streams: int) -> int:
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:

        async def one() -> int:
            n = 0
            body = {"model": MODEL, "messages": MESSAGES, "stream": True}
            async with client.stream("POST", f"{url}/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        obj = json.loads(line[6:])
                        if obj["choices"] and obj["choices"][0]["delta"].get("content"):
                            n += 1
            return n

        return sum(await asyncio.gather(*(one() for _ in range(streams))))


async def openai_client(url: str, streams: int) -> int:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=0)

    async def one() -> int:
        n = 0
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
        return n

    try:
        return sum(await asyncio.gather(*(one() for _ in range(streams))))
    finally:
        await client.close()


async def bare_litellm(url: str, streams: int) -> int:
    import litellm

    async def one() -> int:
        n = 0
        response = await litellm.acompletion(
            model=f"openai/{MODEL}", api_base=url, api_key="sk-bench", messages=MESSAGES, stream=True
        )
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
        return n

    return sum(await asyncio.gather(*(one() for _ in range(streams))))


def nbswarm_path(force_litellm: bool):
    async def run(url: str, streams: int) -> int:
        from nbswarm import Agent

        if force_litellm:
            os.environ["NBSWARM_FORCE_LITELLM"] = "1"
        else:
            os.environ.pop("NBSWARM_FORCE_LITELLM", None)
        agents = [
            Agent(
                agent_name=f"A{i}",
                model_name=f"openai/{MODEL}",
                llm_base_url=url,
                llm_api_key="sk-bench",
                print_on=False,
            )
            for i in range(streams)
        ]
        texts = await asyncio.gather(*(agent.arun("Why do robots paint?") for agent in agents))
        return sum(text.count(" w") for text in texts)

    return run


CLIENTS = {
    "httpx+json": httpx_json,
    "openai": openai_client,
    "litellm": bare_litellm,
    "nbswarm-litellm": nbswarm_path(True),
    "nbswarm-fast": nbswarm_path(False),
}


def cpu_per_chunk(url: str, streams: int, chunks: int, rounds: int) -> dict[str, float]:
    results: dict[str, float] = {}
    for name, client in CLIENTS.items():
        asyncio.run(client(url, 2))  # warm-up: imports, first-call set-up, connection pools
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            received = asyncio.run(client(url, streams))
            used = time.process_time() - start
            if received != streams * chunks:
                raise RuntimeError(f"{name}: received {received} chunks, expected {streams * chunks}")
            best = min(best, used / received)
        results[name] = best
    return results


FIRST_CALL = r"""
import os, sys, time
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
url, model = sys.argv[1], sys.argv[2]
import nbswarm
def once():
    start = time.perf_counter()
    agent = nbswarm.Agent(model_name=model, llm_base_url=url, llm_api_key="sk-bench", print_on=False)
    run = agent.stream("x")
    first = None
    for event in run:
        if event.type == "chunk" and first is None:
            first = time.perf_counter() - start
    s = next(e.t for e in run.events if e.type == "agent_start")
    c = next(e.t for e in run.events if e.type == "chunk")
    return first, c - s
(w1, t1), (w2, t2) = once(), once()
print(f"{w1:.3f} {t1:.3f} {w2:.3f} {t2:.3f}")
"""


def first_call(url: str, model: str, force_litellm: bool, code: Path = REPO) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("NBSWARM_FORCE_LITELLM", None)
    if force_litellm:
        env["NBSWARM_FORCE_LITELLM"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL, url, model],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return [float(x) for x in out.stdout.split()]


def start_server(chunks: int, pace: float) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(chunks), str(pace)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    return server, f"http://127.0.0.1:{int(server.stdout.readline())}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--old-code", type=Path, help="another checkout (e.g. the code before): its first call too"
    )
    args = parser.parse_args()
    servers = []
    try:
        for label, pace in (
            ("paced: one frame per read (2 ms apart)", 0.002),
            ("burst: frames coalesced", 0.0),
        ):
            server, url = start_server(args.chunks, pace)
            servers.append(server)
            print(
                f"\n{label}; {args.streams} concurrent streams x {args.chunks} chunks, best of {args.rounds}"
            )
            results = cpu_per_chunk(url, args.streams, args.chunks, args.rounds)
            floor = results["httpx+json"]
            print(f"{'client':<16} {'CPU us/chunk':>12} {'x httpx+json':>13}")
            for name, value in results.items():
                print(f"{name:<16} {value * 1e6:>12.1f} {value / floor:>13.1f}")
            fast, slow = results["nbswarm-fast"], results["nbswarm-litellm"]
            print(f"nbswarm fast path / nbswarm over litellm: {fast / slow:.2f}")
            above = (fast - floor) / (slow - floor) if slow > floor else float("nan")
            print(f"  CPU above the httpx+json floor: fast path / litellm path: {above:.2f}")
        print("\nfirst real-model call in a fresh process (wall s to first chunk, TTFT s), then the second:")
        for label, force in (("litellm path", True), ("fast path", False)):
            w1, t1, w2, t2 = first_call(url, f"openai/{MODEL}", force)
            print(f"{label:<13} first: wall {w1:.3f} ttft {t1:.3f} | second: wall {w2:.3f} ttft {t2:.3f}")
        if args.old_code:
            w1, t1, w2, t2 = first_call(url, f"openai/{MODEL}", True, args.old_code)
            print(
                f"{'old code':<13} first: wall {w1:.3f} ttft {t1:.3f} | second: wall {w2:.3f} ttft {t2:.3f}"
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
