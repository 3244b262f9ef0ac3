"""Tokens for the sim model: how its text is cut into stream pieces and how tokens are counted.

Two tokenizers, one interface (``pieces(text) -> [(piece, tokens)]`` and ``count(text)``):

- **tiktoken**, when it is installed *and* its BPE file is on disk (litellm bundles
  ``cl100k_base`` and ``o200k_base``; ``TIKTOKEN_CACHE_DIR`` and tiktoken's own cache are looked
  at too). It is never downloaded: the sim stays offline. OpenAI's current models (gpt-4o, gpt-4.1,
  gpt-5, the o-series) use ``o200k_base``; every other name uses ``cl100k_base``, an approximation
  for models whose tokenizer is not public. A piece is one token, or the few tokens that together
  make whole UTF-8 characters (a CJK character can span two byte-level tokens).
- **an estimate** otherwise: a short Latin word with its leading space is one token, a long
  word one per 6 letters, digits one per 3, a punctuation run one, a line break one; Han
  characters one or two per token (~0.75 tokens a character, as o200k gives), kana and Hangul two
  or three per token. On the sim's own answers it counts ~6% more than o200k_base in English, ~4%
  more in Spanish, French and German, ~9% more in Chinese and Japanese (tests/sim_corpus.py).

Loading tiktoken's BPE file takes ~0.1-0.3 s (more on a busy machine), so the sim does it once,
in a daemon thread, when the first sim agent is made (``sim.prefetch``), or at the latest before
the first sim stream's clock starts; every later call is a dictionary lookup.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Protocol

__all__ = ["Estimate", "Tokenizer", "estimate_tokens", "pieces_of", "tokenizer_for"]

# Han ideographs, CJK punctuation, kana, Hangul: scripts written without spaces between words.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = "\uac00-\ud7af"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uff65"
_PIECE = re.compile(
    rf"\n+|[ \t]*[{_HAN}]+|[ \t]*[{_KANA}]+|[ \t]*[{_HANGUL}]+|[ \t]*[{_CJK_PUNCT}]+"
    rf"|[ \t]*[^\W\d_{_HAN}{_KANA}{_HANGUL}]+(?:['’][^\W\d_]+)?|[ \t]*\d+|[ \t]*([^\w\s])\1*|\s+|[\s\S]"
)
_CJK_RUN = re.compile(rf"[{_HAN}{_KANA}{_HANGUL}]")


class Tokenizer(Protocol):
    """What the sim needs from a tokenizer."""

    name: str

    def pieces(self, text: str) -> list[tuple[str, int]]:
        """``text`` as stream pieces with the tokens each one costs; the pieces join back to ``text``."""
        ...

    def count(self, text: str) -> int:
        """How many tokens ``text`` is."""
        ...


def pieces_of(text: str) -> list[str]:
    """The estimate's pieces of ``text``; ``"".join(pieces_of(t)) == t``."""
    return [piece for piece, _ in Estimate().pieces(text)]


class Estimate:
    """The tokenizer used when tiktoken is not available (see the module docstring)."""

    name = "estimate"

    def pieces(self, text: str) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for match in _PIECE.finditer(text):
            piece = match.group(0)
            core = piece.lstrip(" \t")
            if _CJK_RUN.match(core):
                out.extend(_cjk_pieces(piece))
            elif core[:1].isdigit() and len(core) > 3:
                out.extend(_chunks(piece, len(piece) - len(core) + 3, 3))
            elif core[:1].isalpha() and len(core) > 9:
                out.extend(_chunks(piece, len(piece) - len(core) + 6, 6))
            else:
                out.append((piece, 1))
        return out

    def count(self, text: str) -> int:
        return len(self.pieces(text))


def _chunks(piece: str, first: int, size: int) -> list[tuple[str, int]]:
    out = [(piece[:first], 1)]
    out += [(piece[i : i + size], 1) for i in range(first, len(piece), size)]
    return out


def _cjk_pieces(run: str) -> list[tuple[str, int]]:
    """Han in pieces of one or two characters (a third of them two, chosen by the character, so
    deterministic); kana and Hangul in pieces of two or three. Leading spaces join the first piece."""
    out: list[tuple[str, int]] = []
    i = len(run) - len(run.lstrip(" \t"))
    start = 0
    while i < len(run):
        code = ord(run[i])
        if 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
            i += 2 if code % 3 == 0 else 1
        else:
            i += 2 + code % 2
        i = min(i, len(run))
        out.append((run[start:i], 1))
        start = i
    return out


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the estimate (what usage reports when tiktoken is absent)."""
    return Estimate().count(text)


class _TikToken:
    """tiktoken's encoding, cut into pieces that each decode to whole characters."""

    def __init__(self, encoding) -> None:  # type: ignore[no-untyped-def]
        self.encoding = encoding
        self.name = encoding.name

    def pieces(self, text: str) -> list[tuple[str, int]]:
        tokens = self.encoding.encode_ordinary(text)
        out: list[tuple[str, int]] = []
        pending = b""
        count = 0
        for raw in self.encoding.decode_tokens_bytes(tokens):
            pending += raw
            count += 1
            try:
                piece = pending.decode("utf-8")
            except UnicodeDecodeError:
                if count < 8:
                    continue  # the rest of a multi-byte character is in the next token
                piece = pending.decode("utf-8", errors="replace")
            out.append((piece, count))
            pending, count = b"", 0
        if pending:
            out.append((pending.decode("utf-8", errors="replace"), count))
        return out

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))


# OpenAI model families that use o200k_base; every other name uses cl100k_base.
_O200K = re.compile(r"^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|gpt-oss)")
_FILES = {
    # sha1 of the encoding's public URL: the file name tiktoken (and litellm's bundle) caches it under
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}
_LOCK = threading.Lock()
_LOADED: dict[str, Tokenizer] = {}


def encoding_name(model: str) -> str:
    """The tiktoken encoding the sim uses for ``model`` (provider prefixes ignored)."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    return "o200k_base" if _O200K.match(name) else "cl100k_base"


def tokenizer_for(model: str, kind: str = "auto") -> Tokenizer:
    """The tokenizer for ``model``: tiktoken's when ``kind`` is "auto" and it can load offline,
    else the estimate. Loads on the first call for an encoding (see ``load_async``)."""
    if kind == "estimate":
        return Estimate()
    name = encoding_name(model)
    found = _LOADED.get(name)
    if found is None:
        with _LOCK:
            found = _LOADED.get(name)
            if found is None:
                found = _LOADED[name] = _load(name)
    return found


def loaded(model: str, kind: str = "auto") -> bool:
    """Whether ``tokenizer_for(model, kind)`` would return at once (no file to load)."""
    return kind == "estimate" or encoding_name(model) in _LOADED


def _load(name: str) -> Tokenizer:
    if importlib.util.find_spec("tiktoken") is None:
        return Estimate()
    directory = _bpe_directory(_FILES[name])
    if directory is None:
        return Estimate()  # never download: the sim works offline
    import tiktoken

    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)  # where tiktoken finds the file (as litellm does)
    try:
        return _TikToken(tiktoken.get_encoding(name))
    except Exception:  # a corrupt or partial file: the estimate is still a fine answer
        return Estimate()
    finally:
        if previous is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


@functools.cache
def _litellm_tokenizers() -> Path | None:
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "litellm_core_utils" / "tokenizers"
        if path.is_dir():
            return path
    return None


def _bpe_directory(file_name: str) -> Path | None:
    """The first directory holding the encoding's BPE file: the user's cache, litellm's bundle, tiktoken's."""
    candidates = [os.environ.get("TIKTOKEN_CACHE_DIR"), os.environ.get("DATA_GYM_CACHE_DIR")]
    candidates += [_litellm_tokenizers(), os.path.join(tempfile.gettempdir(), "data-gym-cache")]
    for directory in candidates:
        if directory and (Path(directory) / file_name).is_file():
            return Path(directory)
    return None
