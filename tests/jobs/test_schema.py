"""Schema 002 (the jobs' tables) reaches a version-1 store through `migrate`."""

from __future__ import annotations

import pytest

from riff.store import Connection, QueryFailed, SchemaMissingError, check_schema, migrate
from riff.store.migrations import migrations


def test_a_version_1_store_migrates_to_the_jobs_tables() -> None:
    conn = Connection("mem://")
    conn.use("riff", "riff")
    conn.run(
        migrations()[0].sql + "\nUPSERT riff_meta:schema SET version = 1, updated_at = 'then';"
    )
    with pytest.raises(SchemaMissingError, match="riff db migrate"):
        check_schema(conn)
    assert migrate(conn) == [m.version for m in migrations()][1:]
    assert check_schema(conn).up_to_date
    conn.run(
        "CREATE job_runs CONTENT $r",
        {
            "r": {
                "job": "archive",
                "trigger": "manual",
                "started_at": "2026-01-01T00:00:00.000000Z",
                "finished_at": "2026-01-01T00:00:01.000000Z",
                "outcome": "ok",
                "summary": "",
                "details": {},
            }
        },
    )
    for attack in ("UPDATE job_runs SET outcome = 'failed'", "DELETE job_runs"):
        with pytest.raises(QueryFailed):
            conn.run(attack)
    with pytest.raises(QueryFailed):
        conn.run("CREATE job_runs CONTENT $r", {"r": {"job": "x", "outcome": "maybe"}})
