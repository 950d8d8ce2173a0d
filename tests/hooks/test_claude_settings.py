"""riff's entries in Claude Code's settings.json: merged, idempotent, removable, never lossy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from riff.app.claude_hooks import (
    HOOK_EVENTS,
    install_hooks,
    is_riff_command,
    riff_entries,
    uninstall_hooks,
    user_settings_path,
)
from riff.app.errors import ClaudeSettingsError

COMMAND = "/opt/riff/.venv/bin/riff guard"

USER_SETTINGS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "lint.sh"}]}],
        "SessionStart": [
            {"matcher": "startup", "hooks": [{"type": "command", "command": "echo hi"}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 5}]}],
    },
    "statusLine": {"type": "command", "command": "status.sh"},
}


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def without_riff(data: dict[str, Any]) -> dict[str, Any]:
    """The settings with riff's groups taken out by hand, to compare with the original."""
    hooks = {
        event: [
            g
            for g in groups
            if not any(is_riff_command(h.get("command")) for h in g.get("hooks", []))
        ]
        for event, groups in data["hooks"].items()
    }
    return {**data, "hooks": {e: g for e, g in hooks.items() if g}}


def test_install_keeps_every_other_key_and_hook(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    write(path, USER_SETTINGS)
    change = install_hooks(path, COMMAND)
    assert change.changed
    data = load(path)
    assert without_riff(data) == USER_SETTINGS
    assert [e.event for e in change.entries] == list(HOOK_EVENTS)
    start = data["hooks"]["SessionStart"]
    assert start[0] == USER_SETTINGS["hooks"]["SessionStart"][0]  # the user's group first
    assert start[-1] == {
        "matcher": "startup|resume",
        "hooks": [{"type": "command", "command": COMMAND, "timeout": 10}],
    }
    assert data["hooks"]["SessionEnd"] == [
        {"hooks": [{"type": "command", "command": COMMAND, "timeout": 10}]}
    ]
    # The backup is the file as it was, byte for byte.
    assert change.backup is not None
    assert load(change.backup) == USER_SETTINGS


def test_install_is_idempotent_and_replaces_its_own_older_entry(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write(path, USER_SETTINGS)
    install_hooks(path, COMMAND)
    first = path.read_bytes()
    again = install_hooks(path, COMMAND)
    assert not again.changed and again.backup is None
    assert path.read_bytes() == first
    assert len(list(tmp_path.glob("settings.json.riff-backup-*"))) == 1

    auto = install_hooks(path, "'/other venv/bin/riff' guard --auto")
    assert auto.changed
    entries = riff_entries(path)
    assert [e.command for e in entries] == ["'/other venv/bin/riff' guard --auto"] * 3
    assert without_riff(load(path)) == USER_SETTINGS


def test_uninstall_removes_only_riffs_entries(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    mixed = json.loads(json.dumps(USER_SETTINGS))
    # A group the user shares with riff keeps the user's command.
    mixed["hooks"]["Stop"][0]["hooks"].append({"type": "command", "command": COMMAND})
    write(path, mixed)
    install_hooks(path, COMMAND)
    change = uninstall_hooks(path)
    assert change.changed and len(change.entries) == 3  # install had moved the shared one
    assert load(path) == USER_SETTINGS
    assert riff_entries(path) == []
    assert not uninstall_hooks(path).changed


def test_install_into_a_missing_file_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".claude" / "settings.json"
    change = install_hooks(path, COMMAND)
    assert change.changed and change.backup is None
    assert set(load(path)["hooks"]) == set(HOOK_EVENTS)
    assert uninstall_hooks(path).changed
    assert load(path) == {"hooks": {}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"hooks": {"Stop": [}', "line 1 column 21"),
        ("[1, 2]", "top level is a list"),
        ('{"hooks": []}', '"hooks" is a list'),
        ('{"hooks": {"Stop": {"command": "x"}}}', "hooks.Stop is a dict"),
    ],
)
def test_a_malformed_file_is_an_error_and_left_alone(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(text)
    with pytest.raises(ClaudeSettingsError, match=expected) as info:
        install_hooks(path, COMMAND)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_text() == text
    assert list(tmp_path.iterdir()) == [path]  # no backup, no temp file


def test_backups_do_not_overwrite_each_other(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write(path, {"a": 1})
    times = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)])
    first = install_hooks(path, COMMAND, now=lambda: next(times))
    second = uninstall_hooks(path, now=lambda: next(times))
    assert first.backup != second.backup
    assert first.backup is not None and load(first.backup) == {"a": 1}
    assert second.backup is not None and "SessionStart" in load(second.backup)["hooks"]


def test_riff_commands_are_recognised_by_executable_and_subcommand() -> None:
    assert is_riff_command("/x/.venv/bin/riff guard")
    assert is_riff_command("'/a b/riff' guard --auto")
    assert not is_riff_command("riff scan")
    assert not is_riff_command("/usr/bin/riffraff guard")
    assert not is_riff_command("echo 'unbalanced")
    assert not is_riff_command(None)


def test_the_user_settings_follow_claude_config_dir(tmp_path: Path) -> None:
    assert user_settings_path({"CLAUDE_CONFIG_DIR": str(tmp_path)}) == tmp_path / "settings.json"
    assert user_settings_path({}) == Path.home() / ".claude" / "settings.json"
