"""The one async engine under Agent and every workflow.

A plan is a list of steps, each a list of agents that run at the same time
(``"A, B -> C"`` is ``[[A, B], [C]]``; a single agent is ``[[A]]``), repeated
``max_loops`` times. Agents of one step are concurrent asyncio tasks, so
their chunks interleave in the run's stream; a step starts when the step
before has ended. Every agent sees the task and what was said before its
step, attributed by name; agents of one step do not see each other.

Failure policy: a failed agent emits ``error`` and an ``agent_end`` with its
partial text; agents beside it finish; later steps run with what exists and
the run ends with status ``failed``. Cancellation (a kernel interrupt) ends
every running agent as ``cancelled`` and the run as ``cancelled``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .callbacks import LOOP_SEPARATOR
from .events import AgentEnd, AgentStart, Chunk, End, Error, Metadata, Start, Usage
from .models import Completion, ModelRequest, Reasoning, Text
from .run import Run, Sink

if TYPE_CHECKING:
    from .agent import Agent

History = list[tuple[str, str]]
"""What was said so far: (speaker, text) pairs in order."""


@dataclass
class Turn:
    """What one agent turn produced."""

    agent: str
    output: str
    finish_reason: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    error: str | None = None
    """``ErrorType: message`` when the model failed."""

    @property
    def failed(self) -> bool:
        return self.finish_reason == "error"


@dataclass
class Plan:
    """What a run executes, and how its final output is made from the turns."""

    name: str
    swarm_type: str
    steps: Sequence[Sequence[Agent]]
    max_loops: int = 1
    flow: str | None = None
    description: str = ""
    on_agent_error: str = "continue"
    """``continue``: later steps run with what exists; ``stop``: no later step runs."""
    final_output: Callable[[list[list[Turn]]], str] = field(default=lambda loops: last_step_output(loops))

    @property
    def agent_names(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for step in self.steps:
            for agent in step:
                seen.setdefault(agent.agent_name, None)
        return tuple(seen)


def last_step_output(steps_run: list[list[Turn]]) -> str:
    """The last step's output; a parallel step's outputs joined and attributed by agent."""
    if not steps_run:
        return ""
    last = steps_run[-1]
    if len(last) == 1:
        return _with_failure(last[0], last[0].output)
    return "\n\n".join(_with_failure(turn, f"{turn.agent}: {turn.output}") for turn in last)


def joined_turns(steps_run: list[list[Turn]]) -> str:
    """A single agent's text: every loop's turn, joined as its token stream joins them."""
    return LOOP_SEPARATOR.join(turn.output for step in steps_run for turn in step)


def _with_failure(turn: Turn, text: str) -> str:
    """A failed turn's text keeps a visible note of the failure."""
    return text if turn.error is None else f"{text}\n[{turn.agent} failed: {turn.error}]"


def messages_for(agent: Agent, task: str, history: History) -> list[dict[str, str]]:
    """The chat an agent sees: its system prompt, the task, then the history by speaker."""
    messages = []
    if agent.system_prompt:
        messages.append({"role": "system", "content": agent.system_prompt})
    messages.append({"role": "user", "content": task})
    for speaker, text in history:
        if speaker == agent.agent_name:
            messages.append({"role": "assistant", "content": text})
        else:
            messages.append({"role": "user", "content": f"{speaker}: {text}"})
    if messages[-1]["role"] == "assistant":
        messages.append({"role": "user", "content": "Continue: refine and extend your previous answer."})
    return messages


def plan_run(plan: Plan, task: str, recorder: Sink | None = None) -> Run:
    """The (not yet started) Run of ``plan`` on ``task``, recorded by ``recorder`` if given."""

    async def body(run: Run) -> None:
        await execute(run, plan, task)

    return Run(body, sinks=() if recorder is None else (recorder,))


async def execute(run: Run, plan: Plan, task: str) -> None:
    """Emit the whole event stream of ``plan`` on ``task`` into ``run``."""
    run.emit(
        Metadata,
        job_id=run.run_id,
        name=plan.name,
        swarm_type=plan.swarm_type,
        number_of_agents=len(plan.agent_names),
        agents=plan.agent_names,
        flow=plan.flow,
        steps=tuple(tuple(agent.agent_name for agent in step) for step in plan.steps),
        description=plan.description,
    )
    run.emit(Start, status="running")
    history: History = []
    steps_run: list[list[Turn]] = []
    ledger = _Ledger()
    status = "completed"
    try:
        for loop in range(plan.max_loops):
            for step_index, step in enumerate(plan.steps):
                seen = list(history)
                turns = await asyncio.gather(
                    *(
                        agent_turn(run, agent, messages_for(agent, task, seen), step_index, loop, ledger)
                        for agent in step
                    )
                )
                steps_run.append(list(turns))
                history.extend((turn.agent, turn.output) for turn in turns)
                if any(turn.failed for turn in turns):
                    status = "failed"
                    if plan.on_agent_error == "stop":
                        break
            if status == "failed" and plan.on_agent_error == "stop":
                break
    except asyncio.CancelledError:
        _finish(run, ledger.turns, plan.final_output(steps_run), "cancelled")
        raise
    _finish(run, ledger.turns, plan.final_output(steps_run), status)


@dataclass
class _Ledger:
    """Per-run bookkeeping shared by the turns: chunk numbers per agent, every turn (even cancelled)."""

    chunk_counts: dict[str, int] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)


def _finish(run: Run, turns: list[Turn], output: str, status: str) -> None:
    input_tokens = sum(turn.input_tokens for turn in turns)
    output_tokens = sum(turn.output_tokens for turn in turns)
    run.emit(
        Usage,
        agent=None,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        cost=sum(turn.cost for turn in turns),
    )
    run.emit(End, execution_time=run.elapsed(), output=output, status=status)


async def agent_turn(
    run: Run, agent: Agent, messages: list[dict[str, str]], step: int, loop: int, ledger: _Ledger
) -> Turn:
    """Stream one turn of ``agent`` into ``run``. Never raises, except on cancellation."""
    name = agent.agent_name
    run.emit(AgentStart, agent=name, step=step, loop=loop)
    pieces: list[str] = []
    index = ledger.chunk_counts.get(name, 0)
    completion: Completion | None = None
    finish_reason = "stop"
    error: str | None = None
    model = agent.model_name
    emit = run.emit
    try:
        provider, model = agent._provider()  # inside the try: a missing provider is this agent's failure
        request = ModelRequest(
            model=model,
            messages=messages,
            max_tokens=agent.max_tokens,
            temperature=agent.temperature,
            base_url=agent.llm_base_url,
            api_key=agent.llm_api_key,
            seed=agent.seed,
        )
        async for item in provider.stream(request):
            if isinstance(item, (str, Text)):
                text = item if isinstance(item, str) else item.content
                if text:
                    pieces.append(text)
                    emit(Chunk, agent=name, content=text, index=index)
                    index += 1
            elif isinstance(item, Reasoning):
                if item.content:
                    emit(Chunk, agent=name, content=item.content, index=index, kind="reasoning")
                    index += 1
            else:
                completion = item
        if completion is not None:
            finish_reason = completion.finish_reason or "stop"
    except asyncio.CancelledError:
        finish_reason = "cancelled"
        raise
    except Exception as exc:
        finish_reason = "error"
        message = str(exc) or repr(exc)
        error = f"{type(exc).__name__}: {message}"
        emit(Error, agent=name, error_type=type(exc).__name__, message=message)
    finally:
        ledger.chunk_counts[name] = index
        output = "".join(pieces)
        emit(AgentEnd, agent=name, output=output, finish_reason=finish_reason, step=step, loop=loop)
        turn = Turn(agent=name, output=output, finish_reason=finish_reason, error=error)
        if completion is not None:
            turn.input_tokens = completion.input_tokens
            turn.output_tokens = completion.output_tokens
            turn.cost = completion.cost
        else:
            turn.output_tokens = len(pieces)
        ledger.turns.append(turn)
        emit(
            Usage,
            agent=name,
            input_tokens=turn.input_tokens,
            output_tokens=turn.output_tokens,
            total_tokens=turn.input_tokens + turn.output_tokens,
            cost=turn.cost,
            model=model,
        )
    return turn
