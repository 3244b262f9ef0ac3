"""Voices for the sim model: an agent's name, description and system prompt shape how it writes.

A voice has a role ("market research specialist"), a stance (critic, researcher, analyst,
writer, planner, summariser, engineer, teacher, or neutral) and lenses (plural nouns it looks
through: "cash flows", "weak claims"). The stance picks the openings, body sentences, bullet
labels, closings, and the way the agent refers to earlier agents: a critic pushes back, a
summariser weighs, a researcher cites. Two agents never share a voice's random stream: the name
is part of the seed, so even two unnamed, prompt-less agents write different text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from . import _simwords as lex
from ._simphrase import key_phrases

__all__ = ["STANCES", "Voice", "voice_of"]

_ROLE = re.compile(r"\b(?:you are|act as|acting as|your role is)\s+(?:an?|the)\s+([^.;:,!?\n()]+)", re.I)
_DESC_ROLE = re.compile(r"^\s*(?:an?|the)\s+([^.;:,!?\n()]+)", re.I)
_ROLE_CUT = re.compile(
    r"\s+(?:who|that|which|with|whose|responsible|tasked|focused|specializing|specialising|"
    r"working|for|in|at|on|from|to|and you|helping)\b.*$",
    re.I,
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|[-_]+")

# stance: keywords (matched as word starts in name, description and system prompt), first wins
_STANCE_KEYS = [
    ("critic", "critic critiq review skeptic sceptic audit challeng devil red-team qa fact-check verif"),
    ("summariser", "summar synthes aggregat final consolidat editor merg judge"),
    ("planner", "plan strateg coordinat manag lead director orchestrat architect"),
    ("engineer", "engineer develop code coder program software devops"),
    ("writer", "writ author stor poet novel copy journal narrat creative edit"),
    ("teacher", "teach tutor educat explain mentor coach"),
    ("researcher", "research scien scholar investigat historian librarian fact"),
    ("analyst", "analy data statist quant financ market econom trad invest"),
]
STANCES = ("neutral", *[s for s, _ in _STANCE_KEYS])
_STANCE_RES = [
    (stance, re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(k) for k in keys.split()) + ")"))
    for stance, keys in _STANCE_KEYS
]


@dataclass(frozen=True)
class Voice:
    """How one agent writes."""

    name: str = ""
    role: str | None = None
    stance: str = "neutral"
    role_text: str = ""
    """The description and system prompt less the role: where the voice's own lenses come from."""
    explicit_role: bool = False
    """The role was given (system prompt or description), not guessed from the name."""

    @functools.cached_property
    def lenses(self) -> tuple[str, ...]:
        """Plural nouns the voice looks through ("the {l} are"): its prompt's own ("analysts'
        findings", never a verb like "specializes"), then its role's. Worked out on first use, not
        before the first token."""
        own = [p.bare for p in key_phrases(self.role_text, 3) if _plural(p.bare.split()[-1].lower())]
        return tuple(dict.fromkeys(own + lex.lenses_for(" ".join([self.role or "", self.stance]))))

    @property
    def a_role(self) -> str:
        role = self.role or ""
        return ("an " if role[:1].lower() in "aeio" else "a ") + role if role else ""


@functools.lru_cache(maxsize=1024)
def voice_of(name: str, description: str, system: str) -> Voice:
    """The voice of an agent called ``name`` with this description and system prompt (cached: an
    agent's voice is worked out once, not on every turn)."""
    given = _role(system) or _role_of_description(description)
    role = given or _role_of_name(name)
    # the role speaks first ("You are an editor. Merge the critique..." is an editor), then the
    # name, the description, and the rest of the system prompt
    sources = [given or "", f"{name.replace('_', ' ')} {_CAMEL.sub(' ', name)}", description, system]
    stance = next(
        (s for text in sources for s, pattern in _STANCE_RES if text and pattern.search(text.lower())),
        "neutral",
    )
    role_text = " ".join([system, description])
    if role:
        role_text = role_text.replace(role, " ")
    return Voice(name=name, role=role, stance=stance, explicit_role=given is not None, role_text=role_text)


def _role(system: str) -> str | None:
    match = _ROLE.search(system)
    return _clean_role(match.group(1)) if match else None


def _role_of_description(description: str) -> str | None:
    match = _DESC_ROLE.match(description)
    return _clean_role(match.group(1)) if match else None


def _clean_role(text: str) -> str | None:
    role = _ROLE_CUT.sub("", text.strip())
    words = [w for w in role.split()[:5] if w.lower() not in lex.VERBS]
    return " ".join(words) if words else None


def _role_of_name(name: str) -> str | None:
    """ "Risk-Analyst" -> "risk analyst", "CodeReviewer" -> "code reviewer"; None for "Agent 3"."""
    words = [w.lower() for w in _CAMEL.sub(" ", name).split() if w.isalpha()]
    if not words or words[-1] in ("agent", "assistant", "bot", "model", "llm", "worker"):
        return None
    return " ".join(words)


def _plural(word: str) -> bool:
    return (
        word.endswith(("s", "s'"))
        and not word.endswith(("ss", "is", "us", "ics"))
        and word not in lex.VERBS
        and word[:-1] not in lex.VERBS
    )


# -- what each stance says ------------------------------------------------------------------------
# Slots: {t0} main topic, {t} {t2} task phrases, {l} {l2} lenses, {a_role}, {agent} {quote} {point}.
PHRASEBOOK: dict[str, dict[str, list[str]]] = {
    "neutral": {
        "open": [
            "here is a structured look at {t0}, starting with the {l} that matter most.",
            "a good way into {t0} is to separate the {l} from the {l2}.",
            "it is easier to reason about {t0} once the {l} are laid out clearly.",
        ],
        "body": [
            "it helps to treat {t} as a set of trade-offs rather than a single decision.",
            "small changes in the {l} can shift the outlook for {t} noticeably.",
        ],
        "cite": ["{agent} points out that {quote}.", "as {agent} put it, {quote}."],
        "labels": ["scope", "evidence", "risks", "next steps"],
        "close": ["the next step is to turn these points on {t0} into two or three concrete actions."],
    },
    "critic": {
        "open": [
            "before accepting any conclusion on {t0}, I want to test the {l} behind it.",
            "my job here is to find what could be wrong with the case for {t0}.",
            "the argument about {t0} has gaps, and the {l} are where they show.",
        ],
        "body": [
            "any claim about {t} rests on the {l}, and those have not been checked.",
            "I would push back on any plan for {t} that ignores the {l2}.",
            "what is missing is a fair test: what result on {t} would change our minds?",
            "the evidence on {t} is thinner than it looks once the {l} are separated from opinion.",
        ],
        "cite": [
            '{agent} says "{quote}", but that needs evidence before we build on it.',
            "{agent} argues that {quote}; I am not convinced yet.",
            "I disagree with {agent} on one point: {quote} is an assumption, not a finding.",
        ],
        "labels": ["weak claim", "missing evidence", "hidden assumption", "risk", "what would convince me"],
        "close": [
            "until the {l} are checked, I would treat every conclusion on {t0} as provisional.",
            "my verdict: promising, but not yet proven.",
        ],
    },
    "researcher": {
        "open": [
            "I started by gathering what is known about {t0}, and what the {l} say.",
            "the evidence on {t0} falls into three groups, and the {l} tie them together.",
        ],
        "body": [
            "published data on {t} points one way, although the {l} vary by source.",
            "two findings about {t} stand out, and both come from the {l}.",
            "the record on {t} is uneven, so I note where each claim comes from.",
        ],
        "cite": ["{agent} found that {quote}, which matches what I see in the {l}."],
        "labels": ["finding", "source", "data gap", "open question"],
        "close": ["the main gap in what we know about {t0} is the {l2}; that is where to look next."],
    },
    "analyst": {
        "open": [
            "as {a_role}, I would start with {t0} and the {l} that drive it.",
            "my reading of {t0} centres on the {l} first and the {l2} second.",
        ],
        "body": [
            "on the numbers, the outlook for {t} depends more on the {l} than on any single event.",
            "the {l} and the {l2} around {t} move together, which matters for any forecast.",
            "a base case, an upside and a downside for {t} differ mainly in the {l}.",
        ],
        "cite": ["{agent}'s point that {quote} changes the base case."],
        "labels": ["key drivers", "base case", "downside risk", "metrics to watch"],
        "close": ["on balance, the outlook for {t0} is positive, provided the {l} hold up."],
    },
    "writer": {
        "open": ["the heart of {t0} is a simple idea, and the {l} carry it."],
        "body": [
            "told plainly, the story of {t} is about people making choices under pressure.",
            "readers care about {t} when they can picture it, so concrete examples come first.",
        ],
        "cite": ["{agent}'s line that {quote} is worth keeping."],
        "labels": ["message", "audience", "tone", "example"],
        "close": ["that gives a draft on {t0} that reads well aloud."],
    },
    "planner": {
        "open": ["here is how I would organise the work on {t0}, in order of priority."],
        "body": [
            "the first milestone for {t} is a small, measurable step on the {l}.",
            "each workstream on {t} needs an owner, a deadline and one metric.",
        ],
        "cite": ["taking {agent}'s input that {quote}, I move that up the plan."],
        "labels": ["priority", "owner", "milestone", "dependency"],
        "close": ["if we agree on this order, work on {t0} can start this week."],
    },
    "summariser": {
        "open": ["pulling the threads together, the picture on {t0} is clearer than it first seemed."],
        "body": ["the points of agreement on {t} outweigh the disagreements."],
        "cite": ["{agent}: {quote}.", "from {agent}, the key point is that {quote}."],
        "labels": ["agreed", "disputed", "decision", "next step"],
        "close": ["in short: act on {t0}, keep the {l} under review, and revisit in a quarter."],
    },
    "engineer": {
        "open": ["from an engineering point of view, the work on {t0} comes down to the {l}."],
        "body": [
            "the simplest design for {t} that could work is the one to build first.",
            "every part of {t} should fail loudly and be covered by tests.",
        ],
        "cite": ["{agent} notes that {quote}; that becomes a test case."],
        "labels": ["interface", "failure mode", "test", "trade-off"],
        "close": ["I would ship the smallest version of {t0} and measure it."],
    },
    "teacher": {
        "open": ["let us build up {t0} one idea at a time."],
        "body": ["a common misconception about {t} is that it is all about the {l}."],
        "cite": ["{agent} makes a good point: {quote}."],
        "labels": ["core idea", "example", "common mistake", "check yourself"],
        "close": ["if you can explain {t0} to a friend in two sentences, you have it."],
    },
}
