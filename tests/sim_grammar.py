"""Grammar checks for the sim's English text: what a reader would notice as machine-made."""

from __future__ import annotations

import re

_REPEAT = re.compile(r"\b((?:the |a )?[\w'’/+.%-]+(?: [\w'’/+.%-]+){0,4}) (?:and|or|with|versus) \1\b", re.I)
_DOUBLE = re.compile(r"\b(the|a|an|of|to|and) \1\b", re.I)
_VERB_AS_NOUN = re.compile(
    r"\b(?:the|a|an) (?:write|analy[sz]e|summari[sz]e|synthesi[sz]e|specializes|specialises|gather|weigh|"
    r"identify|explain|increase productivity|generate|evaluate|assess|track|focus on)\b",
    re.I,
)
_BROKEN_ABBREVIATION = re.compile(
    r"(?<!/)\bE Ratio\b|\b[Aa]cting on P\b|\bthe P\b(?!/)|\bC\b(?!\+\+|#)|\bU\. S\.|\b3\. 5\b"
)
_SLOT = re.compile(r"[{}]|\bNone\b(?! of)")
_LOWER_START = re.compile(r"(?:^|(?<![A-Z])[.!?] +|\n\n)([a-z])(?![\w-]*\()")


def problems(text: str) -> list[str]:
    """What is wrong with ``text``, each as a short description with the offending words."""
    found = []
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code is not prose
    for pattern, what in (
        (_REPEAT, "phrase against itself"),
        (_DOUBLE, "doubled word"),
        (_VERB_AS_NOUN, "verb used as a noun"),
        (_BROKEN_ABBREVIATION, "abbreviation split"),
        (_SLOT, "template slot left"),
    ):
        match = pattern.search(text)
        if match:
            found.append(f"{what}: {match.group(0)!r}")
    for match in _LOWER_START.finditer(text):
        start = max(0, match.start() - 30)
        found.append(f"sentence starts in lower case: {text[start : match.end() + 20]!r}")
        break
    return found
