"""Reasoning models in the sim: which names think first, and what their thinking says.

A model is a reasoning model when its name (provider prefix dropped) is an OpenAI o-series name
(``o1``, ``o3-mini``, ``o4-mini``...), a ``gpt-5`` name, a DeepSeek R1 (``deepseek-r1``,
``deepseek-reasoner``, anything ending in ``-reasoner``), QwQ, or contains ``thinking``
(``claude-3-7-sonnet-thinking``, ``gemini-2.0-flash-thinking``). Such a model streams its
reasoning (as ``Reasoning`` deltas) before the answer: it restates the task, plans the answer in
the task's genre, weighs what earlier agents said, and checks itself. Its length follows
``reasoning_effort`` ("minimal", "low", "medium" = default, "high"). The reasoning tokens count as
output tokens and against ``max_tokens``, as real providers count them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from ._simphrase import key_phrases
from ._simtask import Prompt, Task

__all__ = ["EFFORT_TOKENS", "is_reasoning_model", "reasoning"]

_REASONING = re.compile(
    r"^(?:o\d(?:$|[-.])|gpt-5|deepseek-r1|qwq)|-reasoner\b|\breasoner$|thinking|(?:^|[-/])r1(?:$|-)"
)
EFFORT_TOKENS = {"minimal": 25, "low": 60, "medium": 140, "high": 320}
"""About how many tokens of reasoning each effort gives (±25%)."""

_GENRE_PLAN = {
    "report": "a short report: a title, an opening, the evidence, then the recommendation",
    "question": "a direct answer first, then the reasons",
    "explain": "an explanation in numbered steps, from the basics to an example",
    "summary": "a short summary, three sentences at most",
    "list": "a numbered list with exactly {count} items",
    "story": "a short story with two characters, a place and some dialogue, no headings",
    "poem": "a poem in short lines and stanzas",
    "haiku": "a haiku: three lines, five, seven and five syllables",
    "email": "an email with a subject line, a greeting and a sign-off",
    "code": "a {code} function in a fenced code block, then a note on how it works",
    "review": "a review of what the earlier agents wrote",
    "critique": "notes on the craft of the earlier agent's text, quoting it",
}
_STEPS = [
    "What do I actually know about {t}? The {l} matter most here.",
    "Wait, I should not assume the {l} are stable. Consider the opposite case.",
    "If {t} were simple, the obvious answer would work. Does it? Partly.",
    "Let me check the edge cases before writing anything.",
    "Hmm, one more thing: the user probably cares about {t} in practice, not in theory.",
    "I could add more detail, but the answer should stay focused.",
    "Does this hold if the {l} change? Mostly yes, with one caveat.",
    "Order matters: lead with the point, then the support.",
]


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` (e.g. "o3-mini", "openai/o1", "deepseek-reasoner") thinks before answering."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _REASONING.search(name) is not None


def reasoning(prompt: Prompt, task: Task, rng: random.Random, effort: str | None) -> Iterator[str]:
    """The reasoning text, a sentence at a time, about ``EFFORT_TOKENS[effort]`` tokens long."""
    budget = round(EFFORT_TOKENS.get((effort or "medium").lower(), 140) * rng.uniform(0.75, 1.25))
    if task.language == "en":
        phrases = key_phrases(prompt.task, 3)
        t = phrases[0].np if phrases else "this"
    else:
        from ._simlang import topic_of

        t = f'"{topic_of(prompt.task, task.language)}"'  # quoted as written: 秋天, la energía solar
    lenses = ["assumptions", "constraints", "trade-offs", "facts", "risks"]
    plan = _GENRE_PLAN.get(task.genre, _GENRE_PLAN["report"]).format(
        count=task.count or 5, code=task.code_language.capitalize()
    )
    language = {
        "zh": "Chinese",
        "ja": "Japanese",
        "ko": "Korean",
        "es": "Spanish",
        "fr": "French",
        "de": "German",
    }
    out = [f"The user asks about {t}.", f" They want {plan}."]
    if task.language in language:
        out.append(f" The task is in {language[task.language]}, so I answer in {language[task.language]}.")
    for name, _ in prompt.context[-3:]:
        out.append(f" {name} already covered part of this; I should build on it, not repeat it.")
    used = sum(len(s.split()) for s in out)
    steps = _STEPS[:]
    rng.shuffle(steps)
    i = 0
    while used < budget * 0.75:  # ~1.3 tokens a word
        step = steps[i % len(steps)].format(t=t, l=rng.choice(lenses))
        out.append(" " + step)
        used += len(step.split())
        i += 1
    out.append(" Okay, I have a plan. Write it.")
    yield from out
