"""Model prices: litellm's bundled map read without importing litellm, with a built-in fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbswarm.models import prices
from nbswarm.models.prices import BUILTIN_PRICES, cost_usd, litellm_price_file, price_per_token

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_litellm(monkeypatch):
    """Pretend litellm is not installed (and restore the real cached map afterwards)."""
    monkeypatch.setattr(prices, "litellm_price_file", lambda: None)
    prices._litellm_prices.cache_clear()
    yield
    prices._litellm_prices.cache_clear()


def bundled_map() -> dict:
    path = litellm_price_file()
    if path is None:
        pytest.skip("litellm is not installed")
    return json.loads(path.read_text(encoding="utf-8"))


def test_known_model_uses_litellms_bundled_price():
    entry = bundled_map()["gpt-4o-mini"]
    assert price_per_token("gpt-4o-mini") == (entry["input_cost_per_token"], entry["output_cost_per_token"])
    assert litellm_price_file().name == prices.PRICE_MAP_FILE


def test_a_model_only_litellm_knows_is_priced():
    raw = bundled_map()
    name = "mistral/mistral-small-latest"
    if name not in raw:
        pytest.skip(f"{name} left litellm's map")
    assert name.split("/", 1)[1] not in BUILTIN_PRICES
    assert price_per_token(name) == (raw[name]["input_cost_per_token"], raw[name]["output_cost_per_token"])
    assert price_per_token("mistral-small-latest") == price_per_token(name)  # bare name finds the prefix


@pytest.mark.parametrize(
    "alias",
    ["openai/gpt-4o-mini", "sim/gpt-4o-mini", "GPT-4o-mini", " gpt-4o-mini ", "sim/openai/gpt-4o-mini"],
)
def test_prefixed_and_cased_names_find_the_same_price(alias):
    assert price_per_token(alias) == price_per_token("gpt-4o-mini") is not None


def test_anthropic_prefixed_name_is_priced():
    assert price_per_token("anthropic/claude-3-5-sonnet-20240620") == pytest.approx((3e-6, 15e-6))
    assert price_per_token("claude-3-5-sonnet-20240620") == price_per_token(
        "anthropic/claude-3-5-sonnet-20240620"
    )


def test_unknown_model_has_no_price_and_costs_nothing():
    assert price_per_token("no-such-model-xyz") is None
    assert price_per_token("") is None
    assert cost_usd("no-such-model-xyz", 1000, 1000) == 0.0


def test_cost_is_tokens_times_price():
    price_in, price_out = price_per_token("gpt-4o")
    assert cost_usd("gpt-4o", 1000, 500) == pytest.approx(1000 * price_in + 500 * price_out)
    assert cost_usd("gpt-4o", 0, 0) == 0.0
    assert cost_usd("gpt-4o", 1000, 500) > cost_usd("gpt-4o-mini", 1000, 500)


def test_builtin_table_serves_when_litellm_is_missing(no_litellm):
    assert prices._litellm_prices() == {}
    assert price_per_token("gpt-4o-mini") == BUILTIN_PRICES["gpt-4o-mini"]
    assert price_per_token("openai/gpt-4o-mini") == BUILTIN_PRICES["gpt-4o-mini"]
    assert price_per_token("mistral/mistral-small-latest") is None  # only litellm's map knows it


def test_unreadable_price_file_falls_back_to_the_builtin_table(monkeypatch, tmp_path):
    broken = tmp_path / prices.PRICE_MAP_FILE
    broken.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(prices, "litellm_price_file", lambda: broken)
    prices._litellm_prices.cache_clear()
    try:
        assert price_per_token("gpt-4o") == BUILTIN_PRICES["gpt-4o"]
    finally:
        prices._litellm_prices.cache_clear()


def test_builtin_table_is_sane():
    for name, (price_in, price_out) in BUILTIN_PRICES.items():
        assert name == name.lower()
        assert 0 < price_in <= price_out < 1e-4, name


def test_validation():
    with pytest.raises(TypeError, match="model"):
        price_per_token(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="input_tokens"):
        cost_usd("gpt-4o", -1, 0)
    with pytest.raises(ValueError, match="output_tokens"):
        cost_usd("gpt-4o", 0, -1)
    with pytest.raises(TypeError, match="output_tokens"):
        cost_usd("gpt-4o", 0, 1.5)  # type: ignore[arg-type]


def test_price_lookup_does_not_import_litellm():
    code = (
        "import sys\n"
        "from nbswarm.models.prices import price_per_token, litellm_price_file\n"
        "assert price_per_token('gpt-4o-mini') is not None\n"
        "print(litellm_price_file() is not None, 'litellm' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    found, imported = out.stdout.split()
    assert imported == "False"
    assert found == str(litellm_price_file() is not None)
