"""`riff repair`'s arguments as one value, free of Typer and of the repair's imports:
the direct parser (riff.cli.scan_direct) builds it before anything heavy loads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepairRequest:
    """`riff repair`'s arguments (see riff.cli.repair_cmd.repair for their help)."""

    session: str
    message: str | None = None
    parent: str | None = None
    root: bool = False
    min_score: float | None = None
    reason: str = ""
    force: bool = False
    dry_run: bool = False
    write: bool = False
    no_backup: bool = False
    force_live: bool = False
    yes: bool = False
    json: bool = False
    kinds: str | None = None
