"""swarms constructor arguments nbswarm accepts without implementing them.

nbswarm's promise to swarms users is "change the import": swarms' own examples
pass many arguments that concern features nbswarm does not have (tools, MCP,
autosave, output formats...). Refusing them would make those examples fail
before anything streams, so each class accepts the names its swarms
counterpart accepts (as of ``SWARMS_VERSION``) and ignores them, warning once
per argument name that it has no effect here. A name swarms would not accept
either (a typo) stays a ``TypeError`` with a "did you mean".

Two names are aliases rather than ignored: ``Agent(agent_description=...)``
is ``description``, and ``ConcurrentWorkflow(on_error="store" | "raise")`` is
``on_agent_error="continue" | "raise"``.

``tests/compat/test_swarms_arguments.py`` checks these lists against swarms'
constructor signatures recorded for that version.
"""

from __future__ import annotations

import difflib
import inspect
import os
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from .errors import InvalidArgument

__all__ = [
    "ALIASES",
    "IGNORED",
    "SWARMS_VERSION",
    "SwarmsCompatWarning",
    "swarms_options",
    "warn_ignored",
]

SWARMS_VERSION = "16.0.3"
"""The swarms release whose constructor signatures these lists follow."""

_AGENT_IGNORED = """
    id llm stopping_condition loop_interval retry_attempts stopping_token dynamic_loops dashboard
    tools dynamic_temperature_enabled saved_state_path autosave context_length transforms user_name
    long_term_memory fallback_model_name fallback_models preset_stopping_token stopping_func
    custom_exit_command tool_schema output_type list_base_models rules planning_prompt tags
    auto_generate_prompt plan_enabled llm_args prompt_caching cache_config load_state_path role
    tools_list_dictionary mcp_url mcp_urls react_on safety_prompt_on random_models_on mcp_config
    mcp_configs mcp_api_key mcp_authorization_token mcp_oauth mcp_headers mcp_transport mcp_timeout
    tool_call_summary tool_retry_attempts channel reasoning_prompt_on dynamic_context_window
    show_tool_execution_output thinking_tokens think_tool max_planning_attempts
    max_subtask_iterations max_subtask_loops dynamic_tools reasoning_enabled handoffs capabilities
    mode publish_to_marketplace use_cases marketplace_prompt_id skills_dir selected_tools
    context_compression persistent_memory messages
"""

IGNORED: Mapping[str, frozenset[str]] = {
    "Agent": frozenset(_AGENT_IGNORED.split()),
    "SequentialWorkflow": frozenset(
        [
            "id",
            "output_type",
            "shared_memory_system",
            "multi_agent_collab_prompt",
            "collab_prompt",
            "team_awareness",
            "autosave",
            "verbose",
            "drift_detection",
            "drift_threshold",
            "drift_model",
            "drift_max_retries",
            "channel",
        ]
    ),
    "ConcurrentWorkflow": frozenset(
        [
            "id",
            "auto_save",
            "output_type",
            "auto_generate_prompts",
            "autosave",
            "verbose",
            "max_workers",
            "channel",
        ]
    ),
    "AgentRearrange": frozenset(
        [
            "id",
            "verbose",
            "memory_system",
            "output_type",
            "autosave",
            "team_awareness",
            "time_enabled",
            "message_id_on",
            "collab_prompt",
            "channel",
        ]
    ),
}
"""Per class: swarms constructor arguments accepted and ignored (with one warning per name)."""

ALIASES: Mapping[str, Mapping[str, str]] = {
    "Agent": {"agent_description": "description"},
    "ConcurrentWorkflow": {"on_error": "on_agent_error"},
}
"""Per class: swarms argument name -> the nbswarm argument it sets."""

_VALUE_MAPS: Mapping[str, Mapping[Any, Any]] = {"on_error": {"store": "continue", "raise": "raise"}}
"""Aliases whose values are spelled differently in swarms."""


class SwarmsCompatWarning(UserWarning):
    """A swarms argument was accepted but has no effect in nbswarm."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def swarms_options(
    cls_name: str, options: dict[str, Any], own: Callable[..., Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Check the extra keyword arguments ``options`` of ``cls_name``'s constructor ``own``.

    Ignored names warn (once per name per process); unknown names raise ``TypeError`` with a
    "did you mean". Returns the nbswarm arguments the aliases set; ``given`` holds the values of
    those arguments as passed (an alias beside its own name must agree with it, else
    ``InvalidArgument``).
    """
    aliases = ALIASES.get(cls_name, {})
    ignored = IGNORED.get(cls_name, frozenset())
    unknown = [name for name in options if name not in aliases and name not in ignored]
    if unknown:
        known = [p for p in inspect.signature(own).parameters if p != "self"]
        known += [*aliases, *ignored]
        raise TypeError(_unexpected(cls_name, unknown[0], known))
    resolved: dict[str, Any] = {}
    for alias, target in aliases.items():
        if alias not in options:
            continue
        value = options[alias]
        mapping = _VALUE_MAPS.get(alias)
        if mapping is not None:
            if value not in mapping:
                raise InvalidArgument(f"{cls_name}: {alias} must be one of {tuple(mapping)}, got {value!r}")
            value = mapping[value]
        current = given.get(target)
        if current is not None and current != value:
            raise InvalidArgument(
                f"{cls_name}: {alias}={options[alias]!r} (swarms' name for {target}) "
                f"disagrees with {target}={current!r}; pass one of them"
            )
        resolved[target] = value
    for name in options:
        if name in ignored:
            warn_ignored(cls_name, name)
    return resolved


def _unexpected(cls_name: str, name: str, known: list[str]) -> str:
    message = f"{cls_name}() got an unexpected keyword argument {name!r}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def warn_ignored(where: str, name: str) -> None:
    """Warn (once per process for this ``where`` and ``name``) that ``name`` has no effect here."""
    with _warned_lock:
        if (where, name) in _warned:
            return
        _warned.add((where, name))
    warnings.warn(
        f"{where}({name}=...) has no effect in nbswarm: accepted for swarms compatibility, ignored",
        SwarmsCompatWarning,
        stacklevel=_outside_nbswarm(),
    )


def _outside_nbswarm() -> int:
    """The ``stacklevel`` of the first caller outside this package: the line that made the object."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back
    return level
