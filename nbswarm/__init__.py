"""nbswarm: watch, record and understand streaming LLM agents and swarms from a notebook.

The core (agents, workflows, events, runs, the sim) is imported eagerly and is light. The parts
that need pandas, pyarrow, matplotlib, widgets or httpx (``Recorder``, ``record``, ``replay``,
``show``, ``remote_run``, ``sweep``, ``grid``, ``Sweep``) are imported on first use, so
``import nbswarm`` stays fast (and Ray only when a sweep uses it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .agent import Agent
from .errors import AgentError, FlowError, InvalidArgument, NbswarmError, StreamError
from .events import AgentEnd, AgentStart, Chunk, Done, End, Error, Event, Metadata, Start, Usage
from .models import simulate
from .models.sim import SimProfile, SimProvider
from .run import Run
from .workflows import AgentRearrange, ConcurrentWorkflow, SequentialWorkflow

if TYPE_CHECKING:
    from ._replay import replay
    from .display import show
    from .recorder import Recorder, record
    from .sse.client import remote_run
    from .sweeps import Sweep, grid, sweep
    from .widget.view import release_views

__version__ = "0.2.0"

_LAZY = {
    "Recorder": ".recorder",
    "record": ".recorder",
    "remote_run": ".sse.client",
    "replay": "._replay",
    "release_views": ".widget.view",
    "show": ".display",
    "Sweep": ".sweeps",
    "grid": ".sweeps",
    "sweep": ".sweeps",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nbswarm' has no attribute {name!r}")


__all__ = [
    "Agent",
    "AgentEnd",
    "AgentError",
    "AgentRearrange",
    "AgentStart",
    "Chunk",
    "ConcurrentWorkflow",
    "Done",
    "End",
    "Error",
    "Event",
    "FlowError",
    "InvalidArgument",
    "Metadata",
    "NbswarmError",
    "Recorder",
    "Run",
    "SequentialWorkflow",
    "SimProfile",
    "SimProvider",
    "Start",
    "StreamError",
    "Sweep",
    "Usage",
    "grid",
    "record",
    "release_views",
    "remote_run",
    "replay",
    "show",
    "simulate",
    "sweep",
]
