"""The Ray backend: async actors, one per CPU of the cluster, each running many runs on its own loop.

Done the way that measured best here (SCALE-OUT.md): one streaming generator per *chunk* of runs
(two chunks in flight per actor, so the load balances itself), yielding batches coalesced every
~50 ms across the chunk's runs; the driver thread waits on every generator with ``ray.wait`` and
feeds the Recorder. Never a Ray object per event, never a task per run, no ``ray.util.queue``.

Failure is the app's, not Ray's: actors have ``max_restarts=0`` and ``max_task_retries=0``, because
Ray's own retry re-runs a generator and skips the yield indexes already consumed, which splices two
different LLM streams. A dead actor's runs are closed at the seq they reached and run again as new
attempts on a live actor (see ``_remote``); a replacement actor is started for later chunks.

Ray is imported only here, only when this backend is used. Started by nbswarm (``ray_address=None``)
it runs with ``address="local"`` (never joining a stale cluster by accident), a capped object store
and ``log_to_driver=False`` (worker noise stays out of the notebook; failures come back as events).
Actors stay alive across sweeps in one kernel, as cold actors cost seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import cloudpickle

from .. import _engine_loop
from ..errors import InvalidArgument
from ._remote import Outcome, RemoteDriver
from ._spec import RunSpec
from ._worker import Batcher, WorkerRuns, run_specs, worker_name

if TYPE_CHECKING:
    from ._api import Sweep

__all__ = ["RayBackend"]

logger = logging.getLogger("nbswarm")

OBJECT_STORE_BYTES = 256 * 1024 * 1024
"""A local Ray started by nbswarm caps its object store: batches are 10-200 kB, and small /dev/shm
(Binder, CI containers) would not hold Ray's default of 30 % of RAM."""

_lock = threading.Lock()
_actors: list[Any] = []
"""Live actors, reused by the next sweep in this process."""
_actors_job: str | None = None
"""The Ray job the actors belong to (a new ``ray.init`` starts over)."""
_actor_class: Any = None


def _ray(address: str | None) -> Any:
    if address is None and "ray" not in sys.modules:
        # A Ray that nbswarm starts on this machine binds loopback only (Ray reads this at import).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise ImportError("backend='ray' needs Ray: pip install 'nbswarm[ray]'") from None
    return ray


def connect(address: str | None) -> Any:
    """Ray, initialized: the running one, else a new local one (``None``) or the cluster at ``address``."""
    ray = _ray(address)
    if ray.is_initialized():
        return ray
    if address is not None and not isinstance(address, str):
        raise InvalidArgument(f"sweep(): ray_address must be None, 'auto' or an address, got {address!r}")
    options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
    if address is None:
        ray.init(address="local", object_store_memory=OBJECT_STORE_BYTES, **options)
    else:
        ray.init(address=address, **options)
    return ray


def _make_actor_class(ray: Any) -> Any:
    global _actor_class
    if _actor_class is not None:
        return _actor_class

    @ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)
    class SweepActor:
        """Runs chunks of a sweep's attempts on this process's event loop; one WorkerRuns per sweep."""

        def __init__(self) -> None:
            self.sweeps: dict[str, WorkerRuns] = {}

        def where(self) -> str:
            return f"{ray.get_runtime_context().get_node_id()[:8]}:{worker_name()}"

        async def run_chunk(
            self, sweep_id: str, make_blob: bytes, specs: list[RunSpec], cache: Any, concurrency: int
        ) -> Any:
            make = cloudpickle.loads(make_blob)
            state = self.sweeps.setdefault(sweep_id, WorkerRuns())
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[Any] = asyncio.Queue()
            where = self.where()

            def send(batch: Any) -> None:  # from the engine loop's thread to this actor's loop
                loop.call_soon_threadsafe(queue.put_nowait, batch)

            async def work() -> None:  # on nbswarm's engine loop: each run's body and sinks share it
                batcher = Batcher(send)
                await run_specs(
                    make, specs, batcher, state, concurrency=concurrency, cache=cache, where=where
                )

            done = asyncio.wrap_future(_engine_loop.submit(work()))
            done.add_done_callback(lambda _: queue.put_nowait(None))  # after the last batch
            try:
                while (batch := await queue.get()) is not None:
                    yield batch
                await done
            finally:
                done.cancel()  # stopped hard (ray.cancel): the runs stop too

        def cancel_runs(self, sweep_id: str) -> None:
            state = self.sweeps.setdefault(sweep_id, WorkerRuns())
            _engine_loop.get_loop().call_soon_threadsafe(state.cancel)

        def forget(self, sweep_id: str) -> None:
            self.sweeps.pop(sweep_id, None)

    _actor_class = SweepActor
    return SweepActor


class _Actor:
    def __init__(self, handle: Any, ray: Any) -> None:
        self.handle = handle
        self.ready_ref = handle.where.remote()  # answers once the actor has started
        self.ready = False
        self.name: str | None = None
        self.chunks: dict[int, Any] = {}  # chunk -> its ObjectRefGenerator
        self._ray = ray

    def is_ready(self) -> bool:
        if not self.ready:
            done, _ = self._ray.wait([self.ready_ref], timeout=0)
            if done:
                try:
                    self.name = self._ray.get(done[0])
                    self.ready = True
                except self._ray.exceptions.RayError:
                    return False
        return self.ready


class _RayPool:
    def __init__(self, sweep: Sweep) -> None:
        ray = connect(sweep.ray_address)
        self.ray = ray
        self.sweep = sweep
        self.cls = _make_actor_class(ray)
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        self.count = sweep.workers or cpus
        self.size = max(1, -(-sweep.concurrency // self.count) // 2)
        # Ray's own pickler is a vendored cloudpickle; ship make with the same one as the process
        # backend, so the same functions work on both (and register_pickle_by_value applies).
        self.make_ref = ray.put(cloudpickle.dumps(sweep.make))
        self.cancelled = False
        global _actors_job
        with _lock:
            job = ray.get_runtime_context().get_job_id()
            if job != _actors_job:
                _actors.clear()
                _actors_job = job
            live = _actors[: self.count]
            while len(live) < self.count:
                live.append(_Actor(self.cls.remote(), ray))
            _actors[:] = live
        self.actors: list[_Actor] = list(live)
        self.gens: dict[Any, tuple[_Actor, int]] = {}

    def _usable(self) -> list[_Actor]:
        """Started actors; before any has started, all (their chunks wait in Ray until they start).
        After a death, retries go to the live actors, not to a replacement still starting."""
        ready = [a for a in self.actors if a.is_ready()]
        return ready or self.actors

    def open_slots(self) -> int:
        return sum(max(0, 2 - len(a.chunks)) for a in self._usable())

    def chunk_size(self) -> int:
        return self.size

    def submit(self, chunk: int, specs: list[RunSpec]) -> None:
        actor = min(self._usable(), key=lambda a: len(a.chunks))
        gen = actor.handle.run_chunk.options(num_returns="streaming").remote(
            self.sweep.sweep_id, self.make_ref, specs, self.sweep.cache, len(specs)
        )
        actor.chunks[chunk] = gen
        self.gens[gen] = (actor, chunk)

    def poll(self, timeout: float) -> list[Outcome]:
        out: list[Outcome] = []
        if not self.gens:
            time.sleep(timeout)
            return out
        ready, rest = self.ray.wait(list(self.gens), num_returns=1, timeout=timeout)
        if ready and rest:
            ready += self.ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        for gen in ready:
            if gen not in self.gens:  # its actor died earlier in this poll: already reported
                continue
            actor, chunk = self.gens[gen]
            try:
                ref = next(gen)
                out.append(("batch", chunk, self.ray.get(ref)))
            except StopIteration:
                self._forget(gen)
                out.append(("done", chunk, None))
            except self.ray.exceptions.RayError as exc:
                if isinstance(exc, self.ray.exceptions.TaskCancelledError) or self.cancelled:
                    self._forget(gen)
                    out.append(("lost", chunk, "stopped hard after the cancel grace period"))
                elif isinstance(exc, self.ray.exceptions.RayActorError):
                    out.extend(self._replace(actor, f"Ray actor {actor.name} died ({type(exc).__name__})"))
                else:
                    self._forget(gen)
                    out.append(("failed", chunk, f"the chunk failed on Ray: {type(exc).__name__}: {exc}"))
        return out

    def _forget(self, gen: Any) -> None:
        actor, chunk = self.gens.pop(gen)
        actor.chunks.pop(chunk, None)

    def _replace(self, actor: _Actor, message: str) -> list[Outcome]:
        """A dead actor's every chunk is lost; it leaves the pool and a new actor starts."""
        lost: list[Outcome] = [("lost", chunk, message) for chunk in actor.chunks]
        for gen in list(actor.chunks.values()):
            self.gens.pop(gen, None)
        actor.chunks.clear()
        if actor in self.actors:
            self.actors.remove(actor)
        with _lock:
            if actor in _actors:
                _actors.remove(actor)
            if not self.cancelled:
                fresh = _Actor(self.cls.remote(), self.ray)
                _actors.append(fresh)
                self.actors.append(fresh)
        logger.warning("sweep %s: %s; starting a new actor", self.sweep.sweep_id, message)
        return lost

    def cancel(self) -> None:
        self.cancelled = True
        for actor in self.actors:
            actor.handle.cancel_runs.remote(self.sweep.sweep_id)

    def kill(self) -> None:
        self.cancelled = True
        for gen in list(self.gens):
            self.ray.cancel(gen)

    def close(self) -> None:
        if not self.ray.is_initialized():  # Ray was shut down under us: nothing to tidy
            return
        for actor in self.actors:
            with contextlib.suppress(self.ray.exceptions.RayError):
                actor.handle.forget.remote(self.sweep.sweep_id)

    def actor_pids(self) -> dict[str, str]:
        """Actor name (node:host:pid) -> the chunk count in flight (for tests and the view)."""
        return {a.name or "?": str(len(a.chunks)) for a in self.actors}


class RayBackend(RemoteDriver):
    def __init__(self, sweep: Sweep) -> None:
        super().__init__(sweep, _RayPool(sweep))

    def local_run(self, run_id: str) -> None:
        return None
