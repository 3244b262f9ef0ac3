"""Errors read as the server wrote them: no escaped JSON, a flow error's caret under its column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from nbswarm import StreamError
from nbswarm.sse import remote_run
from nbswarm.sse.server import serve_in_thread
from nbswarm.widget import ViewState

PAYLOAD = {
    "swarm_type": "AgentRearrange",
    "rearrange_flow": "A, B -> Summariser",
    "task": "Compare solar and wind",
    "agents": [{"agent_name": n} for n in ("A", "B", "C")],
    "stream": True,
}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    background = serve_in_thread()
    try:
        yield background
    finally:
        background.stop()


def test_a_refused_request_reads_as_the_servers_message_with_its_caret(server: Any) -> None:
    run = remote_run(f"{server.url}/v1/swarm/completions", PAYLOAD)
    with pytest.raises(StreamError) as info:
        run.result()
    message = str(info.value)
    assert "HTTP 422" in message and "(field: rearrange_flow)" in message
    assert '{"' not in message and "\\n" not in message  # not the JSON body, escapes and all
    lines = message.splitlines()
    flow = next(i for i, line in enumerate(lines) if line.strip() == "A, B -> Summariser")
    caret = lines[flow + 1]
    assert re.fullmatch(r" *\^+", caret)
    assert lines[flow][caret.index("^")] == "S"  # under the unknown name
    # The run's error event carries the same text: the live view shows it with its line breaks.
    state = ViewState().feed(run.events)
    assert any("\n" in error and "^" in error for error in state.run["errors"])
