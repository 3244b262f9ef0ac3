"""Printing a run to a terminal: the seed's ``print_on=True`` output.

Writes are buffered by the file and flushed on the run's ``flush()`` tick
(at most 25 times a second), not per token: a per-token flush costs ~1 ms in
an ipykernel and floods the notebook's output channel.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from .events import AgentEnd, AgentStart, Chunk, Error, Event

RULE = "━" * 62


def header(agent: str, loops: int) -> str:
    return f"🤖 Agent: {agent} | Loops: {loops}\n{RULE}\n"


class ConsolePrinter:
    """Prints the agents named in ``loops`` (name -> max_loops): live per token, or each turn at its end."""

    def __init__(self, loops: Mapping[str, int], *, live: bool = True, file: TextIO | None = None) -> None:
        self.loops = dict(loops)
        self.live = live
        self.file = file
        self._seen: set[str] = set()
        self._line_ended: set[str] = set()  # agents whose last turn's "\n" is already written

    @property
    def _out(self) -> TextIO:
        return self.file if self.file is not None else sys.stdout

    def __call__(self, event: Event) -> None:
        kind = type(event)
        if kind is Chunk:
            if self.live and event.agent in self.loops:
                text = event.content
                if event.agent in self._line_ended:  # a later turn's separator chunk: that "\n" is written
                    self._line_ended.discard(event.agent)
                    text = text[1:] if text.startswith("\n") else text
                self._out.write(text)
        elif kind is AgentStart and event.agent in self.loops:
            if self.live:
                self._open(event.agent)
        elif kind is AgentEnd and event.agent in self.loops:
            if not self.live:
                self._open(event.agent)
                self._out.write(event.output)
            self._out.write("\n")
        elif kind is Error and event.agent in self.loops:
            self._out.write(f"\n[{event.agent}] {event.error_type}: {event.message}\n")

    def _open(self, agent: str) -> None:
        if agent in self._seen:
            if self.live:  # the separator arrives as the turn's first chunk
                self._line_ended.add(agent)
            else:
                self._out.write("\n")  # the turn's own "\n" already ended the line
        else:
            self._seen.add(agent)
            self._out.write("\n" + header(agent, self.loops[agent]))

    def flush(self) -> None:
        self._out.flush()
