"""Snapshot tests: frozen time, no blinking cursor, recorded samples only.

Event times are shown in local time: the zone is pinned to UTC so a
snapshot taken here matches one taken anywhere. Chart axes count seconds
before each VM's newest recorded sample, so they never move.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NO_COLOR", raising=False)  # a test that wants it sets it
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
