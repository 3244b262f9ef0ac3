"""Word lists and the report's sentence templates for the sim's English writer (data only).

Template slots: {t0} the main topic, {t} {t2} task phrases, {l} {l2} the voice's lenses (plural
nouns), {role} {a_role} the system prompt's role. Phrases arrive as noun phrases ("the electric
vehicle market"); ``Pen.fill`` (``_simtext``) fills them.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a set."""
    return frozenset(text.split())


_words = words


STOPWORDS = _words(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can cannot could did do does doing don't down during each either
    etc few for from further get gets given had has have having he her here hers him his how however i
    if in into is isn't it it's its itself just let like made make makes many may me might more most
    much must my no nor not now of off often on once one only or other our ours out over own per please
    rather same she should since so some such than that that's the their theirs them then there these
    they this those through thus to too under until up upon us use used using very via was we well were
    what when where whether which while who whom whose why will with within without would yet you your
    yours yourself across along among around behind beyond despite inside outside toward towards onto
    throughout unlike versus vs amid near first good best great new simple clear right early today
    fast faster slow quick quickly really even still already always never sometimes
    analyze analyse analyzes analysis assess brief briefly build check compare concise consider create
    define describe detail detailed discuss draft evaluate examine explain explore find focus give help
    highlight identify include including investigate key keep list look main need note outline prepare
    present produce propose provide recommend research respond review short suggest summarize summarise
    tell think write words answer output response task based following specific"""
)
# Common verbs (and their inflections): a phrase should be a noun phrase, not "costs affect demand".
_VERBS = _words(
    """affect allow appear become begin bring come continue create depend evaluate expect go grow happen
    include indicate keep know lead mean provide put remain say see seem suggest analyze identify
    write explain describe assess summarize compare rose fell grew led took made saw became began
    came went held kept ran said brought drove generate gather synthesise synthesize weigh invest
    summarise analyse decide determine predict propose develop implement improve reduce expand adopt
    afford replace prioritise prioritize translate rewrite proofread debug optimise optimize
    calculate argue justify persuade brainstorm collect combine merge aggregate extract organise
    organize refine simplify clarify verify validate ensure tackle choose select sell pursue
    consolidate distil distill condense critique draft specialize specialise focus oversee
    coordinate handle manage spot catch probe scrutinise scrutinize write tell craft compose turn
    give make keep look think believe try learn compete avoid
    prevent lose win beat spend overbook survive thrive succeed fail"""
)


def _inflect(verb: str) -> set[str]:
    """Regular forms only: "win" gives "wins", never "wind"; "use" gives "used"."""
    forms = {verb, verb + "s"}
    forms.add(verb + "d" if verb.endswith("e") else verb + "ed")
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(verb + "es")
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
    return forms


VERBS = frozenset(f for v in _VERBS for f in _inflect(v))
STOPWORDS = STOPWORDS | VERBS
# Noun-or-verb words: a verb only next to a subject pronoun, a modal or "to", or before a determiner
# ("report the findings", "we design"); otherwise a noun ("annual report", "product design").
# Ambiguous words that, first in a run at a sentence start or after "to"/"and", are imperatives:
# "Increase productivity" is a request, not "the increase productivity".
VERB_FIRST = _words(
    """increase decrease reduce boost raise lower cut support fund ban launch fix measure target address
    cover hire enter buy transform reach shape rework exit rank contrast pitch frame drive improve
    grow build cut plan map"""
)
AMBIGUOUS = frozenset(
    f
    for v in _words(
        """report design test trade demand cost study model process control rate fix measure structure
        forecast estimate support price target budget map question experience challenge increase decrease
        impact shape reach benefit ban fund power drive transform pitch frame rework launch exit rank
        contrast cover address hire enter buy change work plan run show need offer help fall rise start
        hold move face matter track monitor want take"""
    )
    for f in _inflect(v)
)
SUBJECTS = _words("i you we they")
MODALS = _words("should can could will would must may might shall do does did to")
DETERMINERS = _words(
    "a an the this that these those its their our your my his her into onto whether how why what which"
)
# Words that begin a question with the subject before its verb: "Should a city invest in ...".
INVERTING = _words("should can could will would must may might shall do does did is are was were")
PREPOSITIONS = _words("in into on for with from to at by about over of against toward towards as")
# What is asked for, not what it is about: "a short explanation of how X works" is about X.
DELIVERABLES = _words(
    """explanation explanations overview summary report reports story essay description analysis
    recommendation recommendations memo article post paragraph paragraphs outline introduction guide
    breakdown comparison assessment evaluation response draft note notes proposal email letter poem
    script tutorial version list bullet bullets point points sentence sentences
    thoughts answer reply plan review critique pitch brief document haiku haikus poems stories tale
    tales sonnet limerick verse function functions snippet program code tips ideas ways reasons
    examples things steps facts items creative short long detailed funny simple quick bedtime
    email emails message piece text paper"""
)
# Words ending in -ly that are not adverbs (a phrase may end on them).
LY_WORDS = _words("supply family assembly italy july monopoly anomaly ally rally reply butterfly")
# Endings of common words: a capital on such a word at a sentence start is only the sentence's.
COMMON_ENDINGS = tuple(
    sorted(
        _words(
            """tion sion ment ness ity ance ence ing ism ist ics ure age ate ive ous ful able ible al ic ed
    ly er ers or ors ar ary ory ery ty cy th ship hood dom ent ant ial ical es ts ks ns ds gs ps rs ls ms ote
    ine"""
        )
    )
)

TASK_LABELS = _words(
    "user human task question input query request prompt goal objective instructions instruction topic "
    "context background system"
)
HEADING_LABELS = _words(
    "note notes summary conclusion conclusions example examples output answer result results important "
    "warning tip tips step pros cons recommendation recommendations overview risks opportunities "
    "caveat caveats source sources update edit key next in for to from by on at with as"
)

NUMBER_WORDS = _words("one two three four five six seven eight nine ten twelve twenty top")
FALLBACK_TOPICS = ["this topic", "the question at hand", "the request"]
# Head nouns read without an article: "remote work", "climate change", "better sleep".
MASS = _words(
    """work change sleep health productivity energy water education research software music art history
    weather traffic information learning intelligence safety security privacy growth inflation
    nutrition exercise fitness wellbeing happiness time money power agriculture farming transport"""
)

# Role keyword -> lenses (plural noun phrases) that role writes through; first matches win.
_LENSES = [
    ("technical_analys", ["price patterns", "support levels", "volume trends", "momentum signals"]),
    ("market", ["customer segments", "competitors", "demand signals", "pricing dynamics"]),
    ("financ invest trad econom fund bank", ["cash flows", "valuations", "risk factors", "returns"]),
    ("research scien scholar", ["sources", "findings", "data points", "long-term trends"]),
    ("analy data statist", ["metrics", "indicators", "patterns", "benchmarks"]),
    ("writ edit content copy journal stor author", ["key messages", "audience needs", "examples"]),
    ("engineer develop code software program architect", ["interfaces", "failure modes", "test cases"]),
    (
        "summar synthes aggregat coordinat manag lead direct strateg plan",
        ["themes", "priorities", "open questions"],
    ),
    ("review critic qa quality audit fact check", ["assumptions", "gaps", "weak claims", "sources"]),
    ("legal lawyer complian policy regulat", ["obligations", "regulations", "precedents"]),
    ("medic health clinic doctor nurse", ["clinical outcomes", "risk factors", "guidelines"]),
    ("teach tutor educat", ["core concepts", "common misconceptions", "learning goals"]),
]
_DEFAULT_LENSES = ["costs", "benefits", "risks", "practical details", "underlying causes"]


def lenses_for(role: str) -> list[str]:
    """The lenses a role writes through: the first two matching families, else a neutral set."""
    role = role.lower()
    found: list[str] = []
    matched = 0
    for keys, lenses in _LENSES:
        if matched < 2 and any(k.replace("_", " ") in role for k in keys.split()):
            found += lenses
            matched += 1
    return found or list(_DEFAULT_LENSES)


POOLS: dict[str, list[str]] = {
    "title": [": Key Findings", ": Analysis and Recommendations", ": What Matters Most", " in Focus", ""],
    "open_role": [
        "as {a_role}, I would start with {t0} and the {l} that shape it.",
        "speaking as {a_role}, the first thing to get right about {t0} is the {l}.",
        "from where I sit as {a_role}, the best way into {t0} is through the {l} and the {l2}.",
        "as {a_role}, my reading of {t0} centres on the {l} first and the {l2} second.",
    ],
    "frame": [
        "the request centres on {t}, so I focus on what can be checked and acted on.",
        "I treat {t} and {t2} together, because each one changes how the other should be read.",
        "three questions guide this answer: what is known about {t}, what is uncertain, and what to do next.",
        "the aim is a clear view of {t}, with the reasoning visible at each step.",
    ],
    "together": [
        "taken together, these inputs give a clearer picture of {t0} than any one of them alone.",
        "read side by side, the earlier contributions agree on more than they disagree.",
    ],
    "body": [
        "the {l} around {t} are moving faster than most plans assume.",
        "when it comes to {t}, the {l} tell a more useful story than headline numbers.",
        "a careful look at {t} shows that the {l} and the {l2} are closely linked.",
        "it helps to treat {t} as a set of trade-offs rather than a single decision.",
        "the strongest signal on {t} comes from the {l}, not from opinion.",
        "any recommendation on {t} should state its assumptions about the {l} openly.",
        "in practice, progress on {t} depends on getting the {l} right before scaling up.",
        "one common mistake is to judge {t} without checking the {l2}.",
        "the evidence on {t} is uneven, so I weight the {l} accordingly.",
        "small changes in the {l} can shift the outlook for {t} noticeably.",
        "for {t}, the {l} and the {l2} point in the same direction.",
        "the most useful next question about {t} is which of the {l} we can measure today.",
        "I would not overstate the certainty here, since open questions remain around {t} and the {l}.",
        "seen through the {l}, there is more opportunity than risk in {t}.",
        "the link between {t} and {t2} deserves more attention than it usually gets.",
        "over the next few quarters, the {l} will matter most for {t}.",
        "there is a clear case for acting on {t} early, provided the {l} hold up.",
        "where the data on {t} is thin, a small experiment beats a long debate.",
        "each of these points about {t} can be tested against the {l}.",
        "none of this makes {t} simple, but it does make it tractable.",
    ],
    "intro": [
        "the main points on {t0} are:",
        "key considerations for {t0}:",
        "in concrete terms, I would look at:",
        "a few things stand out about {t}:",
    ],
    "bullet": [
        "how the {l} affect {t}",
        "what the {l} say about {t}, and how reliable that is",
        "the {l2} most likely to change in the near term",
        "where {t} and {t2} overlap",
        "which assumptions about {t} are weakest",
        "a simple way to track the {l} over time",
        "the cost of waiting versus acting on {t} now",
        "who owns each decision about {t}",
    ],
    "label": [
        "scope",
        "evidence",
        "risks",
        "opportunities",
        "timing",
        "next steps",
        "open questions",
        "assumptions",
        "trade-offs",
        "priorities",
        "key drivers",
        "constraints",
    ],
    "close_role": [
        "that is how I would approach {t0} as {a_role}.",
        "as {a_role}, I would revisit this once new data on the {l} arrives.",
    ],
}
