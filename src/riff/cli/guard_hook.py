"""`riff guard` without the CLI framework: what the hook command runs, started fast.

`riff.cli.main` sends `riff guard …` here before Typer, Rich or any command
module is imported; `riff --data-dir D guard` (global flags first) goes through
the full CLI and ends up in the same `execute`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from riff.settings import Settings


def execute(
    settings: Settings | None,
    *,
    auto: bool = False,
    apply_when_quiet: Path | None = None,
    wait_for_pid: int | None = None,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Run the hook (or the deferred auto-apply); always 0: the hook never fails Claude Code."""
    from riff.app.guard import log_guard_error, run_guard
    from riff.settings import default_data_dir, load_settings

    data_dir = settings.data_dir if settings is not None else _data_dir_from_env(default_data_dir)
    try:
        if settings is None:
            settings = load_settings()
            data_dir = settings.data_dir
        if apply_when_quiet is not None:
            _deferred_apply(settings, apply_when_quiet, wait_for_pid)
            return 0
        raw = (stdin or sys.stdin.buffer).read()
        result = run_guard(raw, settings, auto=auto)
        if result.output is not None:
            import orjson

            out = stdout or sys.stdout
            out.write(orjson.dumps(result.output).decode() + "\n")
            out.flush()
    except Exception as exc:  # the hook's own failure is riff's problem, not Claude Code's
        log_guard_error(data_dir, exc, "riff guard")
    return 0


def _data_dir_from_env(default: Callable[[], Path]) -> Path:
    """Where to log when even the settings cannot be loaded."""
    given = os.environ.get("RIFF_DATA_DIR")
    return Path(given).expanduser() if given else default()


def _deferred_apply(settings: Settings, path: Path, wait_for_pid: int | None) -> None:
    from riff.app.guard import apply_when_quiet, hold_apply_lock, log_guard_note

    lock = hold_apply_lock(settings.data_dir, path.stem)
    if lock is None:
        return  # another deferred apply already waits for this session
    try:
        result = apply_when_quiet(settings, path, wait_for_pid=wait_for_pid)
    finally:
        lock.close()
    if result.skipped:
        log_guard_note(settings.data_dir, f"--auto {path}: {result.skipped}")
    else:
        log_guard_note(
            settings.data_dir,
            f"--auto {path}: applied {result.applied} repair(s) "
            f"{' '.join(result.event_ids)}; refused {result.refused}; backup {result.backup}",
        )


USAGE = """usage: riff guard [--auto]

Check the session a Claude Code hook names (the hook's JSON on stdin) and print
what Claude Code should show; always exits 0. --auto also applies the repairs
above the auto-apply threshold once Claude Code has let go of the file.
"""


def main(argv: list[str]) -> int:
    """Parse by hand: argparse (and the `re` it pulls in) costs more than the rest of guard."""
    auto = False
    apply_path: Path | None = None
    wait_for_pid: int | None = None
    args = iter(argv)
    try:
        for arg in args:
            if arg == "--auto":
                auto = True
            elif arg == "--apply-when-quiet":
                apply_path = Path(next(args))
            elif arg == "--wait-for-pid":
                wait_for_pid = int(next(args))
            elif arg in ("-h", "--help"):
                sys.stdout.write(USAGE)
                return 0
            else:
                raise ValueError(arg)
    except (StopIteration, ValueError):
        sys.stderr.write(f"riff guard: bad arguments {' '.join(argv)!r}\n{USAGE}")
        return 2
    return execute(None, auto=auto, apply_when_quiet=apply_path, wait_for_pid=wait_for_pid)
