"""riff gives the embedded engine its value cache size (the engine's own default), so the
engine does not list every process of the machine to work it out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riff.store.connection import Connection
from riff.store.engine_memory import (
    CACHE_SIZE_VARIABLE,
    default_value_cache_size,
    total_memory,
)

GIB = 1 << 30


def test_the_default_is_the_engines() -> None:
    assert default_value_cache_size(16 * GIB) == 7 * GIB
    assert default_value_cache_size(2 * GIB) == 16 << 20  # 0 left: the 16 MiB floor
    assert default_value_cache_size(GIB) == 16 << 20


def test_total_memory_takes_a_lower_cgroup_limit(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16384000 kB\nMemFree:  1 kB\n")
    limit = tmp_path / "memory.max"
    assert total_memory(meminfo, (limit,)) == 16384000 * 1024  # no cgroup file
    limit.write_text("max\n")
    assert total_memory(meminfo, (limit,)) == 16384000 * 1024
    limit.write_text(f"{4 * GIB}\n")
    assert total_memory(meminfo, (limit,)) == 4 * GIB


def test_an_embedded_store_gets_it_unless_the_user_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_SIZE_VARIABLE, raising=False)
    Connection("mem://").close()
    assert CACHE_SIZE_VARIABLE not in os.environ  # only surrealkv sizes this cache
    Connection(f"surrealkv://{tmp_path / 'a'}").close()
    memory = total_memory()
    assert memory is not None
    assert os.environ[CACHE_SIZE_VARIABLE] == str(default_value_cache_size(memory))
    monkeypatch.setenv(CACHE_SIZE_VARIABLE, "64MiB")
    Connection(f"surrealkv://{tmp_path / 'b'}").close()
    assert os.environ[CACHE_SIZE_VARIABLE] == "64MiB"
