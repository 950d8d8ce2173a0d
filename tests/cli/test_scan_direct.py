"""`riff scan` without Typer (riff.cli.scan_direct) is the Typer command, started lighter.

The direct parser knows the same options as riff's Typer application and hands
everything else to Typer; run both ways, a command line prints the same bytes
on stdout and stderr and exits with the same code.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

from riff.app.demo import build_demo_projects
from riff.app.scanning import scan_files
from riff.cli import scan_direct
from riff.cli.app import _click_command, app
from riff.cli.repair_request import RepairRequest
from riff.cli.scan_direct import RepairArgs, ScanArgs, ShowArgs, parse, parse_show
from riff.transcript.discover import discover_sessions

NOT_DIRECT = {"--help", "--version", "--debug"}


def _options(command: typer.core.TyperCommand | typer.core.TyperGroup) -> dict[str, bool]:
    """Every option string of a command -> whether it is a flag."""
    return {
        opt: bool(getattr(param, "is_flag", False))
        for param in command.params
        if param.param_type_name == "option"
        for opt in (*param.opts, *param.secondary_opts)
    }


def test_the_tables_are_the_typer_commands_options() -> None:
    root_command, scan_command = typer.main.get_group(app), _click_command("scan")
    root, scan = _options(root_command), _options(scan_command)
    direct_root = dict.fromkeys(scan_direct.GLOBAL_VALUES, False)
    direct_root |= dict.fromkeys(scan_direct.GLOBAL_FLAGS, True)
    assert direct_root == {k: v for k, v in root.items() if k not in NOT_DIRECT}
    assert dict.fromkeys(scan_direct.SCAN_FLAGS, True) == {
        k: v for k, v in scan.items() if k not in NOT_DIRECT
    }
    # Each option fills the field Typer's parameter of that name fills.
    by_opt = {
        opt: param.name
        for command in (root_command, scan_command)
        for param in command.params
        for opt in param.opts
    }
    for table in (scan_direct.GLOBAL_VALUES, scan_direct.GLOBAL_FLAGS):
        for opt, dest in table.items():
            assert by_opt[opt] == dest, opt
    assert {by_opt[o] for o in scan_direct.SCAN_FLAGS} == {"no_cache", "json"}
    # and the paths: the one argument, any number of them
    (paths,) = [p for p in scan_command.params if p.param_type_name == "argument"]
    assert paths.name == "paths" and paths.nargs == -1


def test_the_show_tables_are_the_typer_commands_options() -> None:
    show = _options(_click_command("show"))
    direct = dict.fromkeys(scan_direct.SHOW_FLAGS, True) | dict.fromkeys(
        scan_direct.SHOW_VALUES, False
    )
    assert direct == {k: v for k, v in show.items() if k not in NOT_DIRECT | {"--event"}}
    by_opt = {opt: param.name for param in _click_command("show").params for opt in param.opts}
    assert {by_opt[o] for o in scan_direct.SHOW_FLAGS} == {"no_pager", "tree", "json"}
    assert [by_opt[o] for o in scan_direct.SHOW_VALUES] == ["limit"]
    (session,) = [p for p in _click_command("show").params if p.param_type_name == "argument"]
    assert session.name == "session" and session.nargs == 1
    limit = next(p for p in _click_command("show").params if p.name == "limit")
    assert limit.default == ShowArgs().limit


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["show", "abc"], ShowArgs(session="abc")),
        (
            ["--json", "show", "--tree", "--limit", "7", "--no-pager", "abc"],
            ShowArgs(json=True, tree=True, limit=7, no_pager=True, session="abc"),
        ),
        (
            ["--db=mem://", "show", "--limit=3", "--json", "--", "-x"],
            ShowArgs(db="mem://", limit=3, show_json=True, session="-x"),
        ),
        (["show", "--", "-x"], ShowArgs(session="-x")),
        (["show", "scan"], ShowArgs(session="scan")),
        # Typer's: --event, no session or two, odd limits, help, unknown options.
        (["show", "--event", "e1"], None),
        (["show"], None),
        (["show", "a", "b"], None),
        (["show", "--limit", "-1", "a"], None),
        (["show", "--limit", "x", "a"], None),
        (["show", "--limit"], None),
        (["show", "--help"], None),
        (["show", "--bogus", "a"], None),
        (["--debug", "show", "a"], None),
        (["scan", "show"], None),
    ],
)
def test_parse_show(argv: list[str], expected: ShowArgs | None) -> None:
    assert parse_show(argv) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["scan"], ScanArgs()),
        (["scan", "--json", "--no-cache"], ScanArgs(scan_json=True, no_cache=True)),
        (
            ["--projects-dir", "p", "--data-dir=d", "-q", "--json", "scan", "a", "--no-cache", "b"],
            ScanArgs(
                projects_dir="p",
                data_dir="d",
                quiet=True,
                json=True,
                paths=["a", "b"],
                no_cache=True,
            ),
        ),
        (["--operator", "scan", "scan"], ScanArgs(operator="scan")),
        (["scan", "--", "--json", "-x"], ScanArgs(paths=["--json", "-x"])),
        (
            ["--follow-symlinks", "--db", "mem://", "scan"],
            ScanArgs(follow_symlinks=True, db="mem://"),
        ),
        # Typer's: help, version, debug, unknown or odd options, other commands.
        (["scan", "--help"], None),
        (["--help", "scan"], None),
        (["--version", "scan"], None),
        (["--debug", "scan"], None),
        (["scan", "--bogus"], None),
        (["scan", "-"], None),
        (["scan", "--json=1"], None),
        (["--projects-dir", "--json", "scan"], None),
        (["--projects-dir=", "scan"], None),
        (["--db"], None),
        (["show", "scan"], None),
        ([], None),
        (["-q=1", "scan"], None),
    ],
)
def test_parse(argv: list[str], expected: ScanArgs | None) -> None:
    assert parse(argv) == expected


def _run(way: str, args: list[str], env: dict[str, str]) -> tuple[str, str, int]:
    entry = "riff.cli.main" if way == "direct" else "riff.cli.app"
    code = f"import sys; sys.argv = ['riff', *sys.argv[1:]]; from {entry} import run; run()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    return done.stdout, done.stderr, done.returncode


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("direct") / "projects"
    build_demo_projects(root, seed=7)
    return root


def test_both_ways_print_the_same(projects: Path, tmp_path: Path) -> None:
    report = scan_files(discover_sessions(projects))
    session = Path(next(s["path"] for s in report.sessions if s["findings"]))
    healthy = Path(next(s["path"] for s in report.sessions if not s["findings"]))
    env = {
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }
    data = ["--data-dir", "{data}"]  # each way its own, so that both fill their cache alike
    lines = [
        [*data, "--projects-dir", str(projects), "scan", "--json", "--no-cache"],
        [*data, "--projects-dir", str(projects), "scan", "--no-cache"],  # the table
        [*data, "--projects-dir", str(projects), "scan"],  # fills the cache
        [*data, "--projects-dir", str(projects), "--json", "scan"],  # from the cache
        [*data, "--projects-dir", str(projects), "-q", "scan", "--no-cache"],
        [*data, "scan", "--json", "--no-cache", str(projects)],
        [*data, "scan", "--no-cache", "--json", str(session), str(session)],
        [*data, "scan", "--no-cache", str(healthy)],
        [*data, "--projects-dir", str(projects), "scan", "--json", session.stem[:6]],
        [*data, "--projects-dir", str(projects), "scan", "--json", "zzzzzz"],
        [*data, "--projects-dir", str(tmp_path / "none"), "scan", "--json"],
        [*data, "scan", "--json", str(tmp_path / "none" / "x.jsonl")],
        [*data, f"--projects-dir={projects}", "--follow-symlinks", "scan", "--", str(projects)],
    ]
    bad = {**env, "RIFF_MIN_SCORE": "high"}
    outputs = {}
    for way in ("direct", "typer"):
        folder = str(tmp_path / way)
        outputs[way] = [
            _run(way, [folder if a == "{data}" else a for a in line], env) for line in lines
        ]
        outputs[way].append(_run(way, ["--data-dir", folder, "scan", "--json"], bad))
    for line, direct, via_typer in zip(lines, outputs["direct"], outputs["typer"], strict=False):
        assert direct == via_typer, line
    assert outputs["direct"][-1] == outputs["typer"][-1]
    # findings, a healthy session and errors, all compared
    assert {code for _, _, code in outputs["direct"]} == {0, 1, 2}


def test_show_both_ways_prints_the_same(projects: Path, tmp_path: Path) -> None:
    report = scan_files(discover_sessions(projects))
    session = Path(next(s["path"] for s in report.sessions if s["findings"]))
    env = {
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }
    data = ["--data-dir", "{data}", "--projects-dir", str(projects)]
    lines = [
        [*data, "show", str(session)],
        [*data, "show", "--no-pager", "--limit", "5", str(session)],
        [*data, "show", "--tree", "--limit=12", session.stem[:8]],
        [*data, "show", "--json", str(session)],
        [*data, "--json", "show", session.stem],
        [*data, "show", "zzzzzzzz"],  # no such session: an error and its exit code
        [*data, "show", str(tmp_path / "none" / "x.jsonl")],
    ]
    outputs = {}
    for way in ("direct", "typer"):
        folder = str(tmp_path / way)
        outputs[way] = [
            _run(way, [folder if a == "{data}" else a for a in line], env) for line in lines
        ]
    for line, direct, via_typer in zip(lines, outputs["direct"], outputs["typer"], strict=True):
        assert direct == via_typer, line
    assert {code for _, _, code in outputs["direct"]} == {0, 2}
    assert "resume loads" in outputs["direct"][0][0]


def test_the_repair_tables_are_the_typer_commands_options() -> None:
    command = _click_command("repair")
    direct = dict.fromkeys(scan_direct.REPAIR_FLAGS, True) | dict.fromkeys(
        scan_direct.REPAIR_VALUES, False
    )
    assert direct == {k: v for k, v in _options(command).items() if k not in NOT_DIRECT}
    by_opt = {opt: param.name for param in command.params for opt in param.opts}
    for table in (scan_direct.REPAIR_FLAGS, scan_direct.REPAIR_VALUES):
        for opt, dest in table.items():
            assert by_opt[opt] == dest, opt
    (session,) = [p for p in command.params if p.param_type_name == "argument"]
    assert session.name == "session" and session.nargs == 1
    # The request carries every parameter of the command, with its defaults.
    params = {p.name: p.default for p in command.params}
    fields = {f.name: f.default for f in dataclasses.fields(RepairRequest)}
    assert fields.keys() == params.keys()
    assert {k: v for k, v in fields.items() if k != "session"} == {
        k: v for k, v in params.items() if k != "session"
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["repair", "abc"], RepairArgs(request=RepairRequest("abc"))),
        (
            ["--data-dir", "d", "repair", "--write", "-y", "--json", "abc"],
            RepairArgs(data_dir="d", request=RepairRequest("abc", write=True, yes=True, json=True)),
        ),
        (
            ["repair", "-m", "m1", "--parent=p1", "--reason", "by hand", "--force", "s"],
            RepairArgs(
                request=RepairRequest("s", message="m1", parent="p1", reason="by hand", force=True)
            ),
        ),
        (
            ["-q", "repair", "--min-score", "0.9", "--kinds=torn,duplicate", "--", "-odd"],
            RepairArgs(
                quiet=True,
                request=RepairRequest("-odd", min_score=0.9, kinds="torn,duplicate"),
            ),
        ),
        (
            ["repair", "--min-score=.5", "--dry-run", "--root", "-m", "x", "s"],
            RepairArgs(
                request=RepairRequest("s", min_score=0.5, dry_run=True, root=True, message="x")
            ),
        ),
        (
            ["repair", "--no-backup", "--force-live", "s"],
            RepairArgs(request=RepairRequest("s", no_backup=True, force_live=True)),
        ),
        # Typer's: odd scores, values that look like options, no session or two, help.
        (["repair", "--min-score", "1e-1", "s"], None),
        (["repair", "--min-score", "high", "s"], None),
        (["repair", "--reason", "--write", "s"], None),
        (["repair", "--kinds="], None),
        (["repair"], None),
        (["repair", "a", "b"], None),
        (["repair", "--help"], None),
        (["repair", "--bogus", "a"], None),
        (["--debug", "repair", "a"], None),
    ],
)
def test_parse_repair(
    argv: list[str], expected: RepairArgs | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)  # run from a terminal or not
    assert scan_direct.parse_repair(argv) == expected


def test_a_repair_that_may_ask_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    """At a terminal, a repair without --yes, --json or --dry-run may ask: Typer's prompt."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert scan_direct.parse_repair(["repair", "s"]) is None
    assert scan_direct.parse_repair(["repair", "--write", "s"]) is None
    for unattended in (
        ["repair", "-y", "s"],
        ["--json", "repair", "s"],
        ["repair", "--dry-run", "s"],
    ):
        assert scan_direct.parse_repair(unattended) is not None
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)  # no one to ask: a clear error
    assert scan_direct.parse_repair(["repair", "s"]) is not None


def _masked(output: tuple[str, str, int]) -> tuple[str, str, int]:
    """Event ids, inserted rows' uuids (shown short too) and times differ from run to run,
    and so where Rich wraps the lines that hold them."""
    stdout, stderr, code = output
    ids = re.compile(
        r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{26,64}"
        r"|\d{4}-\d\d-\d\dT[\d:.]+Z?|\d{8}T\d{6,}Z|\b[0-9a-f]{8}\b"
    )

    # Rich wraps a long line inside a word if it must: mask, join the lines, mask again.
    def masked(text: str) -> str:
        return ids.sub("X", ids.sub("X", text).replace("\n", ""))

    return masked(stdout), masked(stderr), code


def test_repair_both_ways_prints_the_same(projects: Path, tmp_path: Path) -> None:
    report = scan_files(discover_sessions(projects))
    sessions = [Path(s["path"]) for s in report.sessions if s["findings"]]
    env = {
        "RIFF_CONFIG": str(tmp_path / "no-config.toml"),
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
    }
    lines: list[list[str]] = []
    for session in sessions[:3]:
        lines += [
            ["repair", "--dry-run", session.stem],
            ["repair", "--json", "--dry-run", "--kinds", "parent", session.stem],
            ["repair", "--write", "--yes", "--min-score=0.5", session.stem],
            ["repair", "--json", "--write", session.stem],  # again: what the first left
        ]
    lines += [
        ["repair", "--root", sessions[0].stem],  # --root needs --message
        ["repair", "--force", sessions[0].stem],  # --force needs --reason
        ["repair", "--kinds", "bogus", sessions[0].stem],
        ["repair", "zzzzzzzz"],
        ["repair", str(tmp_path / "none" / "x.jsonl")],
    ]
    outputs = {}
    files = {}
    own, data = tmp_path / "work" / "projects", tmp_path / "work" / "data"
    for way in ("direct", "typer"):  # each in the same place, so that paths wrap alike
        shutil.rmtree(tmp_path / "work", ignore_errors=True)
        shutil.copytree(projects, own)
        for transcript in own.rglob("*.jsonl"):  # quiet for an hour: not live
            os.utime(transcript, (time.time() - 3600, time.time() - 3600))
        where = ["--data-dir", str(data), "--projects-dir", str(own)]
        outputs[way] = [_masked(_run(way, [*where, *line], env)) for line in lines]
        files[way] = {p.relative_to(own): p.read_bytes() for p in sorted(own.rglob("*.jsonl"))}
    for line, direct, via_typer in zip(lines, outputs["direct"], outputs["typer"], strict=True):
        assert direct == via_typer, line
    assert {code for _, _, code in outputs["direct"]} >= {0, 2}
    assert files["direct"].keys() == files["typer"].keys()
    changed = [p for p in files["direct"] if files["direct"][p] != (projects / p).read_bytes()]
    assert changed  # the repairs wrote
