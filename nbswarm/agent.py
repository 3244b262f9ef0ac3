"""Agent: one model with a role, streaming exactly as the swarms seed describes.

``agent.run(task)`` returns the text; ``streaming_on=True`` sends each token
to ``streaming_callback`` as a ``str``; ``stream=True`` sends detailed dicts;
``print_on`` shows the stream (a live panel in a notebook, the terminal
otherwise). ``agent.stream(task)`` returns the ``Run`` itself, and
``await agent.arun(task)`` delivers its events on the caller's loop. ``max_loops``
repeats the agent's turn, alone or inside a workflow's step (``_runnable`` has
``run``/``arun``/``stream`` and the display policy it shares with the workflows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import _validate as check
from ._engine import Plan, Turn
from ._runnable import Runnable
from ._swarms_stream import AgentStreaming
from .callbacks import DetailedCallback, TokenCallback
from .errors import AgentError
from .models import Provider, resolve, warm
from .run import Run, Sink
from .swarms_compat import swarms_options as swarms_options_of

__all__ = ["DEFAULT_IDLE_TIMEOUT", "DEFAULT_MODEL", "DEFAULT_NUM_RETRIES", "Agent"]

DEFAULT_MODEL = "sim/gpt-4o-mini"
"""Offline by default: no key is needed to learn. Any litellm model name works too."""

DEFAULT_IDLE_TIMEOUT = 60.0
"""Seconds without a delta before a turn fails as stalled (litellm alone waits 600 s or more)."""
DEFAULT_NUM_RETRIES = 2
"""Retries of connection failures before the first token (never after: no spliced answers)."""

_NAMED_OPTIONS = (
    "model", "messages", "stream", "max_tokens", "temperature", "top_p", "stop", "seed",
    "reasoning_effort", "response_format", "timeout", "num_retries", "api_key", "api_base", "base_url",
)  # fmt: skip

logger = logging.getLogger("nbswarm")


class Agent(AgentStreaming, Runnable):
    """An LLM agent with the swarms ``Agent`` arguments that concern streaming.

    swarms' other ``Agent`` arguments are accepted and ignored with a warning
    (``nbswarm.swarms_compat``); ``agent_description`` is ``description``.
    ``run_stream`` / ``arun_stream`` (swarms' streaming API) come from ``AgentStreaming``.
    """

    _raises_model_errors = True  # run() raises AgentError for any model failure: printed once, by it

    def __init__(
        self,
        agent_name: str = "Agent",
        description: str = "",
        system_prompt: str = "",
        model_name: str = DEFAULT_MODEL,
        max_loops: int = 1,
        max_tokens: int = 4096,
        temperature: float | None = None,
        streaming_on: bool = False,
        stream: bool = False,
        print_on: bool = True,
        verbose: bool = False,
        llm_base_url: str | None = None,
        llm_api_key: str | None = None,
        streaming_callback: Callable[..., Any] | None = None,
        interactive: bool = False,
        *,
        provider: Provider | None = None,
        seed: int | None = None,
        top_p: float | None = None,
        stop: str | list[str] | None = None,
        reasoning_effort: str | None = None,
        response_format: dict[str, Any] | None = None,
        timeout: float | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        num_retries: int = DEFAULT_NUM_RETRIES,
        model_kwargs: dict[str, Any] | None = None,
        **swarms_options: Any,
    ) -> None:
        where = f"Agent({agent_name!r})" if isinstance(agent_name, str) else "Agent"
        if swarms_options:  # swarms' other arguments: agent_description, or accepted and ignored
            given = {"description": description or None}
            description = swarms_options_of("Agent", swarms_options, Agent.__init__, given).get(
                "description", description
            )
        self.agent_name = check.text("agent_name", agent_name, where, allow_empty=False)
        self.description = check.text("description", description, where)
        self.system_prompt = check.text("system_prompt", system_prompt or "", where)
        self.model_name = check.text("model_name", model_name, where, allow_empty=False)
        self.max_loops = check.positive_int("max_loops", max_loops, where)
        self.max_tokens = check.positive_int("max_tokens", max_tokens, where)
        # Model options: each is sent only when set (a default sent to every model breaks today's
        # reasoning models, which reject temperature); model_kwargs carries anything else unchanged.
        self.temperature = check.optional_number("temperature", temperature, where, low=0.0, high=2.0)
        self.top_p = check.optional_number("top_p", top_p, where, low=0.0, high=1.0)
        self.stop = check.stop_sequences(stop, where)
        self.reasoning_effort = check.optional_text("reasoning_effort", reasoning_effort, where)
        if response_format is not None and not isinstance(response_format, dict):
            raise check.InvalidArgument(f"{where}: response_format must be a dict, got {response_format!r}")
        self.response_format = response_format
        self.timeout = check.optional_seconds("timeout", timeout, where)
        self.idle_timeout = check.optional_seconds("idle_timeout", idle_timeout, where)
        if isinstance(num_retries, bool) or not isinstance(num_retries, int) or not 0 <= num_retries <= 10:
            raise check.InvalidArgument(f"{where}: num_retries must be an integer 0-10, got {num_retries!r}")
        self.num_retries = num_retries
        self.model_kwargs = check.mapping("model_kwargs", model_kwargs, where, reserved=_NAMED_OPTIONS)
        self.streaming_on = bool(streaming_on)
        self.stream_detailed = bool(stream)
        self.print_on = bool(print_on)
        self.verbose = bool(verbose)
        self.llm_base_url = check.optional_text("llm_base_url", llm_base_url, where)
        self.llm_api_key = check.optional_text("llm_api_key", llm_api_key, where)
        self.streaming_callback = check.callback("streaming_callback", streaming_callback, where)
        self.interactive = bool(interactive)  # accepted for swarms compatibility; nbswarm never prompts
        if provider is not None and not callable(getattr(provider, "stream", None)):
            raise check.InvalidArgument(f"{where}: provider must have an async stream(request) method")
        self.provider = provider
        if provider is None:
            warm(self.model_name)  # the sim's tokenizer loads in the background, not in the first turn
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise check.InvalidArgument(f"{where}: seed must be an integer or None, got {seed!r}")
        self.seed = seed

    def __repr__(self) -> str:
        return f"Agent(agent_name={self.agent_name!r}, model_name={self.model_name!r})"

    # -- running (run/arun/stream come from Runnable) ------------------------------------------

    @property
    def _label(self) -> str:
        return self.agent_name

    def _plan(self) -> Plan:
        # One step with this agent; its own max_loops repeats its turn within the step.
        return Plan(
            name=self.agent_name,
            swarm_type="Agent",
            steps=[[self]],
            description=self.description,
            final_output=_own_text,
        )

    def _callback_sinks(self, callback: Callable[..., Any] | None) -> list[Sink]:
        sinks = []
        callback = callback or self.streaming_callback
        if callback is not None:
            sinks.append(self.callback_sink(callback))
        if self.verbose:
            sinks.append(_log_event)
        return sinks

    def _shown_agents(self, callback: Callable[..., Any] | None) -> list[Agent]:
        # A callback overrides the default printing, as in swarms.
        quiet = not self.print_on or callback is not None or self.streaming_callback is not None
        return [] if quiet else [self]

    def callback_sink(self, callback: Callable[..., Any]) -> Sink:
        """This agent's callback as a sink: dicts if ``stream=True`` (detailed), else tokens."""
        if self.stream_detailed:
            return DetailedCallback(callback, self.agent_name)
        return TokenCallback(callback, self.agent_name)

    def _provider(self) -> tuple[Provider, str]:
        """Resolved per turn, so ``nbswarm.simulate()`` applies to agents made before it."""
        if self.provider is not None:
            return self.provider, self.model_name.removeprefix("sim/")
        return resolve(self.model_name)

    def _checked(self, run: Run, text: str) -> str:
        failures = run.agent_errors
        if failures:
            first = failures[0]
            raise AgentError(
                f"{self.agent_name}: model {self.model_name!r} failed: {first.error_type}: {first.message}",
                agent=self.agent_name,
                partial=text,
                run=run,
            )
        return text


def _own_text(steps_run: list[list[Turn]]) -> str:
    """A single agent's text: its turns joined as its chunks join (a failure is raised, not noted)."""
    return steps_run[-1][0].output if steps_run else ""


def _log_event(event: Any) -> None:
    if event.type != "chunk":
        logger.info("%s", event)
