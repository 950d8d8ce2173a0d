from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from riff.store import ImmutableEventStore, open_store
from tests.jobs.helpers import mem_settings


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ImmutableEventStore]:
    with open_store(mem_settings(tmp_path)) as s:
        yield s
