"""The offline ``sim`` model: realistic streaming with no key and no network.

It streams deterministic prose that answers the prompt (see ``_simtext``) with a configurable
time to first token, rate and jitter, and charges the named model's real price. Every notebook,
demo and test runs on it. It never imports litellm.

Timing: token ``i`` is due at ``schedule[i] * scale`` seconds after the stream starts, where
``schedule = sim_schedule(request, profile)`` (unscaled seconds) and ``scale`` is the profile's
delay scale. The stream sleeps to those absolute deadlines, so scheduling drift does not add up.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ._simtext import compose, message_text, read_prompt
from .base import Completion, ModelRequest
from .prices import cost_usd

__all__ = [
    "DELAY_SCALE_ENV",
    "FILL_ENV",
    "SimProfile",
    "SimProvider",
    "SimulatedFailure",
    "estimate_input_tokens",
    "sim_answer",
    "sim_schedule",
]

DELAY_SCALE_ENV = "NBSWARM_SIM_DELAY_SCALE"
FILL_ENV = "NBSWARM_SIM_FILL"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class SimulatedFailure(RuntimeError):
    """Raised by the sim model mid-stream when its profile says ``fail_after``."""


@dataclass(frozen=True, kw_only=True)
class SimProfile:
    """How the sim model behaves: latency, speed, jitter, answer length, failures."""

    ttft: float = 0.3
    """Seconds from the stream start to the first token (before ``delay_scale``)."""
    tokens_per_second: float = 80.0
    """Mean rate after the first token; the schedule's mean gap is exactly ``1 / tokens_per_second``."""
    jitter: float = 0.35
    """Coefficient of variation of the gaps between tokens (gamma-distributed); 0 = metronome."""
    length: int = 300
    """Typical answer length in pieces; each prompt gets a fixed length within ±25% of it."""
    fill: bool | None = None
    """Answer exactly ``request.max_tokens`` pieces. None = env NBSWARM_SIM_FILL (off by default)."""
    delay_scale: float | None = None
    """Multiplies every delay; 0 = never wait. None = env NBSWARM_SIM_DELAY_SCALE (default 1.0)."""
    seed: int = 0
    """Mixed into the text and timing, so agents with equal prompts can still differ."""
    fail_after: int | None = None
    """Raise ``SimulatedFailure`` after this many pieces (if the answer is at least that long)."""

    def __post_init__(self) -> None:
        _check_number("ttft", self.ttft, positive=False)
        _check_number("tokens_per_second", self.tokens_per_second, positive=True)
        _check_number("jitter", self.jitter, positive=False)
        _check_int("length", self.length, minimum=1)
        if self.fill is not None and not isinstance(self.fill, bool):
            raise TypeError(f"fill must be a bool or None, got {type(self.fill).__name__}")
        if self.delay_scale is not None:
            _check_number("delay_scale", self.delay_scale, positive=False)
        _check_int("seed", self.seed, minimum=None)
        if self.fail_after is not None:
            _check_int("fail_after", self.fail_after, minimum=0)

    def effective_delay_scale(self) -> float:
        """The delay scale in force now: the profile's, else the environment's, else 1.0."""
        if self.delay_scale is not None:
            return float(self.delay_scale)
        raw = os.environ.get(DELAY_SCALE_ENV, "").strip()
        if not raw:
            return 1.0
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{DELAY_SCALE_ENV} must be a non-negative number, got {raw!r}")
        return value

    def effective_fill(self) -> bool:
        """Whether fill mode is on now: the profile's setting, else the environment's."""
        if self.fill is not None:
            return self.fill
        raw = os.environ.get(FILL_ENV, "").strip().lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ValueError(f"{FILL_ENV} must be 1/0/true/false/yes/no/on/off, got {raw!r}")


def _check_number(name: str, value: object, *, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")


def _check_int(name: str, value: object, *, minimum: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_request(request: ModelRequest) -> None:
    if not isinstance(request, ModelRequest):
        raise TypeError(f"request must be a ModelRequest, got {type(request).__name__}")
    if not isinstance(request.model, str):
        raise TypeError(f"request.model must be a str, got {type(request.model).__name__}")
    if not isinstance(request.messages, list) or not all(isinstance(m, dict) for m in request.messages):
        raise TypeError("request.messages must be a list of dicts like {'role': ..., 'content': ...}")
    if request.max_tokens is not None:
        _check_int("max_tokens", request.max_tokens, minimum=1)


def _rng(request: ModelRequest, profile: SimProfile, purpose: str) -> random.Random:
    """A generator seeded by model, messages and seeds only: same prompt, same answer."""
    parts = [purpose, request.model, request.messages, profile.seed, request.seed]
    key = json.dumps(parts, default=str, sort_keys=True)
    return random.Random(int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big"))


def estimate_input_tokens(messages: list[dict]) -> int:
    """Prompt size in tokens, estimated as OpenAI's rule of thumb: ~4 characters per token,
    plus 4 per message for its framing and 3 to prime the reply."""
    return 3 + sum(4 + math.ceil(len(message_text(m)) / 4) for m in messages)


def sim_answer(request: ModelRequest, profile: SimProfile | None = None) -> tuple[list[str], str]:
    """The pieces the sim model streams for ``request`` and its finish reason ("stop"/"length").

    Deterministic in (model, messages, profile.seed, request.seed). ``max_tokens`` caps the answer
    (a cut answer is a prefix of the uncut one); fill mode answers exactly ``max_tokens`` pieces
    (with no ``max_tokens`` it has nothing to fill and answers at its natural length).
    """
    profile = profile or SimProfile()
    _check_request(request)
    rng = _rng(request, profile, "text")
    target = max(1, round(profile.length * rng.uniform(0.75, 1.25)))
    fill = profile.effective_fill() and request.max_tokens is not None
    if fill:
        target = request.max_tokens
    pieces = compose(read_prompt(request.messages), rng, target, fill)
    if request.max_tokens is not None and (fill or len(pieces) > request.max_tokens):
        return pieces[: request.max_tokens], "length"
    return pieces, "stop"


def sim_schedule(request: ModelRequest, profile: SimProfile | None = None) -> list[float]:
    """When each piece is due, in *unscaled* seconds from the stream start (multiply by
    ``profile.effective_delay_scale()`` for wall time). One entry per piece of ``sim_answer``
    (a ``fail_after`` stream stops early); the first is ``ttft``, the mean gap is exactly
    ``1 / tokens_per_second``, so a benchmark can compare delivery times against it."""
    profile = profile or SimProfile()
    pieces, _ = sim_answer(request, profile)
    return _times(len(pieces), profile, _rng(request, profile, "timing"))


def _times(count: int, profile: SimProfile, rng: random.Random) -> list[float]:
    if count == 0:
        return []
    mean = 1.0 / profile.tokens_per_second
    cv = profile.jitter
    if cv > 0 and count > 2:
        shape = 1.0 / (cv * cv)
        gaps = [rng.gammavariate(shape, mean / shape) for _ in range(count - 1)]
        norm = mean * (count - 1) / sum(gaps)  # realised rate = the profile's rate, exactly
        gaps = [g * norm for g in gaps]
    else:
        gaps = [mean] * (count - 1)
    times = [float(profile.ttft)]
    now = times[0]
    for gap in gaps:
        now += gap
        times.append(now)
    return times


class SimProvider:
    """The offline provider: streams ``sim_answer`` on ``sim_schedule``, then one ``Completion``.

    ``clock`` (seconds, monotonic) and ``sleep`` (async) default to the running loop's clock and
    ``asyncio.sleep``; tests replace them to check the timing exactly.
    """

    def __init__(
        self,
        profile: SimProfile | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> None:
        if profile is not None and not isinstance(profile, SimProfile):
            raise TypeError(f"profile must be a SimProfile, got {type(profile).__name__}")
        self.profile = profile or SimProfile()
        self._clock = clock
        self._sleep = sleep or asyncio.sleep

    def __repr__(self) -> str:
        return f"SimProvider({self.profile!r})"

    async def stream(self, request: ModelRequest) -> AsyncIterator[str | Completion]:
        """Yield the answer's pieces at their due times, then a ``Completion`` with usage and cost.

        Raises ``SimulatedFailure`` after ``profile.fail_after`` pieces when the profile asks for it.
        """
        profile = self.profile
        pieces, finish_reason = sim_answer(request, profile)
        # Priced before the first token: the first lookup loads litellm's price map (~70 ms of
        # GIL-holding JSON parsing), which must fall in this stream's own wait for its first
        # token, not in the middle of other agents' streams.
        input_tokens = estimate_input_tokens(request.messages)
        cost = cost_usd(request.model, input_tokens, len(pieces))
        scale = profile.effective_delay_scale()
        times = _times(len(pieces), profile, _rng(request, profile, "timing")) if scale > 0 else None
        clock = self._clock or asyncio.get_running_loop().time
        start = clock()
        fail_after = profile.fail_after
        for i, piece in enumerate(pieces):
            if times is None:
                await self._sleep(0)  # still hand over the loop, so concurrent agents interleave
            else:
                delay = start + times[i] * scale - clock()
                await self._sleep(delay if delay > 0 else 0)
            if i == fail_after:
                raise SimulatedFailure(f"sim model failed after {i} tokens (fail_after={fail_after})")
            yield piece
        if fail_after == len(pieces):
            raise SimulatedFailure(f"sim model failed after {fail_after} tokens (fail_after={fail_after})")
        yield Completion(
            finish_reason=finish_reason, input_tokens=input_tokens, output_tokens=len(pieces), cost=cost
        )
