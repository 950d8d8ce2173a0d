"""The console entry point of `riff`, kept light.

`riff --version` is answered here without importing Typer, Rich or any command,
`riff guard` (the command of riff's Claude Code hooks) runs from riff.cli.guard_hook,
and a plain `riff … scan …`, `riff … show SESSION` or `riff … repair SESSION …`
(what scripts call per session) from riff.cli.scan_direct;
everything else runs the Typer application of riff.cli.app, whose commands
import their heavy stacks (the SurrealDB SDK, Textual, APScheduler) only when
they run.
"""

from __future__ import annotations

import sys
from typing import Any

from riff import __version__


def run() -> None:
    """Console entry point."""
    if sys.argv[1:] == ["--version"]:
        print(f"riff {__version__}")
        return
    if sys.argv[1:2] == ["guard"]:
        # Claude Code's hooks run this on every session start and turn: no CLI framework.
        from riff.cli.guard_hook import main as guard_main

        sys.exit(guard_main(sys.argv[2:]))
    if {"scan", "show", "repair"} & set(sys.argv[1:]):
        from riff.cli import scan_direct

        argv = sys.argv[1:]
        parsed = (
            scan_direct.parse(argv)
            or scan_direct.parse_show(argv)
            or scan_direct.parse_repair(argv)
        )
        if parsed is not None:
            sys.exit(scan_direct.run(parsed))
    from riff.cli.app import run as run_app

    run_app()


def __getattr__(name: str) -> Any:
    # `from riff.cli.app import app` keeps working (the application moved to riff.cli.app).
    if name == "app":
        from riff.cli.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    run()
