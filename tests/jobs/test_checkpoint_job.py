"""The hourly checkpoint job, and checkpoints after every repair when the setting asks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from riff.app.checkpoints import checkpoint_after_change
from riff.app.stores import open_event_store
from riff.app.workspace import Workspace
from riff.jobs import JobRunner, shared_store
from riff.jobs.runner import JOBS
from riff.settings import Settings, load_settings
from tests.jobs.helpers import mem_settings
from tests.store.helpers import chain_drafts


def test_the_checkpoint_job_signs_once_per_new_tree_head(tmp_path: Path) -> None:
    settings = mem_settings(tmp_path)
    assert JOBS["checkpoint"].interval(settings) == timedelta(hours=1)
    with open_event_store(settings) as store:
        store.append("s-1", chain_drafts(3))
        runner = JobRunner(settings, lambda: shared_store(store))
        first = runner.run("checkpoint")
        assert first.outcome == "ok" and "signed checkpoint of 3 events" in first.summary
        assert (tmp_path / "checkpoints" / "3.note").exists()
        again = runner.run("checkpoint")
        assert again.outcome == "ok" and again.summary.startswith("unchanged")
        store.append("s-2", chain_drafts(2))
        assert "of 5 events" in runner.run("checkpoint").summary


def test_the_setting_makes_every_change_checkpoint(tmp_path: Path) -> None:
    with Workspace(Settings(db_url="mem://", data_dir=tmp_path)) as ws:
        ws.store.append("s-1", chain_drafts(1))
        assert checkpoint_after_change(ws) is None
    with Workspace(
        Settings(db_url="mem://", data_dir=tmp_path / "on", checkpoint_on_change=True)
    ) as ws:
        ws.store.append("s-1", chain_drafts(2))
        made = checkpoint_after_change(ws)
        assert made is not None and made.checkpoint.size == 2


def test_the_setting_reads_from_the_environment(tmp_path: Path) -> None:
    env = {"RIFF_CHECKPOINT_ON_CHANGE": "yes", "RIFF_CONFIG": str(tmp_path / "none.toml")}
    assert load_settings(env).checkpoint_on_change
    env["RIFF_CHECKPOINT_ON_CHANGE"] = "0"
    assert not load_settings(env).checkpoint_on_change
