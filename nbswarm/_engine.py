"""The one async engine under Agent and every workflow.

A plan is a list of steps, each a list of agents that run at the same time
(``"A, B -> C"`` is ``[[A, B], [C]]``; a single agent is ``[[A]]``), repeated
``max_loops`` times. Agents of one step are concurrent asyncio tasks, so
their chunks interleave in the run's stream; a step starts when the step
before has ended. Every agent sees the task and what was said before its
step, attributed by name; agents of one step do not see each other.

An agent's own ``max_loops`` repeats its turn within its step (as in
swarms), each turn seeing its previous ones; its contribution to the step is
its turns joined by ``LOOP_SEPARATOR``. Every later turn of an agent at a step
starts with ``LOOP_SEPARATOR`` as a chunk of its own, so ``"".join`` of an
agent's chunk contents equals its joined output for every consumer.

Failure policy: a failed agent emits ``error`` and an ``agent_end`` with its
partial text; agents beside it finish; later steps run with what exists and
the run ends with status ``failed``. Cancellation is structured: the agents of
a step are one task group; a cancelled run cancels them all, and an agent that
ends by cancellation on its own cancels the run. Every task has ended before
``end`` is emitted, so no event follows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._turn import _backoff, _cancelled_from_outside, _estimate, _Guard, _request, _retryable, prepare
from .events import LOOP_SEPARATOR, AgentEnd, AgentStart, Chunk, End, Error, Metadata, Start, Usage
from .models import Completion, Reasoning, Text
from .models.errors import ModelError, ModelTimeout, explain
from .models.speaker import SPEAKER, Speaker
from .run import Run, Sink

if TYPE_CHECKING:
    from .agent import Agent

SETTLE_TIMEOUT = 5.0
"""Seconds a cancelled step waits for its agents to wind down (a provider that ignores cancellation)."""

logger = logging.getLogger("nbswarm")

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
    estimated: bool = False
    """No usage came from the provider: the tokens were counted here (failed or cancelled turns)."""

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
    """A single agent's text from its separate turns: joined by ``LOOP_SEPARATOR`` as ``agent_turns``
    joins them (the SSE client rebuilds a remote agent's text with it)."""
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


def plan_run(plan: Plan, task: str, recorder: Sink | None = None, run_id: str | None = None) -> Run:
    """The (not yet started) Run of ``plan`` on ``task``, recorded by ``recorder`` if given."""

    async def body(run: Run) -> None:
        await execute(run, plan, task)

    return Run(body, run_id=run_id, sinks=() if recorder is None else (recorder,))


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
                turns = await _task_group(
                    [agent_turns(run, agent, task, seen, step_index, loop, ledger) for agent in step]
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


async def _task_group(coros: Sequence[Coroutine[Any, Any, Turn]]) -> list[Turn]:
    """Run a step's agents as one group: all finish, or all are cancelled before this returns.

    ``asyncio.TaskGroup`` ignores a child that ends cancelled by itself; here that cancels the group.
    """
    tasks = [asyncio.ensure_future(coro) for coro in coros]
    try:
        pending: set[asyncio.Future[Turn]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(task.cancelled() for task in done):
                raise asyncio.CancelledError
    except asyncio.CancelledError:
        await _cancel_all(tasks)
        raise
    return [task.result() for task in tasks]


async def _cancel_all(tasks: Sequence[asyncio.Future[Turn]]) -> None:
    for task in tasks:
        task.cancel()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    while not all(task.done() for task in tasks) and loop.time() < deadline:
        try:
            await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:  # cancelled again while winding down: keep winding down
            continue


async def agent_turns(
    run: Run, agent: Agent, task: str, seen: History, step: int, loop: int, ledger: _Ledger
) -> Turn:
    """``agent``'s part of a step: its own ``max_loops`` turns, each seeing the ones before."""
    loops = agent.max_loops
    own: History = []
    turns: list[Turn] = []
    for repeat in range(loops):
        messages = messages_for(agent, task, seen + own)
        turn = await agent_turn(run, agent, messages, step, loop * loops + repeat, ledger)
        turns.append(turn)
        own.append((turn.agent, turn.output))
        if turn.failed:
            break
    if len(turns) == 1:
        return turns[0]
    last = turns[-1]
    return Turn(
        agent=last.agent,
        output=LOOP_SEPARATOR.join(turn.output for turn in turns),
        finish_reason=last.finish_reason,
        input_tokens=sum(turn.input_tokens for turn in turns),
        output_tokens=sum(turn.output_tokens for turn in turns),
        cost=sum(turn.cost for turn in turns),
        error=last.error,
        estimated=any(turn.estimated for turn in turns),
    )


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
        estimated=any(turn.estimated for turn in turns),
    )
    run.emit(End, execution_time=run.elapsed(), output=output, status=status)


async def agent_turn(
    run: Run, agent: Agent, messages: list[dict[str, str]], step: int, loop: int, ledger: _Ledger
) -> Turn:
    """Stream one turn of ``agent`` into ``run``. Never raises, except on cancellation."""
    name = agent.agent_name
    model = agent.model_name
    emit = run.emit
    provider: Any = None
    failure: BaseException | None = None
    try:  # a missing provider is this agent's failure, reported inside its turn
        provider, model = agent._provider()
        await prepare(provider, model)  # imports and price lookups: off the loop, before the turn's clock
    except Exception as exc:
        failure = exc
    run.emit(AgentStart, agent=name, step=step, loop=loop)
    pieces: list[str] = []
    index = ledger.chunk_counts.get(name, 0)
    if loop:  # a later turn of this agent at this step: the separator is part of the stream
        run.emit(Chunk, agent=name, content=LOOP_SEPARATOR, index=index)
        index += 1
    first_index = index  # what the model streams starts here
    completion: Completion | None = None
    stream: Any = None
    finish_reason = "stop"
    error: str | None = None
    billed = True
    guard = _Guard(agent.idle_timeout, agent.timeout)
    try:
        if failure is not None:
            raise failure
        request = _request(agent, model, messages)
        SPEAKER.set(Speaker(name, agent.description))  # for the sim's voice; this task is the turn's own
        retries = 0
        while True:
            stream = provider.stream(request)
            try:
                async for item in stream:
                    guard.last = guard.time()
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
                break
            except Exception as exc:
                explained = explain(exc, model, agent.llm_base_url)
                if index > first_index or retries >= agent.num_retries or not _retryable(explained):
                    if explained is exc:
                        raise
                    raise explained from exc
                retries += 1
                await asyncio.sleep(_backoff(retries))
                guard.last = guard.time()
            finally:  # close the provider's (HTTP) stream now, not when it is collected
                await _aclose(stream)
        if completion is not None:
            finish_reason = completion.finish_reason or "stop"
    except asyncio.CancelledError:
        if guard.fired is None or _cancelled_from_outside():  # a real cancel, not the turn's own deadline
            finish_reason = "cancelled"
            raise
        timeout = ModelTimeout(guard.message(model))
        finish_reason, error = "error", f"{type(timeout).__name__}: {timeout}"
        emit(Error, agent=name, error_type=type(timeout).__name__, message=str(timeout))
    except Exception as exc:
        finish_reason = "error"
        message = str(exc) or repr(exc)
        error = f"{type(exc).__name__}: {message}"
        # A request the provider refused before streaming (no key, 404, 429...) is not billed.
        billed = index > first_index or not isinstance(exc, ModelError) or isinstance(exc, ModelTimeout)
        emit(Error, agent=name, error_type=type(exc).__name__, message=message)
    finally:
        guard.stop()
        ledger.chunk_counts[name] = index
        output = "".join(pieces)
        emit(AgentEnd, agent=name, output=output, finish_reason=finish_reason, step=step, loop=loop)
        turn = Turn(agent=name, output=output, finish_reason=finish_reason, error=error)
        if completion is not None:
            turn.input_tokens = completion.input_tokens
            turn.output_tokens = completion.output_tokens
            turn.cost = completion.cost
            turn.estimated = completion.estimated
        elif billed and failure is None:
            # No usage came: what the provider bills for a failed or cancelled turn, estimated here.
            turn.input_tokens, turn.output_tokens, turn.cost = _estimate(model, messages, index - first_index)
            turn.estimated = True
        ledger.turns.append(turn)
        emit(
            Usage,
            agent=name,
            input_tokens=turn.input_tokens,
            output_tokens=turn.output_tokens,
            total_tokens=turn.input_tokens + turn.output_tokens,
            cost=turn.cost,
            model=model,
            estimated=turn.estimated,
        )
    return turn


async def _aclose(stream: Any) -> None:
    """``aclose()`` a provider's stream if it has one (an async generator does)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception as exc:  # closing is best effort: the turn is already over
            logger.debug("closing a cancelled provider stream failed: %r", exc)
