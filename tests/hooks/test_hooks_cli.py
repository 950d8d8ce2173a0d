"""`riff hooks install | uninstall | status` through the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from riff.cli.main import app

runner = CliRunner()


def riff_json(*args: str, code: int = 0) -> Any:
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == code, done.output
    return orjson.loads(done.stdout)


def test_install_status_uninstall_in_the_user_settings(riff_env: dict[str, str]) -> None:
    settings = Path(riff_env["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        json.dumps(
            {
                "theme": "dark",
                "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
            }
        )
    )

    assert riff_json("hooks", "status")["installed"] is False
    installed = riff_json("hooks", "install")
    assert installed["settings"] == str(settings) and installed["changed"] is True
    riff = str(Path(sys.executable).with_name("riff"))
    assert {h["command"] for h in installed["hooks"]} == {f"{riff} guard"}

    status = riff_json("hooks", "status")
    assert status["installed"] is True and status["missing_events"] == []
    assert sorted(h["event"] for h in status["hooks"]) == ["SessionEnd", "SessionStart", "Stop"]
    assert riff_json("hooks", "install")["changed"] is False

    human = runner.invoke(app, ["hooks", "status"])
    assert "SessionStart (matcher startup|resume): " in human.stdout
    assert "Stop: " in human.stdout

    removed = riff_json("hooks", "uninstall")
    assert removed["changed"] is True and len(removed["hooks"]) == 3
    assert json.loads(settings.read_text()) == {
        "theme": "dark",
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
    }


def test_project_settings_and_auto(riff_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "repo"
    project.mkdir()
    installed = riff_json("hooks", "install", "--project", str(project), "--auto")
    assert installed["settings"] == str(project / ".claude" / "settings.json")
    assert all(h["command"].endswith(" guard --auto") for h in installed["hooks"])
    assert not (Path(riff_env["CLAUDE_CONFIG_DIR"]) / "settings.json").exists()


def test_a_malformed_settings_file_is_one_line_exit_2(riff_env: dict[str, str]) -> None:
    settings = Path(riff_env["CLAUDE_CONFIG_DIR"]) / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"hooks": ')
    done = runner.invoke(app, ["hooks", "install"])
    assert done.exit_code == 2
    assert "Traceback" not in done.output
    assert done.stderr.count("\n") == 1 and "left it unchanged" in done.stderr
    assert settings.read_text() == '{"hooks": '


def test_a_directory_needs_project(riff_env: dict[str, str], tmp_path: Path) -> None:
    done = runner.invoke(app, ["hooks", "install", str(tmp_path)])
    assert done.exit_code == 2 and "--project" in done.stderr
