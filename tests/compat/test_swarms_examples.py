"""swarms' own streaming examples run with only their import changed (examples/swarms/), on the sim."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "swarms"


def run_example(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NBSWARM_SIMULATE": "1",
        "NBSWARM_SIM_DELAY_SCALE": "0",
        "PYTHONPATH": str(REPO),
        "COLUMNS": "100",
    }
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_only_the_import_differs_from_swarms():
    for path in EXAMPLES.glob("*.py"):
        header = path.read_text().splitlines()[:3]
        assert header[0].startswith("# Copied from swarms (github.com/kyegomez/swarms), examples/")
        assert "with only the import changed" in header[1]
        code = path.read_text().splitlines()[3:]
        imports = [line for line in code if line.startswith(("import ", "from "))]
        assert not [line for line in imports if "swarms" in line.split()[1]], path.name
        assert any(line.startswith("from nbswarm import ") for line in imports), path.name


def test_agent_stream_token_streams_the_story(tmp_path):
    out = run_example("agent_stream_token.py", tmp_path).stdout
    assert "🤖 Agent: Agent | Loops: 1" in out and "robot" in out.lower() and len(out) > 500


def test_arun_stream_streams_twice_at_once_and_propagates_the_error(tmp_path):
    proc = run_example("06_arun_stream.py", tmp_path)
    out = proc.stdout
    assert out.startswith("=== arun_stream: single call ===\nTask: Explain the difference")
    chars = int(out.split("[Total chars: ")[1].split("]")[0])
    assert chars > 200
    assert "[TaskA]" in out and "[TaskB]" in out and " tokens received" in out
    assert "Exception correctly propagated: InvalidArgument: " in out
    assert "Agent(persistent_memory=...) has no effect in nbswarm" in proc.stderr


def test_sequential_workflow_streaming_tokens_then_events(tmp_path):
    out = run_example("sequential_workflow_streaming_example.py", tmp_path).stdout
    plain, _, evented = out.partition("\n--- Researcher started ---\n")
    assert len(plain) > 500 and evented
    order = [evented.index(m) for m in ("--- Researcher finished ---", "--- Writer started ---")]
    assert order == sorted(order) and evented.rstrip().endswith("--- Writer finished ---")
