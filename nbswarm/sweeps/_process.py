"""The process backend: spawned worker processes on this machine, one pipe each.

Each worker process runs chunks of attempts on its own event loop (two chunks in flight, so a slow
chunk never leaves it idle) and sends coalesced, pickled batches up its own pipe; the driver waits
on every pipe and every process at once (``multiprocessing.connection.wait``). ``make`` travels with
cloudpickle, so a function defined in a notebook works. Workers outlive a sweep and serve the
next one in the same kernel (a cold worker costs ~1 s: process start and importing nbswarm).

One pipe per worker, not one shared queue (or ``concurrent.futures``' pool): a worker killed in the
middle of writing a batch can then only cut its own pipe short -- the driver reads EOF there, and
the other workers' runs go on -- whereas a shared queue is left holding half a message that blocks
every reader, and a broken stdlib pool takes every worker's runs down with it. The dead worker's
runs are closed or resent (see ``_remote``) and a new worker replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import pickle
import queue
import signal
import threading
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

import cloudpickle

from .. import _engine_loop
from ._remote import Outcome, RemoteDriver
from ._spec import RunSpec
from ._worker import Batcher, WorkerRuns, run_specs

if TYPE_CHECKING:
    from ._api import Sweep

__all__ = ["ProcessBackend"]

OUTBOX = 64
"""Batches a worker holds for the driver at most before its runs wait (back-pressure)."""


def _worker_main(conn: Connection) -> None:
    """A worker process: take chunks from the pipe, run them on one loop, send batches back.

    The loop is nbswarm's engine loop, so each run's body and its sinks (the batcher) share it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a kernel interrupt is the driver's to handle
    _engine_loop.submit(_serve(conn)).result()


async def _serve(conn: Connection) -> None:
    """Serve sweeps, one after another, each with its own ``make`` and cancel state."""
    loop = asyncio.get_running_loop()
    makes: dict[str, Any] = {}
    states: dict[str, WorkerRuns] = {}
    stopped = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()

    # A thread writes to the pipe, so the loop keeps running runs while a batch waits for the driver
    # to read it (a pipe holds 64 kB); the bounded queue is the back-pressure.
    outbox: queue.Queue[tuple[Any, ...] | None] = queue.Queue(maxsize=OUTBOX)

    def write() -> None:
        while (message := outbox.get()) is not None:
            try:
                conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # the driver went away
                return

    writer = threading.Thread(target=write, name="nbswarm-sweep-writer", daemon=True)
    writer.start()
    send = outbox.put

    async def chunk(sweep_id: str, number: int, specs: list[RunSpec], cache: Any) -> None:
        batcher = Batcher(lambda batch: send(("batch", number, batch)))
        state = states.setdefault(sweep_id, WorkerRuns())
        await run_specs(makes.get(sweep_id), specs, batcher, state, concurrency=len(specs), cache=cache)
        send(("done", number, None))

    def readable() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the driver went away
            stopped.set()
            return
        kind = message[0]
        if kind == "make":
            makes[message[1]] = cloudpickle.loads(message[2])
        elif kind == "chunk":
            task = loop.create_task(chunk(*message[1:]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elif kind == "cancel":
            states.setdefault(message[1], WorkerRuns()).cancel()
        elif kind == "forget":
            makes.pop(message[1], None)
            states.pop(message[1], None)
        elif kind == "stop":
            stopped.set()

    loop.add_reader(conn.fileno(), readable)
    await stopped.wait()
    for task in tasks:
        task.cancel()
    outbox.put(None)
    writer.join(5)


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="nbswarm-sweep")
        self.process.start()
        child.close()  # only the worker holds that end now: its death reads as EOF here
        self.chunks: set[int] = set()


_lock = threading.Lock()
_idle: list[_Worker] = []
"""Worker processes kept alive between sweeps (starting one and importing nbswarm costs ~1 s)."""


def _lease(ctx: Any, count: int) -> list[_Worker]:
    with _lock:
        alive = [w for w in _idle if w.process.is_alive()]
        taken, _idle[:] = alive[:count], alive[count:]
    return taken + [_Worker(ctx) for _ in range(count - len(taken))]


class _ProcessPool:
    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self.count = sweep.workers or os.cpu_count() or 1
        self.size = max(1, -(-sweep.concurrency // self.count) // 2)
        self.ctx = mp.get_context("spawn")
        self.make_blob = cloudpickle.dumps(sweep.make)
        self.workers = _lease(self.ctx, self.count)
        for worker in self.workers:
            self._introduce(worker)
        self.cancelled = False

    def _introduce(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.conn.send(("make", self.sweep.sweep_id, self.make_blob))

    def open_slots(self) -> int:
        return sum(2 - len(w.chunks) for w in self.workers)

    def chunk_size(self) -> int:
        return self.size

    def submit(self, chunk: int, specs: list[RunSpec]) -> None:
        worker = min(self.workers, key=lambda w: len(w.chunks))
        worker.chunks.add(chunk)
        with contextlib.suppress(OSError):  # if it just died, its sentinel reports the chunk lost
            worker.conn.send(("chunk", self.sweep.sweep_id, chunk, specs, self.sweep.cache))

    def poll(self, timeout: float) -> list[Outcome]:
        by_conn = {w.conn: w for w in self.workers}
        by_sentinel = {w.process.sentinel: w for w in self.workers}
        out: list[Outcome] = []
        for ready in wait([*by_conn, *by_sentinel], timeout):
            worker = by_conn.get(ready) or by_sentinel[ready]  # type: ignore[call-overload]
            if worker not in self.workers:
                continue
            if ready is worker.conn and self._read(worker, out):
                continue
            self._dead(worker, out)
        return out

    def _read(self, worker: _Worker, out: list[Outcome]) -> bool:
        """Everything waiting on the worker's pipe; False when it reads EOF (the worker is gone)."""
        try:
            while worker.conn.poll():
                kind, chunk, value = pickle.loads(worker.conn.recv_bytes())
                if kind == "done":
                    worker.chunks.discard(chunk)
                out.append((kind, chunk, value))
        except (EOFError, OSError):
            return False
        return True

    def _dead(self, worker: _Worker, out: list[Outcome]) -> None:
        self._read(worker, out)  # whatever it sent before it died
        worker.process.join(5)
        code = worker.process.exitcode
        message = f"worker process {worker.process.pid} died (exit code {code})"
        out.extend(("lost", chunk, message) for chunk in worker.chunks)
        worker.conn.close()
        self.workers.remove(worker)
        if not self.cancelled:
            fresh = _Worker(self.ctx)
            self._introduce(fresh)
            self.workers.append(fresh)

    def cancel(self) -> None:
        self.cancelled = True
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.conn.send(("cancel", self.sweep.sweep_id))

    def kill(self) -> None:
        self.cancelled = True
        for worker in self.workers:
            worker.process.kill()

    def close(self) -> None:
        """Every chunk has ended: the live workers go back to the idle pool for the next sweep."""
        keep = []
        for worker in self.workers:
            try:
                worker.conn.send(("forget", self.sweep.sweep_id))
                if worker.process.is_alive() and not worker.chunks:
                    keep.append(worker)
                    continue
            except OSError:
                pass
            worker.process.kill()
            worker.process.join(5)
            worker.conn.close()
        with _lock:
            _idle.extend(keep)


class ProcessBackend(RemoteDriver):
    def __init__(self, sweep: Sweep) -> None:
        super().__init__(sweep, _ProcessPool(sweep))

    def local_run(self, run_id: str) -> None:
        return None
