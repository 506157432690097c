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


def test_a_commands_answer_must_be_checked_before_it_is_read(tmp_path):
    """execute() answers ``object``: reading it as a dict without query()'s shape check is a type error."""
    snippet = tmp_path / "reader.py"
    snippet.write_text(
        "from migtui.qmp.session import VMSession\n"
        "async def status(session: VMSession) -> object:\n"
        "    unchecked = (await session.execute('query-status'))['status']\n"
        "    checked = (await session.query('query-status')).get('status')\n"
        "    listed = [job.get('id') for job in await session.query_list('query-jobs')]\n"
        "    return unchecked, checked, listed\n")
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(snippet)],
                         cwd=ROOT, capture_output=True, text=True)
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and 'reader.py:3: error: Value of type "object" is not indexable' in errors[0], run.stdout
