"""Low: `riff db status` and `verify --db` check the live schema guards (issue 13)."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from riff.app.eventlog import EventLog
from riff.app.integrity import verify_database
from riff.app.stores import open_event_store
from riff.cli.main import app
from riff.settings import load_settings
from tests.cli.conftest import riff_env  # noqa: F401 (fixture)
from tests.store.helpers import chain_drafts

runner = CliRunner()
ATTACKS = {
    "REMOVE EVENT repairs_no_mut ON repairs_events": "event repairs_no_mut is missing",
    "DEFINE FIELD OVERWRITE reason ON repairs_events TYPE string": "field reason is now",
    "REMOVE INDEX repairs_event_id ON repairs_events": "index repairs_event_id is missing",
    "ALTER TABLE job_runs PERMISSIONS FULL": "table job_runs is now",
    "DEFINE EVENT sneaky ON session WHEN true THEN {}": "unexpected event sneaky",
    "DEFINE ACCESS OVERWRITE operator ON DATABASE TYPE RECORD "
    "SIGNUP (CREATE riff_user SET name = $name, pass = crypto::argon2::generate($pass)) "
    "SIGNIN (SELECT * FROM riff_user WHERE name = $name)": "access operator is now",
}


def test_an_intact_schema_has_no_drift(store: EventLog) -> None:
    store.append("s1", chain_drafts(2))
    assert verify_database(store).ok


@pytest.mark.parametrize(("ddl", "named"), list(ATTACKS.items()))
def test_root_ddl_is_reported_as_drift(store: EventLog, ddl: str, named: str) -> None:
    store.append("s1", chain_drafts(2))
    store.recorder.conn.run(ddl)
    result = verify_database(store)
    drift = [b for b in result.breaks if b.problem == "schema_drift"]
    assert drift and any(named in b.detail for b in drift), [b.detail for b in drift]
    assert all(b.problem == "schema_drift" for b in result.breaks)


def test_db_status_reports_drift(riff_env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    clean = runner.invoke(app, ["db", "status", "--json"])
    assert clean.exit_code == 0 and orjson.loads(clean.stdout)["schema_drift"] == []
    with open_event_store(load_settings()) as store:
        store.recorder.conn.run("REMOVE EVENT repairs_no_mut ON repairs_events")
    drifted = runner.invoke(app, ["db", "status"])
    assert drifted.exit_code == 1 and "repairs_no_mut is missing" in drifted.stdout
    verified = runner.invoke(app, ["verify", "--db", "--json"])
    assert verified.exit_code == 1
    [brk] = orjson.loads(verified.stdout)["breaks"]
    assert brk["problem"] == "schema_drift" and "repairs_no_mut" in brk["detail"]
