# ruff: noqa: E501  (tables of templates and patterns read best one entry a line)
"""The sim's answers in other languages: Chinese, Japanese, Korean, Spanish, French, German.

A task written in one of these is answered in it, about its own topic: the topic is cut out of
the task by removing the language's instruction words ("请写一篇关于…的文章", "…について説明して",
"Escribe un artículo sobre…"). Each language has its own templates for prose (with a heading for
reports), numbered lists of N, stories, poems and haiku, and for citing earlier agents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._simtask import Task
from ._simtext import Fragment, Writer, _Deck, quote_of
from ._simwords import words

__all__ = ["LANGUAGES", "topic_of", "writer"]

_CUT = {
    "zh": "请帮我 请 帮我 写一篇 写一首 写一个 写 一篇 一首 一个 关于 简要地 简要 简单地 简单 详细地 详细 介绍一下 介绍 "
    "解释一下 解释 分析一下 分析 说明 总结一下 总结 列出 列举 文章 报告 短文 俳句 诗歌 诗 故事 邮件 给我 什么是 什么 "
    "如何 为什么 怎么样 怎么 个 条 种 点 吗 呢 的 和 我们 我",
    "ja": "について 説明してください 説明して 説明 教えてください 教えて 書いてください 書いて 要約してください 要約して 要約 "
    "ください 短い 簡単に 詳しく 俳句 詩 物語 メール リスト 挙げて つ 何ですか とは なぜ どのように を は が に で と の も",
    "ko": "에 대해 대해 설명해 주세요 설명해 써 주세요 주세요 요약해 짧은 간단히 시 이야기 이메일 무엇인가요 왜 을 를 은 는 이 가 의",
}
_PUNCT = re.compile(r"[\s。、，,.!?！？：:；;「」『』（）()“”\"'|]+")
_LATIN_TOPIC = {  # the subject after "about", with its article: "la energía solar en España"
    "es": re.compile(r"\b(?:sobre|acerca de)\s+((?:el |la |los |las |un |una )?[^.,;:!?¿¡\n]{3,60})", re.I),
    "fr": re.compile(r"\b(?:sur|à propos de|au sujet de)\s+((?:le |la |les |l'|un |une |des )?[^.,;:!?\n]{3,60})", re.I),
    "de": re.compile(r"\b(?:über|zum Thema)\s+((?:den |die |das |einen |eine |ein )?[^.,;:!?\n]{3,60})", re.I),
}  # fmt: skip
_LATIN_LAST = {  # else the last noun phrase with an article: "Explica cómo funciona la inflación"
    "es": re.compile(r"\b((?:el|la|los|las|un|una) [^.,;:!?¿¡\n]{3,60})$", re.I),
    "fr": re.compile(r"\b((?:le |la |les |l'|un |une |des )[^.,;:!?\n]{3,60})$", re.I),
    "de": re.compile(r"\b((?:der|die|das|den|ein|eine|einen) [^.,;:!?\n]{3,60}?)(?: funktioniert| funktionieren| ist| sind| wirkt)?$", re.I),
}  # fmt: skip
# Contractions and elisions after a topic or lens with its article is put in a template.
_CONTRACT = {
    "es": [(r"\bde el\b", "del"), (r"\ba el\b", "al")],
    "fr": [(r"\bde les\b", "des"), (r"\bà les\b", "aux"), (r"\bde le\b", "du"), (r"\bà le\b", "au"),
           (r"\bde ([aeiouéèhAEIOUÉ])", r"d'\1"), (r"\bque ([aeiouéèAEIOUÉ])", r"qu'\1")],
}  # fmt: skip
_LATIN_STOP = {
    "es": words("funciona funcionan escribe explica resume lista un una el la los las de del y en sobre por para que cómo qué breve corto artículo informe poema historia cuento correo"),
    "fr": words("fonctionne fonctionnent écris écrivez explique expliquez résume résumez liste un une le la les de des du et en sur pour que comment quoi bref court article rapport poème histoire conte"),
    "de": words("funktioniert funktionieren schreibe schreiben erkläre erklären fasse zusammen liste nenne ein eine einen der die das den dem des und in über zu wie was warum kurz kurze kurzen artikel bericht gedicht geschichte"),
}  # fmt: skip


def topic_of(text: str, language: str) -> str:
    """The task's subject in its own language ("人工智能在医疗领域的应用", "la energía solar")."""
    text = text.strip()[:600]
    if language in _CUT:
        if language == "ja":
            about = re.search(r"([^。、，,\s]{1,30}?)(?:について|とは)", text)
            if about:
                return about.group(1)
        for word in sorted(_CUT[language].split(), key=len, reverse=True):
            text = text.replace(word, "|")
        parts = [p for p in _PUNCT.split(text.replace("|", " ")) if len(p) >= 2]
        return max(parts, key=len) if parts else ""
    text = text.rstrip(" .!?")
    for table in (_LATIN_TOPIC, _LATIN_LAST):
        match = table[language].search(text) if language in table else None
        if match:
            return match.group(1).strip()
    words = [
        w for w in re.findall(r"[\wÀ-ÿ'-]+", text) if w.lower() not in _LATIN_STOP.get(language, frozenset())
    ]
    return " ".join(words[-4:])


# {t} topic, {l} a lens, {n} a count, {agent} {quote}
LANGUAGES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "lens": ["关键因素", "主要风险", "长期趋势", "成本与收益", "实际效果"],
        "title": ["## {t}：要点分析", "## 关于{t}的几点看法"],
        "open": ["关于{t}，最值得关注的是{l}。", "要理解{t}，首先要看清{l}。", "{t}是一个值得认真对待的问题。"],
        "body": ["从{l}来看，{t}的发展比许多人预期的更快。", "需要注意的是，{t}并不是一个单一的决定，而是一系列权衡。",
                 "现有的证据表明，{l}对{t}的影响最为直接。", "在实践中，{t}的进展取决于能否先把{l}做好。",
                 "如果数据不足，小规模的试验往往比长时间的争论更有用。", "总体来看，{t}的机会大于风险。",
                 "很多人低估了{l}的作用。", "短期内，{t}的变化主要来自{l}。",
                 "与其争论方向，不如先明确衡量{t}的标准。", "{l}和{t}之间的联系值得更多关注。"],
        "critic": ["我对{t}的现有结论持保留意见，{l}还没有得到验证。"],
        "cite": ["{agent}提到：“{quote}”，这一点很重要。", "我同意{agent}的看法：“{quote}”。"],
        "list_intro": ["以下是关于{t}的{n}点建议："],
        "item": ["先从{l}入手", "定期检查{l}", "明确每项工作的负责人", "用数据说话", "从小处开始，逐步推广", "关注长期趋势", "控制成本", "及时复盘"],
        "story": ["那天早上，小林第一次听说{t}。", "她把这件事告诉了老陈，老陈只是笑了笑。", "“我们可以等一等，”老陈说，“也可以现在就去弄清楚。”",
                  "那天晚上，小林一直在想{t}的事。", "三天后，一切都变了。", "最后，{t}不再是一个谜，而是一段共同的回忆。"],
        "poem": ["{t}在清晨的光里，", "风轻轻吹过田野，", "我们记住了它的名字，", "也记住了那一刻的安静。"],
        "haiku": ["{t}啊", "风吹过安静的田野", "一切归于静"],
        "close": ["总之，推进{t}的关键在于{l}。", "下一步，是把这些想法变成具体的行动。"],
    },
    "ja": {
        "lens": ["主な要因", "リスク", "長期的な傾向", "コストと効果"],
        "title": ["## {t}：ポイント整理", "## {t}について"],
        "open": ["{t}について考えるとき、まず重要なのは{l}です。", "{t}を理解するには、{l}から見ていくのが近道です。"],
        "body": ["{l}の観点から見ると、{t}は予想以上に速く進んでいます。", "{t}は一つの決断ではなく、いくつもの選択の積み重ねです。",
                 "現時点のデータでは、{l}が{t}に最も大きく影響しています。", "小さな実験から始めるほうが、長い議論よりも役に立ちます。",
                 "全体として、{t}にはリスクよりも機会のほうが多いと言えます。"],
        "critic": ["{t}についての結論は、まだ{l}が検証されていない点で慎重に扱うべきです。"],
        "cite": ["{agent}さんが指摘したように、「{quote}」という点は重要です。"],
        "list_intro": ["{t}について、{n}つのポイントを挙げます。"],
        "item": ["{l}を確認する", "小さく始める", "定期的に見直す", "担当者を決める", "データで判断する", "長期的に考える"],
        "story": ["その朝、さくらは初めて{t}のことを聞いた。", "友人の健太は笑っただけだった。", "「待つこともできるし、今すぐ確かめることもできる」と健太は言った。",
                  "その夜、さくらは眠れなかった。", "三日後、すべてが変わった。", "最後に、{t}は二人の大切な思い出になった。"],
        "poem": ["{t}の朝の光に", "静かな風が通りすぎる", "その名前を覚えている", "あの日の静けさとともに"],
        "haiku": ["{t}や", "風の音だけ残りけり", "夕暮れの空"],
        "close": ["まとめると、{t}の鍵は{l}にあります。"],
    },
    "ko": {
        "lens": ["핵심 요인", "위험", "장기적 추세"],
        "title": ["## {t}: 핵심 정리"],
        "open": ["{t}에 대해 가장 중요한 것은 {l}입니다."],
        "body": ["{l} 측면에서 보면 {t}은 예상보다 빠르게 변하고 있습니다.", "작은 실험부터 시작하는 것이 좋습니다.", "전체적으로 {t}에는 위험보다 기회가 많습니다."],
        "critic": ["{t}에 대한 결론은 아직 신중하게 봐야 합니다."],
        "cite": ["{agent}님이 말했듯이 \"{quote}\"라는 점이 중요합니다."],
        "list_intro": ["{t}에 대한 {n}가지 포인트입니다."],
        "item": ["{l} 확인하기", "작게 시작하기", "정기적으로 검토하기", "데이터로 판단하기"],
        "story": ["그날 아침, 민지는 처음으로 {t}에 대해 들었다.", "친구 준호는 웃기만 했다.", "사흘 뒤, 모든 것이 달라졌다."],
        "poem": ["{t}의 아침 빛 속에", "조용한 바람이 지나간다"],
        "haiku": ["{t}이여", "바람 소리만 남았네", "저녁 하늘"],
        "close": ["결론적으로 {t}의 핵심은 {l}입니다."],
    },
    "es": {
        "lens": ["los factores clave", "los riesgos", "las tendencias a largo plazo", "los costes"],
        "title": ["## {T}: claves del análisis", "## {T} en detalle"],
        "open": ["Para entender {t}, conviene empezar por {l}.", "Lo más importante sobre {t} son {l}."],
        "body": ["Desde el punto de vista de {l}, {t} avanza más rápido de lo que muchos esperan.",
                 "Conviene ver {t} como un conjunto de compromisos, no como una sola decisión.",
                 "Los datos disponibles indican que {l} influyen directamente en {t}.",
                 "Un pequeño experimento suele ser más útil que un largo debate.",
                 "En conjunto, {t} ofrece más oportunidades que riesgos."],
        "critic": ["Antes de aceptar cualquier conclusión sobre {t}, hay que comprobar {l}."],
        "cite": ["Como señaló {agent}, «{quote}».", "Coincido con {agent}: «{quote}»."],
        "list_intro": ["Aquí tienes {n} ideas sobre {t}:"],
        "item": ["Empezar por {l}", "Revisar los avances cada semana", "Definir un responsable", "Decidir con datos", "Empezar con algo pequeño", "Pensar a largo plazo"],
        "story": ["Aquella mañana, Lucía oyó hablar por primera vez de {t}.", "Su amigo Mateo se rió al principio.",
                  "«Podemos esperar», dijo Mateo, «o podemos averiguarlo ahora».", "Esa noche Lucía no pudo dormir.",
                  "Tres días después, todo había cambiado.", "Al final, {t} se convirtió en un recuerdo compartido."],
        "poem": ["{T} en la luz de la mañana,", "un silencio suave sobre el campo,", "guardamos su nombre,", "como quien guarda una carta."],
        "haiku": ["{T}", "el viento cruza el campo", "y todo calla"],
        "close": ["En resumen, la clave de {t} está en {l}."],
    },
    "fr": {
        "lens": ["les facteurs clés", "les risques", "les tendances de fond", "les coûts"],
        "title": ["## {T} : les points clés", "## {T} en détail"],
        "open": ["Pour comprendre {t}, il faut d'abord regarder {l}.", "L'essentiel, pour {t}, ce sont {l}."],
        "body": ["Si l'on regarde {l}, {t} évolue plus vite qu'on ne le pense.",
                 "Il vaut mieux voir {t} comme une série de compromis que comme une seule décision.",
                 "Les données disponibles montrent que {l} pèsent directement sur {t}.",
                 "Une petite expérience vaut souvent mieux qu'un long débat.",
                 "Dans l'ensemble, {t} offre plus d'opportunités que de risques."],
        "critic": ["Avant d'accepter une conclusion sur {t}, il faut vérifier {l}."],
        "cite": ["Comme l'a souligné {agent}, « {quote} ».", "Je rejoins {agent} : « {quote} »."],
        "list_intro": ["Voici {n} idées pour {t} :"],
        "item": ["Commencer par {l}", "Faire le point chaque semaine", "Désigner un responsable", "Décider à partir des données", "Commencer petit", "Penser à long terme"],
        "story": ["Ce matin-là, Camille entendit parler de {t} pour la première fois.", "Son ami Hugo se mit à rire.",
                  "« On peut attendre, dit Hugo, ou on peut aller voir maintenant. »", "Cette nuit-là, Camille ne dormit pas.",
                  "Trois jours plus tard, tout avait changé.", "À la fin, tout le quartier connaissait l'histoire."],
        "poem": ["{T} dans la lumière du matin,", "un silence doux sur les champs,", "nous gardons son nom,", "comme on garde une lettre."],
        "haiku": ["{T}", "le vent traverse les champs", "puis tout se tait"],
        "close": ["En somme, pour {t}, tout se joue sur {l}."],
    },
    "de": {
        "lens": ["die wichtigsten Faktoren", "die Risiken", "die langfristigen Trends", "die Kosten"],
        "title": ["## {T}: die wichtigsten Punkte", "## {T} im Überblick"],
        "open": ["Um {t} zu verstehen, lohnt sich zuerst ein Blick auf {l}.", "Wer {t} verstehen will, sollte zuerst auf {l} achten."],
        "body": ["Mit Blick auf {l} entwickelt sich {t} schneller, als viele erwarten.",
                 "Man sollte {t} als eine Reihe von Abwägungen sehen, nicht als eine einzige Entscheidung.",
                 "Die verfügbaren Daten zeigen, dass {l} {t} direkt beeinflussen.",
                 "Ein kleines Experiment ist oft nützlicher als eine lange Debatte.",
                 "Insgesamt bietet {t} mehr Chancen als Risiken."],
        "critic": ["Bevor wir {t} beurteilen, müssen {l} geprüft werden."],
        "cite": ["Wie {agent} betont hat: „{quote}“.", "Ich stimme {agent} zu: „{quote}“."],
        "list_intro": ["Hier sind {n} Punkte für {t}:"],
        "item": ["Mit {l} beginnen", "Jede Woche Bilanz ziehen", "Eine verantwortliche Person benennen", "Mit Daten entscheiden", "Klein anfangen", "Langfristig denken"],
        "story": ["An diesem Morgen sah Lena {t} zum ersten Mal.", "Ihr Freund Jonas lachte zuerst.",
                  "„Wir können warten“, sagte Jonas, „oder wir finden es jetzt heraus.“", "In dieser Nacht konnte Lena nicht schlafen.",
                  "Drei Tage später war alles anders.", "Am Ende kannte das ganze Viertel die Geschichte."],
        "poem": ["{T} im Licht des Morgens,", "eine leise Stille über dem Feld,", "wir behalten ihren Namen,", "wie man einen Brief behält."],
        "haiku": ["{T}", "der Wind streicht über das Feld", "dann ist alles still"],
        "close": ["Kurz gesagt: Wer {t} verstehen will, muss {l} verstehen."],
    },
}  # fmt: skip
_SEP = {"zh": "", "ja": "", "ko": " "}


class LangWriter(Writer):
    """One writer for every genre in another language, shaped by the genre."""

    def __init__(self, task: Task, composer) -> None:  # type: ignore[no-untyped-def]
        self.task, self.composer = task, composer
        self.rng = composer.rng
        self.book = LANGUAGES[task.language]
        self.topic = topic_of(composer.prompt.task, task.language) or self.book["lens"][0]
        self.space = _SEP.get(task.language, " ")
        self._decks: dict[str, _Deck] = {}

    def pick(self, key: str) -> str:
        deck = self._decks.get(key)
        if deck is None:
            deck = self._decks[key] = _Deck(self.book[key], self.rng)
        return deck.deal()

    def fill(self, template: str, **extra: str) -> str:
        topic = self.topic
        title = topic[:1].upper() + topic[1:]
        text = template.format(t=topic, T=title, l=self.pick("lens"), n=self.task.count or 5, **extra)
        for pattern, replacement in _CONTRACT.get(self.task.language, ()):
            text = re.sub(pattern, replacement, text)
        return text[:1].upper() + text[1:]

    def body(self) -> Iterator[Fragment]:
        genre = self.task.genre
        if genre in ("haiku", "poem"):
            lines = self.book[genre]
            for i, line in enumerate(lines):
                yield ("\n" if i else "") + self.fill(line), False
            return
        if genre == "story":
            lines = self.book["story"]
            yield self.fill(lines[0]), False
            for line in lines[1:-1]:
                yield self.space + self.fill(line), True
            yield "\n\n" + self.fill(lines[-1]), False
            return
        if genre == "list":
            yield self.fill(self.pick("list_intro")), False
            items = self.book["item"]
            for i in range(self.task.count or 5):
                yield f"\n{i + 1}. " + self.fill(items[i % len(items)]), False
            return
        if genre == "report":
            yield self.fill(self.pick("title")) + "\n\n", False
        critic = self.composer.voice.stance == "critic"
        yield self.fill(self.book["critic"][0] if critic else self.pick("open")), False
        for name, text in self.composer.prompt.context[-3:]:
            yield self.space + self.fill(self.pick("cite"), agent=name, quote=quote_of(text, self.rng)), True
        while True:
            yield "\n\n" + self.fill(self.pick("body")), True
            yield self.space + self.fill(self.pick("body")), True

    def ending(self) -> Iterator[str]:
        if self.task.genre in ("report", "question", "explain", "summary", "email", "review"):
            yield "\n\n" + self.fill(self.pick("close"))

    def again(self) -> Writer:
        return _Again(self.task, self.composer)


class _Again(LangWriter):
    def body(self) -> Iterator[Fragment]:
        yield "\n\n", False
        yield from super().body()


def writer(task: Task, composer) -> Writer:  # type: ignore[no-untyped-def]
    """The writer for a task in ``task.language``; code and unknown languages fall back to English."""
    return LangWriter(task, composer)
