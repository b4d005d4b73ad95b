"""ruff (configured in pyproject.toml) passes on the whole repository."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_passes():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert "No module named ruff" not in res.stderr, "ruff comes with the test extra: pip install -e '.[test]'"
    assert res.returncode == 0, res.stdout + res.stderr
