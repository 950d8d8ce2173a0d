from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from riff.app.eventlog import EventLog
from riff.app.stores import open_event_store
from tests.jobs.helpers import mem_settings


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventLog]:
    with open_event_store(mem_settings(tmp_path)) as s:
        yield s
