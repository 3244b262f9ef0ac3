"""swarms constructor arguments: accepted and ignored with one warning per name, aliases, typos refused.

The lists in ``nbswarm.swarms_compat`` are checked against swarms' constructor signatures as
recorded for the version they name (``data/swarms_16.0.3_signatures.json``: no network here).
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path

import pytest

from nbswarm import Agent, AgentRearrange, ConcurrentWorkflow, SequentialWorkflow
from nbswarm.errors import InvalidArgument
from nbswarm.swarms_compat import ALIASES, IGNORED, SWARMS_VERSION, SwarmsCompatWarning

RECORDED = json.loads((Path(__file__).parent / "data" / "swarms_16.0.3_signatures.json").read_text())
CLASSES = {cls.__name__: cls for cls in (Agent, SequentialWorkflow, ConcurrentWorkflow, AgentRearrange)}


def own_parameters(cls: type) -> set[str]:
    return {
        name
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def agents() -> list[Agent]:
    return [Agent(agent_name="A"), Agent(agent_name="B")]


# -- the lists, against swarms' recorded signatures -------------------------------------------


def test_the_lists_name_the_recorded_version():
    assert RECORDED["swarms_version"] == SWARMS_VERSION
    assert set(RECORDED["classes"]) == set(CLASSES) == set(IGNORED)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_swarms_argument_is_implemented_aliased_or_ignored_and_nothing_else_is_listed(name):
    swarms = set(RECORDED["classes"][name]["parameters"])
    ours = own_parameters(CLASSES[name])
    aliases = set(ALIASES.get(name, {}))
    ignored = IGNORED[name]
    assert swarms <= ours | aliases | ignored, f"not accepted: {sorted(swarms - ours - aliases - ignored)}"
    assert ignored <= swarms, f"ignored but not a swarms argument: {sorted(ignored - swarms)}"
    assert not ignored & ours, f"implemented yet listed as ignored: {sorted(ignored & ours)}"
    assert aliases <= swarms and not aliases & ours and not aliases & ignored
    assert {ALIASES.get(name, {}).get(alias) for alias in aliases} <= ours


def test_the_run_stream_signatures_match_swarms():
    for name, recorded in RECORDED["streaming"].items():
        if recorded is None:
            continue  # swarms has no ConcurrentWorkflow.run_stream; ours is AgentRearrange's
        for method in ("run_stream", "arun_stream"):
            params = list(inspect.signature(getattr(CLASSES[name], method)).parameters)[1:]
            assert params == recorded[method], (name, method)


# -- behaviour -------------------------------------------------------------------------------


def test_agent_description_is_description():
    agent = Agent(agent_name="A", agent_description="Streams tokens")
    assert agent.description == "Streams tokens"
    assert Agent(agent_name="A", description="x", agent_description="x").description == "x"
    with pytest.raises(InvalidArgument, match=r"agent_description.*disagrees with description"):
        Agent(agent_name="A", description="one", agent_description="other")


def test_ignored_arguments_warn_once_per_name_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            Agent(agent_name="A", persistent_memory=False, autosave=True, tools=[print])
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        f"Agent({name}=...) has no effect in nbswarm: accepted for swarms compatibility, ignored"
        for name in ("autosave", "persistent_memory", "tools")
    ]
    assert {w.category for w in caught} == {SwarmsCompatWarning}
    assert {Path(w.filename).name for w in caught} == {Path(__file__).name}


@pytest.mark.parametrize(
    ("cls", "extra"),
    [
        (SequentialWorkflow, {"autosave": False, "output_type": "dict", "team_awareness": True}),
        (ConcurrentWorkflow, {"max_workers": 4, "auto_save": False, "output_type": "dict"}),
        (AgentRearrange, {"flow": "A -> B", "team_awareness": True, "time_enabled": True}),
    ],
)
def test_workflows_accept_and_ignore_swarms_arguments(cls, extra):
    with pytest.warns(SwarmsCompatWarning) as caught:
        workflow = cls(agents=agents(), id="w1", verbose=True, **extra)
    warned = {str(w.message).split("(")[1].split("=")[0] for w in caught}
    assert warned == {"id", "verbose", *extra} - {"flow"}
    assert all(Path(w.filename).name == Path(__file__).name for w in caught)
    assert workflow.run("a task")  # still runs


def test_concurrent_on_error_is_on_agent_error():
    assert ConcurrentWorkflow(agents=agents(), on_error="raise").on_agent_error == "raise"
    assert ConcurrentWorkflow(agents=agents(), on_error="store").on_agent_error == "continue"
    with pytest.raises(InvalidArgument, match="on_error must be one of"):
        ConcurrentWorkflow(agents=agents(), on_error="explode")


@pytest.mark.parametrize(
    ("make", "typo", "suggestion"),
    [
        (lambda **kw: Agent(**kw), "modle_name", "model_name"),
        (lambda **kw: Agent(**kw), "agent_descripton", "agent_description"),
        (lambda **kw: Agent(**kw), "persistant_memory", "persistent_memory"),
        (lambda **kw: AgentRearrange(agents(), **kw), "flw", "flow"),
        (lambda **kw: SequentialWorkflow(agents(), **kw), "max_loop", "max_loops"),
        (lambda **kw: ConcurrentWorkflow(agents(), **kw), "show_dashbord", "show_dashboard"),
    ],
)
def test_a_name_swarms_would_not_accept_is_a_type_error_with_a_suggestion(make, typo, suggestion):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{typo}'; did you mean '{suggestion}'"):
        make(**{typo: 1})


def test_a_name_like_nothing_is_a_plain_type_error():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'zzz'$"):
        Agent(zzz=1)


def test_a_swarms_example_constructor_works_unchanged():
    # swarms' own examples/changelogs/v12_update/06_arun_stream.py builds its agent this way
    with pytest.warns(SwarmsCompatWarning, match="persistent_memory"):
        agent = Agent(
            agent_name="StreamingAgent",
            agent_description="Streams tokens asynchronously to the caller",
            model_name="gpt-5.4-mini",
            max_loops=1,
            streaming_on=True,
            persistent_memory=False,
        )
    assert agent.description == "Streams tokens asynchronously to the caller"
