"""The sim's English prose genres: report, question, explanation, summary, list, email, review.

Each writer yields fragments (about a sentence each) in its genre's shape: a report has headers
and bullets, a question gets a direct answer first, an explanation goes step by step, a summary
is short, a list has exactly the items asked for, an email has a subject, a greeting and a
sign-off, a review (a critic or summariser after other agents) responds to what they wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import _simwords as lex
from ._simtext import Fragment, Pen, Writer, title_case

__all__ = ["WRITERS"]

P = lex.POOLS


def _open(pen: Pen) -> str:
    if pen.voice.explicit_role and not pen.maybe(0.5):
        return pen.sentence(P["open_role"])
    return pen.sentence(pen.stance("open"))


def _body_pool(pen: Pen) -> list[str]:
    """The stance's own sentences first, then the shared ones."""
    return pen.stance("body") + P["body"]


class Report(Writer):
    """A titled report: opening, hand-over, body, bullets, further sections for long answers."""

    reserve = 40

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        yield self.title(), False
        if pen.has_topic:
            yield from pen.paragraph([_open(pen), pen.sentence(P["frame"])])
        else:
            opening = f"this {pen.form or 'note'} sets out the main points, starting with the {{l}}."
            yield from pen.paragraph([pen.fill(opening)])
        cites = pen.citations()
        if cites:
            if len(pen.points) > 1:
                cites.append(pen.sentence(P["together"]))
            yield from pen.paragraph(cites)
        pool = _body_pool(pen)
        yield from pen.paragraph([pen.sentence(pool) for _ in range(pen.between(3, 4))])
        yield from self.bullets()
        while True:  # further sections for long answers (fill mode, large lengths)
            yield "\n\n### " + self.heading(), True
            body = [pen.sentence(pool) for _ in range(pen.between(2, 4))]
            yield from pen.paragraph(body, after_heading=True)
            if not pen.maybe(0.6):
                yield from self.bullets()

    def title(self) -> str:
        pen = self.pen
        fallback = pen.form or pen.voice.role or "notes"
        topic = title_case(pen.topic.bare if pen.has_topic else fallback)
        suffix = pen.pick(P["title"])
        if pen.voice.role and pen.maybe(0.5):
            suffix = f": {title_case(pen.voice.a_role)} View"
        return f"## {topic}{suffix}"

    def bullets(self) -> Iterator[Fragment]:
        pen = self.pen
        yield "\n\n" + pen.sentence(P["intro"]), True
        labels = pen.stance("labels") + P["label"]
        numbered = pen.maybe(0.4)
        for i in range(pen.between(3, 4)):
            label = title_case(pen.pick(labels))
            mark = f"{i + 1}." if numbered else "-"
            yield f"\n{mark} **{label}**: {pen.sentence(P['bullet'])}.", i >= 2

    def heading(self) -> str:
        pen = self.pen
        aspect = pen.pick(P["label"])
        if pen.maybe(0.6):
            return f"{title_case(aspect)}: {title_case(pen.topics.deal().bare)}"
        return title_case(aspect)

    def ending(self) -> Iterator[str]:
        pen = self.pen
        sentences = [pen.sentence(pen.stance("close"))]
        if pen.voice.role and pen.voice.stance in ("analyst", "neutral"):
            sentences.append(pen.sentence(P["close_role"]))
        yield "\n\n" + " ".join(sentences)


_YES_NO = re.compile(r"^(?:is|are|can|could|does|do|did|should|would|will)\b", re.I)
_ANSWERS = {
    "yes_no": [
        "yes, in most cases, as long as the {l} hold up.",
        "probably yes, but with a caveat about the {l}.",
        "not yet: the {l} do not support it today.",
    ],
    "sceptical": [
        "not yet: the case rests on the {l}, and nobody has checked them.",
        "not necessarily. The answer depends on the {l}, and the evidence is mixed.",
    ],
    "open": [
        "in short, the answer on {t0} comes down to the {l}.",
        "the short answer: it depends mostly on the {l}, and less on the {l2}.",
        "the direct answer is that the {l} drive what happens with {t0}.",
    ],
}
_REASONS = [
    "the main reason is that the {l} decide how {t} plays out.",
    "a second reason is the {l2}, which often get overlooked.",
    "the exception is when the {l} change quickly; then the answer can flip.",
    "to check this for your own case, compare the {l} before and after.",
]


class Answer(Writer):
    """A question: the direct answer first, then the reasons, no headers."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        kind = "yes_no" if _YES_NO.match(pen.prompt.task.strip()) else "open"
        if kind == "yes_no" and pen.voice.stance == "critic":
            kind = "sceptical"
        yield pen.sentence(_ANSWERS[kind]), False
        yield from (("\n\n" + c, True) for c in pen.citations())
        for i, reason in enumerate(_REASONS[: pen.between(2, 4)]):
            yield ("\n\n" if i == 0 else " ") + pen.fill(reason), i > 0
        while True:
            yield " " + pen.sentence(_body_pool(pen)), True

    def ending(self) -> Iterator[str]:
        yield "\n\n" + self.pen.sentence(self.pen.stance("close"))


_STEPS = [
    ("start with the basics", "at its core, the idea behind {t0} is how the {l} fit together."),
    ("look at the inputs", "everything in {t} begins with the {l}, so those come first."),
    ("follow the mechanism", "the {l} change the {l2}, and that change is what drives {t}."),
    ("check an example", "picture a simple case of {t}: change one of the {l} and watch the result."),
    ("note the limits", "the picture breaks down when the {l2} are unusual, so keep that in mind."),
    ("put it together", "once these steps are clear, the workings of {t0} stop looking like a black box."),
]


_EXPLAIN_LENSES = ["inputs", "moving parts", "signals", "feedback loops", "basic rules"]


class Explain(Writer):
    """An explanation: what it is, then numbered steps, then a one-line recap."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        if pen.voice.stance == "neutral" and not pen.voice.explicit_role:
            pen.use_lenses(_EXPLAIN_LENSES)  # how a thing works, not its costs and risks
        intro = pen.pick(
            ["here is how {t0} work{s0}, step by step.", "let me explain {t0} one step at a time."]
        )
        yield pen.fill(intro), False
        yield from (("\n\n" + c, True) for c in pen.citations())
        for count, (label, text) in enumerate(_STEPS, 1):
            yield f"\n\n{count}. **{title_case(label)}.** {pen.fill(text)}", count > 3
            if pen.maybe(0.5):
                yield " " + pen.sentence(_body_pool(pen)), True
        while True:  # long answers: more on the last step
            yield "\n\n" + pen.sentence(_body_pool(pen)), True
            yield " " + pen.sentence(_body_pool(pen)), True

    def ending(self) -> Iterator[str]:
        yield "\n\n" + self.pen.fill("in short: with {t0}, the {l} work through the {l2}.")


class Summary(Writer):
    """A summary: a few short sentences (or three bullets), nothing more."""

    reserve = 10

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        lead = pen.pick(
            [
                "**Summary:** the case for {t0} turns on the {l}.",
                "in brief, the case for {t0} turns on the {l}.",
            ]
        )
        yield pen.fill(lead), False
        points = pen.citations() or [pen.sentence(_body_pool(pen)) for _ in range(3)]
        bullets = pen.maybe(0.5)
        for i, point in enumerate(points):
            yield ("\n- " if bullets else " ") + point, i >= 1
        while True:
            yield " " + pen.sentence(_body_pool(pen)), True

    def ending(self) -> Iterator[str]:
        yield "\n\n" + self.pen.fill("bottom line: watch the {l}.")


_ITEM_POOLS = {
    "tips": [
        "start small and build the habit",
        "keep a simple log for a week",
        "write down what works and repeat it",
        "remove one obstacle at a time",
        "ask someone to hold you to it",
        "set a fixed time and protect it",
        "keep the routine simple enough to keep",
        "plan for the bad days in advance",
        "review what changed every month",
        "cut the one habit that works against {t}",
    ],
    "items": [
        "the {l} behind {t}",
        "how {t} changes the {l2}",
        "the cost of {t} over time",
        "who gains most from {t}",
        "the long-term effect on the {l}",
        "the risks that come with {t}",
        "how {t} compares with the alternatives",
        "the evidence on {t} so far",
    ],
}
_ITEM_DETAIL = [
    "it is easy to overlook, yet it changes the outcome.",
    "start here if time is short.",
    "the effect is small at first and grows.",
    "this makes {t} easier to sustain.",
    "small, steady changes beat big resolutions.",
    "most people notice a difference within two weeks.",
    "it costs little and pays off quickly.",
]
_LIST_NOUN = re.compile(
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+)?"
    r"(tips|ways|steps|ideas|reasons|risks|benefits|examples|facts|habits|strategies|causes|effects|things)\b"
    r"( (?:to|for|of|why|about|on|in) [^.?!:;\n{}]{3,60})?",
    re.I,
)
_TIP_WORDS = re.compile(r"\b(?:tips?|ways|steps|how to|ideas|strateg|habits?)", re.I)


class Numbered(Writer):
    """ "List N things": an intro line, exactly N numbered items, and a short closing line."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        count = pen.task.count or 5
        match = _LIST_NOUN.search(pen.prompt.task)
        noun = match.group(1).lower() if match else "points"
        if match and match.group(2):
            intro = f"here are {count} {noun} {match.group(2).strip()}:"  # the task's own words
        elif noun == "reasons":
            intro = f"here are {count} reasons why {{t0}} matter{{s0}}:"
        elif noun in ("risks", "benefits", "examples", "facts", "causes", "effects"):
            intro = f"here are {count} {noun} of {{t0}}:"
        else:
            intro = f"here are {count} {noun} for {{t0}}:"
        yield pen.fill(intro), False
        pool = _ITEM_POOLS["tips" if _TIP_WORDS.search(noun) else "items"]
        for i in range(count):
            item = pen.fill(pen.pick(pool))
            detail = f" — {pen.sentence(_ITEM_DETAIL)}" if not pen.maybe(0.4) else "."
            yield f"\n{i + 1}. **{item}**{detail}", False

    def ending(self) -> Iterator[str]:
        if not self.pen.maybe(0.5):
            yield "\n\n" + self.pen.fill("pick the one that fits your situation best and start there.")


_GREETING = re.compile(r"\bto (?:my |our |the |a |an )?([a-z]+(?: team)?)\b", re.I)
_PURPOSE = re.compile(
    r"\b(?:asking (?:for|about)|requesting|to request|to ask for|about|regarding|on|announcing|inviting)"
    r" ([^.,;!?\n]{3,60})",
    re.I,
)
_EMAIL_BODY = [
    "I have checked the timing, and I believe it works for everyone involved.",
    "if it helps, I am happy to hand over anything that needs attention before then.",
    "I have kept the details short here, but I can send more if that is useful.",
    "please let me know if you have any questions, or if another time would suit you better.",
    "I would be grateful for a reply by the end of the week.",
    "thank you for considering this.",
    "I have attached the details below for reference.",
    "nothing else changes for now, and I will confirm once it is settled.",
    "happy to talk it through in person if that is easier.",
    "I know timing is tight, so I wanted to flag this early.",
    "if anything is unclear, just reply to this email.",
    "I will follow up next week with an update.",
]


class Email(Writer):
    """An email: subject, greeting, short paragraphs, sign-off with the agent's name."""

    reserve = 12

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        task = pen.prompt.task
        purpose = _PURPOSE.search(task)
        about = purpose.group(1).strip() if purpose else pen.topic.bare
        yield f"Subject: {title_case(about)}", False
        match = _GREETING.search(task)
        who = match.group(1).lower() if match else "team"
        if who in lex.STOPWORDS or who in ("write", "send", "draft", "ask", "request"):
            who = "team"
        greeting = f"Hi {who}," if who.endswith("team") or pen.maybe(0.5) else f"Dear {title_case(who)},"
        yield "\n\n" + greeting, False
        opener = pen.pick(["I hope you are well. I am writing about {about}.", "I am writing about {about}."])
        yield "\n\n" + pen.fill(opener, about=about), False
        yield " " + pen.sentence(_EMAIL_BODY), False
        yield from (("\n\n" + c, True) for c in pen.citations())
        yield "\n\n" + pen.sentence(_EMAIL_BODY), True
        while True:
            yield " " + pen.sentence(_EMAIL_BODY), True

    def ending(self) -> Iterator[str]:
        pen = self.pen
        name = pen.voice.name if pen.voice.name and pen.voice.name[:1].isupper() else "Alex"
        yield "\n\n" + pen.pick(["Best regards,", "Thanks,", "Kind regards,"]) + "\n" + name


class Review(Writer):
    """A critic or summariser after other agents: responds to what each of them wrote."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        names = [name for name, _ in pen.points]
        who = " and ".join(names[:2]) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]
        if pen.voice.stance == "critic":
            head = pen.pick([f"## Review of {who}'s work on {{T0}}", f"## Where {who} may be wrong"])
        else:
            head = pen.pick([f"## Bringing together {who} on {{T0}}", "## Synthesis: {T0}"])
        yield pen.fill(head.replace("{T0}", title_case(pen.topic.bare))), False
        yield from pen.paragraph([pen.sentence(pen.stance("open"))])
        yield from pen.paragraph(pen.citations())
        labels = pen.stance("labels")
        for i, label in enumerate(labels[:3] if len(labels) >= 3 else labels):
            yield f"\n- **{title_case(label)}**: {pen.sentence(pen.stance('body') + P['body'])}", i >= 2
        while True:
            yield "\n\n" + pen.sentence(_body_pool(pen)), True

    def ending(self) -> Iterator[str]:
        yield "\n\n" + self.pen.sentence(self.pen.stance("close"))


_CRAFT = [
    ("opening", "the first lines set the scene quickly, which is exactly what a short piece needs."),
    ("characters", "the two main characters feel distinct, though one of them needs a clearer want."),
    ("dialogue", "the dialogue is natural; a few lines could go without losing anything."),
    ("pacing", "the middle slows down; cutting one scene would keep the tension up."),
    ("imagery", "the concrete details (the rain, the steps, the map) do more work than the summary lines."),
    ("ending", "the ending lands, but it could be set up a little earlier."),
]
_LINE_NOTES = [
    'the line "{quote}" works: it shows rather than tells.',
    'I would keep "{quote}", it is the strongest moment.',
    'I would cut or rework "{quote}": it tells the reader what to feel.',
]


class Critique(Writer):
    """A critic (or editor) after a story or poem: notes on the craft, quoting the text."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        names = " and ".join(name for name, _ in pen.points[:2]) or "the author"
        form = "poem" if pen.task.genre in ("poem", "haiku") else "story"
        yield f"**Notes on {names}'s {form}**", False
        verdict = pen.pick(
            [
                "a promising draft: here is what works and what does not.",
                "good bones, and a few places where it can be tighter.",
            ]
        )
        yield "\n\n" + verdict[:1].upper() + verdict[1:], False
        for _, quote in pen.points[:2]:
            if quote:
                note = pen.pick(_LINE_NOTES).format(quote=quote[:1].upper() + quote[1:])
                yield " " + note[:1].upper() + note[1:], True
        for i, (label, text) in enumerate(_CRAFT[: pen.between(4, 6)]):
            yield f"\n- **{label.capitalize()}**: {text[:1].upper() + text[1:]}", i >= 2

    def ending(self) -> Iterator[str]:
        yield "\n\n" + self.pen.pick(
            ["With a tighter middle, this could be very good.", "One more pass and it is ready."]
        )


WRITERS: dict[str, type[Writer]] = {
    "critique": Critique,
    "report": Report,
    "question": Answer,
    "explain": Explain,
    "summary": Summary,
    "list": Numbered,
    "email": Email,
    "review": Review,
}
