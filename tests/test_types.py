"""The protocol layer and the model stay mypy --strict clean."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_protocol_layer_is_strictly_typed():
    targets = ["migtui/qmp", "migtui/model", "migtui/inventory.py", "migtui/errors.py"]
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *targets],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
