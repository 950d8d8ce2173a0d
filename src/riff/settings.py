"""One settings object: defaults < config file < environment `RIFF_*` < flags.

The config file is TOML at `<user config dir>/riff/config.toml` (or the path
in `RIFF_CONFIG`). Keys are the field names below, e.g.

    db_url = "ws://db.example:8000"
    db_namespace = "riff"
    operator = "alice"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from riff.errors import RiffError

APP_NAME = "riff"
LIVE_QUIET_SECONDS = 3.0
"""A transcript changed more recently than this is taken as still being written."""


class SettingsError(RiffError, ValueError):
    """A bad configuration value; the message names where it came from."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_projects_dir() -> Path:
    config_dir = os.environ.get("CLAUDE_CONFIG_DIR")
    base = Path(config_dir).expanduser() if config_dir else Path.home() / ".claude"
    return base / "projects"


def default_db_url(data_dir: Path) -> str:
    return f"surrealkv://{(data_dir / 'store').resolve()}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    projects_dir: Path = field(default_factory=default_projects_dir)
    db_url: str = ""  # empty: the embedded store under data_dir
    db_namespace: str = "riff"
    db_database: str = "riff"
    db_username: str | None = None
    db_password: str | None = None
    db_access: str | None = None  # record access method for team users, e.g. "operator"
    operator: str = field(default_factory=lambda: _os_user())
    min_score: float = 0.95
    """riff.transcript.suggest.AUTO_APPLY_SCORE: measured precision >= 99.5% on real files."""
    archive_dir: Path | None = None
    archive_after_days: int = 90
    job_stale_interval_minutes: int = 5
    job_stale_batch: int = 10
    job_spot_check_interval_minutes: int = 60
    job_spot_check_sessions: int = 5
    job_integrity_interval_days: int = 7
    job_archive_interval_days: int = 7
    job_checkpoint_interval_minutes: int = 60
    # The transparency log: the checkpoint signing key (a PRIVATE+KEY+… string or
    # a file holding one; default <data dir>/signing.key, created on first use)
    # and whether every repair and revert is followed by a signed checkpoint.
    signing_key: str | None = None
    checkpoint_on_change: bool = False
    follow_symlinks: bool = False  # follow symlinks out of the projects dir
    live_quiet_seconds: float = LIVE_QUIET_SECONDS  # riff.app.live_files

    @property
    def resolved_db_url(self) -> str:
        return self.db_url or default_db_url(self.data_dir)

    @property
    def resolved_archive_dir(self) -> Path:
        return self.archive_dir or self.data_dir / "archive"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def with_overrides(self, **overrides: Any) -> Settings:
        """Flags: only the values actually given (not None) win."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **_coerce_all(given, "command-line flag")) if given else self


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Settings)}


def _coerce(name: str, value: Any, source: str) -> Any:
    kind = _FIELD_TYPES.get(name)
    if kind is None:
        raise SettingsError(f"{source}: unknown setting {name!r}")
    try:
        if kind.startswith("Path"):
            return None if value in (None, "") and "None" in kind else Path(str(value)).expanduser()
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return _to_bool(value)
        if kind.startswith("str"):
            return None if value in (None, "") and "None" in kind else str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: {name} = {value!r} is not a valid {kind}") from None
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def _coerce_all(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {name: _coerce(name, value, source) for name, value in values.items()}


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import tomllib  # only when there is a config file

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"config file {path}: {exc}; fix or remove it") from None
    return _coerce_all(raw, f"config file {path}")


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELD_TYPES:
        key = f"RIFF_{name.upper()}"
        if key in environ:
            values[name] = _coerce(name, environ[key], f"environment {key}")
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, config_path: Path | None = None
) -> Settings:
    """Defaults, then the config file, then `RIFF_*` variables."""
    env = os.environ if environ is None else environ
    path = config_path or Path(env.get("RIFF_CONFIG", "") or default_config_path())
    merged = _from_file(path)
    merged.update(_from_env(env))
    return Settings(**merged)
