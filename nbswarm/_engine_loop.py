"""nbswarm's engine loop: one long-lived asyncio loop in a daemon thread, plus private loops.

Every run's body (agent turns, workflow steps, replays, remote streams) runs on
the engine loop, whatever face consumes it. One loop for the whole process,
not one per call, so clients that cache connections per loop (litellm's httpx
clients) stay valid across runs, and a sync ``run()`` works inside a Jupyter
kernel, whose main thread already runs a loop.

Two situations cannot use the engine loop, and get a *private* loop instead
(a fresh loop in a fresh thread, stopped when the run ends):

* a sync ``run()`` called from code that is itself running on an nbswarm loop
  (an agent used as a tool, a provider calling a helper agent): waiting for
  the engine loop from the engine loop would deadlock it. The calling loop is
  blocked until the nested run ends, so provider and tool code should be
  async (``await agent.arun(...)``) and must never block.

After ``os.fork()`` the child has the parent's loop object but not its thread:
``os.register_at_fork`` forgets it, so the child starts its own on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_local = threading.local()
"""``_local.ours`` is True in a thread that runs an nbswarm loop (the engine's or a private one)."""

START_TIMEOUT = 10.0
"""Seconds to wait for a new loop thread to come up."""


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    _local.ours = True
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        _cancel_leftovers(loop)
        loop.close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


def _start_loop(name: str) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    thread = threading.Thread(target=_serve, args=(loop, ready), name=name, daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT):
        raise RuntimeError(f"nbswarm: the {name} thread did not start within {START_TIMEOUT} s")
    return loop, thread


def get_loop() -> asyncio.AbstractEventLoop:
    """The engine loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            _loop, _ = _start_loop("nbswarm-engine")
        return _loop


def adopt_current_loop() -> None:
    """Declare the calling thread's loop an nbswarm loop (``nbswarm serve``'s): runs started on it
    run their bodies on it, with their consumers, and a sync ``run()`` there gets a private loop."""
    _local.ours = True


def on_our_loop() -> bool:
    """Whether the calling thread runs an nbswarm loop (so it must never wait for one)."""
    return bool(getattr(_local, "ours", False))


class PrivateLoop:
    """A loop in its own thread for one nested sync run; ``stop()`` ends the thread."""

    def __init__(self) -> None:
        self.loop, self._thread = _start_loop("nbswarm-nested")

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Run ``coro`` on the engine loop; cancelling the returned future cancels it there."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def pending_tasks(timeout: float = 5.0) -> set[asyncio.Task[Any]]:
    """Tasks still alive on the engine loop (for tests: nothing should outlive a cancelled run)."""
    if _loop is None:
        return set()
    return submit(_current_tasks()).result(timeout)


async def _current_tasks() -> set[asyncio.Task[Any]]:
    me = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not me and not t.done()}


def _after_fork_in_child() -> None:
    """The parent's loop thread does not exist in a forked child: forget it (and its lock)."""
    global _loop, _lock
    _loop = None
    _lock = threading.Lock()
    _local.ours = False


os.register_at_fork(after_in_child=_after_fork_in_child)
