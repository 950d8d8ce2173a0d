"""Medium: user strings are data, never Rich markup nor terminal codes (issue 13).

Hostile reasons, operators, project paths and ids go through every command
that prints them; none may crash (MarkupError), and no control character may
reach the output.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from riff.app.demo import DemoSession, build_demo_projects
from riff.cli.main import app
from riff.cli.output import safe
from riff.tui.plain import plain
from tests.cli.conftest import riff_env  # noqa: F401 (fixture)

runner = CliRunner()
PIECES = ["[/x]", "[bold", "[/]", "]", "[", "\\", "\x1b[31m", "\x07", "é", "🙂", "[red]x[/red]",
          "[link=file:///etc/passwd]", "\u202e", " "]  # fmt: skip
hostile = (
    st.lists(st.sampled_from(PIECES) | st.text(min_size=1, max_size=3), min_size=1)
    .map("".join)
    .filter(lambda s: s.strip() != "")
)


def _run(*args: str, codes: tuple[int, ...] = (0, 1)) -> str:
    result = runner.invoke(app, list(args))
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert result.exit_code in codes, (args, result.exit_code, output)
    assert "Traceback" not in output and "MarkupError" not in output, output
    assert "\x1b" not in output and "\x07" not in output, output
    return output


@given(hostile.filter(lambda s: "\t" not in s and "\n" not in s and "\r" not in s))
def test_safe_text_renders_as_itself(text: str) -> None:
    from rich.console import Console

    console = Console(width=400, force_terminal=False, record=True, highlight=False)
    console.print(f"[bold]{safe(text)}[/]", end="")
    shown = console.export_text()
    assert "\x1b" not in shown
    assert plain(text).plain == shown


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operator=hostile, reason=hostile)
@example(operator="[/x]", reason="a\x00b")
def test_hostile_operator_and_reason_through_every_command(
    riff_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    operator: str,
    reason: str,
) -> None:
    projects = Path(riff_env["RIFF_PROJECTS_DIR"])
    shutil.rmtree(projects, ignore_errors=True)
    shutil.rmtree(riff_env["RIFF_DATA_DIR"], ignore_errors=True)
    sessions: list[DemoSession] = build_demo_projects(projects, seed=7)
    orphaned = next(s for s in sessions if "orphan" in s.breakages)
    sid = orphaned.session_id
    done = runner.invoke(
        app, ["--operator", operator, "repair", sid, "--yes", "--reason", reason, "--json"]
    )
    if "\x00" in operator + reason:
        # A NUL cannot be stored: refused with one line naming the field, nothing appended.
        assert done.exit_code == 2, done.output
        assert "must not contain NUL" in done.output, done.output
        assert "Traceback" not in done.output
        _run("log")
        return
    assert done.exit_code == 0, done.output
    event_id = orjson.loads(done.stdout)["events"][0]["event_id"]
    _run("--operator", operator, "repair", sid, "--yes", "--reason", reason)
    _run("log")
    _run("log", sid)
    _run("show", sid)
    _run("scan")
    _run("verify", "--db")
    export = tmp_path / "export.jsonl"
    _run("export", "-o", str(export), "--format", "jsonl")
    _run("verify", str(export))
    _run("--operator", operator, "revert", event_id, "--yes", "--reason", reason)
    _run("log", operator, codes=(0, 1, 2))
    _run("revert", operator, "--yes", codes=(2,))
    _run("show", reason, codes=(2,))
    _run("repair", reason, "--yes", codes=(2,))


def test_hostile_project_and_file_names(riff_env: dict[str, str]) -> None:  # noqa: F811
    projects = Path(riff_env["RIFF_PROJECTS_DIR"])
    sessions = build_demo_projects(projects, seed=7)
    for n, s in enumerate(sessions[:3]):
        target = projects / f"[/x]-\x1b[31m-{n}" / f"[bold{s.path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        s.path.rename(target)
    _run("scan")
    _run("show", sessions[0].session_id, codes=(0, 1, 2))
    _run("repair", sessions[1].session_id, "--yes", codes=(0, 1, 2))
    _run("verify", "--db")


@pytest.mark.parametrize("text", ["[/x]", "\x1b[31mred", "[bold"])
def test_hostile_expect_head_and_export_path(riff_env: dict[str, str], text: str) -> None:  # noqa: F811
    _run("verify", "--db", "--expect-head", f"{text}=" + "a" * 64, codes=(1, 2))
    _run("verify", f"/nonexistent/{text}.jsonl", codes=(2,))
