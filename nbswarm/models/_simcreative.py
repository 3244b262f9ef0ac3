# ruff: noqa: E501  (tables of templates and patterns read best one entry a line)
"""The sim's creative and code genres: story, poem, haiku, code.

A story is narrative prose with named characters, dialogue and no report headers; a poem has
stanzas of short lines; a haiku has three lines of about 5, 7 and 5 syllables (counted by a
vowel-group heuristic); code is a fenced block in the language the task names, with a function
named after the task and a short note on how it works.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._simtext import Fragment, Pen, Writer, title_case

__all__ = ["WRITERS", "syllables"]

_PEOPLE = [("Mara", "she", "her"), ("Tomas", "he", "his"), ("Ines", "she", "her"), ("Kofi", "he", "his"),
           ("Aiko", "she", "her"), ("Ravi", "he", "his"), ("Lena", "she", "her"), ("Jonah", "he", "his")]  # fmt: skip
_PLACES = ["the harbour town", "the mountain village", "the river city", "the island", "the old quarter"]
_SUBJECTS = ["the lighthouse", "the old map", "the missing key", "the last train", "the locked room"]
_ABOUT = re.compile(r"\babout ([^.,;!?\n]{3,60})", re.I)

_STORY_OPEN = [
    "{A} had lived in {place} for as long as anyone could remember, and in all that time nobody had "
    "mentioned {t}.",
    "the first time {A} heard about {t}, it was raining, and {a} coat was still wet from the walk home.",
    "nobody in {place} talked about {t} until the morning {A} found the note on the door.",
]
_STORY_SETUP = [
    "{B} laughed at first. Then {B} saw {A}'s face and stopped.",
    "an old woman at the market shook her head when {A} asked, and said nothing.",
    "by noon the whole street knew about {t}, and everyone had an opinion.",
    "the lamps along the harbour came on one by one as {A} walked home.",
]
_STORY_RISING = [
    "{B} unfolded an old map and pressed it flat with both hands.",
    '"Tell me from the beginning," {B} said, pulling up a chair.',
    "that night {A} could not sleep, thinking about {t} and what {B} had said.",
    "for three days nothing happened. On the fourth, {B} knocked on the door.",
    "the road to {place} was longer than {A} remembered, and colder.",
    "{A} counted the steps to the top: one hundred and twelve, the same as always.",
    "somewhere below, a door slammed, and both of them froze.",
    "the letter was short, and the last line was the only one that mattered.",
    "outside, the rain had stopped, and the streets smelled of wet stone.",
    "something small had shifted, and {A} could feel it in the way people looked away.",
]
_STORY_TURN = [
    '"You knew," {A} said. {B} did not answer, which was an answer of its own.',
    '"We could wait," {B} said. "Or we could find out what {t} really means."',
    "they argued until the candle burned down, then sat in silence.",
    "{A} had rehearsed this moment for weeks, and still the words came out wrong.",
]
_STORY_CLIMAX = [
    '"It was never about {t}," {A} said at last. "It was about us."',
    "in the morning, the answer was waiting for them on the kitchen table.",
    "{A} wrote a single line in the notebook and underlined it twice.",
]
_STORY_END = [
    "in the end, {t} turned out to be less about answers than about the people asking. {A} smiled, "
    "closed the notebook, and went home.",
    "when spring came, {A} and {B} still talked about {t}, but now they laughed when they did.",
    "{A} never told anyone the whole story. Some evenings, though, {a_he} would look toward {place} "
    "and remember.",
]


class Story(Writer):
    """Narrative prose: two characters, a place, dialogue, an ending; no headers."""

    reserve = 35

    def __init__(self, pen: Pen) -> None:
        super().__init__(pen)
        people = pen.rng.sample(_PEOPLE, 2)
        about = _ABOUT.search(pen.prompt.task)
        self.slots = {
            "A": people[0][0],
            "a_he": people[0][1],
            "a": people[0][2],
            "B": people[1][0],
            "place": pen.rng.choice(_PLACES),
        }
        if about and not pen.has_topic:
            self.slots["t"] = about.group(1).strip()
        elif not pen.has_topic:
            self.slots["t"] = pen.rng.choice(_SUBJECTS)

    def line(self, pool: list[str]) -> str:
        return self.pen.fill(self.pen.pick(pool), **self.slots)

    def body(self) -> Iterator[Fragment]:
        """Opening, setting, rising action and turns; the climax and ending close it (``ending``)."""
        pen = self.pen
        if pen.has_topic and pen.maybe(0.4):
            yield f"**{title_case(pen.topic.bare)}**\n\n", False
        yield self.line(_STORY_OPEN), False
        yield " " + self.line(_STORY_SETUP), False
        sentences = 2
        while True:
            yield "\n\n" + self.line(_STORY_RISING), sentences > 4
            for _ in range(pen.between(1, 2)):
                yield " " + self.line(_STORY_RISING), sentences > 4
            yield " " + self.line(_STORY_TURN), True
            sentences += 3

    def ending(self) -> Iterator[str]:
        yield "\n\n" + self.line(_STORY_CLIMAX)
        yield " " + self.line(_STORY_END)


_POEM_LINES = [
    "{w} in the {time} light,",
    "a {adj} hush across the {place},",
    "I carry {w} like a {thing},",
    "and the {noun} remembers {w}.",
    "what stays when {w} is gone?",
    "the {noun} leans toward the {place},",
    "{adj} and patient, {w} returns,",
    "we learn its name by losing it.",
]
_IMAGERY = {
    "time": ["morning", "evening", "amber", "winter", "early"],
    "adj": ["quiet", "silver", "slow", "bright", "tender"],
    "place": ["field", "harbour", "street", "hills", "shore"],
    "thing": ["small stone", "lantern", "folded letter", "seed"],
    "noun": ["river", "wind", "city", "sea", "old house"],
}


def _word(pen: Pen) -> str:
    bare = pen.topic.bare if pen.has_topic else "the light"
    return bare if bare[:1].isupper() else bare.lower()


class Poem(Writer):
    """Stanzas of four short lines (as many stanzas as asked, else three)."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        stanzas = pen.task.count or 3
        w = _word(pen)
        for s in range(stanzas):
            lines = [pen.pick(_POEM_LINES) for _ in range(4)]
            for i, template in enumerate(lines):
                words = {k: pen.pick(v) for k, v in _IMAGERY.items()}
                text = template.format(w=w, **words)
                if i == 3:
                    text = text.rstrip(",") + ("." if not text.endswith(("?", ".")) else "")
                yield ("\n\n" if i == 0 and s else "\n" if i else "") + text[:1].upper() + text[1:], False


_HAIKU_FIRST = {
    4: ["{w} in the still air", "{w} at the window", "{w} under the moon", "{w} across the bay"],
    3: ["{w} at first light", "{w} in the rain", "slow {w} falling", "{w} after dark", "cold {w} at dawn"],
    2: ["{w} at dusk", "{w} again", "{w} once more", "still {w} waits", "{w} tonight"],
    1: ["{w} falls", "{w} wakes", "{w} sleeps", "{w} breathes"],
    0: ["{w}"],
}
_HAIKU_SECOND = [  # seven syllables each
    "a slow wind moves through the trees",
    "the river carries the light",
    "one bird crosses the pale field",
    "footsteps fade on the cold stone",
    "the old bell rings out once more",
    "leaves drift down without a sound",
    "a lantern sways by the door",
    "the long road bends toward home",
    "salt wind on an empty pier",
    "a child counts stars on the roof",
]
_HAIKU_THIRD = [  # five syllables each
    "and then it is gone",
    "the day lets it go",
    "I wait, and listen",
    "silence, then the sea",
    "nobody answers",
    "one more breath of cold",
    "the tide turns again",
    "a gull cries once more",
]


def syllables(text: str) -> int:
    """Syllables by vowel groups (a silent final "e" dropped); good enough for a haiku's count."""
    total = 0
    for word in re.findall(r"[a-z]+", text.lower()):
        count = len(re.findall(r"[aeiouy]+", word))
        consonant_le = word.endswith("le") and len(word) > 2 and word[-3] not in "aeiouy"  # "table"
        if word.endswith("e") and not consonant_le and not word.endswith("ee") and count > 1:
            count -= 1  # "stone", "fade"
        elif (
            word.endswith(("es", "ed"))
            and not word.endswith(("ses", "ces", "zes", "ges", "xes", "shes", "ches", "ies", "ted", "ded"))
            and count > 1
        ):
            count -= 1  # "moves", "leaves", "walked"
        total += max(1, count)
    return total


class Haiku(Writer):
    """Three lines, 5-7-5, on the task's subject."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        w = _word(pen).split()
        if len(pen.topic_list) > 1 and pen.has_topic and pen.maybe(0.8):
            other = pen.topic_list[1].bare  # "the sea at night": the sea, or the night
            w = (other if other[:1].isupper() else other.lower()).split()
        while syllables(" ".join(w)) > 4 and len(w) > 1:
            w = w[1:]  # "the autumn leaves in Kyoto" -> as many last words as fit
        word = " ".join(w)
        first = pen.pick(_HAIKU_FIRST[max(0, 5 - syllables(word))])
        first = first.format(w=word)
        yield first[:1].upper() + first[1:], False
        yield "\n" + pen.pick(_HAIKU_SECOND), False
        yield "\n" + pen.pick(_HAIKU_THIRD), False

    def again(self) -> Writer:
        return _SeparatedHaiku(self.pen)


class _SeparatedHaiku(Haiku):
    def body(self) -> Iterator[Fragment]:
        yield "\n\n", False
        yield from super().body()


# -- code ----------------------------------------------------------------------------------------
_RECIPES = {
    "prime": ("is_prime", "n", "checks whether a number is prime",
              "if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n"
              "            return False\n        i += 1\n    return True"),
    "palindrome": ("is_palindrome", "text", "checks whether a text reads the same backwards",
                   "cleaned = [c.lower() for c in text if c.isalnum()]\n    return cleaned == cleaned[::-1]"),
    "reverse": ("reverse_text", "text", "reverses a string", "return text[::-1]"),
    "fibonacci": ("fibonacci", "n", "returns the first n Fibonacci numbers",
                  "numbers = []\n    a, b = 0, 1\n    for _ in range(n):\n        numbers.append(a)\n"
                  "        a, b = b, a + b\n    return numbers"),
    "factorial": ("factorial", "n", "computes n factorial",
                  "result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result"),
    "sort": ("sort_items", "items", "returns the items in ascending order", "return sorted(items)"),
    "average": ("average", "values", "computes the mean of a list of numbers",
                "if not values:\n        raise ValueError(\"values must not be empty\")\n"
                "    return sum(values) / len(values)"),
    "word": ("count_words", "text", "counts how often each word appears",
             "counts = {}\n    for word in text.lower().split():\n        counts[word] = counts.get(word, 0) + 1\n"
             "    return counts"),
}  # fmt: skip
_JS_BODIES = {
    "prime": "if (n < 2) return false;\n  for (let i = 2; i * i <= n; i++) {\n    if (n % i === 0) return false;\n  }\n"
    "  return true;",
    "palindrome": 'const cleaned = text.toLowerCase().replace(/[^a-z0-9]/g, "");\n'
    '  return cleaned === [...cleaned].reverse().join("");',
    "reverse": 'return [...text].reverse().join("");',
    "fibonacci": "const numbers = [];\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) {\n    numbers.push(a);\n"
    "    [a, b] = [b, a + b];\n  }\n  return numbers;",
    "factorial": "let result = 1;\n  for (let i = 2; i <= n; i++) result *= i;\n  return result;",
    "sort": "return [...items].sort((a, b) => a - b);",
    "average": 'if (values.length === 0) throw new Error("values must not be empty");\n'
    "  return values.reduce((sum, v) => sum + v, 0) / values.length;",
    "word": "const counts = {};\n  for (const word of text.toLowerCase().split(/\\s+/)) {\n"
    "    counts[word] = (counts[word] || 0) + 1;\n  }\n  return counts;",
}
_LABELS = {"python": "Python", "javascript": "JavaScript", "typescript": "TypeScript", "java": "Java",
           "cpp": "C++", "csharp": "C#", "go": "Go", "rust": "Rust", "sql": "SQL", "bash": "Bash",
           "ruby": "Ruby", "r": "R"}  # fmt: skip
_SKELETONS = {
    "javascript": "function {camel}({arg}) {{\n  // {doc}\n  const result = [];\n  for (const item of {arg}) {{\n"
    "    result.push(item);\n  }}\n  return result;\n}}\n\nconsole.log({camel}([3, 1, 2]));",
    "typescript": "export function {camel}({arg}: number[]): number[] {{\n  // {doc}\n  const result: number[] = [];\n"
    "  for (const item of {arg}) {{\n    result.push(item);\n  }}\n  return result;\n}}",
    "java": "public final class {Pascal} {{\n    /** {doc} */\n    public static int[] {camel}(int[] {arg}) {{\n"
    "        int[] result = {arg}.clone();\n        java.util.Arrays.sort(result);\n        return result;\n    }}\n}}",
    "go": "// {Pascal} {doc}.\nfunc {Pascal}({arg} []int) []int {{\n\tresult := make([]int, len({arg}))\n"
    "\tcopy(result, {arg})\n\tsort.Ints(result)\n\treturn result\n}}",
    "rust": "/// {doc}\nfn {snake}({arg}: &[i64]) -> Vec<i64> {{\n    let mut result = {arg}.to_vec();\n"
    "    result.sort();\n    result\n}}",
    "cpp": "// {doc}\nstd::vector<int> {snake}(std::vector<int> {arg}) {{\n    std::sort({arg}.begin(), {arg}.end());\n"
    "    return {arg};\n}}",
    "csharp": "/// <summary>{doc}</summary>\npublic static int[] {Pascal}(int[] {arg})\n{{\n"
    "    return {arg}.OrderBy(x => x).ToArray();\n}}",
    "ruby": "# {doc}\ndef {snake}({arg})\n  {arg}.sort\nend",
    "bash": "#!/usr/bin/env bash\n# {doc}\nset -euo pipefail\n\n{snake}() {{\n  sort -n \"$1\"\n}}\n\n{snake} \"$@\"",
    "sql": "-- {doc}\nSELECT category, COUNT(*) AS total\nFROM items\nGROUP BY category\nORDER BY total DESC;",
    "r": "# {doc}\n{snake} <- function({arg}) {{\n  sort({arg})\n}}",
}  # fmt: skip


class Code(Writer):
    """A fenced block in the named language, with one line before it and a short note after."""

    def body(self) -> Iterator[Fragment]:
        pen = self.pen
        lang = pen.task.code_language
        low = pen.prompt.task.lower()
        recipe = next((r for key, r in _RECIPES.items() if key in low), None)
        if recipe is None:
            words = [w for w in re.findall(r"[a-z]+", pen.topic.bare.lower()) if len(w) > 2][-3:] or [
                "process"
            ]
            recipe = ("_".join(words), "items", f"processes {pen.topic.np}", "return sorted(items)")
        snake, arg, doc, py_body = recipe
        camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), snake)
        label = _LABELS.get(lang, lang)
        yield f"Here is a {label} function that {doc}:", False
        key = next((k for k in _RECIPES if k in low), None)
        if lang == "python":
            code = f'def {snake}({arg}):\n    """{doc[:1].upper() + doc[1:]}."""\n    {py_body}'
        elif lang in ("javascript", "typescript") and key in _JS_BODIES:
            code = f"function {camel}({arg}) {{\n  // {doc}\n  {_JS_BODIES[key]}\n}}"
        else:
            skeleton = _SKELETONS.get(lang, _SKELETONS["javascript"])
            code = skeleton.format(
                snake=snake, camel=camel, Pascal=camel[:1].upper() + camel[1:], arg=arg, doc=doc
            )
        yield f"\n\n```{lang}\n", False
        for line in code.split("\n"):
            yield line + "\n", False
        yield "```", False
        notes = [
            f"the function takes `{arg}` and returns the result without changing its input.",
            "it runs in a single pass where it can, so it stays fast on large inputs.",
            "edge cases (empty input, a single item) are handled explicitly.",
        ]
        yield "\n\n" + pen.fill(pen.pick(["How it works:", "Notes:"])), True
        for i, note in enumerate(notes[: pen.between(2, 3)]):
            yield "\n- " + note[:1].upper() + note[1:], i >= 1


WRITERS: dict[str, type[Writer]] = {"story": Story, "poem": Poem, "haiku": Haiku, "code": Code}
