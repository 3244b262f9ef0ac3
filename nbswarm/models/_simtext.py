"""The sim model's writer: deterministic text that answers the prompt, generated incrementally.

``Composer`` reads the messages (``_simtask``), the speaking agent's voice (``_simvoice``) and
the task's key phrases (``_simphrase``), picks a genre writer (``_simprose``, ``_simcreative``)
or, for a task in another language, ``_simlang``, and yields the answer a fragment (about a
sentence) at a time, so a stream's first token costs one sentence, not a whole answer.

Determinism and temperature: every choice comes from one ``random.Random`` seeded by the prompt,
the agent, and, when the temperature is above 0, the seeds. Temperature sets the ``variety``
(0 to 1): how much of each template pool is in play, how often words are swapped for synonyms,
and how freely the structure (paragraph counts, list style, openings) varies. At 0 a prompt gets
one text whatever the seed.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import _simwords as lex
from ._simphrase import Phrase, key_phrases, noun_phrase
from ._simtask import Prompt, Task, analyse
from ._simvoice import PHRASEBOOK, Voice

__all__ = ["Budget", "Composer", "Pen", "quote_of"]

Fragment = tuple[str, bool]
"""(text, can_stop): ``can_stop`` says the answer may end *before* this text."""

DEFAULT_TEMPERATURE = 1.0
"""What the sim assumes when a request sends no temperature (the OpenAI API's default)."""


@dataclass
class Budget:
    """Tokens the answer has used so far, kept up to date by whoever tokenises the fragments."""

    target: int
    fill: bool = False
    used: int = 0

    def spent(self, reserve: int = 0) -> bool:
        return not self.fill and self.used >= self.target - reserve


class _Deck:
    """Deals items in shuffled rounds, so templates rotate instead of repeating at random."""

    def __init__(self, items: list, rng: random.Random) -> None:
        self._items, self._rng, self._hand, self._last = list(items), rng, [], None

    def deal(self):  # type: ignore[no-untyped-def]
        if not self._hand:
            self._hand = self._items[:]
            self._rng.shuffle(self._hand)
            if len(self._hand) > 1 and self._hand[-1] == self._last:
                self._hand[0], self._hand[-1] = self._hand[-1], self._hand[0]  # no item twice in a row
        self._last = self._hand.pop()
        return self._last


_SYNONYMS = {
    "important": ["crucial", "central", "key"],
    "clear": ["plain", "evident"],
    "useful": ["helpful", "valuable"],
    "shows": ["suggests", "indicates"],
    "matter": ["count", "weigh"],
    "simple": ["plain", "straightforward"],
    "careful": ["close", "patient"],
    "strongest": ["clearest", "firmest"],
    "quickly": ["fast", "soon"],
    "often": ["frequently", "regularly"],
    "start": ["begin"],
    "picture": ["view", "image"],
    "problem": ["issue", "difficulty"],
    "small": ["modest", "minor"],
    "large": ["big", "sizeable"],
    "quietly": ["softly", "slowly"],
}
_SYNONYM_WORD = re.compile(r"\b(" + "|".join(_SYNONYMS) + r")\b")


class Pen:
    """Shared by the genre writers: the random stream, the temperature, the topics and the voice."""

    def __init__(
        self,
        prompt: Prompt,
        task: Task,
        voice: Voice,
        rng: random.Random,
        temperature: float,
        budget: Budget,
    ) -> None:
        self.prompt, self.task, self.voice, self.rng, self.budget = prompt, task, voice, rng, budget
        self.variety = min(max(temperature, 0.0), 2.0) / 2.0
        topics = [p for p in key_phrases(prompt.task) if not _deliverable(p)]
        creative = task.genre in ("story", "poem", "haiku")  # a story's phrases are no topics
        extras = [prompt.background] if creative else [prompt.background, *(t for _, t in prompt.context)]
        for extra in extras + ([] if creative else prompt.drafts):
            if len(topics) >= 2:
                break
            seen = {p.bare.lower() for p in topics}
            topics += [p for p in key_phrases(extra, 4) if p.bare.lower() not in seen and not _deliverable(p)]
        self.has_topic = bool(topics)
        forms = [p.bare for p in key_phrases(prompt.task) if _deliverable(p)]
        self.form = forms[0].split()[-1].lower() if forms else None
        """What the task asks for when it names only a form ("Generate report": "report")."""
        self.topic_list = topics or [Phrase(p, p) for p in lex.FALLBACK_TOPICS]
        self.topic = self.topic_list[0]
        self.topics = _Deck(self.topic_list[:5], rng)
        self._lens_list: list[str] | None = None  # worked out on first use (see ``lenses``)
        self._lenses: _Deck | None = None
        self._decks: dict[tuple, _Deck] = {}
        names = frozenset(name for name, _ in prompt.context)
        self.points = [(name, quote_of(text, rng, names)) for name, text in prompt.context[-4:]]
        self.draft_point = quote_of(prompt.drafts[-1], rng, names) if prompt.drafts else None

    def use_lenses(self, lenses: list[str]) -> None:
        """Look at the topic through these (plural nouns, as in "the {l} are")."""
        self._lens_list = list(lenses)
        self._lenses = _Deck(self._lens_list, self.rng)

    @property
    def lens_list(self) -> list[str]:
        if self._lens_list is None:
            topic_words = {w.lower() for p in self.topic_list for w in p.bare.split()}
            own = [x for x in self.voice.lenses if not set(x.lower().split()) & topic_words]
            self.use_lenses(own or ["goals", "constraints", "trade-offs"])
        return self._lens_list  # type: ignore[return-value]

    @property
    def lenses(self) -> _Deck:
        self.lens_list  # noqa: B018  (works the lenses out on first use)
        return self._lenses  # type: ignore[return-value]

    # -- choices that follow the temperature ------------------------------------------------------
    def pick(self, pool: list):  # type: ignore[no-untyped-def]
        """One item of ``pool``, rotating; low temperature keeps to the pool's first (plainest) items."""
        key = tuple(pool)
        deck = self._decks.get(key)
        if deck is None:
            size = max(1, min(len(pool), math.ceil(len(pool) * (0.4 + 0.6 * self.variety))))
            deck = self._decks[key] = _Deck(pool[:size], self.rng)
        return deck.deal()

    def maybe(self, chance: float) -> bool:
        """A structural coin: never at temperature 0, up to ``chance`` at the top of the range."""
        return self.variety > 0 and self.rng.random() < chance * self.variety

    def between(self, low: int, high: int) -> int:
        """A count from ``low`` to ``high``: ``low`` at temperature 0, the full range higher up."""
        return low + round(self.rng.random() * (high - low) * min(1.0, 2 * self.variety))

    def stance(self, key: str) -> list[str]:
        book = PHRASEBOOK.get(self.voice.stance, PHRASEBOOK["neutral"])
        return book.get(key) or PHRASEBOOK["neutral"][key]

    # -- filling templates ----------------------------------------------------------------------
    def fill(self, template: str, **extra: str) -> str:
        """``template`` with its slots filled so no phrase stands against itself ("the X and the X")."""
        t = self.topics.deal()
        others = [p for p in self.topic_list[:5] if p != t]
        t2 = self.rng.choice(others) if others else None
        lens = self.lenses.deal()
        other_lenses = [x for x in self.lens_list if x != lens]
        lens2 = self.rng.choice(other_lenses) if other_lenses else lens
        if t2 is None and "{t2}" in template:
            template = template.replace("{t2}", "its wider context")
        if lens2 == lens and "{l2}" in template:
            template = template.replace("the {l2}", "the wider picture").replace("{l2}", "the wider picture")
        slots = {
            "t0": self.topic.np,
            "s0": "" if _is_plural(self.topic.bare) else "s",  # "how neural networks work", "how X works"
            "t": t.np,
            "t2": t2.np if t2 else "",
            "T0": self.topic.bare,
            "l": lens,
            "l2": lens2,
            "role": self.voice.role or "",
            "a_role": self.voice.a_role or "someone new to this",
            "name": self.voice.name,
            **extra,
        }
        text = template.format_map(slots)
        if self.variety > 0:
            text = _SYNONYM_WORD.sub(self._synonym, text)
        return text[:1].upper() + text[1:]

    def _synonym(self, match: re.Match[str]) -> str:
        word = match.group(1)
        if self.rng.random() < 0.3 * self.variety:
            return self.rng.choice(_SYNONYMS[word])
        return word

    def sentence(self, pool: list[str], **extra: str) -> str:
        return self.fill(self.pick(pool), **extra)

    def paragraph(self, sentences: list[str], after_heading: bool = False) -> Iterator[Fragment]:
        for i, sentence in enumerate(sentences):
            yield ("\n\n" if i == 0 else " ") + sentence, not (after_heading and i == 0)

    # -- hand-over --------------------------------------------------------------------------------
    def citations(self) -> list[str]:
        """One sentence per earlier agent, quoting or paraphrasing a specific point of its text."""
        out = []
        for agent, quote in self.points:
            if not quote:
                continue
            if _FIRST_PERSON.search(quote):  # "I would treat..." can only be quoted, not reported
                template = self.pick(['{agent} wrote: "{quote}."', 'in {agent}\'s words: "{quote}."'])
                quote = quote[:1].upper() + quote[1:]
            else:
                template = self.pick(self.stance("cite"))
            out.append(self.fill(template, agent=agent, quote=quote))
        if self.draft_point:
            template = self.pick(_DRAFT)
            out.append(self.fill(template, quote=self.draft_point))
        return out


def _is_plural(bare: str) -> bool:
    last = bare.split()[-1]
    return (
        last.endswith("s") and not last.endswith(("ss", "us", "is")) and last.islower()
    ) or last == "people"


def _deliverable(phrase: Phrase) -> bool:
    """Only names the form ("the creative story", "5 tips"), not a subject."""
    return all(w.lower() in lex.DELIVERABLES or w[:1].isdigit() for w in phrase.bare.split())


_FIRST_PERSON = re.compile(r"\b(?:I|my|me|we|our)\b")
_DRAFT = [
    "revisiting my previous draft, where I wrote that {quote}, I tighten the argument and fill the gaps.",
    "this pass refines my earlier answer ({quote}) rather than starting over.",
]
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]?")
_LABEL = re.compile(r"^\s*(?:[-*•]|\d+[.)])?\s*(?:\*\*[^*]{1,40}\*\*\s*:?|[A-Z][\w -]{1,30}:)\s*")


def quote_of(text: str, rng: random.Random, others: frozenset[str] = frozenset()) -> str:
    """A specific point of ``text`` to quote: one of its most topical whole sentences (7 to 18
    words), never one where it quotes ``others`` in turn."""
    candidates: list[tuple[int, str]] = []
    for line in text.splitlines()[:80]:
        line = line.strip()
        if not line or line.startswith(("#", "```", "|")):
            continue
        line = _LABEL.sub("", line)
        for match in _SENTENCE.finditer(line):
            sentence = match.group(0).strip().rstrip(".!?。！？").strip()
            words = sentence.split()
            if len(words) == 1 and len(sentence) > 12:  # Chinese or Japanese: no spaces between words
                words = [sentence[i : i + 2] for i in range(0, len(sentence), 2)]
            if not 7 <= len(words) <= 18 or '"' in sentence or any(name in sentence for name in others):
                continue
            score = sum(len(w) > 6 for w in words) - len(candidates) // 4
            candidates.append((score, sentence))
        if len(candidates) >= 12:
            break
    if not candidates:
        phrases = key_phrases(text, 1)
        return phrases[0].np if phrases else ""
    candidates.sort(key=lambda c: -c[0])
    clause = rng.choice(candidates[:2])[1]
    first = clause.split()[0]
    low = first.lower()
    if first != "I" and first[1:].islower() and (low in lex.STOPWORDS or low.endswith(lex.COMMON_ENDINGS)):
        clause = clause[0].lower() + clause[1:]  # a sentence's capital, not a name's
    return clause


# -- composition ----------------------------------------------------------------------------------
_GENRE_LENGTH = {  # typical length relative to the profile's ``length`` (open genres only)
    "report": 1.0, "explain": 0.8, "question": 0.5, "summary": 0.3, "email": 0.5, "story": 1.2,
    "review": 0.7, "critique": 0.6, "list": 1.0, "poem": 1.0, "haiku": 1.0, "code": 1.0,
}  # fmt: skip


@dataclass
class Composer:
    """Yields the answer for one prompt, fragment by fragment (see the module docstring)."""

    prompt: Prompt
    voice: Voice
    rng: random.Random
    temperature: float
    budget: Budget
    task: Task = field(init=False)
    genre: str = field(init=False)

    def __post_init__(self) -> None:
        self.task = analyse(self.prompt.task)
        self.genre = self.task.genre
        if self.prompt.context and self.voice.stance in ("critic", "summariser"):
            # a critic after others reviews what they wrote: as writing, if they wrote a story or poem
            self.genre = "critique" if self.genre in ("story", "poem", "haiku") else "review"
        self.budget.target = max(1, round(self.budget.target * _GENRE_LENGTH.get(self.genre, 1.0)))

    def fragments(self) -> Iterator[str]:
        """The answer's text, in order; ends where the answer ends (never, in fill mode)."""
        from . import _simcreative, _simlang, _simprose

        if self.task.language != "en" and self.genre != "code":
            writer = _simlang.writer(self.task, self)
        else:
            pen = Pen(self.prompt, self.task, self.voice, self.rng, self.temperature, self.budget)
            writer = (_simcreative.WRITERS | _simprose.WRITERS)[self.genre](pen)
        yield from _bounded(writer, self.budget)


def _bounded(writer: Writer, budget: Budget) -> Iterator[str]:
    """The writer's body until the budget is spent (at a point where it may stop), then its ending;
    in fill mode, body after body until the consumer stops reading."""
    while True:
        for text, can_stop in writer.body():
            if can_stop and budget.spent(reserve=writer.reserve):
                break
            yield text
        yield from writer.ending()
        if not budget.fill:
            return
        writer = writer.again()


class Writer:
    """A genre writer: ``body()`` (may be endless), ``ending()``, and ``again()`` for fill mode."""

    reserve = 20
    """Tokens kept for the ending when deciding where the body stops."""

    def __init__(self, pen: Pen) -> None:
        self.pen = pen

    def body(self) -> Iterator[Fragment]:
        raise NotImplementedError

    def ending(self) -> Iterator[str]:
        return iter(())

    def again(self) -> Writer:
        """Another piece in the same genre, for fill mode (a second haiku, a further section)."""
        return type(self)(self.pen)


def title_case(text: str) -> str:
    small = {"a", "an", "the", "of", "and", "or", "in", "on", "for", "to", "at", "by", "with", "from"}
    words = text.split()
    return " ".join(
        w if w[:1].isupper() or (i and w in small) else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


__all__ += ["Fragment", "Writer", "article", "noun_phrase", "title_case"]
