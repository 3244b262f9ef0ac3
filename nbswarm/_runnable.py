"""What Agent and the workflows share: ``run``/``arun``/``stream`` and the one display policy.

A subclass says what it runs (``_plan``), which sinks its callbacks become
(``_callback_sinks``) and when a failure raises (``_checked``); everything
else -- validation of the task, the recorder, the display -- is here, once.

Display policy (``print_on``, ``streaming_on``, ``show_dashboard``): with
``show_dashboard`` every agent is shown live side by side. Otherwise the
agents that print (``print_on`` and no callback of their own) are shown: in a
notebook as the live view if any agent streams, else printed; in a terminal
token by token if they stream and no step is parallel (a terminal cannot
interleave parallel agents readably), else each turn at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import _validate as check
from ._engine import Plan, plan_run
from .display import attach_dashboard, attach_output
from .run import Run, Sink

if TYPE_CHECKING:
    from .agent import Agent

__all__ = ["Runnable"]


class Runnable:
    """Base of Agent and the workflows: one way to run, stream, record and display."""

    show_dashboard: bool = False
    _raises_model_errors: bool = False
    """Whether ``run()``/``arun()`` raise every model error (then the terminal does not print it too)."""

    @property
    def _label(self) -> str:
        raise NotImplementedError

    def _plan(self) -> Plan:
        raise NotImplementedError

    def _callback_sinks(self, callback: Callable[..., Any] | None) -> list[Sink]:
        raise NotImplementedError

    def _checked(self, run: Run, text: str) -> str:
        return text

    def _shown_agents(self, callback: Callable[..., Any] | None) -> Sequence[Agent]:
        """The agents whose text is printed or shown (a callback replaces printing)."""
        raise NotImplementedError

    def run(
        self, task: str, streaming_callback: Callable[..., Any] | None = None, *, recorder: Sink | None = None
    ) -> str:
        """Run the task and return the final output (works inside a running notebook loop)."""
        run = self._stream(task, streaming_callback, recorder, raising=self._raises_model_errors)
        return self._checked(run, run.result())

    async def arun(
        self, task: str, streaming_callback: Callable[..., Any] | None = None, *, recorder: Sink | None = None
    ) -> str:
        """``run`` for ``await``: events are delivered on the caller's loop."""
        run = self._stream(task, streaming_callback, recorder, raising=self._raises_model_errors)
        return self._checked(run, await run)

    def stream(
        self,
        task: str,
        streaming_callback: Callable[..., Any] | None = None,
        *,
        recorder: Sink | None = None,
        run_id: str | None = None,
    ) -> Run:
        """The Run of this task, not yet started: iterate it, await it, ``start()`` it, or ``result()``.

        Use it as ``with ... as run:`` (or ``async with``) to stop it when you leave early.
        ``run_id`` names the run (a sweep's attempt ids); by default it is a fresh random id.
        """
        return self._stream(task, streaming_callback, recorder, raising=False, run_id=run_id)

    def _stream(
        self,
        task: str,
        streaming_callback: Callable[..., Any] | None,
        recorder: Sink | None,
        *,
        raising: bool,
        run_id: str | None = None,
    ) -> Run:
        where = f"{self._label}.run"
        check.text("task", task, where, allow_empty=False)
        if run_id is not None:
            check.text("run_id", run_id, where, allow_empty=False)
        callback = check.callback("streaming_callback", streaming_callback, where)
        if recorder is not None and not callable(recorder):
            raise TypeError(
                f"{where}: recorder must be a Recorder (or any sink), got {type(recorder).__name__}"
            )
        plan = self._plan()
        run = plan_run(plan, task, recorder, run_id)
        for sink in self._callback_sinks(callback):
            run.add_sink(sink)
        self._attach_display(run, plan, callback, errors=not raising)
        return run

    def _attach_display(
        self, run: Run, plan: Plan, callback: Callable[..., Any] | None, *, errors: bool = True
    ) -> None:
        if self.show_dashboard:
            attach_dashboard(run)
            return
        shown = {agent.agent_name: agent.max_loops for agent in self._shown_agents(callback)}
        if not shown:
            return
        parallel = any(len(step) > 1 for step in plan.steps)
        agents = [agent for step in plan.steps for agent in step]
        streaming = any(agent.streaming_on or agent.stream_detailed for agent in agents)
        attach_output(run, shown, live=streaming and not parallel, streaming=streaming, errors=errors)
