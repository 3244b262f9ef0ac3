"""The swarms library's own per-chunk cost, for ``bench/overhead.py`` (run in a venv with swarms).

swarms' ``Agent.run(streaming_on=True, streaming_callback=...)`` is fed pre-built litellm stream
chunks by replacing the ``completion`` function its litellm wrapper calls, so no model and no
network are involved. Its per-chunk cost is the slope between 2,000 and 20,000 chunks (fixed
per-run costs cancel), minus the slope of a bare loop over the same chunks calling the same
callback. Prints one JSON line: ``{"swarms_us_per_chunk": ..., "version": ...}``.

    /tmp/swarmsvenv/bin/python bench/swarms_per_chunk.py
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("SWARMS_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SWARMS_VERBOSE_GLOBAL", "False")

from importlib.metadata import version

from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices


def chunks(n: int) -> list[ModelResponseStream]:
    return [
        ModelResponseStream(
            model="gpt-4o-mini", choices=[StreamingChoices(index=0, delta=Delta(content=f" w{i % 997}"))]
        )
        for i in range(n)
    ]


def bare(items: list[ModelResponseStream]) -> float:
    sink: list[str] = []
    start = time.process_time()
    for chunk in items:
        text = chunk.choices[0].delta.content
        if text:
            sink.append(text)
    return time.process_time() - start


def swarms_run(items: list[ModelResponseStream]) -> float:
    import swarms.utils.litellm_wrapper as wrapper
    from swarms import Agent

    wrapper.completion = lambda *args, **kwargs: iter(items)
    sink: list[str] = []
    agent = Agent(agent_name="A", model_name="gpt-4o-mini", max_loops=1, streaming_on=True, print_on=False)
    start = time.process_time()
    agent.run("task", streaming_callback=sink.append)
    elapsed = time.process_time() - start
    assert len(sink) >= len(items), (len(sink), len(items))
    return elapsed


def best(fn, items, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    fn(items)
    return min(fn(items) for _ in range(repeats))


def main() -> None:
    os.chdir(tempfile.mkdtemp(prefix="swarms-bench-"))  # swarms writes an agent_workspace/ into the cwd
    logging.disable(logging.CRITICAL)
    small, large = chunks(2_000), chunks(20_000)
    slope = (best(swarms_run, large) - best(swarms_run, small)) / 18_000
    base = (best(bare, large) - best(bare, small)) / 18_000
    print(json.dumps({"swarms_us_per_chunk": (slope - base) * 1e6, "version": version("swarms")}))


if __name__ == "__main__":
    main()
