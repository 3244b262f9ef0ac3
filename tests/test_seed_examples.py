"""The seed examples (examples/seed_*.py) run as written on the sim and print what the seed says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, cwd: Path) -> str:
    env = {**os.environ, "NBSWARM_SIMULATE": "1", "NBSWARM_SIM_DELAY_SCALE": "0", "COLUMNS": "100"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_basic_streams_with_a_header_then_prints_the_response(tmp_path) -> None:
    out = run_example("seed_basic.py", tmp_path)
    head, _, rest = out.partition("━" * 62 + "\n")
    assert "🤖 Agent: Streaming-Agent | Loops: 1" in head
    # Streamed once under the header, then printed again by print(response).
    streamed, printed = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    assert rest.count("how neural networks work") == 2 and streamed.strip() == printed.strip()


def test_callback_overrides_printing_and_receives_every_token(tmp_path) -> None:
    out = run_example("seed_callback.py", tmp_path)
    assert "🤖 Agent" not in out
    assert "quantum computing" in out.lower() and len(out) > 500


def test_detailed_prints_usage_and_finish_reason(tmp_path) -> None:
    out = run_example("seed_detailed.py", tmp_path)
    assert "\n\nTokens used: {'input_tokens':" in out
    assert out.rstrip().endswith("Finished: stop")
    assert out.count("Finished:") == 1


def test_silent_prints_only_the_final_response(tmp_path) -> None:
    out = run_example("seed_silent.py", tmp_path)
    assert out.startswith("\n=== Final Response ===\n")
    assert "market trends" in out.lower()


def test_file_logging_writes_timestamped_tokens(tmp_path) -> None:
    out = run_example("seed_file_logging.py", tmp_path)
    assert out.strip().endswith("Full response logged to: agent_stream.log")
    log = (tmp_path / "agent_stream.log").read_text()
    assert log.startswith("[20") and log.count("] ") > 100


@pytest.mark.parametrize("name", ["seed_custom_panel.py", "seed_progress.py", "seed_best_practices.py"])
def test_display_examples_run(name: str, tmp_path) -> None:
    out = run_example(name, tmp_path)
    expected = {"seed_custom_panel.py": "Agent Thinking", "seed_progress.py": "100%"}.get(name, "report")
    assert expected in out


def test_configuration_example_runs_with_interactive_and_verbose(tmp_path) -> None:
    out = run_example("seed_configuration.py", tmp_path)
    assert "data" in out.lower() and "🤖 Agent" not in out  # the runtime callback overrides printing


def test_concurrent_dashboard_shows_every_agent(tmp_path) -> None:
    out = run_example("seed_concurrent.py", tmp_path)
    for name in ("Market-Researcher", "Financial-Analyst", "Technical-Analyst"):
        assert name in out


def test_sequential_streams_researcher_then_writer(tmp_path) -> None:
    out = run_example("seed_sequential.py", tmp_path)
    assert 0 <= out.index("Agent: Researcher") < out.index("Agent: Writer")
