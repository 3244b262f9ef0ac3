"""Bytes of an HTTP response -> SSE frames, with every size bounded (the client's transport).

``FrameReader`` splits lines (``\\n``, ``\\r\\n`` or ``\\r``, split anywhere across
reads) and gathers fields into frames as the SSE spec says (``event``, ``data``
lines joined by ``\\n``, comments skipped, ``id``/``retry`` ignored), with two
bounds: no line and no frame may pass ``max_bytes`` (a 100 MB line is refused
at its first ``max_bytes``, not held). ``Inflater`` undoes ``Content-Encoding:
gzip``/``deflate`` in pieces of at most ``PIECE`` bytes, so a small
compressed body that expands without end (a "zip bomb") is read, bounded, like
any other stream. This replaces httpx's ``iter_lines`` and httpx-sse's
``EventSource`` on the client's path only because neither bounds a line and
httpx inflates a whole read at once; it is also cheaper per frame, working on
bytes and decoding only each frame's data.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from ..errors import StreamError

__all__ = ["PIECE", "FrameReader", "Inflater"]

# ``event(?:: |:(?! ))``: the one optional space is taken whenever it is there (a value after it that
# the fast path leaves to the line reader, like ``event: :``, must not become `` :`` by backtracking).
_PLAIN_FRAME = re.compile(rb"(?:event(?:: |:(?! ))([^\n:][^\n]*)\n)?data: ?([^\n]*)\n\n")
"""The frame nearly every producer sends (an optional event line, one data line), matched whole;
anything else (comments, several data lines, ids) goes through the line-by-line reader."""

PIECE = 1 << 16
"""Most bytes one step of inflating produces."""


class FrameReader:
    """Incremental SSE framing over bytes: ``feed(data) -> [(event name or None, data text)]``."""

    __slots__ = ("_data", "_event", "_names", "_pending_cr", "_size", "_tail", "max_bytes")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._tail = b""
        self._pending_cr = False
        self._event: bytes | None = None
        self._data: list[bytes] = []
        self._size = 0
        self._names: dict[bytes, str] = {}

    def flush(self) -> list[tuple[str | None, str]]:
        """At the end of the body: a ``\r`` held back to see if ``\n`` followed ends its line."""
        if not self._pending_cr:
            return []
        self._pending_cr = False
        return self.feed(b"\n")

    def feed(self, chunk: bytes) -> list[tuple[str | None, str]]:
        if self._pending_cr:
            chunk = b"\r" + chunk
            self._pending_cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):  # maybe the first half of a \r\n split across reads
                chunk = chunk[:-1]
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._tail:
            chunk = self._tail + chunk
        frames: list[tuple[str | None, str]] = []
        append = frames.append
        names = self._names
        limit = self.max_bytes
        data, event, size = self._data, self._event, self._size  # locals: this loop runs per line
        if not data and event is None:  # between frames: whole plain frames by one regex each
            match = _PLAIN_FRAME.match
            pos = 0
            while (found := match(chunk, pos)) is not None:
                name, value = found.group(1, 2)
                if len(value) > limit:
                    raise StreamError(f"an SSE frame is larger than {limit} bytes", reason="too_large")
                try:
                    if name is not None:
                        name = names.get(name) or names.setdefault(name, name.decode())
                    append((name, value.decode()))
                except UnicodeDecodeError as exc:
                    raise StreamError(f"an SSE frame is not UTF-8: {exc}", reason="malformed") from None
                pos = found.end()
            if pos:
                chunk = chunk[pos:]
        lines = chunk.split(b"\n")
        tail = self._tail = lines.pop()
        if len(tail) > limit:
            raise StreamError(f"an SSE line is longer than {limit} bytes", reason="too_large")
        for line in lines:
            if not line:
                if data:
                    try:
                        name = (
                            None
                            if event is None
                            else names.get(event) or names.setdefault(event, event.decode())
                        )
                        append((name, (data[0] if len(data) == 1 else b"\n".join(data)).decode()))
                    except UnicodeDecodeError as exc:
                        raise StreamError(f"an SSE frame is not UTF-8: {exc}", reason="malformed") from None
                    data = []
                    size = 0
                event = None
                continue
            if line.startswith(b"data: "):  # the common spellings first, without partition
                value = line[6:]
            elif line.startswith(b"event: "):
                event = line[7:] or None
                continue
            elif line[0] == 58:  # b":" a comment (keep-alive)
                continue
            else:
                field, colon, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if field == b"event":
                    event = value or None
                    continue
                if field != b"data":
                    if not colon and len(line) > limit:
                        raise StreamError(f"an SSE line is longer than {limit} bytes", reason="too_large")
                    continue  # id, retry, unknown fields
            data.append(value)
            size += len(value) + 1
            if size > limit:
                raise StreamError(f"an SSE frame is larger than {limit} bytes", reason="too_large")
        self._data, self._event, self._size = data, event, size
        return frames


class Inflater:
    """``Content-Encoding`` undone in bounded pieces: ``pieces(raw)`` yields at most ``PIECE`` bytes each."""

    def __init__(self, encoding: str) -> None:
        names = [part.strip().lower() for part in encoding.split(",") if part.strip()]
        names = [name for name in names if name != "identity"]
        if len(names) > 1 or (names and names[0] not in ("gzip", "x-gzip", "deflate")):
            raise StreamError(
                f"the response's Content-Encoding {encoding!r} is not supported", reason="encoding"
            )
        self.name = names[0] if names else None
        wbits = 16 + zlib.MAX_WBITS if self.name in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits) if self.name else None
        self._first = True

    def pieces(self, raw: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``raw``, lazily, ``PIECE`` at a time (feed each on before the next)."""
        if self._zlib is None:
            yield raw
            return
        try:
            try:
                piece = self._zlib.decompress(raw, PIECE)
            except zlib.error:
                if not (self._first and self.name == "deflate"):
                    raise
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)  # servers send raw deflate as often as zlib
                piece = self._zlib.decompress(raw, PIECE)
            self._first = False
            yield piece
            while self._zlib.unconsumed_tail:
                yield self._zlib.decompress(self._zlib.unconsumed_tail, PIECE)
        except zlib.error as exc:
            raise StreamError(
                f"the response body is not valid {self.name}: {exc}", reason="encoding"
            ) from None
