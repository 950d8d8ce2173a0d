"""riff's entries in Claude Code's settings (`hooks` → event → matcher groups → commands).

The shape Claude Code reads (settings.json):

    {"hooks": {"SessionStart": [{"matcher": "startup|resume",
                                 "hooks": [{"type": "command", "command": "…", "timeout": 10}]}],
               "Stop": [{"hooks": [...]}], "SessionEnd": [{"hooks": [...]}]}}

riff adds one group per event holding only its own command, and recognises its
entries by the command itself (the `riff` executable followed by `guard`), so
that install is idempotent, uninstall removes nothing else, and a riff from
another virtual environment is still recognised. The rest of the file (the
user's keys, other hooks, their order) is kept; a timestamped backup is taken
before each change and the new file replaces the old one atomically.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riff.app.errors import AppError, ClaudeSettingsError

# Event → matcher (None: the event takes no matcher). SessionStart only for the
# sources that open an existing or new conversation; `clear`/`compact` start
# from a summary riff has nothing to say about.
HOOK_EVENTS: dict[str, str | None] = {
    "SessionStart": "startup|resume",
    "Stop": None,
    "SessionEnd": None,
}
# Seconds Claude Code gives the hook before killing it; guard needs well under one.
HOOK_TIMEOUT_SECONDS = 10
BACKUP_SUFFIX = ".riff-backup-"


def user_settings_path(environ: dict[str, str] | None = None) -> Path:
    """`$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`."""
    env = os.environ if environ is None else environ
    config_dir = env.get("CLAUDE_CONFIG_DIR")
    base = Path(config_dir).expanduser() if config_dir else Path.home() / ".claude"
    return base / "settings.json"


def project_settings_path(project_dir: Path) -> Path:
    return project_dir / ".claude" / "settings.json"


def default_guard_command(auto: bool = False) -> str:
    """The shell command the hooks run: this installation's `riff`, by absolute path.

    Claude Code runs hooks with its own PATH, which need not contain riff's
    virtual environment, so the path is spelled out.
    """
    beside_python = Path(sys.executable).with_name("riff")
    exe = str(beside_python) if beside_python.is_file() else shutil.which("riff")
    if exe is None:
        raise AppError(
            "cannot find the `riff` executable to put in the hooks; "
            "pass --command '/path/to/riff guard'"
        )
    return f"{shlex.quote(exe)} guard" + (" --auto" if auto else "")


def is_riff_command(command: object) -> bool:
    """True for `…/riff guard …` (any riff installation), whatever its options."""
    if not isinstance(command, str):
        return False
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    return len(argv) >= 2 and Path(argv[0]).name == "riff" and "guard" in argv[1:]


@dataclass(frozen=True)
class HookEntry:
    event: str
    matcher: str | None
    command: str
    timeout: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "matcher": self.matcher,
            "command": self.command,
            "timeout": self.timeout,
        }


@dataclass
class HooksChange:
    path: Path
    changed: bool
    backup: Path | None = None
    entries: list[HookEntry] = field(default_factory=list)
    """After install: riff's entries now in the file; after uninstall: the ones removed."""

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": str(self.path),
            "changed": self.changed,
            "backup": None if self.backup is None else str(self.backup),
            "hooks": [e.to_json() for e in self.entries],
        }


# -- reading ---------------------------------------------------------------


def read_settings(path: Path) -> dict[str, Any]:
    """The settings object; {} for a missing or empty file; an error for anything else odd."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ClaudeSettingsError(
            f"{path}: not UTF-8 text; fix it by hand (riff left it unchanged)"
        ) from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClaudeSettingsError(
            f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}; "
            "fix the JSON by hand (riff left it unchanged)"
        ) from None
    if not isinstance(data, dict):
        raise ClaudeSettingsError(
            f"{path}: the top level is a {type(data).__name__}, not an object; "
            "fix it by hand (riff left it unchanged)"
        )
    return data


def _hooks_table(path: Path, settings: dict[str, Any]) -> dict[str, Any]:
    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ClaudeSettingsError(
            f'{path}: "hooks" is a {type(hooks).__name__}, not an object of events; '
            "fix it by hand (riff left it unchanged)"
        )
    return hooks


def _groups(path: Path, hooks: dict[str, Any], event: str) -> list[Any]:
    groups = hooks.get(event, [])
    if not isinstance(groups, list):
        raise ClaudeSettingsError(
            f"{path}: hooks.{event} is a {type(groups).__name__}, not a list of matcher "
            "groups; fix it by hand (riff left it unchanged)"
        )
    return groups


def riff_entries(path: Path, settings: dict[str, Any] | None = None) -> list[HookEntry]:
    """riff's hook commands in a settings file, in file order."""
    data = read_settings(path) if settings is None else settings
    hooks = _hooks_table(path, data)
    found = []
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            continue
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                continue
            matcher = group.get("matcher")
            for hook in group["hooks"]:
                if isinstance(hook, dict) and is_riff_command(hook.get("command")):
                    timeout = hook.get("timeout")
                    found.append(
                        HookEntry(
                            event,
                            matcher if isinstance(matcher, str) else None,
                            hook["command"],
                            timeout if isinstance(timeout, int) else None,
                        )
                    )
    return found


# -- changing ----------------------------------------------------------------


def _is_riff_hook(hook: object) -> bool:
    return isinstance(hook, dict) and is_riff_command(hook.get("command"))


def _without_riff(groups: list[Any]) -> list[Any]:
    """The groups with riff's commands taken out; a group left empty by that goes too."""
    kept = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            kept.append(group)
            continue
        others = [h for h in group["hooks"] if not _is_riff_hook(h)]
        if len(others) == len(group["hooks"]):
            kept.append(group)
        elif others:
            kept.append({**group, "hooks": others})
    return kept


def _riff_group(matcher: str | None, command: str) -> dict[str, Any]:
    hook = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECONDS}
    return {"matcher": matcher, "hooks": [hook]} if matcher is not None else {"hooks": [hook]}


def install_hooks(
    path: Path, command: str, *, now: Callable[[], datetime] | None = None
) -> HooksChange:
    """Put riff's guard command on each of HOOK_EVENTS, replacing riff's older entries."""
    settings = read_settings(path)
    hooks = _hooks_table(path, settings)
    updated = dict(hooks)
    for event, matcher in HOOK_EVENTS.items():
        groups = _groups(path, hooks, event)
        updated[event] = [*_without_riff(groups), _riff_group(matcher, command)]
    return _save_if_changed(path, settings, updated, now, installed=True)


def uninstall_hooks(path: Path, *, now: Callable[[], datetime] | None = None) -> HooksChange:
    """Take riff's commands out of every event; an event left with no groups goes too."""
    settings = read_settings(path)
    hooks = _hooks_table(path, settings)
    removed = riff_entries(path, settings)
    updated: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            updated[event] = groups
            continue
        kept = _without_riff(groups)
        if kept or not groups:
            updated[event] = kept
    change = _save_if_changed(path, settings, updated, now, installed=False)
    change.entries = removed if change.changed else []
    return change


def _save_if_changed(
    path: Path,
    settings: dict[str, Any],
    hooks: dict[str, Any],
    now: Callable[[], datetime] | None,
    *,
    installed: bool,
) -> HooksChange:
    if not installed and "hooks" not in settings:
        return HooksChange(path, changed=False)
    new = {**settings, "hooks": hooks}
    if new == settings and (path.exists() or not installed):
        return HooksChange(path, False, entries=riff_entries(path, new) if installed else [])
    backup = _backup(path, now) if path.exists() else None
    _atomic_write_json(path, new)
    return HooksChange(path, True, backup, riff_entries(path, new) if installed else [])


def _backup(path: Path, now: Callable[[], datetime] | None) -> Path:
    stamp = (now or (lambda: datetime.now(UTC)))().strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{path.name}{BACKUP_SUFFIX}{stamp}")
    shutil.copy2(path, backup)
    return backup


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
