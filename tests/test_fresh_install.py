"""migtui as a new user of the wheel gets it: installed in a fresh virtual environment
without the lock, so with the newest versions pyproject allows, its terminal holds
migtui's own words only (the same checks as tests/test_quiet_terminal.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from recorded_lab import LabRecording
from terminal_output import UNREACHABLE_SSH_LINE, UNREACHABLE_SSH_VM, dashboard_leftovers, report_html, run

ROOT = Path(__file__).resolve().parent.parent
# What pip says when the package registry (or the machine's mirror of it) cannot be reached.
UNREACHABLE_REGISTRY = re.compile(r"NewConnectionError|Failed to establish a new connection|Temporary failure in "
                                  r"name resolution|Network is unreachable|Connection refused|timed out|"
                                  r"No matching distribution found")


@pytest.fixture(scope="module")
def fresh_migtui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ...]]:
    """The ``migtui`` script of a new virtual environment where ``pip install`` put migtui and
    the newest releases of what it needs."""
    work = tmp_path_factory.mktemp("fresh-install")
    # A copy of the sources: pip builds in the tree it is given, and the checkout stays as it is.
    source = work / "migtui-src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "tests", "bench", "__pycache__", "*.egg-info", "build", ".mypy_cache", ".pytest_cache"))
    venv = work / "venv"
    # Without a pip of its own (ensurepip costs 3 s), installed into by the tests' own pip (the lock's, which
    # also resolves faster than the one venv bundles): what it holds is migtui and the newest releases of what
    # it needs, nothing else, and no constraint of the lock is passed.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                          "--disable-pip-version-check", str(source)],
                         capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if pip.returncode != 0:
        if UNREACHABLE_REGISTRY.search(pip.stderr):
            pytest.skip("the package registry cannot be reached: " + pip.stderr.strip().splitlines()[-1])
        pytest.fail(f"pip install of migtui failed:\n{pip.stderr}")
    yield (str(venv / "bin" / "migtui"),)


def test_help(fresh_migtui):
    result = run(fresh_migtui, "--help")
    assert (result.returncode, result.stderr) == (0, "") and "usage: migtui" in result.stdout


def test_a_command_on_an_unreachable_ssh_vm(fresh_migtui):
    result = run(fresh_migtui, "watch", "--once", "--vm", UNREACHABLE_SSH_VM)
    assert (result.returncode, result.stderr.splitlines()) == (1, [UNREACHABLE_SSH_LINE])


def test_the_dashboard_on_an_ssh_vm(fresh_migtui):
    assert dashboard_leftovers(fresh_migtui, "--vm", UNREACHABLE_SSH_VM, shows="host 127.0.0.1 down") == ""


@pytest.mark.qemu
def test_report_html(fresh_migtui, recorded: LabRecording, tmp_path):
    page = tmp_path / "report.html"
    result = report_html(fresh_migtui, recorded.db, page)
    assert (result.returncode, result.stderr.splitlines()) == (0, [f"wrote {page}"])
