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

_TOOLS = "needs tools=[add]: nbswarm agents do not call tools (the argument is accepted and ignored)"
_HISTORY = (
    "expects output_type's conversation history (a list of dicts); nbswarm's run() returns the final text"
)
_WORDING = "matches swarms' error wording; nbswarm raises InvalidArgument (a ValueError) with its own message"
SKIPPED = {
    "test_ported_streaming_timing.py::test_multi_loop_agent_with_tool": _TOOLS,
    "test_ported_streaming_timing.py::test_autonomous_loop_agent": _TOOLS,
    "test_ported_streaming_timing.py::test_multi_loop_agent_in_sequential_workflow": _TOOLS,
    "test_ported_agent_rearrange.py::test_initialization": (
        "reads .verbose back: accepted and ignored, nbswarm keeps no such attribute"
    ),
    "test_ported_agent_rearrange.py::test_validate_flow_valid": (
        "calls validate_flow(): nbswarm validates a flow once, at construction (FlowError)"
    ),
    "test_ported_agent_rearrange.py::test_validate_flow_pure_concurrent": (
        "calls validate_flow(): nbswarm validates a flow once, at construction (FlowError)"
    ),
    "test_ported_agent_rearrange.py::test_validate_flow_fanout_then_aggregate": (
        "calls validate_flow(): nbswarm validates a flow once, at construction (FlowError)"
    ),
    "test_ported_agent_rearrange.py::test_callable_execution": (
        "calls the workflow as a function (__call__): not in nbswarm; run() is"
    ),
    "test_ported_sequential_workflow.py::test_sequential_workflow_async_execution": (
        "run_async() (run() in a thread): not in nbswarm; await arun() is"
    ),
    "test_ported_sequential_workflow.py::test_sequential_workflow_error_handling": _WORDING,
    "test_ported_sequential_workflow.py::test_sequential_workflow_team_awareness": (
        "reads .team_awareness back: accepted and ignored, nbswarm keeps no such attribute"
    ),
    "test_ported_concurrent_workflow.py::test_concurrent_workflow_basic_execution": _HISTORY,
    "test_ported_concurrent_workflow.py::test_concurrent_workflow_with_dashboard": _HISTORY,
    "test_ported_concurrent_workflow.py::test_concurrent_workflow_max_loops_configuration": _HISTORY,
    "test_ported_concurrent_workflow.py::test_concurrent_workflow_error_handling": _WORDING,
}
"""swarms' ported tests that need what nbswarm does not have: file::test -> the reason."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "asyncio: swarms' marker for async tests (run by this conftest)")


PORTED = (
    "test_ported_streaming_timing.py",
    "test_ported_agent_rearrange.py",
    "test_ported_sequential_workflow.py",
    "test_ported_concurrent_workflow.py",
)
"""Files ported from swarms: their constructors pass swarms-only arguments on purpose (no warning shown)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in PORTED:
            item.add_marker(pytest.mark.filterwarnings("ignore::nbswarm.swarms_compat.SwarmsCompatWarning"))
        reason = SKIPPED.get(f"{item.path.name}::{item.name}")
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


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
