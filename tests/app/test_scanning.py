"""Scanning many sessions: cache, process pool, ordering, totals."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from riff.app import scanning
from riff.app.demo import build_demo_projects
from riff.app.scanning import ScanCache, scan_files
from riff.transcript import discover_sessions


@pytest.fixture
def projects(tmp_path: Path) -> Path:
    build_demo_projects(tmp_path / "projects", seed=11)
    return tmp_path / "projects"


def test_parallel_scan_equals_serial_scan(projects: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = discover_sessions(projects)
    serial = scan_files(files, workers=1)
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 0)
    parallel = scan_files(files, workers=2)
    assert parallel.to_json() == serial.to_json()
    assert serial.read == len(files) and serial.cached == 0


def test_unchanged_files_come_from_the_cache(projects: Path, tmp_path: Path) -> None:
    files = discover_sessions(projects)
    cache_path = tmp_path / "cache" / "scan.json"
    cache = ScanCache(cache_path)
    first = scan_files(files, cache=cache)
    cache.save()
    again = scan_files(discover_sessions(projects), cache=ScanCache(cache_path))
    assert again.cached == len(files) and again.read == 0
    assert again.to_json() == first.to_json()

    # A file that changed (size and mtime) is read again; the others are not.
    changed = files[0].path
    with changed.open("ab") as fh:
        fh.write(b'{"type":"queue-operation","operation":"enqueue"}\n')
    os.utime(changed, ns=(files[0].mtime_ns + 10**9, files[0].mtime_ns + 10**9))
    third = scan_files(discover_sessions(projects), cache=ScanCache(cache_path))
    assert third.read == 1 and third.cached == len(files) - 1


def test_a_damaged_cache_is_only_a_slower_scan(projects: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "scan.json"
    cache_path.write_bytes(b"\x00not json")
    report = scan_files(discover_sessions(projects), cache=ScanCache(cache_path))
    assert report.read == len(report.sessions) > 0


def test_broken_sessions_come_first_and_totals_add_up(projects: Path) -> None:
    report = scan_files(discover_sessions(projects))
    errors = [any(f["severity"] == "error" for f in s["findings"]) for s in report.sessions]
    assert errors == sorted(errors, reverse=True)
    totals = report.totals
    assert totals["sessions"] == len(report.sessions)
    assert sum(totals["findings"].values()) == sum(len(s["findings"]) for s in report.sessions)
    assert report.has_problems


def test_progress_reports_every_file_and_byte(projects: Path) -> None:
    files = discover_sessions(projects)
    seen: list[tuple[int, int]] = []
    scan_files(files, progress=lambda n, b: seen.append((n, b)))
    assert seen[-1] == (len(files), sum(f.size for f in files))
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


def test_findings_cached_before_the_repairable_flags_changed_are_read_again(
    projects: Path, tmp_path: Path
) -> None:
    """A cache written by an older riff (version 2: torn lines and tool findings were
    all `repairable: false`) is stale, not a source of findings."""
    files = discover_sessions(projects)
    cache_path = tmp_path / "cache" / "scan.json"
    cache = ScanCache(cache_path)
    fresh = scan_files(files, cache=cache)
    cache.save()
    stale = orjson.loads(cache_path.read_bytes())
    flags = 0
    for entry in stale["entries"].values():
        for finding in entry["scan"]["findings"]:
            if finding["kind"] in ("truncated_line", "tool_use_without_result"):
                assert finding["repairable"] is True
                finding["repairable"] = False
                flags += 1
    assert flags
    stale["version"] = 2
    cache_path.write_bytes(orjson.dumps(stale))
    again = scan_files(discover_sessions(projects), cache=ScanCache(cache_path))
    assert again.read == len(files) and again.to_json() == fresh.to_json()


def test_a_file_in_two_groups_keeps_the_serial_scans_answer(
    projects: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An agent file whose session is unknown groups with every main session of
    # its project, so those files are scanned twice (once with it as context):
    # the parallel scan keeps the later group's scan, as the serial one does,
    # whichever task finishes first.
    files = discover_sessions(projects)
    alone = scan_files(files, workers=1)
    orphaned = next(s for s in alone.sessions if any(f["kind"] == "orphan" for f in s["findings"]))
    main = Path(orphaned["path"])
    orphan = next(f for f in orphaned["findings"] if f["kind"] == "orphan")
    row = orjson.loads(main.read_bytes().splitlines()[orphan["lines"][0] - 1])
    # The agent file holds the orphan's missing parent: with it as context, the
    # main session's scan differs.
    lost = main.parent / "agent-0lost.jsonl"
    lost.write_bytes(
        orjson.dumps({"type": "user", "uuid": row["parentUuid"], "parentUuid": None}) + b"\n"
    )
    files = discover_sessions(projects)
    assert any(f.is_subagent and f.parent_session_id is None for f in files)
    serial = scan_files(files, workers=1)
    entry = next(s for s in serial.sessions if s["path"] == str(main))
    assert entry != orphaned  # scanned last with the agent file beside it
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 0)
    for _ in range(3):
        assert scan_files(files, workers=2).to_json() == serial.to_json()


def test_the_later_group_wins_in_any_order() -> None:
    scans = [(0, "a", {"n": 0}), (1, "a", {"n": 1}), (1, "b", {"n": 1}), (2, "a", {"n": 2})]
    for order in (scans, scans[::-1], [scans[2], scans[3], scans[0], scans[1]]):
        results: dict[str, dict[str, object]] = {}
        groups: dict[str, int] = {}
        for number, path, scan in order:
            scanning.keep_later_group(results, groups, number, path, scan)
        assert results == {"a": {"n": 2}, "b": {"n": 1}}


def test_tasks_hold_every_group_once_biggest_first(projects: Path) -> None:
    files = discover_sessions(projects)
    groups = [[f] for f in files]
    tasks = scanning._tasks(groups, 2)
    numbers = [number for task in tasks for number, _ in task]
    assert sorted(numbers) == list(range(len(groups)))
    sizes = [groups[n][0].size for n in numbers]
    assert sizes == sorted(sizes, reverse=True)
    assert 1 < len(tasks) <= len(groups)


def test_a_parallel_scan_of_a_relative_or_linked_dir_reports_every_file(
    projects: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: the pool's workers resolved each path, so a dir named by a
    # relative path or through a symlink (a dotfiles-managed ~/.claude, say)
    # came back under other names and every session was dropped: 0 sessions.
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 0)
    (tmp_path / "linked").symlink_to(projects, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for root in (Path("projects"), tmp_path / "linked"):
        files = discover_sessions(root)
        serial = scan_files(files, workers=1)
        parallel = scan_files(files, workers=2)
        assert len(parallel.sessions) == len(files) > 1
        assert parallel.to_json() == serial.to_json()


def test_a_file_gone_before_the_parallel_scan_reads_it_is_reported_as_the_serial_scan_does(
    projects: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = discover_sessions(projects)
    files[1].path.unlink()
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 0)
    parallel = scan_files(files, workers=2)
    assert parallel.to_json() == scan_files(files, workers=1).to_json()
    gone = next(s for s in parallel.sessions if s["path"] == str(files[1].path))
    assert [f["kind"] for f in gone["findings"]] == ["unreadable_file"]
