"""The sim model's writer: deterministic prose that visibly answers the prompt.

It reads three things from the chat messages: the task (its key phrases), the role the system
prompt gives ("You are a market research specialist..."), and what earlier agents wrote (lines
attributed like ``Researcher: ...`` in a user message, or assistant turns), then fills sentence
templates with them. Output is a list of word-like pieces (``" word"``, ``","``, ``"\\n\\n"``)
whose concatenation is the answer; the work is linear in the answer's length.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import _simwords as lex

_PIECE = re.compile(r"\n+|[ \t]*[\w'’\-]+|[ \t]*([^\w\s])\1*|\s+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-\ue000\ue001]*")
_TICKER = re.compile(r"\b([A-Z][\w'’\-]*) \(([A-Z][A-Z0-9.&]{0,5})\)")
_FRAGMENT_SPLIT = re.compile(r"([.,;:!?()\[\]{}\"“”<>|\n—–*#`=/\\]+|(?:^|\s)[-•]\s)")
_ROLE = re.compile(r"\b(?:you are|act as|acting as|your role is)\s+(?:an?|the)\s+([^.;:,!?\n()]+)", re.I)
_ROLE_CUT = re.compile(
    r"\s+(?:who|that|which|with|whose|responsible|tasked|focused|specializing|specialising|"
    r"working|for|in|at|on|from|to|and you|helping)\b.*$",
    re.I,
)
_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:\*\*|\[)?(?P<name>[A-Za-z][\w.\-]*(?: [A-Za-z0-9][\w.\-]*){0,3})(?:\*\*|\])?[ \t]*:"
    r"(?:\*\*)?[ \t]*(?P<rest>.*)$"
)


def pieces_of(text: str) -> list[str]:
    """Split text into word-like stream pieces; ``"".join(pieces_of(t)) == t``."""
    return [m.group(0) for m in _PIECE.finditer(text)]


@dataclass(frozen=True)
class Phrase:
    bare: str
    """As it appears: "electric vehicle market", "Norway"."""
    np: str
    """As a noun phrase in a sentence: "the electric vehicle market", "Norway"."""


@dataclass
class Prompt:
    """What the writer needs from the messages."""

    task: str = ""
    role: str | None = None
    system: str = ""
    context: list[tuple[str, str]] = field(default_factory=list)
    """(agent name, its text) for earlier agents, in order."""
    drafts: list[str] = field(default_factory=list)
    """This agent's own earlier answers (unnamed assistant turns)."""
    background: str = ""
    """Earlier user turns: where the topic comes from when the last turn is "make it shorter"."""


def message_text(message: dict) -> str:
    """The text of one chat message, tolerating None and multimodal part lists."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def read_prompt(messages: list[dict]) -> Prompt:
    """Pull task, role and earlier agents' outputs out of OpenAI-style messages."""
    prompt = Prompt()
    systems = [message_text(m) for m in messages if m.get("role") == "system"]
    prompt.system = "\n".join(systems)
    match = _ROLE.search(prompt.system)
    if match:
        role = _ROLE_CUT.sub("", match.group(1).strip())
        words = role.split()[:5]
        if words:
            prompt.role = " ".join(words)
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    for m in messages:
        if m.get("role") == "assistant":
            name = m.get("name")
            if name:
                prompt.context.append((str(name), message_text(m)))
            else:
                prompt.drafts.append(message_text(m))
    if users:
        task, context, drafts = _split_attributions(message_text(messages[users[-1]]))
        # a last turn that only carries context ("Researcher: ...") leaves the first turn as the task
        prompt.task = task or message_text(messages[users[0]])
        prompt.background = "\n".join(message_text(messages[i]) for i in reversed(users[:-1]))
        prompt.context.extend(context)
        prompt.drafts.extend(drafts)
    if not prompt.task.strip():
        prompt.task = prompt.system
    return prompt


def _split_attributions(text: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """Separate "Name: ..." blocks (earlier agents) from the task text."""
    task: list[str] = []
    blocks: list[tuple[str, list[str]]] = []
    current: list[str] = task
    for line in text.splitlines():
        match = _ATTRIBUTION.match(line)
        kind = _label_kind(match.group("name")) if match else None
        if kind is None:
            current.append(line)
            continue
        rest = match.group("rest")
        if kind == "task":
            current = task
        else:
            blocks.append((match.group("name"), []))
            current = blocks[-1][1]
        if rest:
            current.append(rest)
    context, drafts = [], []
    for name, lines in blocks:
        body = "\n".join(lines).strip()
        if not body:
            continue
        if name.lower() == "assistant":
            drafts.append(body)
        else:
            context.append((name, body))
    return "\n".join(task).strip(), context, drafts


def _label_kind(name: str) -> str | None:
    """'task', 'agent' or None (not an attribution: a heading inside a text, or prose)."""
    low = name.lower()
    if low in lex.TASK_LABELS:
        return "task"
    if low == "assistant":
        return "agent"  # an earlier answer of this agent: kept as a draft
    if low in lex.HEADING_LABELS or low.split()[0] in lex.HEADING_LABELS or low.split()[0] in lex.STOPWORDS:
        return None
    words = name.split()
    if all(w[0].isupper() or w[0].isdigit() or any(c in w for c in "_-") for w in words):
        return "agent"
    return None


def key_phrases(text: str, limit: int = 6, extra_stop: frozenset[str] = frozenset()) -> list[Phrase]:
    """The text's key noun phrases, best first (RAKE: runs of content words, scored by co-occurrence).

    Verbs break runs (imperatives, "you synthesise", "a city invest in"), so a phrase is a noun
    phrase; phrases that only name the deliverable ("the explanation") give way to its subject.
    """
    text = _TICKER.sub("\\1\ue000\\2\ue001", text[:4000])  # "Tesla (TSLA)" stays one word
    common = {w for w in _WORD.findall(text) if w.islower()}
    runs: list[list[str]] = []
    parts = _FRAGMENT_SPLIT.split(text)  # fragment, separator, fragment, ...
    for index in range(0, len(parts), 2):
        # after a sentence end (or a colon, bullet, heading) a first capital says nothing
        sentence_start = index == 0 or any(c in parts[index - 1] for c in ".!?:\n#*-•")
        words = _WORD.findall(parts[index])
        inverted = sentence_start and bool(words) and words[0].lower() in lex.INVERTING
        run: list[str] = []
        for i, word in enumerate(words):
            low = word.lower()
            if _breaks(words, i, bool(run), extra_stop):
                if inverted and run and low in lex.PREPOSITIONS | lex.DETERMINERS:
                    inverted = _drop_verb(run)  # "Should a city invest in": the subject ends on the verb
                runs.append(run)
                run = []
                continue
            if i == 0 and sentence_start and _common_capital(word, words[1:2], common):
                word = low  # capitalised only because it starts a sentence
            run.append(word)
        runs.append(run)
    runs = [r[-4:] for r in map(_trim, runs) if any(not w.isdigit() for w in r)]
    freq: dict[str, int] = {}
    degree: dict[str, int] = {}
    for run in runs:
        for word in run:
            key = word.lower()
            freq[key] = freq.get(key, 0) + 1
            degree[key] = degree.get(key, 0) + len(run)
    scored: dict[str, tuple[float, int, str]] = {}
    for order, run in enumerate(runs):
        bare = " ".join(run).replace("\ue000", " (").replace("\ue001", ")")
        key = bare.lower()
        if key not in scored:
            score = sum(degree[w.lower()] / freq[w.lower()] for w in run)
            scored[key] = (-score, order, bare)
    topical = [v for k, v in scored.items() if not set(k.split()) <= lex.DELIVERABLES]
    best = sorted(topical or scored.values())[:limit]
    return [Phrase(bare, _noun_phrase(bare)) for _, _, bare in best]


def _noun_phrase(bare: str) -> str:
    """With "the" unless a name or number leads: "Norway", "Tesla (TSLA) stock", "the European market"."""
    first, last = bare.split()[0], bare.split()[-1]
    demonym = first.endswith(("ean", "ian", "can", "ese", "ish")) and last[:1].islower()
    return bare if (first[0].isupper() or first[0].isdigit()) and not demonym else "the " + bare


def _breaks(words: list[str], i: int, in_run: bool, extra_stop: frozenset[str]) -> bool:
    """Whether ``words[i]`` is not part of a noun phrase (a stop word, a verb, an adverb)."""
    word, low = words[i], words[i].lower()
    prev = words[i - 1].lower() if i else ""
    following = words[i + 1] if i + 1 < len(words) else ""
    after = following.lower()
    if low in lex.STOPWORDS or low in extra_stop or (len(word) < 3 and not word.isupper()):
        return not (word == "New" and following[:1].isupper())  # "New Orleans"
    if in_run and low.endswith("ed") and len(low) > 4:
        return True  # "adoption accelerated": a verb
    if low in lex.AMBIGUOUS and (prev in lex.SUBJECTS or prev in lex.MODALS or after in lex.DETERMINERS):
        return True  # "report the findings", "we design"
    if word.islower() and not low.endswith("s") and (prev in lex.SUBJECTS or (prev in lex.MODALS and i > 1)):
        return True  # "you synthesise", "the city should invest"
    return low.endswith("ing") and len(low) > 5 and after in lex.DETERMINERS  # "expanding into"


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


class _Deck:
    """Deals items in shuffled rounds, so templates rotate instead of repeating at random."""

    def __init__(self, items: list, rng: random.Random) -> None:
        self._items, self._rng, self._hand = list(items), rng, []

    def deal(self):
        if not self._hand:
            self._hand = self._items[:]
            self._rng.shuffle(self._hand)
        return self._hand.pop()


class Writer:
    """Streams the answer for one prompt as (text, can_stop) fragments, without end.

    ``can_stop`` says the answer may end *before* that fragment: never inside a short list or
    right after a heading.
    """

    def __init__(self, prompt: Prompt, rng: random.Random) -> None:
        self.prompt, self.rng = prompt, rng
        topics = key_phrases(prompt.task)
        for extra in [prompt.background, *(text for _, text in prompt.context), *prompt.drafts]:
            if len(topics) >= 2:
                break
            seen = {p.bare.lower() for p in topics}
            topics += [p for p in key_phrases(extra, 4) if p.bare.lower() not in seen]
        topics = topics or [Phrase(p, p) for p in lex.FALLBACK_TOPICS]
        self.topic = topics[0]
        self.topics = _Deck(topics[:5], rng)
        role_text = prompt.system
        if prompt.role:
            role_text = role_text.replace(prompt.role, " ")
        # lenses read as plurals ("the {l} are"): "analysts' findings", not "recommendation"
        lenses = [p.bare for p in key_phrases(role_text, 3) if _plural(p.bare.split()[-1].lower())]
        lenses += lex.lenses_for(prompt.role or "")
        self.lens_list = list(dict.fromkeys(lenses))
        self.lenses = _Deck(self.lens_list, rng)
        self.decks = {name: _Deck(pool, rng) for name, pool in lex.POOLS.items()}
        task_words = {w.lower() for p in topics for w in p.bare.split()}
        self.points = [(name, _point_of(text, task_words, prompt.role)) for name, text in prompt.context[-4:]]
        self.draft_point = _point_of(prompt.drafts[-1], task_words, prompt.role) if prompt.drafts else None

    def _sentence(self, pool: str, **extra: str) -> str:
        lens = self.lenses.deal()
        other = self.lenses.deal()
        if other == lens and len(self.lens_list) > 1:
            other = self.lenses.deal()
        t = self.topics.deal()
        t2 = self.topics.deal()
        slots = {
            "t0": self.topic.np,
            "t": t.np,
            "t2": t2.np if t2 != t else self.topic.np,
            "l": lens,
            "l2": other,
            "role": self.prompt.role or "",
            "a_role": _article(self.prompt.role or ""),
            **extra,
        }
        text = self.decks[pool].deal().format_map(slots)
        return text[0].upper() + text[1:]

    def _paragraph(self, sentences: list[str], after_heading: bool = False) -> Iterator[tuple[str, bool]]:
        for i, sentence in enumerate(sentences):
            yield ("\n\n" if i == 0 else " ") + sentence, not (after_heading and i == 0)

    def title(self) -> str:
        topic = _title_case(self.topic.bare)
        suffix = self.decks["title"].deal()
        if self.prompt.role and self.rng.random() < 0.5:
            suffix = f": {_title_case(_article(self.prompt.role))} View"
        return f"## {topic}{suffix}"

    def fragments(self) -> Iterator[tuple[str, bool]]:
        yield self.title(), False
        opener = "open_role" if self.prompt.role else "open"
        yield from self._paragraph([self._sentence(opener), self._sentence("frame")])
        if self.points or self.draft_point:
            sentences = [self._sentence("context", agent=a, point=p) for a, p in self.points]
            if len(self.points) > 1:
                sentences.append(self._sentence("together"))
            if self.draft_point:
                sentences.append(self._sentence("draft", point=self.draft_point))
            yield from self._paragraph(sentences)
        yield from self._paragraph([self._sentence("body") for _ in range(3)])
        yield from self._bullets()
        while True:  # further sections for long answers (fill mode, large lengths)
            yield "\n\n### " + self._heading(), True
            body = [self._sentence("body") for _ in range(self.rng.randint(2, 4))]
            yield from self._paragraph(body, after_heading=True)
            if self.rng.random() < 0.5:
                yield from self._bullets()

    def _bullets(self) -> Iterator[tuple[str, bool]]:
        yield "\n\n" + self._sentence("intro"), True
        labels = self.decks["label"]
        for i in range(self.rng.randint(3, 4)):
            label = _title_case(labels.deal() if self.rng.random() < 0.6 else self.lenses.deal())
            yield f"\n- **{label}**: {self._sentence('bullet')}.", i >= 2

    def _heading(self) -> str:
        aspect = self.decks["label"].deal()
        if self.rng.random() < 0.4:
            return f"{_title_case(aspect)}: {_title_case(self.topics.deal().bare)}"
        return _title_case(aspect)

    def closing(self) -> str:
        role = self.prompt.role
        sentences = [self._sentence("close")]
        if role:
            sentences.append(self._sentence("close_role"))
        return "\n\n" + " ".join(sentences)


def _point_of(text: str, task_words: set[str], role: str | None) -> str:
    """The phrase to credit an earlier agent with: its key phrase that adds to the task's."""
    phrases = key_phrases(text, 12, lex.TEMPLATE_WORDS | set((role or "").lower().split()))
    fresh = [p for p in phrases if any(w.lower() not in task_words for w in p.bare.split())]
    short = [p for p in fresh if len(p.bare.split()) <= 3]  # long runs are often clauses, not names
    best = (short or fresh or phrases)[:1]
    return best[0].np if best else "their findings"


def _plural(word: str) -> bool:
    return word.endswith(("s", "s'")) and not word.endswith(("ss", "is", "us", "ics"))


def _article(role: str) -> str:
    return ("an " if role[:1].lower() in "aeio" else "a ") + role if role else ""


def _title_case(text: str) -> str:
    return " ".join(w if w[:1].isupper() else w[:1].upper() + w[1:] for w in text.split())


def compose(prompt: Prompt, rng: random.Random, target: int, fill: bool) -> list[str]:
    """Pieces of an answer of about ``target`` pieces (exactly ``target`` or more when ``fill``)."""
    writer = Writer(prompt, rng)
    pieces: list[str] = []
    closing = pieces_of(writer.closing())
    body_target = target if fill else target - len(closing)
    for text, can_stop in writer.fragments():  # can_stop: the answer may end before this text
        if can_stop and not fill and len(pieces) >= body_target:
            break
        pieces.extend(pieces_of(text))
        if fill and len(pieces) >= target:
            return pieces
    pieces.extend(closing)
    return pieces
