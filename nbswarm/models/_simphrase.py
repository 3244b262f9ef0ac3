"""Key-phrase extraction for the sim model: the noun phrases a prompt is about.

RAKE (runs of content words between stop words, scored by co-occurrence), tuned so that what it
returns reads right in any slot of a sentence: verbs break runs (imperatives, "you synthesise",
"who specializes in", "a city invest in", a leading "increase productivity"), phrases that only
name the deliverable ("the explanation") give way to its subject, and abbreviations and symbols
(P/E, C++, U.S., S&P 500, 3.5%, Node.js, "Tesla (TSLA)") are kept whole by hiding them behind
private-use placeholders while the text is split. Results are cached: a thousand agents given one
task extract its phrases once.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from . import _simwords as lex

__all__ = ["Phrase", "key_phrases", "noun_phrase"]

# Tokens that punctuation must not split: tickers, P/E, C++, C#, U.S., S&P 500, 3.5%, $4.2bn, Node.js.
_KEEP = re.compile(
    r"\b[A-Z][\w'’\-]* \([A-Z][A-Z0-9.&]{0,5}\)"
    r"|\b(?:[A-Za-z]\.){2,}(?![A-Za-z])"
    r"|\b[A-Za-z]\+\+|\b[A-Z]#"
    r"|\b[A-Z]{1,4}(?:/|&)[A-Z]{1,4}\b(?: \d{2,4}\b)?"
    r"|[$€£]?\d+(?:[.,]\d+)*(?:%|bn|m|k|x)?"
    r"|\b\w+\.(?:js|py|io|ai|net)\b"
)
_MARK = "\ue002"  # a placeholder is _MARK + one private-use character indexing the kept token
_WORD = re.compile(r"[A-Za-z0-9\ue002][A-Za-z0-9'’\-\ue002\ue100-\uf8ff]*|\ue002[\ue100-\uf8ff]")
_FRAGMENT_SPLIT = re.compile(r"([.,;:!?()\[\]{}\"“”<>|\n—–*#`=/\\]+|(?:^|\s)[-•]\s)")
_ARTICLES = lex.words("the a an this that these those its their our your my his her")
_TLDR = re.compile(r"\btl;?dr\b|\bstep[- ]by[- ]step\b|\bin a nutshell\b", re.I)  # asides, not topics
_CLAUSE = frozenset({"how", "why", "whether", "when", "where"})
_WH = frozenset({"why", "how", "what", "when", "where", "which", "who"})
_VERB_AFTER = frozenset({"who", "which", "that", "he", "she", "it"}) | lex.SUBJECTS


@dataclass(frozen=True)
class Phrase:
    bare: str
    """As it appears: "electric vehicle market", "Norway", "P/E ratio"."""
    np: str
    """As a noun phrase in a sentence: "the electric vehicle market", "Norway"."""


def key_phrases(text: str, limit: int = 6, extra_stop: frozenset[str] = frozenset()) -> list[Phrase]:
    """The text's key noun phrases, best first (at most ``limit``)."""
    return list(_key_phrases(text[:4000], limit, extra_stop))


@functools.lru_cache(maxsize=512)
def _key_phrases(text: str, limit: int, extra_stop: frozenset[str]) -> tuple[Phrase, ...]:
    kept: list[str] = []

    def hide(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return _MARK + chr(0xE100 + min(len(kept) - 1, 0x1000))

    text = _KEEP.sub(hide, _TLDR.sub(" ", text))
    common = {w for w in _WORD.findall(text) if w.islower()}
    runs: list[list[str]] = []
    dets: list[str] = []  # the word before each run: "the risks" stays definite, "how neural networks" not
    parts = _FRAGMENT_SPLIT.split(text)  # fragment, separator, fragment, ...
    for index in range(0, len(parts), 2):
        # after a sentence end (or a colon, bullet, heading) a first capital says nothing
        sentence_start = index == 0 or any(c in parts[index - 1] for c in ".!?:\n#*-•")
        words = _WORD.findall(parts[index])
        lead = [w.lower() for w in words[:4]]
        inverted = (
            sentence_start
            and bool(lead)
            and (lead[0] in lex.INVERTING or (lead[0] in _WH and any(w in lex.INVERTING for w in lead[1:])))
        )
        run: list[str] = []
        det = ""
        for i, word in enumerate(words):
            low = word.lower()
            clause = inverted or det in _CLAUSE  # "how vaccines train the immune system"
            plural_subject = clause and run and _plural(run[-1]) and word.islower()
            if plural_subject and not low.endswith(("s", "ing", "ed")) and low not in lex.STOPWORDS:
                runs.append(run)  # "Why do airlines overbook flights": the subject ends before its verb
                dets.append(det)
                run, inverted = [], False
                continue
            if _breaks(words, i, bool(run), extra_stop, sentence_start):
                if inverted and run:
                    if low in lex.PREPOSITIONS | lex.DETERMINERS:
                        _drop_verb(run)  # "Should a city invest in": the subject ends on the verb
                    inverted = False
                runs.append(run)
                dets.append(det)
                run = []
                continue
            if i == 0 and sentence_start and _common_capital(word, words[1:2], common):
                word = low  # capitalised only because it starts a sentence
            if not run:
                det = words[i - 1].lower() if i else ""
            run.append(word)
        if inverted and run:
            _drop_verb(run)  # "Is nuclear power safe?", "Can small farms compete?"
        runs.append(run)
        dets.append(det)
    pairs = [(_trim(r), d) for r, d in zip(runs, dets, strict=True)]
    pairs = [(_unnumbered(r[-4:], kept), d) for r, d in pairs if any(not _number(w, kept) for w in r)]
    runs = [r for r, _ in pairs]
    determiner = {_restore(" ".join(r), kept).lower(): d for r, d in reversed(pairs)}
    freq: dict[str, int] = {}
    degree: dict[str, int] = {}
    for run in runs:
        for word in run:
            key = word.lower()
            freq[key] = freq.get(key, 0) + 1
            degree[key] = degree.get(key, 0) + len(run)
    scored: dict[str, tuple[float, int, str]] = {}
    for order, run in enumerate(runs):
        bare = _restore(" ".join(run), kept)
        key = bare.lower()
        if key not in scored:
            score = sum(degree[w.lower()] / freq[w.lower()] for w in run)
            scored[key] = (-score, order, bare)
    topical = [
        v for k, v in scored.items() if not {w for w in k.split() if not w[:1].isdigit()} <= lex.DELIVERABLES
    ]
    best = sorted(topical or scored.values())[:limit]
    return tuple(Phrase(bare, noun_phrase(bare, determiner.get(bare.lower()))) for _, _, bare in best)


def _unnumbered(run: list[str], kept: list[str]) -> list[str]:
    """Without a leading count before a deliverable: "5 tips" names the form, not the subject."""
    if len(run) > 1 and (_count(run[0], kept) or run[0].lower() in lex.NUMBER_WORDS):
        return run[1:]
    return run


def _count(word: str, kept: list[str]) -> bool:
    """A small whole number ("5", "10"), not "3.5%", "$4bn" or a year."""
    return re.fullmatch(r"\d{1,3}", _restore(word, kept)) is not None


def _restore(text: str, kept: list[str]) -> str:
    if _MARK not in text:
        return text
    return re.sub(_MARK + r"([\ue100-\uf8ff])", lambda m: kept[ord(m.group(1)) - 0xE100], text)


def _number(word: str, kept: list[str]) -> bool:
    if word.startswith(_MARK):
        return _restore(word, kept).lstrip("$€£")[:1].isdigit()
    return word.isdigit()


def noun_phrase(bare: str, determiner: str | None = None) -> str:
    """With "the" unless a name or number leads: "Norway", "Tesla (TSLA) stock", "the European market".

    ``determiner`` is the word before the phrase in its text, when known: a plural that had none
    stays bare ("how neural networks work" -> "neural networks"), one that had one gets "the".
    """
    words = bare.split()
    first, last = words[0], words[-1]
    demonym = first.endswith(("ean", "ian", "can", "ese", "ish")) and last[:1].islower()
    if determiner == "the":
        return "the " + bare  # as written: "the North Sea", "the risks"
    if "/" in first or "+" in first or "#" in first or first.count(".") > 1:
        return "the " + bare  # "the P/E ratio", "the C++ code", "the U.S. market"
    if first[0].isdigit() or first[0] in "$€£":
        return bare if len(words) == 1 else "the " + bare  # "2024", "the 3.5% rate rise"
    gerund = len(words) == 1 and first.islower() and first.endswith("ing") and len(first) > 5
    if gerund or (last.lower() in lex.MASS and last.islower() and (len(words) > 1 or first.islower())):
        return bare  # "remote work", "climate change", "sleep"
    if len(words) > 1 and first.isupper() and 2 <= len(first) <= 4 and first.isalpha():
        return "the " + bare  # "the EU AI Act", "the NHS waiting lists"
    plural = (_plural(last) and last.islower()) or (last.isupper() and len(last) > 1)
    if determiner is not None and plural and determiner not in _ARTICLES:
        return bare  # "neural networks", "small farms"
    return bare if first[0].isupper() and not demonym else "the " + bare


def _breaks(words: list[str], i: int, in_run: bool, extra_stop: frozenset[str], sentence_start: bool) -> bool:
    """Whether ``words[i]`` is not part of a noun phrase (a stop word, a verb, an adverb)."""
    word, low = words[i], words[i].lower()
    if word.startswith(_MARK):
        return False  # a kept abbreviation or number
    prev = words[i - 1].lower() if i else ""
    following = words[i + 1] if i + 1 < len(words) else ""
    after = following.lower()
    if low in lex.STOPWORDS or low in extra_stop or (len(word) < 3 and not word.isupper()):
        return not (word == "New" and following[:1].isupper())  # "New Orleans"
    if in_run and low.endswith("ed") and len(low) > 4:
        return True  # "adoption accelerated": a verb
    if prev in ("who", "which", "that") and (low.endswith("s") or low.endswith("ed")):
        return True  # "who specializes", "which covers"
    if low in lex.AMBIGUOUS and (prev in lex.SUBJECTS or prev in lex.MODALS or after in lex.DETERMINERS):
        return True  # "report the findings", "we design"
    if (
        in_run
        and low in lex.AMBIGUOUS
        and not low.endswith("s")
        and prev.endswith("s")
        and not prev.endswith("ss")
        and (not after or after in lex.PREPOSITIONS | lex.DETERMINERS)
    ):
        return True  # "how neural networks work", "costs rise in": a plural subject and its verb
    if low in lex.VERB_FIRST and following and ((i == 0 and sentence_start) or prev in ("and", "or", "to")):
        return True  # "Increase productivity": an imperative, not "the increase productivity"
    after_subject = prev in _VERB_AFTER and not (i == 1 and sentence_start)  # "Which programming language"
    if word.islower() and not low.endswith("s") and (after_subject or (prev in lex.MODALS and i > 1)):
        return True  # "you synthesise", "the city should invest"
    if low.endswith("ing") and len(low) > 5 and after in lex.DETERMINERS | lex.PREPOSITIONS:
        return in_run or after in lex.DETERMINERS  # "expanding into", "a manager asking for"
    return False


def _plural(word: str) -> bool:
    low = word.lower()
    return low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 3


def _drop_verb(run: list[str]) -> bool:
    """Drop the verb that ends an inverted question's subject; False once done."""
    last = run[-1]
    if len(run) > 1 and last.islower() and not last.endswith(("s", "ing", "ed")):
        run.pop()
    return False


def _trim(run: list[str]) -> list[str]:
    """Without trailing adverbs ("reasoning clearly"); empty for a lone "doubled" or "quickly"."""
    while run and run[-1].lower().endswith("ly") and run[-1].lower() not in lex.LY_WORDS:
        run = run[:-1]
    return [] if len(run) == 1 and run[0].lower().endswith("ed") else run


def _common_capital(word: str, following: list[str], common: set[str]) -> bool:
    """A sentence-initial capital on a common word ("Electric cars"), not on a name ("Tesla")."""
    low = word.lower()
    if not (word[:1].isupper() and word[1:].islower()) or low.endswith(("'s", "’s")):
        return False
    if following and following[0][:1].isupper():
        return False  # "Goldman Sachs"
    return (
        low in common or low in lex.AMBIGUOUS or low in lex.DELIVERABLES or low.endswith(lex.COMMON_ENDINGS)
    )
