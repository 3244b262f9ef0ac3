"""The public face: explicit, sorted, and importable without the heavy optional parts."""

from __future__ import annotations

import subprocess
import sys

import nbswarm


def test_all_is_sorted_and_every_name_exists() -> None:
    names = [name for name in nbswarm.__all__ if not name.startswith("_")]
    assert names == sorted(names)
    for name in names:
        assert getattr(nbswarm, name) is not None


def test_every_public_name_is_exported() -> None:
    ours = {
        name
        for name, value in vars(nbswarm).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("nbswarm")
    }
    assert ours <= set(nbswarm.__all__)


def test_lazy_names_resolve_to_their_objects() -> None:
    from nbswarm._replay import replay
    from nbswarm.recorder import Recorder

    assert nbswarm.Recorder is Recorder
    assert nbswarm.replay is replay and callable(nbswarm.replay)


def test_import_is_light_and_offline() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import nbswarm; "
        "print(time.perf_counter() - t); "
        "print(sorted(m for m in ('litellm', 'starlette', 'uvicorn', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    _seconds, heavy = out.splitlines()  # the time is reported by bench/overhead.py, not asserted here
    assert heavy == "[]"  # litellm and the server stack are imported only when used
