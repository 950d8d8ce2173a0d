"""Settings: defaults < config file < RIFF_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from riff.settings import Settings, SettingsError, load_settings


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('operator = "from-file"\nmin_score = 0.7\ndb_url = "mem://"\n')
    env = {"RIFF_CONFIG": str(config), "RIFF_OPERATOR": "from-env"}
    settings = load_settings(env)
    assert settings.operator == "from-env"  # env beats file
    assert settings.min_score == 0.7  # file beats default
    assert settings.resolved_db_url == "mem://"
    flagged = settings.with_overrides(operator="from-flag", db_url=None)
    assert flagged.operator == "from-flag" and flagged.db_url == "mem://"


def test_defaults_use_the_user_dirs(tmp_path: Path) -> None:
    settings = load_settings({"RIFF_CONFIG": str(tmp_path / "none.toml")})
    assert settings.resolved_db_url.startswith("surrealkv://")
    assert settings.resolved_db_url.endswith("/store")
    assert settings.projects_dir.name == "projects"


def test_claude_config_dir_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    assert Settings().projects_dir == tmp_path / "claude" / "projects"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("min_score = [", "config file"),
        ('colour = "red"', "unknown setting 'colour'"),
        ('min_score = "high"', "min_score"),
    ],
)
def test_bad_config_is_named(tmp_path: Path, content: str, fragment: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content)
    with pytest.raises(SettingsError, match=fragment) as info:
        load_settings({"RIFF_CONFIG": str(config)})
    assert str(config) in str(info.value)


def test_bad_environment_value_is_named() -> None:
    with pytest.raises(SettingsError, match="RIFF_ARCHIVE_AFTER_DAYS"):
        load_settings({"RIFF_ARCHIVE_AFTER_DAYS": "ninety", "RIFF_CONFIG": "/nonexistent"})


def test_default_min_score_is_the_calibrated_auto_apply_threshold() -> None:
    from riff.settings import Settings
    from riff.transcript.suggest import AUTO_APPLY_SCORE

    assert Settings().min_score == AUTO_APPLY_SCORE
