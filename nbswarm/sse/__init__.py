"""The Swarms-style SSE API: a client that turns any such stream into nbswarm events, and the server.

The client (``stream_events``, ``astream_events``, ``remote_run``) needs only httpx and httpx-sse.
The server (``create_app``, ``serve_in_thread``; ``nbswarm serve``) needs ``nbswarm[server]`` and
is imported on first use, so using the client never imports Starlette or uvicorn.
"""

from typing import Any

from .client import DEFAULT_TIMEOUT, astream_events, remote_run, stream_events

__all__ = [
    "DEFAULT_TIMEOUT",
    "astream_events",
    "create_app",
    "remote_run",
    "serve_in_thread",
    "stream_events",
]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "serve_in_thread"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
