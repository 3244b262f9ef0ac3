"""Model prices: one source (genai-prices) for the sim and real models, no file read from another package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from nbswarm.models import prices
from nbswarm.models.prices import cost_usd, price_per_token

REPO = Path(__file__).resolve().parents[1]


def package_price(model: str, provider: str | None = None) -> tuple[float, float]:
    price = calc_price(Usage(input_tokens=1000, output_tokens=1000), model, provider_id=provider)
    return float(price.input_price) / 1000, float(price.output_price) / 1000


def test_known_model_uses_the_price_package():
    assert price_per_token("gpt-4o-mini") == pytest.approx(package_price("gpt-4o-mini", "openai"))
    assert price_per_token("gpt-4o-mini") == pytest.approx((0.15e-6, 0.60e-6))


@pytest.mark.parametrize(
    "alias",
    ["openai/gpt-4o-mini", "sim/gpt-4o-mini", "GPT-4o-mini", " gpt-4o-mini ", "sim/openai/gpt-4o-mini"],
)
def test_prefixed_and_cased_names_find_the_same_price(alias):
    assert price_per_token(alias) == price_per_token("gpt-4o-mini") is not None


def test_litellm_prefixes_map_to_the_packages_providers():
    assert price_per_token("anthropic/claude-3-5-sonnet-20240620") == pytest.approx((3e-6, 15e-6))
    gemini = package_price("gemini-2.5-flash", "google")
    assert price_per_token("gemini/gemini-2.5-flash") == pytest.approx(gemini)
    assert price_per_token("o3-mini") == pytest.approx((1.1e-6, 4.4e-6))


def test_unknown_model_has_no_price_and_costs_nothing():
    assert price_per_token("no-such-model-xyz") is None
    assert price_per_token("ollama/no-such-local-model") is None
    assert price_per_token("") is None
    assert cost_usd("no-such-model-xyz", 1000, 1000) == 0.0


def test_cost_is_tokens_times_price():
    price_in, price_out = price_per_token("gpt-4o")
    assert cost_usd("gpt-4o", 1000, 500) == pytest.approx(1000 * price_in + 500 * price_out)
    assert cost_usd("gpt-4o", 0, 0) == 0.0
    assert cost_usd("gpt-4o", 1000, 500) > cost_usd("gpt-4o-mini", 1000, 500)


def test_a_reported_cost_is_read_from_objects_and_dicts():
    from nbswarm.models.prices import reported_cost

    class Reported:
        cost = 0.00123

    assert reported_cost(Reported()) == 0.00123
    assert reported_cost({"cost": 2}) == 2.0
    assert reported_cost({"prompt_tokens": 3}) is None
    assert reported_cost({"cost": float("nan")}) is None
    assert reported_cost({"cost": True}) is None


def test_validation():
    with pytest.raises(TypeError, match="model"):
        price_per_token(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="input_tokens"):
        cost_usd("gpt-4o", -1, 0)
    with pytest.raises(ValueError, match="output_tokens"):
        cost_usd("gpt-4o", 0, -1)
    with pytest.raises(TypeError, match="output_tokens"):
        cost_usd("gpt-4o", 0, 1.5)  # type: ignore[arg-type]


def test_one_source_no_file_inside_another_package_and_no_litellm_import():
    source = Path(prices.__file__).read_text(encoding="utf-8")
    assert "model_prices_and_context_window" not in source and "find_spec" not in source
    code = (
        "import sys\n"
        "from nbswarm.models.prices import price_per_token\n"
        "assert price_per_token('gpt-4o-mini') is not None\n"
        "print('litellm' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]
