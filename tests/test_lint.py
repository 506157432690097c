"""migtui's code passes ruff with the rule set of pyproject's [tool.ruff] (the version the lock pins)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_in_migtui():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "migtui"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
