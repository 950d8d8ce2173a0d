"""`riff --version`, `--help`, `verify FILE` and `scan` start without the heavy stacks.

Each runs in a fresh interpreter through the console entry point; the test
then lists the modules that process imported. Timings live in
bench/startup.py, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riff.events.export import write_export
from tests.event_factories import iter_sessions

# Top-level packages that only the commands needing them may import.
HEAVY = ("surrealdb", "textual", "apscheduler", "aiohttp", "requests", "websockets", "urllib3")

_PROBE = """
import os, sys
sys.argv = ["riff", *sys.argv[1:]]
from riff.cli.main import run
try:
    run()
except SystemExit:
    pass
with open(os.environ["RIFF_PROBE_OUT"], "w") as out:
    out.write("\\n".join(sorted(sys.modules)))
"""


def _modules_after(tmp_path: Path, *args: str) -> tuple[set[str], str]:
    listing = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RIFF_PROBE_OUT": str(listing)},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return set(listing.read_text().split("\n")), done.stdout


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    path = tmp_path / "small.jsonl"
    events = [e for log in iter_sessions(2, 3) for e in log.events]
    write_export(path, events, fmt="jsonl")
    return path


def test_version_imports_nothing_but_riff(tmp_path: Path) -> None:
    modules, stdout = _modules_after(tmp_path, "--version")
    assert stdout.startswith("riff ")
    assert _heavy(modules) == []
    assert not any(m.split(".")[0] in ("typer", "rich", "click") for m in modules)


def _commands_loaded(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("riff.cli.") and m.endswith("_cmd")}


def test_help_imports_no_heavy_stack(tmp_path: Path) -> None:
    modules, stdout = _modules_after(tmp_path, "--help")
    assert "repair" in stdout and "verify" in stdout
    assert "riff.cli.app" in modules  # the probe ran the real application
    assert _heavy(modules) == []
    # The listing comes from riff.cli.app.COMMANDS: no command's module, no service.
    assert _commands_loaded(modules) == set()
    assert not any(m.split(".")[:2] in (["riff", "app"], ["riff", "store"]) for m in modules)


def test_verify_file_imports_no_heavy_stack(tmp_path: Path, small_export: Path) -> None:
    modules, stdout = _modules_after(tmp_path, "verify", "--json", str(small_export))
    assert '"ok": true' in stdout
    assert _heavy(modules) == []
    assert _commands_loaded(modules) == {"riff.cli.verify_cmd"}
    assert "cryptography" not in {m.split(".")[0] for m in modules}  # no signing without --key


def test_scan_imports_no_cli_framework_and_no_event_core(tmp_path: Path) -> None:
    # What scripts call per session: the transcript package, the scan cache and
    # orjson for the document; not Typer, pydantic or Rich (riff.cli.scan_direct),
    # nor the event core, the store or the views.
    projects = tmp_path / "projects" / "-p"
    projects.mkdir(parents=True)
    (projects / "s.jsonl").write_bytes(b'{"type":"user","uuid":"u","parentUuid":null}\n')
    modules, stdout = _modules_after(
        tmp_path, "--data-dir", str(tmp_path / "d"), "scan", "--json", str(tmp_path / "projects")
    )
    assert '"sessions": 1' in stdout
    assert "riff.transcript.reader" in modules  # the probe ran the scan
    top = {m.split(".")[0] for m in modules}
    assert top.isdisjoint({"typer", "click", "rich", "pydantic", *HEAVY})
    riff = {".".join(m.split(".")[:2]) for m in modules if m.startswith("riff.")}
    assert riff.isdisjoint({"riff.events", "riff.store", "riff.views", "riff.tlog"})
    assert _commands_loaded(modules) == set()
    assert "riff.transcript.suggest" not in modules and "riff.transcript.write" not in modules


def test_show_imports_no_cli_framework_and_no_repair_machinery(tmp_path: Path) -> None:
    # `riff show SESSION` reads and prints: the planners, the suggestion index
    # and the event view come only with `show --event` and `suggest`.
    projects = tmp_path / "projects" / "-p"
    projects.mkdir(parents=True)
    session = projects / "s.jsonl"
    session.write_bytes(b'{"type":"user","uuid":"u","parentUuid":null}\n')
    modules, stdout = _modules_after(
        tmp_path, "--data-dir", str(tmp_path / "d"), "show", "--no-pager", str(session)
    )
    assert "resume loads 1 messages" in stdout
    assert _heavy(modules) == []
    # A plain `riff show SESSION` runs without Typer (riff.cli.scan_direct).
    assert {m.split(".")[0] for m in modules}.isdisjoint({"typer", "click", "pydantic"})
    assert modules.isdisjoint(
        {"riff.app.repairs", "riff.app.event_detail", "riff.transcript.suggest"}
    ), sorted(modules & {"riff.app.repairs", "riff.app.event_detail", "riff.transcript.suggest"})


def test_a_store_command_does_load_the_sdk(tmp_path: Path) -> None:
    """The probe can see a heavy import at all (so the tests above can fail)."""
    modules, _ = _modules_after(
        tmp_path, "--db", "mem://", "--data-dir", str(tmp_path / "d"), "db", "status"
    )
    assert "surrealdb" in _heavy(modules)
