"""One sim turn as it streams: the (kind, piece) items, stop sequences, token limits, due times.

``Turn`` pulls fragments from the composer (and, for reasoning models, the reasoning first), cuts
each into pieces with the tokenizer and counts tokens as it goes, so ``max_tokens`` (reasoning
and answer together, as providers count them) and fill mode are exact, and nothing is generated
before it is needed. ``due_times`` yields the schedule lazily, in blocks of 64 gaps.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ._simtask import read_prompt
from ._simtext import DEFAULT_TEMPERATURE, Budget, Composer
from ._simthink import is_reasoning_model, reasoning
from ._simtok import Tokenizer
from ._simvoice import voice_of
from .base import ModelRequest
from .speaker import Speaker

__all__ = ["Turn", "due_times", "stops"]


def stops(request: ModelRequest) -> tuple[str, ...]:
    """The request's stop sequences as a tuple (a single string is one sequence)."""
    stop = request.stop
    if not stop:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(stop)


class Turn:
    """One answer as it is produced: (kind, piece) items, then its finish reason and token count.

    Text is composed lazily, a fragment at a time, and each fragment cut into pieces by the
    tokenizer; ``max_tokens`` counts reasoning and answer tokens together, as providers do.
    """

    def __init__(
        self,
        request: ModelRequest,
        speaker: Speaker | None,
        tok: Tokenizer,
        rng: random.Random,
        *,
        length: int,
        fill: bool,
    ) -> None:
        self.request, self.tok = request, tok
        prompt = read_prompt(request.messages)
        speaker = speaker or Speaker()
        voice = voice_of(speaker.name, speaker.description, prompt.system)
        temperature = DEFAULT_TEMPERATURE if request.temperature is None else float(request.temperature)
        target = max(1, round(length * rng.uniform(0.75, 1.25)))
        self.fill = fill and request.max_tokens is not None
        self.budget = Budget(target=target, fill=self.fill)
        self.composer = Composer(prompt, voice, rng, temperature, self.budget)
        self.thinking = (
            reasoning(prompt, self.composer.task, rng, request.reasoning_effort)
            if is_reasoning_model(request.model)
            else None
        )
        self.finish_reason = "stop"
        self.output_tokens = 0

    def items(self) -> Iterator[tuple[str, str]]:
        limit = self.request.max_tokens
        if self.thinking is not None:
            for fragment in self.thinking:
                for piece, tokens in self.tok.pieces(fragment):
                    if limit is not None and self.output_tokens + tokens > limit:
                        self.finish_reason = "length"
                        return
                    self.output_tokens += tokens
                    yield "reasoning", piece
        for fragment in _stopped(self.composer.fragments(), stops(self.request), self):
            for piece, tokens in self.tok.pieces(fragment):
                if limit is not None and self.output_tokens + tokens > limit:
                    self.finish_reason = "length"
                    return
                self.output_tokens += tokens
                self.budget.used += tokens
                yield "text", piece
        if self.fill and limit is not None and self.output_tokens < limit:
            self.finish_reason = "stop"  # a stop sequence ended a fill answer early
        elif self.fill:
            self.finish_reason = "length"


def _stopped(fragments: Iterator[str], stops: tuple[str, ...], turn: Turn) -> Iterator[str]:
    """The text up to (not including) the first stop sequence, even one split across fragments;
    text that could be the start of a stop sequence is held back until it is known not to be."""
    if not stops:
        yield from fragments
        return
    pending = ""
    for fragment in fragments:
        buffer = pending + fragment
        found = [i for i in (buffer.find(s) for s in stops) if i >= 0]
        if found:
            if min(found):
                yield buffer[: min(found)]
            turn.finish_reason = "stop"
            return
        hold = max((k for s in stops for k in range(1, len(s)) if buffer.endswith(s[:k])), default=0)
        pending = buffer[len(buffer) - hold :] if hold else ""
        if len(buffer) > hold:
            yield buffer[: len(buffer) - hold]
    if pending:
        yield pending


_BLOCK = 64
_FIRST_BLOCK = 8


def due_times(ttft: float, tokens_per_second: float, jitter: float, rng: random.Random) -> Iterator[float]:
    """Due times, generated as needed: ``ttft``, then gamma-distributed gaps normalised per block.

    The first block is short (8 gaps) and drawn with ``ttft``, before the stream waits for its first
    token: a thousand streams started together do little work each before their first tokens, and
    none right after them (when the others' first tokens are due). Later blocks have 64 gaps.
    """
    mean = 1.0 / tokens_per_second
    now = float(ttft)
    gaps = _gaps(mean, jitter, rng, _FIRST_BLOCK)
    yield now
    while True:
        last = len(gaps) - 1
        for i, gap in enumerate(gaps):
            now += gap
            if i == last:
                gaps = _gaps(mean, jitter, rng, _BLOCK)  # drawn a block ahead, never in a burst
            yield now


def _gaps(mean: float, cv: float, rng: random.Random, count: int) -> list[float]:
    if cv <= 0:
        return [mean] * count
    shape = 1.0 / (cv * cv)
    gaps = [rng.gammavariate(shape, mean / shape) for _ in range(count)]
    norm = mean * count / sum(gaps)  # each block's realised rate = the profile's rate, exactly
    return [g * norm for g in gaps]
