"""What one ``nbswarm serve`` app knows: its settings, and the runs in flight and kept.

``Settings`` are the server-wide limits (``create_app`` keywords, ``nbswarm serve`` flags);
``ServerState`` (``app.state.nbswarm``) counts the runs going (``active_runs``, against
``max_runs``) and keeps finished runs for inspection within a memory budget (``recent``,
``retained_bytes``): the oldest finished runs go first once their estimated size passes
``retain_bytes``, so an idle server holds a bounded amount, whatever its runs were.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from ..errors import InvalidArgument
from ..events import Event
from ..models.sim import SimProfile
from ..run import Run
from ._payload import Limits, ProviderFor

__all__ = ["PING_SECONDS", "ServerState", "Settings"]

PING_SECONDS = 15.0


@dataclass(frozen=True)
class Settings:
    """Server-wide settings of one app (``create_app`` keywords; ``nbswarm serve`` flags)."""

    max_runs: int = 64
    """Runs going at once; a request past it is 429 with ``Retry-After`` (``--max-runs``)."""
    max_body_bytes: int = 1_000_000
    """Request body size, enforced while reading (chunked bodies too): 413."""
    body_timeout: float = 30.0
    """Seconds to receive a whole request body: 408."""
    client_buffer: int = 1 << 20
    """Bytes of frames buffered for one streaming client; when full, its frames wait (``--client-buffer``)."""
    max_lag: float = 30.0
    """Seconds a streaming client may fall behind its run before it is disconnected (``--max-lag``)."""
    write_timeout: float = 30.0
    """Seconds one write may wait on a client that does not read before it is disconnected."""
    retain_bytes: int = 64 << 20
    """Estimated memory of finished runs kept for inspection (``state.recent``); oldest go first."""
    coalesce: float = 0.005
    """Seconds a stream gathers frames into one write while they keep coming."""
    ping: float = PING_SECONDS
    """Seconds of silence before a keep-alive comment."""
    redact_errors: bool = True
    """Remote clients get error types and a log reference, never the error's text."""
    allowed_hosts: tuple[str, ...] | None = ("127.0.0.1", "localhost", "::1")
    """``Host`` header names served (None: any); others are refused (DNS rebinding)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the API (``--cors-origin``); other origins are 403."""

    def __post_init__(self) -> None:
        for name in ("max_runs", "max_body_bytes", "client_buffer", "retain_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name} must be a positive integer, got {value!r}")
        for name in ("body_timeout", "write_timeout", "max_lag", "ping"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InvalidArgument(f"{name} must be a positive number of seconds, got {value!r}")
        if (
            isinstance(self.coalesce, bool)
            or not isinstance(self.coalesce, (int, float))
            or self.coalesce < 0
        ):
            raise InvalidArgument(f"coalesce must be seconds >= 0, got {self.coalesce!r}")


@dataclass
class ServerState:
    """Per-app configuration and the runs in flight (``app.state.nbswarm``)."""

    limits: Limits
    api_key: str | None
    provider_for: ProviderFor
    simulated: bool
    settings: Settings = field(default_factory=Settings)
    sim_profile: SimProfile | None = None
    runs: set[Run] = field(default_factory=set)
    """Runs whose body is still going (a cancelled run leaves once its agents have stopped)."""
    _kept: deque[tuple[Run, int]] = field(default_factory=deque)
    _kept_bytes: int = 0
    dropped_clients: int = 0
    """Streaming clients disconnected for falling behind (``client_buffer``, ``write_timeout``)."""

    @property
    def ping(self) -> float:
        return self.settings.ping

    @property
    def active_runs(self) -> int:
        return len(self.runs)

    @property
    def recent(self) -> tuple[Run, ...]:
        """Runs going and finished runs kept within ``retain_bytes``, oldest first."""
        return tuple(run for run, _ in self._kept)

    @property
    def retained_bytes(self) -> int:
        """The estimated memory of the finished runs kept."""
        return self._kept_bytes

    def full(self) -> bool:
        return len(self.runs) >= self.settings.max_runs

    def track(self, run: Run) -> None:
        """Count ``run`` as going until its sinks close (call on the server's loop)."""
        self.runs.add(run)
        self._kept.append((run, 0))
        run.add_sink(_Untrack(self, run, asyncio.get_running_loop()))

    def release(self, run: Run) -> None:
        """Forget a run that will never start (its request failed before streaming)."""
        if run.status == "pending":
            self.runs.discard(run)
            self._kept = deque(item for item in self._kept if item[0] is not run)

    def finished(self, run: Run) -> None:
        self.runs.discard(run)
        size = _estimate(run)
        kept = deque()
        for item in self._kept:
            kept.append((run, size) if item[0] is run else item)
        self._kept = kept
        self._kept_bytes += size
        budget = self.settings.retain_bytes
        while self._kept_bytes > budget:
            for i, (old, old_size) in enumerate(self._kept):
                if old.done:
                    del self._kept[i]
                    self._kept_bytes -= old_size
                    break
            else:
                break


def _estimate(run: Run) -> int:
    """Rough bytes a finished run holds: a fixed cost per event object plus its text."""
    total = 0
    for event in run.events:
        total += 240 + len(getattr(event, "content", "")) + len(getattr(event, "output", "") or "")
    return total


class _Untrack:
    """A sink whose ``close()`` (after the run's last event, even when cancelled) retires the run.

    A run nobody waits for any more closes its sinks on its body's loop (nbswarm's engine thread):
    the state is only ever changed on the server's loop, so the retirement is sent there.
    """

    def __init__(self, state: ServerState, run: Run, loop: asyncio.AbstractEventLoop) -> None:
        self.state, self.run, self.loop = state, run, loop

    def __call__(self, event: Event) -> None:
        pass

    def close(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.state.finished(self.run)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.state.finished, self.run)
