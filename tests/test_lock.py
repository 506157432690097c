"""requirements.lock is what the tests run, and what pyproject allows."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, pin = line.split("==")
            pins[canonicalize_name(name)] = pin
    return pins


def wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_the_tests_run_the_locked_versions():
    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    differ = {name: (pin, installed(name)) for name, pin in locked().items() if installed(name) != pin}
    assert differ == {}, "installed versions differ from requirements.lock (lock, installed); run make"


def test_every_requirement_of_pyproject_is_locked_within_its_range():
    pins = locked()
    outside = [f"{requirement} (locked: {pins.get(canonicalize_name(requirement.name))})" for requirement in wanted()
               if not requirement.specifier.contains(pins.get(canonicalize_name(requirement.name), ""),
                                                     prereleases=True)]
    assert outside == [], "pyproject changed after the lock was written: run make lock"


def test_the_lock_pins_every_package_exactly():
    lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if line and line[0] != "#"]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line) for line in lines), lines
