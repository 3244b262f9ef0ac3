"""nbswarm's engine loop: one long-lived asyncio loop in a daemon thread.

Sync entry points (``Agent.run``, ``workflow.run``) submit their run here
instead of calling ``asyncio.run``, which fails inside a Jupyter kernel
(its main thread always runs a loop). One loop for the whole process, not
one per call, so clients that cache connections per loop (litellm's httpx
clients) stay valid across runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def get_loop() -> asyncio.AbstractEventLoop:
    """The engine loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=serve, name="nbswarm-engine", daemon=True).start()
            ready.wait()
            _loop = loop
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Run ``coro`` on the engine loop; cancelling the returned future cancels it there."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def pending_tasks() -> set[asyncio.Task[Any]]:
    """Tasks still alive on the engine loop (for tests: nothing should outlive a cancelled run)."""
    if _loop is None:
        return set()
    return submit(_current_tasks()).result()


async def _current_tasks() -> set[asyncio.Task[Any]]:
    me = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not me and not t.done()}
