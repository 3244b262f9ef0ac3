"""The parts of one agent turn that are not the stream itself: preparation, deadlines, retries, cost.

* ``prepare``: a provider's blocking set-up (``warm_up(model)``: importing litellm takes seconds) and the
  model's price lookup run in a worker thread, once, *before* the turn's ``agent_start``: no other
  agent's stream stalls while they load, and TTFT never includes them.
* ``_Guard``: the turn's ``idle_timeout`` (seconds without a delta) and ``timeout`` (the whole
  turn). One timer per turn, re-armed lazily: a delta only stores the loop's time, so the
  per-chunk cost is one attribute write, not a timer reschedule.
* retries and estimates: see ``agent_turn`` in ``_engine``.
* ``NBSWARM_DEBUG=1``: a watchdog thread warns (logger ``nbswarm``) whenever the loop does not
  answer a ping within 100 ms; asyncio's debug mode is switched on as well where the loop has
  one (not uvloop), which names the slow task (logger ``asyncio``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from .models import ModelRequest, prices
from .models.errors import ModelError

if TYPE_CHECKING:
    from .agent import Agent

DEBUG_ENV = "NBSWARM_DEBUG"
BLOCKED_WARNING = 0.1
"""Seconds a loop step may take before debug mode warns."""

_WATCH_LIMIT = 600.0
logger = logging.getLogger("nbswarm")

_warm_providers: set[tuple[type, str]] = set()
_priced: set[str] = set()
_MAX_PRICED = 4096
_inflight: dict[tuple[Any, ...], asyncio.Future[None]] = {}
_watched: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _watch(loop: asyncio.AbstractEventLoop) -> None:
    """Start the debug watchdog of ``loop`` (once): a thread that pings the loop and warns when a
    ping waits more than ``BLOCKED_WARNING`` seconds. Works on any loop (uvloop has no debug mode);
    where asyncio's own debug mode exists it is switched on too, to name the slow task."""
    if loop in _watched:
        return
    _watched.add(loop)
    with contextlib.suppress(Exception):
        loop.set_debug(True)
        loop.slow_callback_duration = BLOCKED_WARNING
    threading.Thread(
        target=_watchdog, args=(weakref.ref(loop),), name="nbswarm-watchdog", daemon=True
    ).start()


def _watchdog(ref: weakref.ref[asyncio.AbstractEventLoop]) -> None:
    while True:
        loop = ref()
        if loop is None or loop.is_closed():
            return
        if not debug_enabled():  # switched off: stop watching (a later debug turn starts it again)
            _watched.discard(loop)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.set_debug, False)
            return
        answered = threading.Event()
        sent = time.perf_counter()
        try:
            loop.call_soon_threadsafe(answered.set)
        except RuntimeError:  # closed meanwhile
            return
        if not answered.wait(BLOCKED_WARNING):
            while not answered.wait(BLOCKED_WARNING / 2) and not loop.is_closed():
                if time.perf_counter() - sent > _WATCH_LIMIT:
                    break
            blocked = time.perf_counter() - sent
            logger.warning("nbswarm: the event loop was blocked for %.2f s (NBSWARM_DEBUG watchdog)", blocked)
        del loop
        time.sleep(BLOCKED_WARNING / 2)


async def prepare(provider: Any, model: str) -> None:
    """Run ``provider.warm_up()`` (once per provider class) and the price lookup in a worker thread."""
    if debug_enabled():
        _watch(asyncio.get_running_loop())
    warm_up = getattr(provider, "warm_up", None)
    if warm_up is not None and (type(provider), model) in _warm_providers:
        warm_up = None
    price = model if model not in _priced else None
    if warm_up is None and price is None:
        return
    # Agents of one step that need the same preparation share one thread job, so they all resume in
    # the same loop iteration and start their turns together (a parallel step stays parallel).
    loop = asyncio.get_running_loop()
    key = (loop, type(provider) if warm_up is not None else None, model, price)
    job = _inflight.get(key)
    if job is None:
        job = _inflight[key] = asyncio.ensure_future(
            asyncio.to_thread(_prepare_blocking, warm_up, model, price)
        )
        job.add_done_callback(lambda _: _inflight.pop(key, None))
    await asyncio.shield(job)
    if warm_up is not None and len(_warm_providers) < _MAX_PRICED:
        _warm_providers.add((type(provider), model))
    if price is not None and len(_priced) < _MAX_PRICED:
        _priced.add(price)


def _prepare_blocking(warm_up: Any, model: str, price: str | None) -> None:
    if warm_up is not None:
        warm_up(model)
    if price is not None:
        prices.warm(price)


def _request(agent: Agent, model: str, messages: list[dict[str, str]]) -> ModelRequest:
    return ModelRequest(
        model=model,
        messages=messages,
        max_tokens=agent.max_tokens,
        temperature=agent.temperature,
        base_url=agent.llm_base_url,
        api_key=agent.llm_api_key,
        seed=agent.seed,
        top_p=agent.top_p,
        stop=agent.stop,
        reasoning_effort=agent.reasoning_effort,
        response_format=agent.response_format,
        timeout=agent.timeout,
        num_retries=agent.num_retries,
        extra=dict(agent.model_kwargs),
    )


class _Guard:
    """Cancels the current task when no delta came for ``idle`` seconds or the turn passed ``total``."""

    def __init__(self, idle: float | None, total: float | None) -> None:
        self.fired: str | None = None
        self._idle = idle
        self._total = total
        self._handle: asyncio.TimerHandle | None = None
        loop = asyncio.get_running_loop()
        self.time = loop.time
        self.last = self.start = loop.time()
        if idle is not None or total is not None:
            self._loop = loop
            self._task = asyncio.current_task()
            self._handle = loop.call_at(self._due(), self._check)

    def _due(self) -> float:
        idle = self.last + self._idle if self._idle is not None else math.inf
        total = self.start + self._total if self._total is not None else math.inf
        return min(idle, total)

    def _check(self) -> None:
        now = self.time()
        if self._total is not None and now >= self.start + self._total:
            self.fired = "turn"
        elif self._idle is not None and now >= self.last + self._idle:
            self.fired = "idle"
        else:
            self._handle = self._loop.call_at(self._due(), self._check)
            return
        self._handle = None
        if self._task is not None:
            self._task.cancel()

    def message(self, model: str) -> str:
        if self.fired == "turn":
            return f"{model}: the turn took longer than timeout={self._total:g} s; partial text kept"
        return f"{model}: no token for idle_timeout={self._idle:g} s (a stalled stream); partial text kept"

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _cancelled_from_outside() -> bool:
    """After our own ``task.cancel()``: whether someone else cancelled the task too (3.11+ counts)."""
    task = asyncio.current_task()
    uncancel = getattr(task, "uncancel", None)
    if uncancel is None:  # Python 3.10 keeps no count: the guard's cancel is the one we saw
        return False
    return uncancel() > 0


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, ModelError):
        return exc.retryable
    return isinstance(exc, (ConnectionRefusedError, ConnectionResetError))


def _backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` (1, 2, ...): exponential from 0.25 s, capped, jittered."""
    return min(4.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def _estimate(model: str, messages: list[dict[str, str]], deltas: int) -> tuple[int, int, float]:
    """(input tokens, output tokens, cost) of a turn that ended without the provider's usage."""
    from .models.sim import estimate_input_tokens

    input_tokens = estimate_input_tokens(messages)
    return input_tokens, deltas, prices.cost_usd(model, input_tokens, deltas)
