"""The Ray backend on a real two-node Ray cluster on this machine (each node one CPU, its own raylet
and object store), kept on 127.0.0.1 and stopped by PID, shared by every test here (it takes ~10-20 s
to start). Skipped when Ray is not installed (CI installs it: ``nbswarm[ray]`` is in ``.[test]``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sweep_util import assert_lossless, make, signature

from nbswarm import grid, sweep

RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # every node and the driver bind 127.0.0.1
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",  # the same for every start and the driver (a token file may exist)
}
os.environ.update(RAY_ENV)  # before Ray is imported: it reads them into constants at import

ray = pytest.importorskip("ray")
STORE = 128 * 1024 * 1024


def _processes_under(folder: str) -> list[int]:
    """PIDs of processes whose command line names ``folder`` (the cluster's own)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as f:
                if folder.encode() in f.read():
                    pids.append(int(entry))
    return pids


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    folder = tempfile.mkdtemp(prefix="nr", dir="/tmp")  # short: unix socket paths under ~107 chars
    saved = {"RAY_TMPDIR": os.environ.get("RAY_TMPDIR")}
    os.makedirs(os.path.join(folder, "ray"))
    os.environ.update(RAY_ENV, RAY_TMPDIR=folder)
    started = None
    try:
        started = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "object_store_memory": STORE, "temp_dir": folder},
        )
        started.add_node(num_cpus=1, object_store_memory=STORE)
        started.wait_for_nodes()
        ray.init(address=started.address, log_to_driver=False)
        yield started
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        if started is not None:
            with contextlib.suppress(Exception):
                started.shutdown()
        for pid in _processes_under(folder):  # anything the cluster left, by PID, never `ray stop`
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_the_cluster_has_two_nodes_and_listens_on_loopback_only(cluster) -> None:
    nodes = [n for n in ray.nodes() if n["Alive"]]
    assert len(nodes) == 2 and {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}
    if shutil.which("ss") is None:
        pytest.skip("no `ss` here to list listening sockets")
    listening = subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True).stdout.splitlines()
    pids = [os.getpid(), *_processes_under(os.environ["RAY_TMPDIR"])]  # the driver and the cluster
    ours = [line.split()[3] for line in listening if any(f"pid={p}," in line for p in pids)]
    assert len(ours) >= 4
    assert all(local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:", "[::1]:")) for local in ours), ours


def test_a_ray_sweep_lands_on_both_nodes_and_equals_the_local_one(cluster) -> None:
    variants = grid(
        shape=["agent", "sequential", "concurrent", "rearrange"], model=["sim/gpt-4o-mini", "sim/gpt-4o"]
    )
    local = sweep(variants, make, "Why SSE?", concurrency=8).wait(60)
    remote = sweep(variants, make, "Why SSE?", backend="ray", concurrency=8).wait(120)
    assert_lossless(remote)
    a, b = local.table, remote.table
    assert set(b["status"]) == {"completed"}
    assert len({w.split(":")[0] for w in b["worker"]}) == 2  # both nodes ran runs
    for (_, x), (_, y) in zip(a.iterrows(), b.iterrows(), strict=True):
        assert signature(local.recorder.events(x["run_id"])) == signature(remote.recorder.events(y["run_id"]))


def test_two_hundred_runs_with_an_actor_killed_mid_sweep_lose_nothing(cluster) -> None:
    variants = grid(shape=["agent", "concurrent"], n=list(range(100)), delay=[0.1])
    sw = sweep(variants, make, "Why SSE?", backend="ray", concurrency=40, retries=1)
    rows = sw.tracker.rows
    wait_for(lambda: sum(r.events > 3 and not r.closed for r in rows.values()) >= 10)
    busy = next(r.worker for r in rows.values() if r.events > 3 and not r.closed and r.worker)
    pid = int(busy.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    sw.wait(300)
    table = sw.table
    failed = table[table["status"] == "failed"]
    assert len(failed) >= 1 and failed["error"].str.contains("WorkerLost").all()
    retried = table[table["attempt"] == 2]
    assert set(failed["item"]) <= set(retried["item"])
    assert sorted(table.loc[table["status"] == "completed", "item"]) == list(range(200))
    assert not retried["worker"].str.endswith(f":{pid}").any()
    by_run = assert_lossless(sw)  # 0 gaps, 0 duplicates, every stream complete, by run and seq
    assert sum(len(v) for v in by_run.values()) == len(sw.recorder)


def test_cancel_and_budget_on_ray(cluster) -> None:
    variants = grid(n=list(range(40)), delay=[0.3])
    sw = sweep(variants, make, "Why SSE?", backend="ray", concurrency=8)
    wait_for(lambda: sw.tracker.events > 30)
    sw.cancel()
    sw.wait(60)
    table = sw.table
    assert (table["status"] == "cancelled").sum() >= 1 and (table["status"] == "skipped").sum() >= 1
    assert "failed" not in set(table["status"])
    assert_lossless(sw)
    variants = grid(n=list(range(40)), model=["sim/gpt-4o"], max_tokens=[200], delay=[0.02])
    sw = sweep(variants, make, "Why SSE?", backend="ray", concurrency=4, max_cost=0.01).wait(120)
    table = sw.table
    assert (table["status"] == "skipped").sum() >= 10 and sw.progress()["budget_hit"]
    assert_lossless(sw)
