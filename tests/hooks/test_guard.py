"""`riff guard`: what it tells each hook event, from the cache when it can, and never failing."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import riff.transcript.scan
from riff.app.demo import DemoSession
from riff.app.guard import run_guard
from riff.cli.main import app
from riff.settings import Settings
from tests.hooks.conftest import hook_input, pick

RIFF = Path(sys.executable).with_name("riff")
ORPHANS = ("orphan", "orphan")


def test_session_start_tells_the_user_and_the_model_the_exact_repair(
    demo: list[DemoSession], settings: Settings
) -> None:
    broken = pick(demo, ORPHANS)
    result = run_guard(hook_input("SessionStart", broken, source="resume"), settings)
    assert result.output is not None
    command = f"riff repair {broken.session_id} --write"
    user = result.output["systemMessage"]
    assert command in user and "orphan 2" in user and "loses" in user
    context = result.output["hookSpecificOutput"]
    assert context["hookEventName"] == "SessionStart"
    assert command in context["additionalContext"]

    # The command it names is the one that fixes the session; then guard says nothing.
    done = CliRunner().invoke(app, [*shlex.split(command)[1:], "--yes"])
    assert done.exit_code == 0, done.output
    assert run_guard(hook_input("SessionStart", broken, source="resume"), settings).output is None


def test_a_healthy_or_missing_session_gets_no_output(
    demo: list[DemoSession], settings: Settings, tmp_path: Path
) -> None:
    healthy = pick(demo, ())
    assert run_guard(hook_input("SessionStart", healthy, source="resume"), settings).output is None
    new = DemoSession(tmp_path / "projects" / "p" / "not-yet.jsonl", "not-yet", ())
    assert run_guard(hook_input("SessionStart", new, source="startup"), settings).output is None


def test_stop_tells_only_what_is_new(demo: list[DemoSession], settings: Settings) -> None:
    broken = pick(demo, ORPHANS)
    first = run_guard(hook_input("Stop", broken), settings).output
    assert first is not None and set(first) == {"systemMessage"}  # Stop has no model context
    assert run_guard(hook_input("Stop", broken), settings).output is None
    assert run_guard(hook_input("SessionEnd", broken, reason="other"), settings).output is None
    # A new start is a new view: it is told again.
    again = run_guard(hook_input("SessionStart", broken, source="resume"), settings).output
    assert again is not None


def test_torn_lines_point_to_the_repair_that_rewrites_them(
    demo: list[DemoSession], settings: Settings
) -> None:
    torn = pick(demo, ("malformed_line", "truncated_line"))
    result = run_guard(hook_input("SessionStart", torn, source="resume"), settings)
    assert result.output is not None
    message = result.output["systemMessage"]
    assert f"riff repair {torn.session_id} --write" in message


def test_findings_that_riff_cannot_rewrite_point_to_show(
    demo: list[DemoSession], settings: Settings
) -> None:
    healthy = pick(demo, ())
    # A uuid written again with other content: which one to keep is a person's decision.
    rows = [orjson.loads(line) for line in healthy.path.read_bytes().splitlines()]
    row = next(r for r in rows if r.get("type") == "user" and "uuid" in r)
    row["cwd"] = "/somewhere/else"
    with healthy.path.open("ab") as f:
        f.write(orjson.dumps(row) + b"\n")
    result = run_guard(hook_input("SessionStart", healthy, source="resume"), settings)
    assert result.output is not None
    message = result.output["systemMessage"]
    assert "duplicate_uuid" in message
    assert "riff repair" not in message and f"riff show {healthy.session_id}" in message


def test_a_file_outside_the_projects_dir_is_named_by_its_path(
    demo: list[DemoSession], settings: Settings, tmp_path: Path
) -> None:
    broken = pick(demo, ORPHANS)
    elsewhere = tmp_path / "other place" / "p" / broken.path.name
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(broken.path.read_bytes())
    moved = DemoSession(elsewhere, broken.session_id, broken.breakages)
    output = run_guard(hook_input("SessionStart", moved, source="resume"), settings).output
    assert output is not None
    assert f"riff repair {shlex.quote(str(elsewhere))} --write" in output["systemMessage"]


def test_an_unchanged_session_is_answered_from_the_cache(
    demo: list[DemoSession], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = pick(demo, ORPHANS)
    first = run_guard(hook_input("SessionStart", broken, source="resume"), settings)

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the transcript was read again")

    monkeypatch.setattr(riff.transcript.scan, "scan_session", no_scan)
    second = run_guard(hook_input("SessionStart", broken, source="resume"), settings)
    assert second.output == first.output
    # A changed file is scanned again (here: the scan is refused, so the error shows).
    with broken.path.open("ab") as handle:
        handle.write(b"\n")
    with pytest.raises(AssertionError, match="read again"):
        run_guard(hook_input("SessionStart", broken, source="resume"), settings)


def test_auto_hands_the_repair_to_a_deferred_process(
    demo: list[DemoSession], settings: Settings
) -> None:
    broken = pick(demo, ORPHANS)
    calls: list[tuple[Path, str]] = []

    def spawn(s: Settings, path: Path, session_id: str, pid: int | None) -> bool:
        calls.append((path, session_id))
        return True

    result = run_guard(
        hook_input("SessionStart", broken, source="resume"), settings, auto=True, spawn=spawn
    )
    assert calls == [(broken.path, broken.session_id)]
    assert result.output is not None and "--auto applies" in result.output["systemMessage"]
    # Nothing --auto repairs (torn lines need `riff repair --write`): nothing to hand over.
    torn = pick(demo, ("malformed_line", "truncated_line"))
    run_guard(hook_input("SessionStart", torn, source="resume"), settings, auto=True, spawn=spawn)
    assert len(calls) == 1


# -- the real command, as Claude Code runs it ------------------------------------------


def run_hook(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(RIFF), "guard", *args], input=stdin, capture_output=True, timeout=120, check=False
    )


def test_the_hook_command_prints_one_json_object_and_exits_0(
    demo: list[DemoSession], riff_env: dict[str, str]
) -> None:
    broken = pick(demo, ORPHANS)
    done = run_hook(hook_input("SessionStart", broken, source="resume"))
    assert done.returncode == 0 and done.stderr == b""
    output = orjson.loads(done.stdout)
    assert f"riff repair {broken.session_id} --write" in output["systemMessage"]


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[1]", b'{"hook_event_name": 5}'])
def test_bad_input_never_fails_the_hook_and_is_logged(
    riff_env: dict[str, str], stdin: bytes
) -> None:
    done = run_hook(stdin)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    log = Path(riff_env["RIFF_DATA_DIR"]) / "guard.log"
    if stdin in (b"", b"not json", b"[1]"):
        assert "GuardInputError" in log.read_text()


def test_an_internal_error_is_logged_not_raised(
    demo: list[DemoSession], riff_env: dict[str, str]
) -> None:
    broken = pick(demo, ORPHANS)
    data = Path(riff_env["RIFF_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "guard").write_text("a file where guard's state dir should be")
    done = run_hook(hook_input("SessionStart", broken, source="resume"))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    log = (data / "guard.log").read_text()
    assert "riff guard" in log and "Error" in log


def test_the_hook_path_imports_no_heavy_stack(
    demo: list[DemoSession], riff_env: dict[str, str]
) -> None:
    broken = pick(demo, ORPHANS)
    run_hook(hook_input("SessionStart", broken, source="resume"))  # fill the cache
    probe = (
        "import sys\n"
        "sys.argv = ['riff', 'guard']\n"
        "from riff.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "heavy = ['surrealdb', 'textual', 'apscheduler', 'typer', 'rich', 'rapidfuzz',\n"
        "         'riff.transcript', 'riff.store']\n"
        "sys.stderr.write(repr(sorted(h for h in heavy if h in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        input=hook_input("SessionStart", broken, source="resume"),
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert done.stderr == b"[]"
    assert orjson.loads(done.stdout)["systemMessage"]


def test_guard_through_the_full_cli_takes_the_global_flags(
    demo: list[DemoSession], riff_env: dict[str, str], tmp_path: Path
) -> None:
    broken = pick(demo, ORPHANS)
    other_data = tmp_path / "elsewhere"
    done = CliRunner().invoke(
        app,
        ["--data-dir", str(other_data), "guard"],
        input=hook_input("SessionStart", broken, source="resume"),
    )
    assert done.exit_code == 0, done.output
    assert f"riff repair {broken.session_id} --write" in orjson.loads(done.stdout)["systemMessage"]
    assert (other_data / "cache" / "scan.json").is_file()
