from __future__ import annotations

from collections.abc import Iterator

import pytest

from riff.store import ImmutableEventStore
from tests.store.helpers import mem_store


@pytest.fixture
def store() -> Iterator[ImmutableEventStore]:
    with mem_store() as s:
        yield s
