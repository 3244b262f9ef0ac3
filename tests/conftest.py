"""Shared test setup: no network, no waiting, a scripted stand-in for paid model APIs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence

import pytest

# Before anything imports nbswarm or litellm: instant sim, and litellm never fetches its price map.
os.environ.setdefault("NBSWARM_SIM_DELAY_SCALE", "0")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.pop("NBSWARM_SIMULATE", None)
os.environ.pop("NBSWARM_SIM_FILL", None)

from nbswarm.models import Completion, ModelRequest


class ScriptedProvider:
    """A stand-in for a paid model API: streams the given pieces, optionally failing after some."""

    def __init__(
        self,
        pieces: Sequence[str] = ("Hello", ",", " world", "."),
        *,
        fail_after: int | None = None,
        delay: float = 0.0,
        cost: float = 0.002,
    ) -> None:
        self.pieces = list(pieces)
        self.fail_after = fail_after
        self.delay = delay
        self.cost = cost
        self.requests: list[ModelRequest] = []
        self.cancelled = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[str | Completion]:
        self.requests.append(request)
        try:
            for number, piece in enumerate(self.pieces):
                if self.fail_after is not None and number == self.fail_after:
                    raise ConnectionError("the model server went away")
                await asyncio.sleep(self.delay)
                yield piece
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        yield Completion(input_tokens=7, output_tokens=len(self.pieces), cost=self.cost)


@pytest.fixture
def scripted() -> type[ScriptedProvider]:
    return ScriptedProvider
