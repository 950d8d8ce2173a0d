"""Medium and Low: hostile files under the projects dir (issue 13).

Names that are not UTF-8, files that cannot be read, symlinks out of the
projects dir, and link fields of the wrong JSON type: each is reported, and
the rest of the scan goes on.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from riff.app.demo import build_demo_projects
from riff.app.scanning import ScanCache, scan_files
from riff.cli.main import app
from riff.transcript import discover_sessions
from riff.transcript.reader import read_transcript
from tests.cli.conftest import riff_env  # noqa: F401 (fixture)

runner = CliRunner()


def _scan_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "scan", "--json"])
    assert "Traceback" not in result.output
    assert result.exit_code == 1, (result.exit_code, result.output)
    doc: dict[str, object] = orjson.loads(result.stdout)
    return doc


def _kinds(doc: dict[str, object], path_part: str) -> set[str]:
    sessions = doc["sessions"]
    assert isinstance(sessions, list)
    return {f["kind"] for s in sessions if path_part in s["path"] for f in s["findings"]}


def test_a_file_name_that_is_not_utf8_is_a_finding(riff_env: dict[str, str]) -> None:  # noqa: F811
    projects = Path(riff_env["RIFF_PROJECTS_DIR"])
    sessions = build_demo_projects(projects, seed=7)
    odd = os.fsencode(sessions[0].path.parent) + b"/odd-\xff\xfe.jsonl"
    Path(os.fsdecode(odd)).write_bytes(sessions[0].path.read_bytes())
    doc = _scan_json()
    totals = doc["totals"]
    assert isinstance(totals, dict) and totals["sessions"] == len(sessions) + 1
    assert "undecodable_name" in _kinds(doc, "odd-\\xff\\xfe")
    assert _scan_json()["totals"] == totals  # the cache was written and read back


def test_a_file_that_vanished_is_a_finding_and_the_rest_is_scanned(tmp_path: Path) -> None:
    sessions = build_demo_projects(tmp_path / "projects", seed=7)
    files = discover_sessions(tmp_path / "projects")
    sessions[0].path.unlink()  # between discovery and reading, as a rotating writer does
    report = scan_files(files, cache=ScanCache(tmp_path / "cache.json"))
    by_path = {s["path"]: s for s in report.sessions}
    assert len(by_path) == len(files)
    [gone] = by_path[str(sessions[0].path)]["findings"]
    assert (
        gone["kind"] == "unreadable_file" and "the other files were scanned" in gone["explanation"]
    )
    assert all(by_path[str(s.path)]["messages"] for s in sessions[1:])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file without read permission")
def test_a_file_without_read_permission_is_a_finding(riff_env: dict[str, str]) -> None:  # noqa: F811
    sessions = build_demo_projects(Path(riff_env["RIFF_PROJECTS_DIR"]), seed=7)
    sessions[0].path.chmod(0)
    assert "unreadable_file" in _kinds(_scan_json(), sessions[0].path.name)


def test_symlinks_out_of_the_projects_dir_are_not_followed(
    riff_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    projects = Path(riff_env["RIFF_PROJECTS_DIR"])
    sessions = build_demo_projects(projects, seed=7)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jsonl"
    secret.write_text('{"type":"user","uuid":"x","note":"not a transcript of this user"}\n')
    (sessions[0].path.parent / "evil.jsonl").symlink_to(secret)
    (projects / "evil-project").symlink_to(outside, target_is_directory=True)
    inside_link = sessions[0].path.parent / "alias.jsonl"
    inside_link.symlink_to(sessions[1].path)  # a link inside the projects dir is fine
    names = {f.path.name for f in discover_sessions(projects)}
    assert "evil.jsonl" not in names and "secret.jsonl" not in names and "alias.jsonl" in names
    doc = _scan_json()
    assert "secret" not in orjson.dumps(doc).decode() and "evil" not in orjson.dumps(doc).decode()
    followed = _scan_json("--follow-symlinks")
    assert "evil.jsonl" in orjson.dumps(followed).decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [("uuid", 7), ("parentUuid", ["a"]), ("timestamp", {"t": 1}), ("uuid", True)],
)
def test_wrong_json_types_for_link_fields_are_bad_lines(
    tmp_path: Path, field: str, value: object
) -> None:
    good = {
        "type": "user",
        "uuid": "11111111-1111-4111-8111-111111111111",
        "parentUuid": None,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "message": {"role": "user", "content": "hi"},
    }
    path = tmp_path / "s.jsonl"
    path.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(good | {field: value}) + b"\n")
    transcript = read_transcript(path)
    [problem] = transcript.problems
    assert problem.kind == "malformed_line" and problem.line == 2 and field in problem.reason
