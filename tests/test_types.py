"""Every layer below the UI stays mypy --strict clean: the protocol layer and the model,
the schema engine, parameters, the lab, the inventory and the command line."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NON_UI = ["migtui/qmp", "migtui/model", "migtui/alerts", "migtui/serve", "migtui/qapi", "migtui/params", "migtui/lab", "migtui/cli",
          "migtui/inventory.py", "migtui/errors.py", "migtui/toml_lines.py", "migtui/units.py", "migtui/__main__.py"]


def test_every_layer_below_the_ui_is_strictly_typed():
    # Imported UI modules (the dashboard command loads the app) are read for their types but not
    # reported on: Textual's typing forces narrow ignores there that are not this test's concern.
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                          "--no-error-summary", *NON_UI], cwd=ROOT, capture_output=True, text=True)
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
