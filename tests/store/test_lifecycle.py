"""Opening stores: one process per surrealkv directory, schema versions, persistence."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from riff.app.eventlog import EventLog
from riff.store import (
    SchemaMissingError,
    SchemaTooNewError,
    StoreError,
    StoreInUseError,
    known_version,
    migrate,
    open_store,
    schema_status,
)
from riff.store.connection import Connection
from riff.store.lock import lock_path_for
from riff.store.migrations import migrations
from tests.store.helpers import chain_drafts, kv_settings
from tests.waiting import HANG_LIMIT

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from riff.settings import Settings
    from riff.store import open_store
    store = open_store(Settings(db_url=sys.argv[1], data_dir=Path(sys.argv[2])))
    print("ready", flush=True)
    sys.stdin.readline()
    store.close()
    """
)


def test_embedded_store_is_created_on_first_use_and_persists(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    with EventLog(open_store(settings)) as store:
        events = store.append("s1", chain_drafts(3))
    with EventLog(open_store(settings)) as store:
        assert list(store.events("s1")) == events
        assert schema_status(store.recorder.conn).up_to_date  # type: ignore[attr-defined]


def test_default_url_is_surrealkv_in_the_data_dir(tmp_path: Path) -> None:
    from riff.settings import Settings

    settings = Settings(data_dir=tmp_path)
    with open_store(settings) as store:
        assert store.url == f"surrealkv://{(tmp_path / 'store').resolve()}"
    assert (tmp_path / "store").is_dir()


def test_second_process_gets_a_one_line_in_use_error(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, settings.resolved_db_url, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreInUseError) as info:
            open_store(settings)
        message = str(info.value)
        assert f"in use by process {holder.pid}" in message
        assert str(tmp_path / "store") in message and "\n" not in message
        assert info.value.pid == holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=HANG_LIMIT)
    with open_store(settings) as store:  # released on exit
        assert store.sessions() == []


def test_stale_lock_of_a_dead_process_does_not_block(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    with open_store(settings):
        pass
    lock = lock_path_for(tmp_path / "store")
    lock.write_text("999999\nriff scan\n")  # a pid that is not running, no flock held
    with open_store(settings) as store:
        assert store.sessions() == []
        assert lock.read_text().startswith(f"{os.getpid()}\n")


def test_same_process_cannot_open_twice(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    with open_store(settings), pytest.raises(StoreInUseError):
        open_store(settings)


def test_schema_versions_init_status_migrate() -> None:
    conn = Connection("mem://")
    conn.use("riff", "riff")
    status = schema_status(conn)
    every = [m.version for m in migrations()]
    assert (status.current, status.known, status.pending) == (0, known_version(), every)
    assert migrate(conn) == every
    assert migrate(conn) == []
    assert schema_status(conn).up_to_date
    assert schema_status(conn).to_dict()["current"] == known_version()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    with open_store(settings) as store:
        store.conn.run("UPSERT riff_meta:schema SET version = 99")
    with pytest.raises(SchemaTooNewError, match=r"schema version 99.*upgrade riff"):
        open_store(settings)
    assert not lock_path_for(tmp_path / "store").read_text()  # the lock was released


def test_older_schema_needs_migrate(tmp_path: Path) -> None:
    settings = kv_settings(tmp_path)
    with open_store(settings) as store:
        store.conn.run("UPSERT riff_meta:schema SET version = 0")
        store.conn.run("UPSERT riff_meta:schema SET version = -1")
    with pytest.raises(SchemaMissingError, match="riff db migrate"):
        open_store(settings, create=False)


def test_unsupported_url_is_a_one_line_error() -> None:
    from riff.settings import Settings

    with pytest.raises(StoreError, match="not supported"):
        open_store(Settings(db_url="postgres://x"))


def test_schema_files_ship_in_the_package() -> None:
    from importlib import resources

    names = [p.name for p in resources.files("riff.store").joinpath("schema").iterdir()]
    assert "001_init.surql" in names
