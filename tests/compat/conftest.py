"""swarms compatibility tests: every model name streams offline from the sim, and ``async def`` tests run.

swarms' own tests (ported here with only their import changed) name real models such as
``gpt-5.4-mini`` and are plain ``async def`` functions; the sim stands in for the models and
``pytest_pyfunc_call`` runs coroutine tests on a fresh event loop, so neither needs editing.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest

import nbswarm
from nbswarm import swarms_compat


@pytest.fixture(autouse=True)
def offline_models() -> Iterator[None]:
    with nbswarm.simulate():
        yield


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    """Each test sees the first warning for each ignored argument name (they are once per process)."""
    swarms_compat._warned.clear()
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), timeout=120))
    return True
