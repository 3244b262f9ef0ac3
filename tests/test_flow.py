"""The flow grammar: every malformed flow fails at construction, pointing at the column."""

from __future__ import annotations

import pytest

from nbswarm import Agent, AgentRearrange, FlowError
from nbswarm.flow import format_flow, parse_flow

NAMES = ["A", "B", "C"]


@pytest.mark.parametrize(
    ("flow", "steps"),
    [
        ("A, B -> C", (("A", "B"), ("C",))),
        ("A,B->C", (("A", "B"), ("C",))),
        ("  A  ->B->  A ", (("A",), ("B",), ("A",))),
        ("C", (("C",),)),
    ],
)
def test_valid_flows(flow: str, steps) -> None:
    assert parse_flow(flow, NAMES) == steps
    assert parse_flow(format_flow(steps), NAMES) == steps


@pytest.mark.parametrize(
    ("flow", "message", "column"),
    [
        ("", "the flow is empty", 0),
        ("   ", "the flow is empty", 0),
        ("A -> -> B", "empty step", 5),
        ("-> A", "empty step", 0),
        ("A ->", "last step is empty", 4),
        ("A,, B", "empty agent name", 2),
        ("A, B,", "empty agent name", 5),
        ("A -> Z", "unknown agent 'Z'", 5),
        ("A -> b", "did you mean 'B'", 5),
        ("A, B, A -> C", "appears twice in one step", 6),
    ],
)
def test_invalid_flows_point_at_the_problem(flow: str, message: str, column: int) -> None:
    with pytest.raises(FlowError) as info:
        parse_flow(flow, NAMES)
    assert message in str(info.value)
    assert info.value.position == column
    caret_line = str(info.value).splitlines()[-1]
    assert caret_line.index("^") - 2 == column  # the caret sits under the column
    assert isinstance(info.value, ValueError)


def test_rearrange_validates_at_construction_before_any_model_call(scripted) -> None:
    provider = scripted()
    agents = [Agent(agent_name=n, provider=provider, print_on=False) for n in NAMES]
    with pytest.raises(FlowError, match="unknown agent 'Z'"):
        AgentRearrange(agents=agents, flow="A -> Z")
    with pytest.raises(FlowError, match="empty step"):
        AgentRearrange(agents=agents, flow="A -> -> B")
    assert provider.requests == []  # nothing was called, nothing billed


def test_two_agents_with_one_name_is_a_flow_error(scripted) -> None:
    agents = [Agent(agent_name="A", print_on=False), Agent(agent_name="A", print_on=False)]
    with pytest.raises(FlowError, match="two agents are named 'A'") as info:
        AgentRearrange(agents=agents, flow="X -> A")
    assert info.value.position == 5
