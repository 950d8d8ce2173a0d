from __future__ import annotations

from collections.abc import Iterator

import pytest

from riff.app.eventlog import EventLog
from tests.store.helpers import mem_store


@pytest.fixture
def store() -> Iterator[EventLog]:
    with mem_store() as s:
        yield s
