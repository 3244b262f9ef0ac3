"""Markdown to HTML for the live view: markdown-it-py (CommonMark + tables + strikethrough).

Rendered in the kernel once per finished turn, so the browser runs no renderer of its own and a
saved notebook carries the rendered form. Safe by construction: raw HTML in the text is escaped
(``html`` off), links go through markdown-it's ``validateLink`` (no ``javascript:``, ``vbscript:``,
``file:``, ``data:``) and open in a new tab with ``rel="noopener noreferrer"``, and images are off
(a model's text must not make the page fetch remote URLs). Fenced code is highlighted by pygments
(it comes with rich) when the fence names a language pygments knows.
"""

from __future__ import annotations

import functools
from typing import Any

from markdown_it import MarkdownIt

__all__ = ["render_markdown"]


@functools.lru_cache(maxsize=64)
def _lexer(lang: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


@functools.lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """HTML spans for a fence in a known language; "" lets markdown-it escape it plainly."""
    lexer = _lexer(lang.strip().lower()) if lang and lang.strip() else None
    if lexer is None:
        return ""
    from pygments import highlight

    return highlight(code, lexer, _formatter())


def _link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.add_render_rule("link_open", _link_open)
    return md


def render_markdown(text: str) -> str:
    """``text`` (markdown as a model writes it) as safe HTML."""
    if not isinstance(text, str):
        raise TypeError(f"render_markdown takes a str, got {type(text).__name__}")
    return _parser().render(text)
