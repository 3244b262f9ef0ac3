# ruff: noqa: E501  (tables of templates and patterns read best one entry a line)
"""Task analysis for the sim model: what is asked (the genre), in which language, by whom.

``read_prompt`` pulls the task, the system prompt and earlier agents' texts out of OpenAI-style
messages; ``analyse`` reads the task's genre (story, poem, haiku, list of N, code in a named
language, explanation, summary, question, email, report), the count a list asks for, and the
language it is written in (English, Chinese, Japanese, Korean, Spanish, French, German), so the
writer answers in kind.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from . import _simwords as lex

__all__ = ["GENRES", "Prompt", "Task", "analyse", "detect_language", "message_text", "read_prompt"]

GENRES = ("report", "question", "explain", "summary", "list", "story", "poem", "haiku", "email", "code")

_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:\*\*|\[)?(?P<name>[A-Za-z][\w.\-]*(?: [A-Za-z0-9][\w.\-]*){0,3})(?:\*\*|\])?[ \t]*:"
    r"(?:\*\*)?[ \t]*(?P<rest>.*)$"
)


@dataclass
class Prompt:
    """What the writer needs from the messages."""

    task: str = ""
    system: str = ""
    context: list[tuple[str, str]] = field(default_factory=list)
    """(agent name, its text) for earlier agents, in order."""
    drafts: list[str] = field(default_factory=list)
    """This agent's own earlier answers (unnamed assistant turns)."""
    background: str = ""
    """Earlier user turns: where the topic comes from when the last turn is "make it shorter"."""


@dataclass(frozen=True)
class Task:
    """What kind of answer the task asks for."""

    genre: str = "report"
    language: str = "en"
    count: int | None = None
    """Items a list asks for ("list 5 ...")."""
    code_language: str = "python"


def message_text(message: dict) -> str:
    """The text of one chat message, tolerating None and multimodal part lists."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def read_prompt(messages: list[dict]) -> Prompt:
    """Pull task, system prompt and earlier agents' outputs out of OpenAI-style messages."""
    prompt = Prompt()
    prompt.system = "\n".join(message_text(m) for m in messages if m.get("role") == "system")
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    for m in messages:
        if m.get("role") == "assistant":
            name = m.get("name")
            if name:
                prompt.context.append((str(name), message_text(m)))
            else:
                prompt.drafts.append(message_text(m))
    tasks: list[str] = []
    for i in users:
        task, context, drafts = _split_attributions(message_text(messages[i]))
        if task and not _continue_request(task):
            tasks.append(task)
        prompt.context.extend(context)
        prompt.drafts.extend(drafts)
    # the last real task; a turn that only carries context ("Researcher: ...") or says "continue"
    # leaves the earlier task in force
    prompt.task = tasks[-1] if tasks else (message_text(messages[users[-1]]) if users else "")
    prompt.background = "\n".join(reversed(tasks[:-1]))
    if not prompt.task.strip():
        prompt.task = prompt.system
    return prompt


def _continue_request(text: str) -> bool:
    return text.lower().startswith(("continue", "refine", "go on", "keep going"))


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


# -- language -------------------------------------------------------------------------------------
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[a-zà-öø-ÿ]+")
_FUNCTION_WORDS = {
    "en": lex.words("the a an of and to in is are for on with what how why write about this that"),
    "es": lex.words("el la los las de del y en es son para por con que un una sobre cómo qué escribe"),
    "fr": lex.words("le la les de des du et en est sont pour par avec que un une sur comment pourquoi écris"),
    "de": lex.words("der die das den dem des und in ist sind für mit über wie warum ein eine einen schreibe"),
}


def detect_language(text: str) -> str:
    """ "en", "zh", "ja", "ko", "es", "fr" or "de": the script first, then function words."""
    sample = text[:2000]
    kana, han, hangul = len(_KANA.findall(sample)), len(_HAN.findall(sample)), len(_HANGUL.findall(sample))
    letters = sum(c.isalpha() for c in sample) or 1
    if kana and (kana + han) / letters > 0.2:
        return "ja"
    if hangul / letters > 0.2:
        return "ko"
    if han / letters > 0.2:
        return "zh"
    words = _LATIN_WORD.findall(sample.lower())
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] > scores["en"] else "en"


# -- genre ----------------------------------------------------------------------------------------
_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "diez": 10,
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "dix": 10,
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "zehn": 10,
    "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}  # fmt: skip
_CODE_LANGUAGES = {
    "python": "python", "javascript": "javascript", "js": "javascript", "typescript": "typescript",
    "java": "java", "c++": "cpp", "cpp": "cpp", "c#": "csharp", "go": "go", "golang": "go",
    "rust": "rust", "sql": "sql", "bash": "bash", "shell": "bash", "ruby": "ruby", "r": "r",
}  # fmt: skip
_CODE_LANG = re.compile(
    r"(?<![\w+#])(python|javascript|typescript|java|c\+\+|cpp|c#|golang|go|rust|sql|bash|shell|ruby|js|r)(?![\w+#])"
)
# (genre, pattern on the lower-cased task), first match wins
_GENRE_RULES = [
    ("haiku", r"haiku|haïku|俳句"),
    ("poem", r"\b(?:poem|poems|verse|sonnet|limerick|rhyme|lyrics|ode)\b|诗|詩|poema|poème|gedicht"),
    ("story", r"\b(?:story|stories|tale|fable|fairy tale|bedtime|fiction)\b|故事|物語|小説|historia|cuento|histoire|conte|geschichte|märchen"),
    ("code", r"\b(?:function|script|program|snippet|code|regex|algorithm|unit tests?|sql query|class in)\b|代码|函数|コード|関数|código|fonction|funktion"),
    ("email", r"\b(?:e-?mail|letter|cover note)\b|邮件|写信|メール|手紙|correo|courriel|lettre|brief an"),
    ("list", r"\b(?:list|top \d+|\d+ (?:ways|tips|ideas|reasons|things|examples|steps|facts)|name (?:\d+|two|three|four|five|six|seven|eight|nine|ten))\b|列出|列举|リスト|挙げ|lista|liste|nenne|aufzählung"),
    ("summary", r"\b(?:summari[sz]e|summary|tl;?dr|recap|in brief|in a nutshell)\b|总结|概括|摘要|要約|まとめ|resume|resumen|résum|zusammenfass"),
    ("explain", r"\b(?:explain|explanation|how does|how do|how to|why does|why do|why is|why are|teach me|step by step|walk me through|what is the difference)\b|解释|说明|为什么|如何|説明|なぜ|explica|cómo|explique|comment|erkläre|erklären|wie funktioniert"),
]  # fmt: skip
_GENRE_RES = [(genre, re.compile(pattern)) for genre, pattern in _GENRE_RULES]
_CODE_VERB = re.compile(
    r"\b(?:write|implement|code|create|build|generate|debug|fix)\b|写|書いて|escribe|écris|schreibe"
)
_STRONG_LANG = re.compile(r"\b(?:python|javascript|typescript|java|rust|golang|sql|bash|ruby)\b|c\+\+|c#")


def _fits(genre: str, head: str) -> bool:
    """A code keyword counts only with a language or a coding verb: "a function of price" is no task."""
    return genre != "code" or bool(_CODE_LANG.search(head) or _CODE_VERB.search(head))


_QUESTION_START = re.compile(
    r"^(?:what|who|when|where|which|is|are|can|could|does|do|did|should|would|will|how much|how many)\b"
)
_COUNT = re.compile(
    r"(?<![\d.])(\d{1,2})(?![\d.%])|\b("
    + "|".join(k for k in _NUMBERS if k.isascii())
    + r")\b|([二两三四五六七八九十])"
)


@functools.lru_cache(maxsize=512)
def analyse(task: str) -> Task:
    """The genre, language and list count of ``task`` (cached: many agents share a task)."""
    language = detect_language(task)
    low = task.lower().strip()
    head = low[:600]
    genre = next((g for g, pattern in _GENRE_RES if pattern.search(head) and _fits(g, head)), None)
    if genre is None and _STRONG_LANG.search(head) and _CODE_VERB.search(head):
        genre = "code"  # "Implement factorial in Rust"
    if genre == "explain" and re.match(r"(?:what|who|which) (?:is|are|was|were)\b", low):
        genre = "question"  # "What is X and why does it matter?": the answer first
    if genre is None:
        genre = "question" if (low.endswith(("?", "？")) or _QUESTION_START.match(low)) else "report"
    count = None
    if genre in ("list", "haiku", "poem", "story", "report", "explain"):
        match = _COUNT.search(head)
        if match:
            word = next(g for g in match.groups() if g)
            count = int(word) if word.isdigit() else _NUMBERS.get(word)
            count = min(max(count or 5, 1), 30)
        if (
            count
            and genre in ("report", "explain")
            and re.search(r"\b(?:ways|tips|ideas|reasons|things|examples|steps)\b", head)
        ):
            genre = "list"
    if genre == "list" and not count:
        count = 5
    code_match = _CODE_LANG.search(head)
    code_language = _CODE_LANGUAGES.get(code_match.group(1), "python") if code_match else "python"
    return Task(genre=genre, language=language, count=count, code_language=code_language)
