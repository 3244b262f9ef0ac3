"""The offline sim model: text that answers the prompt, exact timing, usage, failures, env switches."""

from __future__ import annotations

import ast
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbswarm.models._simtok import pieces_of, tokenizer_for
from nbswarm.models.base import Completion, ModelRequest
from nbswarm.models.prices import cost_usd, price_per_token
from nbswarm.models.sim import (
    SimProfile,
    SimProvider,
    SimulatedFailure,
    estimate_input_tokens,
    sim_answer,
    sim_schedule,
)

REPO = Path(__file__).resolve().parents[1]
INSTANT = SimProfile(delay_scale=0)
TASK = "Analyze the lithium battery supply chain in Chile and identify export risks."
MESSAGES = [
    {"role": "system", "content": "You are a market research specialist. Track consumer demand."},
    {"role": "user", "content": TASK},
]


def request(messages: list[dict] | None = None, **kw) -> ModelRequest:
    return ModelRequest(model="gpt-4o-mini", messages=MESSAGES if messages is None else messages, **kw)


def collect(req: ModelRequest, profile: SimProfile = INSTANT, **kw) -> tuple[list[str], Completion | None]:
    """Run one stream to the end: its pieces and its Completion."""

    async def go() -> tuple[list[str], Completion | None]:
        pieces: list[str] = []
        done = None
        async for item in SimProvider(profile, **kw).stream(req):
            if isinstance(item, Completion):
                assert done is None, "more than one Completion"
                done = item
            else:
                assert done is None, "a piece after the Completion"
                pieces.append(item)
        return pieces, done

    return asyncio.run(go())


def longest_run(pieces: list[str]) -> int:
    best = run = 1
    for a, b in itertools.pairwise(pieces):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return best


def test_same_prompt_same_answer_and_other_seeds_differ():
    first, _ = collect(request())
    again, _ = collect(request())
    assert first == again
    assert collect(request(), SimProfile(delay_scale=0, seed=1))[0] != first
    assert collect(request(seed=7))[0] != first
    other_task = [MESSAGES[0], {"role": "user", "content": "Summarise the history of jazz in New Orleans."}]
    assert collect(request(other_task))[0] != first


def test_answer_is_deterministic_across_processes():
    """No dependence on Python's per-process hash seed (sets, dict order of str hashes)."""
    code = (
        "from nbswarm.models.sim import sim_answer; from nbswarm.models.base import ModelRequest;"
        f"print(repr(''.join(sim_answer(ModelRequest(model='gpt-4o-mini', messages={MESSAGES!r}))[0])))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert "".join(sim_answer(request())[0]) == ast.literal_eval(outputs.pop())


def test_answer_is_prose_that_answers_the_task_in_the_role():
    pieces, done = collect(request())
    text = "".join(pieces)
    assert "lithium battery supply chain" in text
    assert "Chile" in text
    assert "market research specialist" in text
    assert text.startswith("## ")  # a heading
    assert "\n\n" in text and ("\n- " in text or "\n1. " in text)  # paragraphs and a list
    assert text.rstrip().endswith(".")
    assert done is not None and done.finish_reason == "stop"
    assert 150 <= len(pieces) <= 450  # "a few hundred": 300 ±25%, plus a closing sentence
    assert all(isinstance(p, str) and p for p in pieces)


def test_role_changes_the_answer():
    analyst = [{"role": "system", "content": "You are a financial analyst."}, MESSAGES[1]]
    text = "".join(collect(request(analyst))[0])
    assert "financial analyst" in text
    assert "market research specialist" not in text
    assert text != "".join(collect(request())[0])


def test_answer_builds_on_earlier_agents_in_the_user_message():
    user = (
        f"{TASK}\n\nResearcher: Chilean lithium brine output doubled while copper royalties rose.\n\n"
        "Risk-Analyst: Water scarcity in the Atacama desert threatens expansion."
    )
    text = "".join(collect(request([MESSAGES[0], {"role": "user", "content": user}]))[0])
    assert "Researcher" in text and "Risk-Analyst" in text
    low = text.lower()
    assert "lithium brine" in low or "copper royalties" in low  # credits what Researcher said
    assert "water scarcity" in low or "atacama desert" in low
    assert "lithium battery supply chain" in text  # and still answers the task


def test_answer_builds_on_named_and_unnamed_assistant_turns():
    messages = [
        MESSAGES[1],
        {"role": "assistant", "name": "Writer", "content": "Solar panel adoption accelerated in Vietnam."},
    ]
    assert "Writer" in "".join(collect(request(messages))[0])
    loop = [MESSAGES[1], {"role": "assistant", "content": "Export quotas shape pricing."}, MESSAGES[1]]
    text = "".join(collect(request(loop))[0])
    assert "my previous draft" in text or "my earlier answer" in text


def test_conversation_transcript_labels_task_agents_and_own_drafts():
    """A swarms-style history in one user message: "user: task", "Agent: ...", "assistant: ..."."""
    transcript = (
        "user: Plan a marketing launch for a Kyoto tea brand.\n\n"
        "Scout: Matcha tourism peaks during cherry blossom season.\n\n"
        "assistant: Earlier draft proposing limited seasonal packaging."
    )
    text = "".join(collect(request([{"role": "user", "content": transcript}]))[0])
    low = text.lower()
    assert "kyoto tea brand" in low or "marketing launch" in low
    assert "Scout" in text
    assert "my previous draft" in text or "my earlier answer" in text
    assert "assistant" not in low


def test_answers_even_empty_or_contentless_prompts():
    for messages in ([], [{"role": "user", "content": ""}], [{"role": "user", "content": None}]):
        pieces, done = collect(request(messages))
        assert pieces and done is not None and done.finish_reason == "stop"


@given(st.text())
def test_pieces_join_back_to_the_text(text):
    pieces = pieces_of(text)
    assert "".join(pieces) == text
    assert all(pieces)


def test_fill_streams_exactly_max_tokens_with_no_long_repeats():
    pieces, done = collect(request(max_tokens=20_000), SimProfile(delay_scale=0, fill=True))
    assert len(pieces) == 20_000
    assert done == Completion(
        finish_reason="length",
        input_tokens=done.input_tokens,
        output_tokens=20_000,
        cost=done.cost,
    )
    assert longest_run(pieces) <= 3  # litellm rejects ~100 identical chunks in a row
    assert len(set(pieces)) > 100


def test_fill_without_max_tokens_answers_at_natural_length():
    assert sim_answer(request(), SimProfile(fill=True)) == sim_answer(request(), SimProfile())


def test_max_tokens_caps_the_answer_as_a_prefix():
    full, _ = collect(request())
    capped, done = collect(request(max_tokens=17))
    assert capped == full[:17]
    assert done.finish_reason == "length" and done.output_tokens == 17
    roomy, done = collect(request(max_tokens=len(full) + 50))
    assert roomy == full and done.finish_reason == "stop"
    exact, done = collect(request(max_tokens=len(full)))
    assert exact == full and done.finish_reason == "stop"


def test_length_sets_the_typical_answer_size():
    short = len(sim_answer(request(), SimProfile(length=60))[0])
    long = len(sim_answer(request(), SimProfile(length=2000))[0])
    assert 30 <= short <= 110
    assert 1400 <= long <= 2600


@pytest.mark.parametrize("fail_after", [0, 1, 25])
def test_fail_after_raises_after_exactly_that_many_pieces(fail_after):
    got: list[str] = []

    async def go() -> None:
        async for item in SimProvider(SimProfile(delay_scale=0, fail_after=fail_after)).stream(request()):
            assert not isinstance(item, Completion)
            got.append(item)

    with pytest.raises(SimulatedFailure, match=f"after {fail_after} tokens"):
        asyncio.run(go())
    assert got == sim_answer(request())[0][:fail_after]
    assert issubclass(SimulatedFailure, RuntimeError)


def test_fail_after_beyond_the_answer_completes_normally():
    n = len(sim_answer(request())[0])
    pieces, done = collect(request(), SimProfile(delay_scale=0, fail_after=n + 1))
    assert len(pieces) == n and done.finish_reason == "stop"
    with pytest.raises(SimulatedFailure):
        collect(request(), SimProfile(delay_scale=0, fail_after=n))


def test_completion_reports_usage_at_the_models_price():
    pieces, done = collect(request())
    assert done.output_tokens == len(pieces)
    assert done.input_tokens == estimate_input_tokens(MESSAGES, tokenizer_for("gpt-4o-mini"))
    price_in, price_out = price_per_token("gpt-4o-mini")
    assert done.cost == pytest.approx(done.input_tokens * price_in + done.output_tokens * price_out)
    assert done.cost == cost_usd("gpt-4o-mini", done.input_tokens, done.output_tokens) > 0
    _, unknown = collect(ModelRequest(model="no-such-model", messages=MESSAGES))
    assert unknown.cost == 0.0


def test_input_token_estimate():
    assert estimate_input_tokens([]) == 3
    # one token a short word, one per 6 letters of a long one (see _simtok)
    assert estimate_input_tokens([{"role": "user", "content": "x" * 40}]) == 3 + 4 + 7
    assert estimate_input_tokens([{"role": "user", "content": "abcde"}, {"role": "system"}]) == 3 + 5 + 4


def test_schedule_starts_at_ttft_and_keeps_the_rate_exactly():
    profile = SimProfile(ttft=0.5, tokens_per_second=40.0, jitter=0.35, fill=True)
    times = sim_schedule(request(max_tokens=5000), profile)
    assert len(times) == 5000
    assert times[0] == 0.5
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g > 0 for g in gaps)
    assert statistics.fmean(gaps) == pytest.approx(1 / 40.0, rel=1e-3)
    for block in (gaps[:8], gaps[8:72], gaps[72:136]):  # exact per block: 8 gaps, then 64 at a time
        assert statistics.fmean(block) == pytest.approx(1 / 40.0, rel=1e-9)
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(0.35, rel=0.1)
    assert sim_schedule(request(max_tokens=5000), profile) == times  # deterministic


def test_schedule_without_jitter_is_a_metronome_and_matches_the_answer():
    times = sim_schedule(request(), SimProfile(ttft=0.2, tokens_per_second=10.0, jitter=0.0))
    assert len(times) == len(sim_answer(request())[0])
    assert times[:3] == pytest.approx([0.2, 0.3, 0.4])
    assert times[-1] == pytest.approx(0.2 + (len(times) - 1) / 10.0)


class FakeClock:
    """A clock that only moves when the stream sleeps, plus a fixed overhead per sleep."""

    def __init__(self, overhead: float = 0.0) -> None:
        self.now = 100.0
        self.overhead = overhead
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.overhead


def delivery_times(req: ModelRequest, profile: SimProfile, clock: FakeClock) -> list[float]:
    async def go() -> list[float]:
        seen = []
        async for item in SimProvider(profile, clock=clock, sleep=clock.sleep).stream(req):
            if isinstance(item, str):
                seen.append(clock.now - 100.0)
        return seen

    return asyncio.run(go())


def test_stream_sleeps_to_absolute_deadlines_so_drift_does_not_add_up():
    profile = SimProfile(ttft=0.3, tokens_per_second=50.0, delay_scale=0.5)
    clock = FakeClock(overhead=0.001)  # every wake-up is 1 ms late
    seen = delivery_times(request(), profile, clock)
    due = [t * 0.5 for t in sim_schedule(request(), profile)]
    assert len(seen) == len(due)
    assert seen == pytest.approx([t + 0.001 for t in due])  # 1 ms late each, never i ms late


def test_delay_scale_env_is_read_at_stream_time(monkeypatch):
    profile = SimProfile(ttft=0.3, tokens_per_second=50.0)  # delay_scale=None: from the environment
    monkeypatch.setenv("NBSWARM_SIM_DELAY_SCALE", "2")
    assert profile.effective_delay_scale() == 2.0
    clock = FakeClock()
    seen = delivery_times(request(), profile, clock)
    assert seen == pytest.approx([t * 2 for t in sim_schedule(request(), profile)])
    monkeypatch.setenv("NBSWARM_SIM_DELAY_SCALE", "0")
    clock = FakeClock()
    delivery_times(request(), profile, clock)
    assert clock.sleeps and set(clock.sleeps) == {0}  # never waits, but yields once per piece
    monkeypatch.delenv("NBSWARM_SIM_DELAY_SCALE")
    assert profile.effective_delay_scale() == 1.0
    assert SimProfile(delay_scale=0.25).effective_delay_scale() == 0.25
    for bad in ("fast", "-1", "nan", "inf"):
        monkeypatch.setenv("NBSWARM_SIM_DELAY_SCALE", bad)
        with pytest.raises(ValueError, match="NBSWARM_SIM_DELAY_SCALE"):
            collect(request(), profile)


def test_fill_env_turns_fill_on_unless_the_profile_says_otherwise(monkeypatch):
    monkeypatch.setenv("NBSWARM_SIM_FILL", "1")
    assert len(collect(request(max_tokens=900))[0]) == 900
    assert len(collect(request(max_tokens=900), SimProfile(delay_scale=0, fill=False))[0]) < 900
    monkeypatch.setenv("NBSWARM_SIM_FILL", "0")
    assert len(collect(request(max_tokens=900))[0]) < 900
    monkeypatch.setenv("NBSWARM_SIM_FILL", "maybe")
    with pytest.raises(ValueError, match="NBSWARM_SIM_FILL"):
        collect(request(max_tokens=900))


def test_concurrent_streams_interleave_even_without_delays():
    order: list[str] = []

    async def agent(name: str, task: str) -> None:
        req = request([{"role": "user", "content": task}])
        async for item in SimProvider(INSTANT).stream(req):
            if isinstance(item, str):
                order.append(name)

    async def both() -> None:
        await asyncio.gather(agent("A", "Plan a trip to Kyoto."), agent("B", "Review the solar budget."))

    asyncio.run(both())
    flips = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert flips >= 50


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("ttft", -0.1, ValueError),
        ("ttft", float("nan"), ValueError),
        ("tokens_per_second", 0, ValueError),
        ("tokens_per_second", -5.0, ValueError),
        ("tokens_per_second", "fast", TypeError),
        ("jitter", -0.5, ValueError),
        ("length", 0, ValueError),
        ("length", 2.5, TypeError),
        ("fill", "yes", TypeError),
        ("delay_scale", -1.0, ValueError),
        ("delay_scale", float("inf"), ValueError),
        ("seed", "0", TypeError),
        ("fail_after", -1, ValueError),
        ("fail_after", True, TypeError),
    ],
)
def test_profile_validation_names_the_field(field, value, error):
    with pytest.raises(error, match=field):
        SimProfile(**{field: value})


def test_request_validation():
    with pytest.raises(ValueError, match="max_tokens"):
        collect(request(max_tokens=0))
    with pytest.raises(TypeError, match="ModelRequest"):
        collect("hello")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="messages"):
        collect(ModelRequest(model="gpt-4o-mini", messages=["hi"]))  # type: ignore[list-item]
    with pytest.raises(TypeError, match="SimProfile"):
        SimProvider({"ttft": 0})  # type: ignore[arg-type]


def test_importing_the_sim_does_not_import_litellm():
    code = (
        "import sys, asyncio\n"
        "from nbswarm.models.sim import SimProvider, SimProfile\n"
        "from nbswarm.models.base import ModelRequest\n"
        "async def go():\n"
        "    req = ModelRequest(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'hi'}])\n"
        "    return [x async for x in SimProvider(SimProfile(delay_scale=0)).stream(req)]\n"
        "items = asyncio.run(go())\n"
        "assert items[-1].cost > 0, items[-1]\n"
        "print('litellm' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def long_answer(messages: list[dict], seeds: range = range(4)) -> str:
    """Several long answers to one prompt, so most templates and every phrase get used."""
    profile = SimProfile(delay_scale=0, fill=True)
    return "\n".join(
        "".join(sim_answer(request(messages, seed=seed, max_tokens=1500), profile)[0]) for seed in seeds
    )


BATTERY = "Should a mid-sized city invest in grid-scale battery storage?"


@pytest.mark.parametrize(
    ("system", "task", "bad", "good"),
    [
        (
            "You are an energy analyst. Gather the key facts and weigh the options.",
            BATTERY,
            ["city invest", "the gather", "the weigh"],
            "grid-scale battery storage",
        ),
        (
            "You synthesise the analysts' findings into a short recommendation.",
            BATTERY,
            ["the synthesise", "the recommendation", "city invest"],
            "grid-scale battery storage",
        ),
        (
            "You are a financial analyst.",
            "Analyze Tesla (TSLA) stock from market and financial perspectives",
            ["the analyze", " tesla", "the Tesla"],
            "Tesla (TSLA) stock",
        ),
        (
            None,
            "Write a short explanation of how neural networks work",
            ["the explanation", "networks work and", "the networks work"],
            "neural networks",
        ),
        (None, "Write a creative story", ["the write", "creative story", "## "], '"'),
        (None, "Generate report", ["generate report", "Generate Report", "the report"], "## "),
    ],
)
def test_phrases_are_noun_phrases_not_verbs_or_deliverables(system, task, bad, good):
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": task}
    ]
    text = long_answer(messages)
    assert good in text
    for phrase in bad:
        assert phrase not in text, phrase


def test_key_phrases_prefer_the_object_and_keep_names():
    from nbswarm.models._simphrase import key_phrases

    def nps(text: str) -> list[str]:
        return [p.np for p in key_phrases(text)]

    assert nps(BATTERY) == ["the grid-scale battery storage", "the mid-sized city"]
    assert nps("Analyze Tesla (TSLA) stock from market and financial perspectives")[0] == "Tesla (TSLA) stock"
    assert "Tesla" in nps("Tesla reported record deliveries.")  # a name at a sentence start keeps its capital
    assert nps("Electric vehicle adoption in Norway") == ["the electric vehicle adoption", "Norway"]
    assert nps("Evaluate the risks of expanding into the European market") == [
        "the European market",
        "the risks",
    ]
    assert (
        nps("Report the quarterly sales figures and design a dashboard.")[0] == "the quarterly sales figures"
    )
    assert nps("Summarise the history of jazz in New Orleans.")[0] == "New Orleans"
    assert nps("Plan a marketing launch for a Kyoto tea brand.") == [
        "Kyoto tea brand",
        "the marketing launch",
    ]
