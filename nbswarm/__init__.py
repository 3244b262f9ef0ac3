"""nbswarm: watch, record and understand streaming LLM agents and swarms from a notebook."""

from .agent import Agent
from .errors import AgentError, FlowError, InvalidArgument, NbswarmError, StreamError
from .events import AgentEnd, AgentStart, Chunk, Done, End, Error, Event, Metadata, Start, Usage
from .models import simulate
from .models.sim import SimProfile, SimProvider
from .run import Run
from .workflows import AgentRearrange, ConcurrentWorkflow, SequentialWorkflow

__version__ = "0.1.0"

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
    "Run",
    "SequentialWorkflow",
    "SimProfile",
    "SimProvider",
    "Start",
    "StreamError",
    "Usage",
    "simulate",
]
