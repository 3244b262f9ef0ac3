"""The sim's text as a class sees it (issue 15): distinct voices, the genre asked for, temperature
and seed that matter, stop sequences, clean language, hand-over, other languages, reasoning
models, token counts, and generation that does not delay a stream's first token."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sim_corpus import CORPUS
from sim_grammar import problems

from nbswarm import Agent, AgentRearrange, ConcurrentWorkflow, SequentialWorkflow
from nbswarm.models import _simtok
from nbswarm.models._simcreative import syllables
from nbswarm.models._simphrase import key_phrases
from nbswarm.models._simtask import analyse, detect_language
from nbswarm.models.base import Completion, ModelRequest, Reasoning
from nbswarm.models.sim import SimProfile, SimProvider, is_reasoning_model, sim_answer, sim_items
from nbswarm.models.speaker import Speaker

INSTANT = SimProfile(delay_scale=0)


def ask(
    task: str, system: str | None = None, *, speaker: str = "Agent", model: str = "gpt-4o-mini", **kw
) -> str:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": task}
    ]
    request = ModelRequest(model=model, messages=messages, **kw)
    return "".join(sim_answer(request, INSTANT, speaker=Speaker(speaker))[0])


def outputs(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    run.result()
    return {e.agent: e.output for e in run.events if e.type == "agent_end"}


# -- 1. distinct voices ---------------------------------------------------------------------------
def test_two_agents_without_system_prompts_write_different_text_in_their_own_voice():
    workflow = ConcurrentWorkflow(
        agents=[Agent(agent_name="Researcher", print_on=False), Agent(agent_name="Critic", print_on=False)]
    )
    out = outputs(workflow.stream("Should a mid-sized city invest in grid-scale battery storage?"))
    assert out["Researcher"] != out["Critic"]
    shared = set(out["Researcher"].split(". ")) & set(out["Critic"].split(". "))
    assert len(shared) <= 2  # not the same sentences reshuffled
    critic = out["Critic"].lower()
    assert any(w in critic for w in ("not yet", "not convinced", "push back", "assumption", "evidence"))
    researcher = out["Researcher"].lower()
    assert any(w in researcher for w in ("findings", "sources", "evidence", "data", "record"))


def test_description_and_system_prompt_shape_the_voice():
    task = "Plan a marketing launch for a Kyoto tea brand."
    plain = ask(task, speaker="A")
    critic = ask(task, "You are a sceptical reviewer. Challenge weak claims.", speaker="A")
    described = "".join(
        sim_answer(
            ModelRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": task}]),
            INSTANT,
            speaker=Speaker("A", "A financial analyst who models cash flows"),
        )[0]
    )
    assert len({plain, critic, described}) == 3
    assert "sceptical reviewer" in critic.lower()
    assert "financial analyst" in described.lower()


def test_a_hundred_agents_of_one_step_never_share_a_text():
    texts = {ask("Summarize the benefits of remote work", speaker=f"Agent {i}") for i in range(100)}
    assert len(texts) == 100


# -- 2. the genre asked for -------------------------------------------------------------------------
@pytest.mark.parametrize(("task", "genre", "language"), CORPUS)
def test_the_corpus_tasks_are_read_as_the_genre_and_language_they_ask_for(task, genre, language):
    assert (analyse(task).genre, analyse(task).language) == (genre, language)


def test_a_story_is_narrative_with_characters_and_no_report_headers():
    text = ask("Write a story about a robot learning to paint")
    assert "#" not in text and "**" not in text.split("\n", 1)[-1]
    assert '"' in text  # dialogue
    assert re.search(r"\b(?:said|asked)\b", text)
    assert len(re.findall(r"\b(?:Mara|Tomas|Ines|Kofi|Aiko|Ravi|Lena|Jonah)\b", text)) >= 3
    assert "robot" in text
    assert "analysis" not in text.lower() and "recommendation" not in text.lower()


@pytest.mark.parametrize("seed", range(5))
def test_a_haiku_has_three_lines_of_five_seven_five(seed):
    text = ask("Write a haiku about autumn", seed=seed)
    lines = text.strip().split("\n")
    assert len(lines) == 3
    assert [syllables(line) for line in lines] == [5, 7, 5]
    assert "autumn" in text.lower()


def test_a_poem_has_short_lines_in_stanzas():
    text = ask("Write a poem about the city at dawn")
    stanzas = text.strip().split("\n\n")
    assert len(stanzas) >= 2
    assert all(len(stanza.split("\n")) == 4 for stanza in stanzas)
    assert all(len(line.split()) <= 10 for line in text.split("\n") if line)
    assert "city" in text


@pytest.mark.parametrize(
    ("task", "count"),
    [
        ("List 5 tips for better sleep", 5),
        ("Top 10 reasons to learn a second language", 10),
        ("List three risks of generative AI in schools.", 3),
    ],
)
def test_a_list_of_n_has_exactly_n_numbered_items(task, count):
    for seed in range(3):
        text = ask(task, seed=seed)
        items = re.findall(r"^(\d+)\. ", text, flags=re.M)
        assert items == [str(i) for i in range(1, count + 1)], text


@pytest.mark.parametrize(
    ("task", "fence"),
    [
        ("Write a Python function to check if a number is prime", "python"),
        ("Write a JavaScript function that reverses a string.", "javascript"),
        ("Implement factorial in Rust", "rust"),
        ("Write a SQL query that counts orders per customer.", "sql"),
    ],
)
def test_code_is_a_fenced_block_in_the_language_named(task, fence):
    text = ask(task)
    assert f"```{fence}\n" in text
    assert text.count("```") == 2
    if fence == "python":
        code = text.split("```python\n")[1].split("```")[0]
        namespace: dict = {}
        exec(compile(code, "<sim>", "exec"), namespace)  # the sim's Python is real Python
        assert namespace["is_prime"](7) and not namespace["is_prime"](9)
    if fence == "javascript" and shutil.which("node"):
        code = text.split("```javascript\n")[1].split("```")[0] + '\nconsole.log(reverseText("abc"));'
        out = subprocess.run(["node", "-e", code], capture_output=True, text=True, timeout=30, check=True)
        assert out.stdout.strip() == "cba"  # the sim's JavaScript is real JavaScript


def test_a_question_gets_a_direct_answer_first_and_a_summary_is_short():
    answer = ask("Is nuclear power safe?")
    first = answer.split("\n")[0]
    assert re.match(r"(?:Yes|No|Not|Probably)\b", first) and len(first.split()) < 25
    assert not answer.startswith("#")
    summary = ask("Summarize the benefits of remote work")
    report = ask("Analyze the benefits of remote work for a 50-person company")
    assert len(summary) < len(report) / 2


def test_an_explanation_goes_step_by_step():
    text = ask("Explain how neural networks work")
    assert text.startswith(("Here is how neural networks work", "Let me explain neural networks"))
    assert len(re.findall(r"^\d+\. \*\*", text, flags=re.M)) >= 4


def test_an_email_looks_like_one():
    text = ask("Write an email to my manager asking for a day off next Friday", speaker="Priya")
    assert text.startswith("Subject: A Day Off Next Friday")
    assert "\n\nDear Manager," in text or "\n\nHi manager," in text
    assert text.rstrip().endswith("\nPriya")
    assert "#" not in text


# -- 3. temperature, seed, stop --------------------------------------------------------------------
TASK = "Analyze the lithium battery supply chain in Chile and identify export risks."


def test_temperature_zero_gives_one_text_for_any_seed():
    texts = {ask(TASK, temperature=0.0, seed=seed) for seed in range(6)}
    assert len(texts) == 1


def test_higher_temperature_varies_wording_and_structure_more():
    def variety(temperature: float) -> tuple[int, int]:
        texts = [ask(TASK, temperature=temperature, seed=seed) for seed in range(8)]
        words = {w for t in texts for w in re.findall(r"[a-z]+", t.lower())}
        shapes = {tuple(_kind(line) for line in t.split("\n") if line) for t in texts}
        return len(words), len(shapes)

    cool, hot = variety(0.2), variety(1.8)
    assert hot[0] > cool[0] * 1.15  # more varied wording
    assert hot[1] > cool[1]  # and more varied structure
    assert ask(TASK, temperature=0.0) != ask(TASK, temperature=1.5)


def _kind(line: str) -> str:
    """A line's part in the structure: heading, bullet, numbered item or paragraph."""
    if line.startswith("#"):
        return "#"
    if line.startswith("- "):
        return "-"
    return "1" if re.match(r"\d+\. ", line) else "p"


def test_seed_selects_among_variants_and_is_reproducible():
    assert ask(TASK, seed=1) == ask(TASK, seed=1)
    assert len({ask(TASK, seed=seed) for seed in range(5)}) == 5


def collect(request: ModelRequest, profile: SimProfile = INSTANT) -> tuple[list, Completion]:
    async def go() -> tuple[list, Completion]:
        items = [item async for item in SimProvider(profile).stream(request)]
        return items[:-1], items[-1]

    return asyncio.run(go())


def test_stop_ends_the_text_where_a_real_model_would():
    messages = [{"role": "user", "content": TASK}]
    full = "".join(sim_answer(ModelRequest(model="gpt-4o-mini", messages=messages), INSTANT)[0])
    items, done = collect(ModelRequest(model="gpt-4o-mini", messages=messages, stop=("\n\n",)))
    text = "".join(items)
    assert text == full.split("\n\n")[0]
    assert done.finish_reason == "stop"
    sentence = full.split(". ")[1][:12]  # a stop sequence found mid-text, across pieces
    items, done = collect(ModelRequest(model="gpt-4o-mini", messages=messages, stop=("zzz", sentence)))
    assert "".join(items) == full[: full.index(sentence)]
    assert done.output_tokens < len(sim_answer(ModelRequest(model="gpt-4o-mini", messages=messages))[0])
    items, done = collect(ModelRequest(model="gpt-4o-mini", messages=messages, stop=(full[:5],)))
    assert items == [] and done.finish_reason == "stop" and done.output_tokens == 0


def test_invalid_options_are_rejected_with_the_field_named():
    for kw, field in (
        ({"temperature": -1}, "temperature"),
        ({"stop": ("",)}, "stop"),
        ({"seed": "1"}, "seed"),
    ):
        with pytest.raises((TypeError, ValueError), match=field):
            collect(ModelRequest(model="gpt-4o-mini", messages=[], **kw))


# -- 4. clean language -----------------------------------------------------------------------------
SYSTEMS = [
    None,
    "You are a storyteller who specializes in storytelling. Gather the key facts and weigh the options.",
    "You are a skeptical reviewer. Challenge weak claims.",
    "You synthesise the analysts' findings into a short recommendation.",
]


@pytest.mark.parametrize(("task", "genre", "language"), [c for c in CORPUS if c[2] == "en"])
def test_the_corpus_reads_as_clean_english_at_every_temperature(task, genre, language):
    for temperature in (0.0, 1.0, 2.0):
        for i, system in enumerate(SYSTEMS):
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": task}
            ]
            request = ModelRequest(model="gpt-4o-mini", messages=messages, temperature=temperature, seed=i)
            text = "".join(
                sim_answer(request, SimProfile(delay_scale=0, length=600), speaker=Speaker(f"A{i}"))[0]
            )
            assert text.strip()
            assert problems(text) == [], (temperature, system, text)


def test_system_prompt_verbs_never_become_nouns():
    system = "You are a creative writer who specializes in storytelling. Gather the facts and weigh them."
    text = "\n".join(ask("Plan a marketing launch for a Kyoto tea brand.", system, seed=s) for s in range(4))
    for bad in ("Specializes", "specializes", "the gather", "the weigh", "Gather", "Weigh"):
        assert bad not in text


@pytest.mark.parametrize(
    ("task", "kept"),
    [
        ("Compare the P/E ratio of Apple and Microsoft.", "P/E ratio"),
        ("Review our C++ codebase migration plan.", "C++ codebase"),
        ("Assess the impact of a 3.5% interest rate rise on U.S. housing demand.", "3.5% interest rate rise"),
        ("Assess the impact of a 3.5% interest rate rise on U.S. housing demand.", "U.S. housing demand"),
        ("Forecast the S&P 500 for next year.", "S&P 500"),
    ],
)
def test_abbreviations_and_symbols_stay_whole(task, kept):
    assert any(kept in p.bare for p in key_phrases(task))
    assert kept in ask(task, temperature=0.0)


def test_noun_phrases_read_right_in_their_slots():
    def nps(text: str) -> list[str]:
        return [p.np for p in key_phrases(text)]

    assert nps("Explain how neural networks work") == ["neural networks"]
    assert nps("Summarize the benefits of remote work")[:2] == ["remote work", "the benefits"]
    assert nps("Is nuclear power safe?") == ["nuclear power"]
    assert nps("Why do airlines overbook flights?") == ["airlines", "flights"]
    assert nps("Give me a TL;DR of the EU AI Act.") == ["the EU AI Act"]
    assert "the increase productivity" not in ask("Increase productivity in a remote engineering team.")


# -- 5. hand-over ----------------------------------------------------------------------------------
def test_later_agents_quote_what_named_earlier_agents_said():
    agents = [Agent(agent_name=n, print_on=False) for n in ("Researcher", "Analyst", "Critic")]
    run = SequentialWorkflow(agents=agents).stream(
        "Assess the economics of offshore wind farms in the North Sea."
    )
    out = outputs(run)
    critic = out["Critic"]
    assert "Researcher" in critic and "Analyst" in critic
    for earlier in ("Researcher", "Analyst"):
        words = out[earlier].split()
        quoted = any(" ".join(words[i : i + 6]) in critic for i in range(len(words) - 6))
        assert quoted, f"Critic quotes nothing of {earlier}"


def test_a_summariser_after_a_parallel_step_responds_to_each_agent():
    agents = [Agent(agent_name=n, print_on=False) for n in ("Optimist", "Pessimist", "Summarizer")]
    out = outputs(
        AgentRearrange(agents=agents, flow="Optimist, Pessimist -> Summarizer").stream(
            "Is remote work here to stay?"
        )
    )
    summary = out["Summarizer"]
    assert summary.startswith("## ")
    assert "Optimist" in summary and "Pessimist" in summary


# -- 6. other languages ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task", "language", "topic"),
    [
        ("请写一篇关于人工智能在医疗领域应用的文章", "zh", "人工智能在医疗领域应用"),
        ("東京の歴史について説明してください", "ja", "東京の歴史"),
        ("Escribe un artículo sobre la energía solar en España.", "es", "energía solar en España"),
        ("Écris un article sur le changement climatique en France.", "fr", "changement climatique en France"),
        (
            "Schreibe einen Artikel über erneuerbare Energien in Deutschland.",
            "de",
            "erneuerbare Energien in Deutschland",
        ),
    ],
)
def test_a_task_in_another_language_is_answered_in_it_about_its_topic(task, language, topic):
    text = ask(task)
    assert detect_language(text) == language
    assert topic in text
    assert "This Topic" not in text and "this topic" not in text


def test_cjk_text_is_cut_into_short_plausible_tokens():
    text = "人工智能正在改变我们的生活方式，尤其是在医疗领域。"
    pieces = _simtok.pieces_of(text)
    assert "".join(pieces) == text
    assert all(1 <= len(p) <= 2 for p in pieces)
    assert 0.5 * len(text) <= _simtok.estimate_tokens(text) <= 1.2 * len(text)
    answer, _ = sim_answer(
        ModelRequest(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "请写一篇关于人工智能的文章"}]
        ),
        SimProfile(delay_scale=0, tokenizer="estimate"),
    )
    assert max(len(p.strip()) for p in answer) <= 3


def test_token_counts_use_tiktoken_when_installed():
    tiktoken = pytest.importorskip("tiktoken")
    tok = _simtok.tokenizer_for("gpt-4o-mini")
    if tok.name == "estimate":
        pytest.skip("no tiktoken BPE file on disk (litellm bundles one)")
    encoding = tiktoken.get_encoding("o200k_base")
    for task in (
        "Analyze the lithium battery supply chain in Chile.",
        "请写一篇关于人工智能在医疗领域应用的文章",
    ):
        request = ModelRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": task}])
        items, done = collect(request)
        text = "".join(items)
        assert abs(done.output_tokens - len(encoding.encode(text))) <= 0.03 * done.output_tokens + 2
        assert done.input_tokens == 3 + 4 + len(encoding.encode(task))


# -- 7. reasoning models ---------------------------------------------------------------------------
def test_which_names_are_reasoning_models():
    thinking = ["o1", "o3-mini", "openai/o4-mini", "gpt-5-mini", "deepseek-reasoner", "deepseek/deepseek-r1",
                "claude-3-7-sonnet-thinking", "qwq-32b"]  # fmt: skip
    plain = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-20241022", "ollama/llama3", "omni-moderation-latest"]
    assert all(is_reasoning_model(m) for m in thinking)
    assert not any(is_reasoning_model(m) for m in plain)


def test_a_reasoning_model_streams_its_reasoning_first_and_counts_it_as_output():
    messages = [{"role": "user", "content": "Write a haiku about autumn"}]
    items, done = collect(ModelRequest(model="o3-mini", messages=messages))
    kinds = ["reasoning" if isinstance(i, Reasoning) else "text" for i in items]
    first_text = kinds.index("text")
    assert first_text > 10 and "reasoning" not in kinds[first_text:]
    reasoning = "".join(i.content for i in items if isinstance(i, Reasoning))
    answer = "".join(i for i in items if isinstance(i, str))
    assert "haiku" in reasoning and len(answer.split("\n")) == 3
    tok = _simtok.tokenizer_for("o3-mini")
    assert (
        done.output_tokens == tok.count(reasoning)
        or abs(done.output_tokens - tok.count(reasoning + answer)) <= 3
    )
    assert done.output_tokens > tok.count(answer)
    plain, _ = collect(ModelRequest(model="gpt-4o-mini", messages=messages))
    assert not any(isinstance(i, Reasoning) for i in plain)


def test_reasoning_effort_sets_the_length_and_max_tokens_can_end_it_before_the_answer():
    messages = [{"role": "user", "content": TASK}]

    def reasoning_tokens(effort: str) -> int:
        items, _, _ = sim_items(
            ModelRequest(model="o3-mini", messages=messages, reasoning_effort=effort), INSTANT
        )
        return sum(1 for kind, _ in items if kind == "reasoning")

    assert reasoning_tokens("low") < reasoning_tokens("medium") < reasoning_tokens("high")
    items, done = collect(ModelRequest(model="o3-mini", messages=messages, max_tokens=20))
    assert all(isinstance(i, Reasoning) for i in items)
    assert done.finish_reason == "length" and done.output_tokens <= 20


def test_reasoning_reaches_the_run_as_reasoning_chunks_never_part_of_the_output():
    agent = Agent(agent_name="Thinker", model_name="sim/o3-mini", print_on=False)
    run = agent.stream("Should a mid-sized city invest in grid-scale battery storage?")
    output = run.result()
    chunks = [e for e in run.events if e.type == "chunk"]
    kinds = [c.kind for c in chunks]
    assert kinds[0] == "reasoning" and kinds[-1] == "text"
    assert output == "".join(c.content for c in chunks if c.kind == "text")
    reasoning = "".join(c.content for c in chunks if c.kind == "reasoning")
    assert reasoning and reasoning not in output


# -- generation is incremental ---------------------------------------------------------------------
def test_the_first_piece_costs_a_sentence_not_the_whole_answer(monkeypatch):
    """A huge answer: the old sim wrote all of it before the first token."""
    from nbswarm.models import _simtext

    produced = []
    real = _simtext.Composer.fragments

    def counting(self):  # type: ignore[no-untyped-def]
        for fragment in real(self):
            produced.append(fragment)
            yield fragment

    monkeypatch.setattr(_simtext.Composer, "fragments", counting)

    async def first() -> object:
        stream = SimProvider(SimProfile(delay_scale=0, length=200_000)).stream(
            ModelRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": TASK}])
        )
        item = await anext(stream)
        await stream.aclose()
        return item

    assert isinstance(asyncio.run(first()), str)
    assert 1 <= len(produced) <= 2


def test_the_estimate_cuts_one_token_per_piece_and_tiktoken_counts_match_its_pieces():
    request = ModelRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": TASK}])
    items, done = collect(request, SimProfile(delay_scale=0, tokenizer="estimate"))
    assert done.output_tokens == len(items)
    assert done.input_tokens == 3 + 4 + _simtok.estimate_tokens(TASK)
    with pytest.raises(ValueError, match="tokenizer"):
        SimProfile(tokenizer="gpt2")


def test_making_a_sim_agent_loads_its_tokenizer_in_the_background():
    """The first turn's time to first token must not be spent reading a BPE file."""
    code = (
        "from nbswarm import Agent\n"
        "from nbswarm.models import _simtok, sim\n"
        "assert not _simtok.loaded('gpt-4o-mini')\n"
        "Agent(agent_name='A', model_name='sim/gpt-4o-mini', print_on=False)\n"
        "pending = sim._WARMING.get(('gpt-4o-mini', 'auto'))\n"
        "if pending is not None:\n"
        "    pending.result(timeout=60)\n"
        "print(_simtok.loaded('gpt-4o-mini'), pending is not None)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded, prefetched = out.stdout.split()
    assert loaded == "True"
    assert prefetched == "True" or _simtok.tokenizer_for("gpt-4o-mini").name == "estimate"


def test_a_critic_after_a_story_critiques_the_writing_quoting_it():
    agents = [Agent(agent_name=n, print_on=False) for n in ("Writer", "Critic")]
    out = outputs(SequentialWorkflow(agents=agents).stream("Write a short story about a lighthouse keeper"))
    story, critique = out["Writer"], out["Critic"]
    assert '"' in story and "#" not in story
    assert "Writer's story" in critique
    quoted = re.findall(r'"([^"]{12,})"', critique)
    assert quoted and all(q.rstrip(".,") in story or q[0].lower() + q[1:] in story for q in quoted)
    assert any(w in critique.lower() for w in ("pacing", "dialogue", "opening", "ending"))
    assert "weak claims" not in critique and "the market" not in critique


def test_hand_over_in_chinese_quotes_a_sentence_of_the_earlier_agent():
    agents = [Agent(agent_name=n, print_on=False) for n in ("Researcher", "Critic")]
    out = outputs(SequentialWorkflow(agents=agents).stream("请分析电动汽车在中国市场的前景"))
    quoted = re.findall(r"“([^”]*)”", out["Critic"])
    assert quoted and all(len(q) >= 8 and q in out["Researcher"] for q in quoted)
    assert detect_language(out["Critic"]) == "zh"
