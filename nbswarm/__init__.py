"""nbswarm: watch, record and understand streaming LLM agents and swarms from a notebook."""

from .agent import Agent
from .errors import AgentError, FlowError, InvalidArgument, NbswarmError, StreamError
from .events import AgentEnd, AgentStart, Chunk, Done, End, Error, Event, Metadata, Start, Usage
from .models import simulate
from .run import Run

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentEnd",
    "AgentError",
    "AgentStart",
    "Chunk",
    "Done",
    "End",
    "Error",
    "Event",
    "FlowError",
    "InvalidArgument",
    "Metadata",
    "NbswarmError",
    "Run",
    "Start",
    "StreamError",
    "Usage",
    "simulate",
]
