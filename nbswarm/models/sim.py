"""The offline ``sim`` model: realistic streaming with no key and no network.

It streams deterministic text that answers the prompt in the genre and language asked for, in the
speaking agent's voice (see ``_simtext``), with a configurable time to first token, rate and
jitter, and charges the named model's real price. Every notebook, demo and test runs on it. It
never imports litellm.

Options it honours, as a real model does: ``temperature`` (0 = one text for any seed; higher =
more varied wording and structure; None = 1.0, the OpenAI default), ``seed`` (selects among
variants), ``stop`` (the text ends before the first stop sequence, finish reason "stop"),
``max_tokens`` (finish reason "length"; fill mode answers exactly that many tokens) and
``reasoning_effort`` for reasoning models (``sim/o3-mini`` and the like stream their reasoning
first, see ``_simthink``).

The answer is generated a sentence at a time while it streams, so a stream's first token costs
one sentence, not a whole answer: a thousand agents started together all start on time.

Timing: piece ``i`` is due at ``schedule[i] * scale`` seconds after the stream starts, where
``schedule = sim_schedule(request, profile)`` (unscaled seconds) and ``scale`` is the profile's
delay scale. The stream sleeps to those absolute deadlines, so scheduling drift does not add up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import math
import os
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from . import _simtok
from ._simstream import Turn, due_times
from ._simtask import message_text
from ._simthink import is_reasoning_model
from .base import Completion, ModelRequest, Reasoning
from .prices import cost_usd, price_per_token
from .speaker import SPEAKER, Speaker

__all__ = [
    "DELAY_SCALE_ENV",
    "FILL_ENV",
    "SimProfile",
    "SimProvider",
    "SimulatedFailure",
    "estimate_input_tokens",
    "is_reasoning_model",
    "prefetch",
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
    """Typical length of an open-ended answer (a report) in tokens; each prompt gets a fixed length
    within ±25% of it, scaled by genre (a summary is shorter, a story longer). Fixed forms (a haiku,
    a list of N) have their own length."""
    fill: bool | None = None
    """Answer exactly ``request.max_tokens`` pieces. None = env NBSWARM_SIM_FILL (off by default)."""
    delay_scale: float | None = None
    """Multiplies every delay; 0 = never wait. None = env NBSWARM_SIM_DELAY_SCALE (default 1.0)."""
    seed: int = 0
    """Mixed into the text and timing, so agents with equal prompts can still differ."""
    fail_after: int | None = None
    """Raise ``SimulatedFailure`` after this many pieces (if the answer is at least that long)."""
    tokenizer: str = "auto"
    """"auto": tiktoken when installed with its files on disk, else the estimate; "estimate": always
    the estimate (see ``_simtok``). Sets how text is cut into pieces and how tokens are counted."""

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
        if self.tokenizer not in ("auto", "estimate"):
            raise ValueError(f"tokenizer must be 'auto' or 'estimate', got {self.tokenizer!r}")

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


def prefetch(model: str, profile: SimProfile | None = None) -> None:
    """Load what the first sim stream of ``model`` needs (its tokenizer, the price map) in a daemon
    thread now, so that stream's time to first token is not spent loading. Returns at once."""
    if not isinstance(model, str):
        raise TypeError(f"model must be a str, got {type(model).__name__}")
    _warming(model, (profile or SimProfile()).tokenizer)


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
    if request.temperature is not None:
        _check_number("temperature", request.temperature, positive=False)
    if request.seed is not None:
        _check_int("seed", request.seed, minimum=None)
    if request.stop is not None:
        stops = [request.stop] if isinstance(request.stop, str) else request.stop
        if not all(isinstance(s, str) and s for s in stops):
            raise TypeError("request.stop must be a string or a sequence of non-empty strings")


def _rng(request: ModelRequest, profile: SimProfile, purpose: str, speaker: Speaker | None) -> random.Random:
    """A generator seeded by the prompt, the agent and (above temperature 0, or for timing) the seeds:
    same prompt and options, same answer."""
    parts: list[object] = [purpose, request.model, request.messages]
    if speaker is not None:
        parts += [speaker.name, speaker.description]
    if purpose == "timing" or (request.temperature if request.temperature is not None else 1.0) > 0:
        parts += [profile.seed, request.seed]
    key = json.dumps(parts, default=str, sort_keys=True)
    return random.Random(int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big"))


def estimate_input_tokens(messages: list[dict], tokenizer: _simtok.Tokenizer | None = None) -> int:
    """Prompt size in tokens as OpenAI counts chat input: the messages' tokens plus 4 per message for
    its framing and 3 to prime the reply. Counted by ``tokenizer`` (default: the estimate)."""
    count = (tokenizer or _simtok.Estimate()).count
    return 3 + sum(4 + count(message_text(m)) for m in messages)


def _tokenizer(request: ModelRequest, profile: SimProfile) -> _simtok.Tokenizer:
    return _simtok.tokenizer_for(request.model if isinstance(request.model, str) else "", profile.tokenizer)


def sim_answer(
    request: ModelRequest, profile: SimProfile | None = None, *, speaker: Speaker | None = None
) -> tuple[list[str], str]:
    """The answer pieces the sim model streams for ``request`` and its finish reason ("stop"/"length").

    Deterministic in (model, messages, agent, options, seeds); the agent is ``speaker``, else the
    one whose turn is running (``SPEAKER``). ``max_tokens`` caps reasoning plus answer (a cut answer
    is a prefix of the uncut one); fill mode answers exactly ``max_tokens`` tokens (with no
    ``max_tokens`` it has nothing to fill and answers at its natural length). A reasoning model's
    reasoning is not part of the answer: see ``sim_items``.
    """
    items, finish_reason, _ = sim_items(request, profile, speaker=speaker)
    return [piece for kind, piece in items if kind == "text"], finish_reason


def sim_items(
    request: ModelRequest, profile: SimProfile | None = None, *, speaker: Speaker | None = None
) -> tuple[list[tuple[str, str]], str, int]:
    """Every (kind, piece) the stream yields ("reasoning" pieces first), its finish reason and its
    output tokens (reasoning included)."""
    profile = profile or SimProfile()
    _check_request(request)
    if speaker is not None and not isinstance(speaker, Speaker):
        raise TypeError(f"speaker must be a Speaker or None, got {type(speaker).__name__}")
    if not isinstance(profile, SimProfile):
        raise TypeError(f"profile must be a SimProfile, got {type(profile).__name__}")
    turn = _turn(
        request, profile, speaker if speaker is not None else SPEAKER.get(), _tokenizer(request, profile)
    )
    items = list(turn.items())
    return items, turn.finish_reason, turn.output_tokens


def sim_schedule(
    request: ModelRequest, profile: SimProfile | None = None, *, speaker: Speaker | None = None
) -> list[float]:
    """When each piece is due, in *unscaled* seconds from the stream start (multiply by
    ``profile.effective_delay_scale()`` for wall time). One entry per piece of ``sim_items``
    (a ``fail_after`` stream stops early); the first is ``ttft``, and the gaps come in blocks (8,
    then 64 at a time) whose mean is exactly ``1 / tokens_per_second``, so a benchmark can compare
    delivery times against it."""
    profile = profile or SimProfile()
    speaker = speaker if speaker is not None else SPEAKER.get()
    items, _, _ = sim_items(request, profile, speaker=speaker)
    times = _times(profile, _rng(request, profile, "timing", speaker))
    return [next(times) for _ in items]


def _times(profile: SimProfile, rng: random.Random) -> Iterator[float]:
    return due_times(profile.ttft, profile.tokens_per_second, profile.jitter, rng)


def _turn(
    request: ModelRequest, profile: SimProfile, speaker: Speaker | None, tok: _simtok.Tokenizer
) -> Turn:
    rng = _rng(request, profile, "text", speaker)
    return Turn(request, speaker, tok, rng, length=profile.length, fill=profile.effective_fill())


_WARMING: dict[tuple[str, str], concurrent.futures.Future[None]] = {}
"""One load per (model, tokenizer kind); a few hundred bytes each, as many as model names used."""
_WARMING_LOCK = threading.Lock()


def _warming(model: str, kind: str) -> concurrent.futures.Future[None]:
    """The one load of ``model``'s tokenizer and price, started in a daemon thread on first use."""
    with _WARMING_LOCK:
        future = _WARMING.get((model, kind))
        if future is None:
            future = _WARMING[(model, kind)] = concurrent.futures.Future()
            threading.Thread(target=_warm, args=(model, kind, future), daemon=True).start()
        return future


def _warm(model: str, kind: str, future: concurrent.futures.Future[None]) -> None:
    try:
        _simtok.tokenizer_for(model, kind)
        price_per_token(model)
        future.set_result(None)
    except BaseException as exc:
        future.set_exception(exc)


class SimProvider:
    """The offline provider: streams ``sim_items`` on ``sim_schedule``, then one ``Completion``.

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

    async def stream(self, request: ModelRequest) -> AsyncIterator[str | Reasoning | Completion]:
        """Yield reasoning (for reasoning models) and answer pieces at their due times, then a
        ``Completion`` with usage and cost.

        Raises ``SimulatedFailure`` after ``profile.fail_after`` pieces when the profile asks for it.
        """
        profile = self.profile
        _check_request(request)
        speaker = SPEAKER.get()
        # Off the loop, before the clock starts, once per process: the first use of a tokenizer
        # loads its BPE file (~0.1-0.3 s; ``prefetch`` usually did it when the agent was made) and
        # the first price lookup loads litellm's price map (~70 ms). Both in one daemon thread.
        warming = _warming(request.model, profile.tokenizer)
        if not warming.done():  # one shared load, however many agents start at once
            # shielded: a cancelled turn must not cancel the load every later turn shares
            await asyncio.shield(asyncio.wrap_future(warming))
        warming.result()  # re-raises a failed load
        tok = _simtok.tokenizer_for(request.model, profile.tokenizer)
        # The turn's clock starts here: reading the prompt and writing the first sentence fall in
        # the wait for the first token, as a real model's prompt processing does.
        clock = self._clock or asyncio.get_running_loop().time
        start = clock()
        await asyncio.sleep(0)  # let every agent started with this one take its start time first
        turn = _turn(request, profile, speaker, tok)
        scale = profile.effective_delay_scale()
        times = _times(profile, _rng(request, profile, "timing", speaker)) if scale > 0 else None
        fail_after = profile.fail_after
        count = 0
        for kind, piece in turn.items():
            if times is None:
                await self._sleep(0)  # still hand over the loop, so concurrent agents interleave
            else:
                delay = start + next(times) * scale - clock()
                await self._sleep(delay if delay > 0 else 0)
            if count == fail_after:
                raise SimulatedFailure(f"sim model failed after {count} tokens (fail_after={fail_after})")
            yield piece if kind == "text" else Reasoning(piece)
            count += 1
        if fail_after == count:
            raise SimulatedFailure(f"sim model failed after {fail_after} tokens (fail_after={fail_after})")
        output_tokens = turn.output_tokens
        input_tokens = estimate_input_tokens(request.messages, tok)  # needed only now
        yield Completion(
            finish_reason=turn.finish_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost_usd(request.model, input_tokens, output_tokens),
        )
