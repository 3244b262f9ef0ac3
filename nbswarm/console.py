"""Printing a run to a terminal: the seed's ``print_on=True`` output.

Writes are buffered by the file and flushed on the run's ``flush()`` tick
(at most 25 times a second), not per token: a per-token flush costs ~1 ms in
an ipykernel and floods the notebook's output channel.

On a terminal, streamed text is wrapped at word boundaries (``WordWrap``): the word being typed
is held back until it ends, then goes on the current line or the next, so the terminal never
splits a word at its edge. Pipes, files and notebooks get the text exactly as streamed.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Mapping
from typing import TextIO

from rich.cells import cell_len

from .events import AgentEnd, AgentStart, Chunk, Error, Event

RULE = "━" * 62
_PIECES = re.compile(r"\n|[^\S\n]|[^\s]+")


def header(agent: str, loops: int) -> str:
    return f"🤖 Agent: {agent} | Loops: {loops}\n{RULE}\n"


class WordWrap:
    """Streamed text in, the same text with line breaks between words out, for ``width`` columns.

    Per piece of text the work is O(its length): only the column and the unfinished word are kept.
    A word longer than a line is written as it is (the terminal breaks it)."""

    def __init__(self, width: int) -> None:
        if isinstance(width, bool) or not isinstance(width, int) or width < 10:
            raise ValueError(f"width must be an int of at least 10 columns, got {width!r}")
        self.width = width
        self.column = 0
        self.word = ""

    def feed(self, text: str) -> str:
        out: list[str] = []
        for piece in _PIECES.findall(text):
            if piece == "\n":
                out.append(self._place())
                out.append("\n")
                self.column = 0
            elif piece.isspace():
                out.append(self._place())
                if self.column + 1 > self.width:
                    out.append("\n")  # the space is the line break
                    self.column = 0
                else:
                    out.append(piece)
                    self.column += 1
            else:
                self.word += piece
        return "".join(out)

    def end(self) -> str:
        """What is held back (the last word), e.g. at the end of a turn; the next text starts a line."""
        out = self._place()
        self.column = 0
        return out

    def _place(self) -> str:
        word, self.word = self.word, ""
        if not word:
            return ""
        size = cell_len(word)
        out = word
        if self.column and self.column + size > self.width:
            out = "\n" + word
            self.column = 0
        self.column += size
        if self.column > self.width:  # a word longer than a line: the terminal broke it
            self.column %= self.width
        return out


class ConsolePrinter:
    """Prints the agents named in ``loops`` (name -> max_loops): live per token, or each turn at its end."""

    def __init__(
        self,
        loops: Mapping[str, int],
        *,
        live: bool = True,
        file: TextIO | None = None,
        width: int | None = None,
        errors: bool = True,
    ) -> None:
        """``width``: wrap streamed text at word boundaries for this many columns (default: the
        terminal's width when the output is a terminal, no wrapping otherwise). ``errors=False``:
        leave model errors out, because the caller raises them (``Agent.run``): shown once, not twice."""
        self.loops = dict(loops)
        self.live = live
        self.errors = errors
        self.file = file
        self._width = width
        self._wrap: WordWrap | None = None
        self._wrap_decided = False
        self._seen: set[str] = set()
        self._line_ended: set[str] = set()  # agents whose last turn's "\n" is already written

    @property
    def _out(self) -> TextIO:
        return self.file if self.file is not None else sys.stdout

    def _write_text(self, text: str) -> None:
        if not self._wrap_decided:
            self._wrap_decided = True
            width = self._width
            if width is None and _is_terminal(self._out):
                width = shutil.get_terminal_size().columns
            self._wrap = WordWrap(width) if width is not None and width >= 10 else None
        self._out.write(self._wrap.feed(text) if self._wrap is not None else text)

    def _end_text(self) -> None:
        if self._wrap is not None:
            self._out.write(self._wrap.end())

    def __call__(self, event: Event) -> None:
        kind = type(event)
        if kind is Chunk:
            if self.live and event.agent in self.loops and event.kind == "text":
                text = event.content
                if event.agent in self._line_ended:  # a later turn's separator chunk: that "\n" is written
                    self._line_ended.discard(event.agent)
                    text = text[1:] if text.startswith("\n") else text
                self._write_text(text)
        elif kind is AgentStart and event.agent in self.loops:
            if self.live:
                self._open(event.agent)
        elif kind is AgentEnd and event.agent in self.loops:
            if not self.live:
                self._open(event.agent)
                self._write_text(event.output)
            self._end_text()
            self._out.write("\n")
        elif kind is Error and event.agent in self.loops:
            self._end_text()
            if self.errors:
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


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False
