"""The live view against naive notebook output, measured in a real kernel (and optionally a browser).

Kernel side: a real ipykernel (this venv's python) streams 2,000 and 20,000 tokens from 1 and 3
agents at full speed through one of four displays, each a sink of the same Run:

* nbswarm   -- the LiveView: coalesced deltas, at most one message per 0.04 s flush;
* print     -- ``print(token, end="", flush=True)`` per token (the seed's callback);
* Output    -- ``with output_widget: print(token, end="", flush=True)`` per token;
* HTML      -- an ``ipywidgets.HTML`` whose value is reassigned with the full text per token.

For each: the kernel-side time of ``run.result()``, the iopub messages and bytes a client
receives, the time until the client has them all, and whether the client can rebuild every
agent's full text from what it received (ZeroMQ silently drops messages past its 1,000-message
queue, so fast naive output can lose text). Ratios are against nbswarm in the same run.

Browser side (``--browser``): JupyterLab with stock settings + headless Chromium; the delay from
the last token generated in the kernel to the last token visible on the page.

    .venv/bin/python bench/widget.py             # kernel side, ~1-3 minutes
    .venv/bin/python bench/widget.py --browser   # plus the in-browser delay
    .venv/bin/python bench/widget.py --quick     # 2,000 tokens only
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import json
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def pieces_for(tokens: int, marker: str) -> list[str]:
    """Word-sized tokens in lines of ~12 words and paragraphs of ~5 lines, like model prose."""
    pieces = [f" w{i}" + ("\n\n" if i % 60 == 59 else "\n" if i % 12 == 11 else "") for i in range(tokens)]
    pieces[0], pieces[-1] = f" {marker}-first", f" {marker}-last"
    return pieces


_SETUP = r"""
import asyncio, sys, time
import ipywidgets
from IPython.display import display
from nbswarm.events import AgentEnd, AgentStart, Chunk, End, Metadata, Start, Usage
from nbswarm.run import Run
from nbswarm.widget import LiveView


LAST = {}  # wall-clock time the last token was generated (for the in-browser delay)

def make_run(tokens, agents, marker):
    names = [f"Agent-{i}" for i in range(agents)]
    pieces = pieces_for(tokens, marker)
    async def body(run):
        run.emit(Metadata, job_id=run.run_id, name="bench", number_of_agents=agents, agents=tuple(names),
                 swarm_type="ConcurrentWorkflow" if agents > 1 else "Agent")
        run.emit(Start)
        for name in names:
            run.emit(AgentStart, agent=name)
        for i, piece in enumerate(pieces):
            for name in names:
                run.emit(Chunk, agent=name, content=piece, index=i)
            if i % 100 == 99:
                await asyncio.sleep(0)  # yield like a network stream does
        LAST["t"] = time.time()
        text = "".join(pieces)
        for name in names:
            run.emit(AgentEnd, agent=name, output=text)
            run.emit(Usage, agent=name, output_tokens=tokens, total_tokens=tokens)
        run.emit(Usage, agent=None, output_tokens=tokens * agents, total_tokens=tokens * agents)
        run.emit(End, execution_time=run.elapsed(), output=text)
    return Run(body), names

class PrintSink:
    def __call__(self, event):
        if type(event) is Chunk:
            print(event.content, end="", flush=True)

class OutputSink:
    def __init__(self, names):
        self.outs = {name: ipywidgets.Output() for name in names}
        display(ipywidgets.VBox(list(self.outs.values())))
    def __call__(self, event):
        if type(event) is Chunk:
            with self.outs[event.agent]:
                print(event.content, end="", flush=True)

class HTMLSink:
    def __init__(self, names):
        self.widgets = {name: ipywidgets.HTML() for name in names}
        self.texts = {name: "" for name in names}
        display(ipywidgets.VBox(list(self.widgets.values())))
    def __call__(self, event):
        if type(event) is Chunk:
            text = self.texts[event.agent] = self.texts[event.agent] + event.content
            self.widgets[event.agent].value = text

# Count what the kernel sends (every message is serialized once, on the way to its socket).
_session = get_ipython().kernel.session
_serialize = _session.serialize
_sent = {"messages": 0, "bytes": 0}

def _counting_serialize(msg, ident=None):
    frames = _serialize(msg, ident)
    _sent["messages"] += 1
    _sent["bytes"] += sum(len(frame) for frame in frames)
    return frames

_session.serialize = _counting_serialize

def scenario(kind, tokens, agents, marker):
    _sent.update(messages=0, bytes=0)
    run, names = make_run(tokens, agents, marker)
    if kind == "nbswarm":
        view = LiveView()
        display(view)
        view.watch(run)
    elif kind == "print":
        run.add_sink(PrintSink())
    elif kind == "Output":
        run.add_sink(OutputSink(names))
    else:
        run.add_sink(HTMLSink(names))
    start = time.perf_counter()
    run.result()
    sys.stdout.flush()
    elapsed = time.perf_counter() - start
    return {"time": elapsed, **_sent}
"""
KERNEL_SETUP = inspect.getsource(pieces_for) + _SETUP

KINDS = ("nbswarm", "print", "Output", "HTML")


def start_kernel() -> tuple[Any, Any]:
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    km, kc = start_new_kernel(kernel_name="python3", env=env, startup_timeout=60)
    kc.execute_interactive(KERNEL_SETUP, timeout=60, output_hook=lambda msg: None)
    return km, kc


def measure(kc: Any, kind: str, tokens: int, agents: int) -> dict[str, Any]:
    """Run one scenario; count what the client receives and rebuild the text from it."""
    marker = f"m{time.monotonic_ns() % 10**9}"
    code = f"_result = scenario({kind!r}, {tokens}, {agents}, {marker!r})"
    sent = time.perf_counter()
    msg_id = kc.execute(code, user_expressions={"result": "__import__('json').dumps(_result)"})
    messages = nbytes = 0
    stream_text: list[str] = []
    deltas: dict[str, list[str]] = {}
    html_last: dict[str, str] = {}
    final_texts: list[str] = []
    reply = None
    last = time.perf_counter()
    while True:
        if reply is None:
            with contextlib.suppress(queue.Empty):
                candidate = kc.get_shell_msg(timeout=0)
                if candidate["parent_header"].get("msg_id") == msg_id:
                    reply = candidate
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            # ZeroMQ drops messages (even the final "idle") when a client falls 1,000 behind:
            # once the kernel has replied, a quiet second means nothing more is coming.
            if reply is not None and time.perf_counter() - last > 1.0:
                break
            if time.perf_counter() - last > 600:
                raise RuntimeError(f"{kind}: no message for 600 s") from None
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind_of = msg["msg_type"]
        if kind_of == "status":
            if msg["content"]["execution_state"] == "idle":
                break
            continue
        if kind_of == "execute_input":
            continue
        last = time.perf_counter()
        messages += 1
        nbytes += len(json.dumps(msg["content"], separators=(",", ":"))) + sum(
            len(b) for b in msg.get("buffers") or ()
        )
        content = msg["content"]
        if kind_of == "stream":
            stream_text.append(content["text"])
        elif kind_of == "comm_msg":
            data = content["data"]
            if data.get("method") == "custom" and data["content"].get("k") == "d":
                for pid, pieces in data["content"]["x"].items():  # [[turn, text], ...]
                    deltas.setdefault(pid, []).extend(piece for _, piece in pieces)
            elif data.get("method") == "update":
                state = data.get("state", {})
                if "value" in state:
                    html_last[content["comm_id"]] = state["value"]
                if "view_state" in state:
                    panels = state["view_state"]["panels"]
                    final_texts = ["".join(t["text"] for t in p["turns"]) for p in panels]
    drained = last - sent
    while reply is None:
        candidate = kc.get_shell_msg(timeout=600)
        if candidate["parent_header"].get("msg_id") == msg_id:
            reply = candidate
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{kind} failed in the kernel: {reply['content']}")
    expression = reply["content"]["user_expressions"]["result"]["data"]["text/plain"]
    sent_by_kernel = json.loads(ast.literal_eval(expression))
    expected = "".join(pieces_for(tokens, marker))
    if kind == "nbswarm":
        rebuilt = ["".join(parts) for parts in deltas.values()]
        lossless = len(rebuilt) == agents and all(t == expected for t in rebuilt)
        lossless = lossless and final_texts == [expected] * agents
    elif kind == "HTML":
        lossless = len(html_last) == agents and all(v == expected for v in html_last.values())
    else:
        lossless = "".join(stream_text).count(f"{marker}-last") == agents and len("".join(stream_text)) == (
            agents * len(expected)
        )
    return {
        "kind": kind,
        "tokens": tokens,
        "agents": agents,
        "time": sent_by_kernel["time"],
        "drain": drained,
        "messages": sent_by_kernel["messages"],
        "bytes": sent_by_kernel["bytes"],
        "received": messages,
        "received_bytes": nbytes,
        "lossless": lossless,
    }


CAPS = {"Output": 4000, "HTML": 4000}
"""Naive displays too slow to run in full at 20,000 tokens (minutes, gigabytes): measured at this
many tokens and extrapolated (marked ``~``); ``--full`` runs them in full."""


def resent_bytes(tokens: int) -> int:
    """Characters an HTML value reassigned per token sends: the sum of every prefix's length."""
    total = prefix = 0
    for piece in pieces_for(tokens, "m0000000000"):
        prefix += len(piece)
        total += prefix
    return total


def extrapolate(small: dict[str, Any], smaller: dict[str, Any] | None, tokens: int) -> dict[str, Any]:
    """Scale a capped measurement to ``tokens``: linear, or for HTML (bytes quadratic in the
    text) a fit of ``t = a * n + b * resent_bytes(n)`` through two measured sizes."""
    n = small["tokens"]
    out = dict(small, tokens=tokens, lossless=None, extrapolated=True)
    out["messages"] = round(small["messages"] * tokens / n)
    out["received"] = None
    if small["kind"] != "HTML" or smaller is None:
        for key in ("time", "drain", "bytes"):
            out[key] = small[key] * tokens / n
        return out
    out["bytes"] = small["bytes"] * resent_bytes(tokens) / resent_bytes(n)
    m = smaller["tokens"]
    for key in ("time", "drain"):
        # Solve a*n + b*S(n) = t_n and a*m + b*S(m) = t_m.
        s_n, s_m = resent_bytes(n), resent_bytes(m)
        det = n * s_m - m * s_n
        a = (small[key] * s_m - smaller[key] * s_n) / det
        b = (n * smaller[key] - m * small[key]) / det
        out[key] = max(0.0, a) * tokens + max(0.0, b) * resent_bytes(tokens)
    return out


def kernel_side(sizes: list[int], agent_counts: list[int], *, full: bool) -> list[dict[str, Any]]:
    km, kc = start_kernel()
    results: list[dict[str, Any]] = []
    try:
        measure(kc, "nbswarm", 200, 1)  # warm up imports and the first widget
        for tokens in sizes:
            for agents in agent_counts:
                for kind in KINDS:
                    cap = None if full else CAPS.get(kind)
                    if cap is not None and tokens > cap:
                        same = [r for r in results if (r["kind"], r["agents"]) == (kind, agents)]
                        smaller = next((r for r in same if r["tokens"] < cap), None)
                        result = extrapolate(measure(kc, kind, cap, agents), smaller, tokens)
                    else:
                        result = measure(kc, kind, tokens, agents)
                    results.append(result)
                    mark = "~" if result.get("extrapolated") else " "
                    received = "?" if result["received"] is None else f"{result['received']:,}"
                    print(
                        f" {mark}{kind:8s} {tokens:>6,} tok x {agents}: {result['time']:7.2f} s kernel, "
                        f"{result['drain']:7.2f} s to client, {result['messages']:>7,} msgs sent "
                        f"({received} received), "
                        f"{result['bytes'] / 1e6:8.2f} MB, lossless={result['lossless']}",
                        flush=True,
                    )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return results


def dropped(r: dict[str, Any]) -> str:
    return "?" if r.get("received") is None else f"{r['messages'] - r['received']:,}"


def print_table(results: list[dict[str, Any]]) -> None:
    print("\nRatios against nbswarm in the same run (naive / nbswarm); 'dropped' = sent but never received:")
    print(
        f"{'scenario':22s} {'display':8s} {'kernel time':>12s} {'to client':>10s} {'msgs sent':>10s} "
        f"{'bytes sent':>11s} {'dropped':>8s}  full text received"
    )
    base = {(r["tokens"], r["agents"]): r for r in results if r["kind"] == "nbswarm"}
    for r in results:
        b = base[(r["tokens"], r["agents"])]
        lossless = "n/a" if r["lossless"] is None else "yes" if r["lossless"] else "NO"
        if r["kind"] == "nbswarm":
            name = f"{r['tokens']:,} tok x {r['agents']} agent{'s' if r['agents'] > 1 else ''}"
            print(
                f"{name:22s} {'nbswarm':8s} {r['time']:10.3f} s {r['drain']:8.3f} s {r['messages']:>10,} "
                f"{r['bytes'] / 1e3:>8.0f} kB {dropped(r):>8s}  {lossless}"
            )
            continue
        mark = "~" if r.get("extrapolated") else " "
        print(
            f"{'':21s}{mark}{r['kind']:8s} {r['time'] / b['time']:11.1f}x {r['drain'] / b['drain']:9.1f}x "
            f"{r['messages'] / b['messages']:9.0f}x {r['bytes'] / b['bytes']:10.1f}x "
            f"{dropped(r):>8s}  {lossless}"
        )
    if any(r.get("extrapolated") for r in results):
        print(f"~ extrapolated from {CAPS} tokens (linear; HTML: fit to quadratic bytes); --full runs them")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 tokens only")
    parser.add_argument("--browser", action="store_true", help="also measure the delay in a real browser")
    parser.add_argument("--full", action="store_true", help="run the slow naive displays in full (minutes)")
    args = parser.parse_args()
    sizes = [2000] if args.quick else [2000, 20000]
    print(f"Kernel side: {sys.executable}")
    results = kernel_side(sizes, [1, 3], full=args.full)
    print_table(results)
    if args.browser:
        from widget_browser import browser_side  # bench/widget_browser.py

        browser_side(quick=args.quick)


if __name__ == "__main__":
    main()
