"""A stream cache: a re-executed sweep cell replays what a model already streamed instead of paying again.

Keyed by (model, messages, options) -- everything in the request that changes the answer, never the
key or timeouts -- one JSON file per stream under a folder, written only when the stream completed
(a failed or cancelled turn is never cached). A replay yields the same text pieces at the recorded
pace with the recorded usage, so tables and figures compare like for like; no model is called.
Worker processes on one machine share the folder; Ray nodes on other machines each have their own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from ..models import Completion, ModelRequest, Reasoning, Text, resolve

__all__ = ["StreamCache", "cache_of"]

logger = logging.getLogger("nbswarm")

_KEYED = ("messages", "max_tokens", "temperature", "seed", "top_p", "stop", "reasoning_effort",
          "response_format", "base_url", "extra")  # fmt: skip


def default_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nbswarm" / "streams"


def cache_of(cache: bool | str | os.PathLike[str] | None) -> StreamCache | None:
    """``None``: real models only; ``True``: every model; ``False``: none; a path: every model, there."""
    if cache is False:
        return None
    if cache is None or cache is True:
        return StreamCache(default_folder(), real_only=cache is None)
    if isinstance(cache, (str, os.PathLike)):
        return StreamCache(Path(cache), real_only=False)
    raise InvalidArgument(f"sweep(): cache must be True, False, None or a folder path, got {cache!r}")


class StreamCache:
    """Model streams on disk, by request."""

    def __init__(self, folder: Path, *, real_only: bool) -> None:
        self.folder = Path(folder)
        self.real_only = real_only

    def install(self, agents: list[Any]) -> None:
        """Route the agents' model calls through this cache."""
        for agent in agents:
            if hasattr(agent, "model_name") and hasattr(agent, "provider"):
                if self.real_only and agent.provider is not None:
                    continue  # a provider object of the user's own: not a billed model we know
                agent.provider = CachedProvider(self, agent.provider, agent.model_name)

    def key(self, model: str, request: ModelRequest) -> str:
        fields = {name: getattr(request, name) for name in _KEYED}
        blob = json.dumps({"model": model, **fields}, sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def load(self, key: str) -> list[Any] | None:
        try:
            return json.loads(self.path(key).read_text(encoding="utf-8"))["items"]
        except (OSError, ValueError, KeyError):
            return None

    def store(self, key: str, items: list[Any]) -> None:
        """Keep a completed stream; a cache that cannot be written never fails the run."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "items": items}, out)
            os.replace(tmp, path)  # readers see the whole file or none
        except OSError as exc:
            logger.warning("sweep cache: could not write %s: %s", path, exc)


class CachedProvider:
    """A provider that replays a cached stream, or streams from the real one and caches it."""

    def __init__(self, cache: StreamCache, inner: Any, model_name: str) -> None:
        self.cache, self.inner, self.model_name = cache, inner, model_name

    async def stream(self, request: ModelRequest) -> AsyncIterator[Any]:
        inner = self.inner
        if inner is None:
            inner, model = resolve(self.model_name)
            request = dataclasses.replace(request, model=model)
            if self.cache.real_only and type(inner).__name__ == "SimProvider":
                async for item in inner.stream(request):
                    yield item
                return
        key = self.cache.key(self.model_name, request)
        items = self.cache.load(key)
        if items is not None:
            async for item in _replay(items):
                yield item
            return
        recorded: list[Any] = []
        start = time.monotonic()
        async for item in inner.stream(request):
            at = round(time.monotonic() - start, 4)
            if isinstance(item, Completion):
                recorded.append(["c", at, dataclasses.asdict(item)])
                if item.finish_reason != "error":
                    self.cache.store(key, recorded)
            elif isinstance(item, Reasoning):
                recorded.append(["r", at, item.content])
            else:
                recorded.append(["t", at, item if isinstance(item, str) else item.content])
            yield item


async def _replay(items: list[Any]) -> AsyncIterator[Any]:
    start = time.monotonic()
    for kind, at, value in items:
        wait = at - (time.monotonic() - start)
        await asyncio.sleep(wait if wait > 0 else 0)
        if kind == "c":
            yield Completion(**value)
        elif kind == "r":
            yield Reasoning(value)
        else:
            yield Text(value)
