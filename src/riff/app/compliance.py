"""The compliance package: what an auditor takes away and checks with `riff verify DIR`.

A package is a directory:

- `events.jsonl`: the verifiable export (format 1.0) of every session that has
  an event in the period, each from its first event to its head, so that every
  digest and link can be checked. Events outside the period are there as the
  chain's context; `in_period` in the CSV says which are in it.
- `events.csv`: the same events in the same order, one row each, for
  spreadsheets; `riff verify DIR` checks that it matches the JSON Lines.
- `report.html` and `report.json`: the dashboard of the period and its data.
- `VERIFY.md`: how to check the package.
- `MANIFEST.json`: the period, the counts, and the SHA-256 of every file.

- `checkpoint.note`: a signed checkpoint of the whole log (made when the
  package is written), `key.vkey` the verifier key that signed it, and
  `proofs/EVENT_ID.proof`: for every event of the period, a proof that it is
  in the tree that checkpoint signs.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from riff.app.analytics import DashboardFilter, collect_dashboard
from riff.app.errors import AppError
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.events.errors import EventError
from riff.events.export import ExportReader, write_export
from riff.events.model import EVENT_FIELDS

PACKAGE_FORMAT = "riff.compliance/1"
MANIFEST = "MANIFEST.json"
CSV_COLUMNS: tuple[str, ...] = (*EVENT_FIELDS, "is_reverted", "in_period")
REQUIRED_FILES = ("report.html", "report.json", "events.jsonl", "events.csv", "VERIFY.md")
CHECKPOINT_FILE = "checkpoint.note"
KEY_FILE = "key.vkey"
PROOFS_DIR = "proofs"


@dataclass
class CompliancePackage:
    directory: Path
    files: list[str]
    events_in_period: int
    events_exported: int
    sessions: int
    checkpoint: Mapping[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "files": self.files,
            "events_in_period": self.events_in_period,
            "events_exported": self.events_exported,
            "sessions": self.sessions,
            "checkpoint": self.checkpoint,
        }


def csv_cell(value: Any) -> str:
    """One value as the CSV holds it: JSON's spelling, empty for null."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def in_period(row: Mapping[str, Any], period: Mapping[str, Any]) -> bool:
    """Whether an exported event is in the package's period (time and operator)."""
    since, until, operator = period.get("since"), period.get("until"), period.get("operator")
    return (
        (since is None or row["timestamp"] >= since)
        and (until is None or row["timestamp"] <= until)
        and (operator is None or row["operator"] == operator)
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_text(period: Mapping[str, Any], has_checkpoint: bool) -> str:
    since = period.get("since") or "the first event"
    until = period.get("until") or "the last event"
    checkpoint = (
        "`checkpoint.note` is a signed checkpoint of the whole log, made when the package was "
        "written, and `proofs/` holds, for every event of the period, a proof that the event "
        "is in the tree that checkpoint signs; `riff verify DIR` checks the signature and every "
        "proof, and that each proof's event is the one in `events.jsonl`.\n\n"
        "`key.vkey` is the key that signed it, as the package says. Trust comes from a key "
        "you got elsewhere: check with `riff verify DIR --key VKEY` using the verifier key the "
        "log's operator published (`riff key show` prints it on their machine). Keep "
        "`checkpoint.note`: a later checkpoint of the same log must extend it "
        "(`riff prove --consistency`).\n"
        if has_checkpoint
        else "This log had no signed checkpoint when the package was made, so there are no "
        "inclusion proofs: the package shows that its chains are intact and complete from "
        "their first event, not that the database kept every session. Compare the heads in "
        "`MANIFEST.json` with heads recorded elsewhere (`riff verify events.jsonl "
        "--expect-head SESSION=DIGEST`) to rule out a cut-off tail.\n"
    )
    return f"""# Checking this package

This directory is a riff compliance package for the period from {since} to {until}
(UTC). Check it with riff alone, on any machine, without access to the database:

```sh
riff verify . --key VKEY   # the whole package: exit 0 intact, 1 problems, 2 not a package
riff verify events.jsonl   # the export on its own: every digest, link, seq and revert
```

`riff verify DIR` checks that every file listed in `MANIFEST.json` is present and
unchanged (SHA-256), that `events.jsonl` verifies (each event's digest, the link to
the previous event, gap-free sequence numbers, the derived revert status), that
`events.csv` holds exactly the same events with the same values in the same order,
and that its `in_period` column and the manifest's counts agree with the period.

`events.jsonl` holds every session that has an event in the period from its first
event on, because a chain can only be checked from its start; the events outside
the period are context (`in_period` is `false` for them in `events.csv`).

{checkpoint}
`report.html` is the dashboard of the period (open it in any browser, it loads
nothing from the network) and `report.json` its numbers.
"""


def _write_csv(path: Path, rows: Iterator[dict[str, Any]], period: Mapping[str, Any]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            marked = dict(row, in_period=in_period(row, period))
            count += bool(marked["in_period"])
            writer.writerow([csv_cell(marked.get(name)) for name in CSV_COLUMNS])
    return count


def write_compliance_package(
    ws: Workspace,
    directory: Path,
    flt: DashboardFilter,
    *,
    generated_at: str,
    render_html: Callable[[dict[str, Any]], str],
    scan: bool = True,
) -> CompliancePackage:
    """Write the package into `directory` (created; refused if it holds other files).

    `render_html` draws the dashboard page from its aggregates (an interface's job).
    """
    from riff.app.checkpoints import create_checkpoint, public_key
    from riff.app.proofs import inclusion_proof

    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise AppError(f"{directory}: not an empty directory; give a new directory for -o")
    # Sign the log as it is now, so that every event of the period has a proof.
    made = create_checkpoint(ws)
    doc = collect_dashboard(ws, flt, generated_at=generated_at, scan=scan)
    period = {"since": flt.since, "until": flt.until, "operator": flt.operator}
    store = ws.store
    chosen: list[RepairEvent] = []
    proven: list[str] = []
    digests: dict[str, str | None] = {}
    for session_id in store.sessions():
        events = list(store.events(session_id))
        project = _project_of(ws, session_id) if flt.project else None
        admitted = [e.event_id for e in events if flt.admits_event(e, project)]
        if not admitted:
            continue
        chosen.extend(events)
        proven.extend(admitted)
        view = store.get_view(session_id)
        digests[session_id] = view.materialization_digest if view else None

    staging = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        write_export(staging / "events.jsonl", chosen, fmt="jsonl", materialization_digests=digests)
        reader = ExportReader.open(staging / "events.jsonl")
        in_count = _write_csv(staging / "events.csv", reader.events(), period)
        (staging / "report.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        (staging / "report.html").write_text(render_html(doc), encoding="utf-8")
        (staging / CHECKPOINT_FILE).write_text(made.note, encoding="utf-8")
        (staging / KEY_FILE).write_text(public_key(ws)["vkey"] + "\n", encoding="utf-8")
        (staging / PROOFS_DIR).mkdir()
        for event_id in proven:
            proof = inclusion_proof(ws, event_id).render()
            (staging / PROOFS_DIR / f"{event_id}.proof").write_text(proof, encoding="utf-8")
        checkpoint = {
            "origin": made.checkpoint.origin,
            "size": made.checkpoint.size,
            "root": made.checkpoint.root_hex,
            "created_at": made.created_at,
            "note": CHECKPOINT_FILE,
            "key": KEY_FILE,
            "proofs": len(proven),
        }
        (staging / "VERIFY.md").write_text(_verify_text(period, True), encoding="utf-8")
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        manifest = {
            "format": PACKAGE_FORMAT,
            "generated_at": generated_at,
            "store": store.url,
            "period": period,
            "filters": flt.to_json(),
            "events_in_period": in_count,
            "events_exported": len(chosen),
            "sessions": len(digests),
            "checkpoint": checkpoint,
            "files": {
                name: {"sha256": _sha256(staging / name), "bytes": (staging / name).stat().st_size}
                for name in files
            },
        }
        (staging / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        if directory.exists():
            directory.rmdir()
        staging.replace(directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return CompliancePackage(
        directory,
        [*(f for f in files if not f.startswith(PROOFS_DIR + "/")), f"{PROOFS_DIR}/", MANIFEST],
        in_count,
        len(chosen),
        len(digests),
        checkpoint,
    )


def _project_of(ws: Workspace, session_id: str) -> str | None:
    view = ws.store.get_view(session_id)
    if view is None or view.source is None:
        return None
    return Path(view.source.path).parent.name


# -- checking a package ----------------------------------------------------------------


@dataclass
class PackageCheck:
    """What `riff verify DIR` found; `problems` empty means the package is intact."""

    directory: Path
    problems: list[str] = field(default_factory=list)
    events_checked: int = 0
    sessions_checked: int = 0
    events_in_period: int = 0
    files_checked: int = 0
    checkpoint: bool = False
    proofs_checked: int = 0
    key_source: str | None = None
    export: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "directory": str(self.directory),
            "problems": self.problems,
            "files_checked": self.files_checked,
            "events_checked": self.events_checked,
            "sessions_checked": self.sessions_checked,
            "events_in_period": self.events_in_period,
            "checkpoint": self.checkpoint,
            "proofs_checked": self.proofs_checked,
            "key": self.key_source,
            "export": self.export,
        }


def is_package(directory: Path) -> bool:
    return directory.is_dir() and (directory / MANIFEST).is_file()


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise AppError(
            f"{directory}: no {MANIFEST}; this is not a riff compliance package "
            "(make one with `riff report --compliance -o DIR`)"
        )
    try:
        manifest = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise AppError(f"{path}: not valid JSON ({exc}); the package is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        raise AppError(f"{path}: format is not {PACKAGE_FORMAT!r}; not a package riff can check")
    return manifest


def verify_compliance_package(directory: Path, key: str | None = None) -> PackageCheck:
    """Check a package offline; raises AppError (exit 2) when it is not one at all.

    `key` is the verifier key (or a file holding it) to check the checkpoint and
    the proofs with; without it, the package's own `key.vkey`.
    """
    from riff.events.audit import verify_export

    manifest = _read_manifest(directory)
    check = PackageCheck(directory, checkpoint=manifest.get("checkpoint") is not None)
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise AppError(f"{directory / MANIFEST}: 'files' must be an object")
    for name in REQUIRED_FILES:
        if name not in listed:
            check.problems.append(f"{MANIFEST} does not list {name}")
    for name, entry in sorted(listed.items()):
        path = directory / name
        inner = name.removeprefix(PROOFS_DIR + "/")
        if "/" in inner or inner.startswith(".") or ".." in name:
            check.problems.append(f"{MANIFEST} lists {name!r}, which is not a file of the package")
        elif not path.is_file():
            check.problems.append(f"{name} is missing")
        elif _sha256(path) != (entry or {}).get("sha256"):
            check.problems.append(f"{name} changed: its SHA-256 is not the manifest's")
        else:
            check.files_checked += 1
    present = (str(p.relative_to(directory)) for p in directory.rglob("*") if not p.is_dir())
    for name in sorted(n for n in present if n != MANIFEST):
        if name not in listed:
            check.problems.append(f"{name} is in the directory but not in {MANIFEST}")
    export_path = directory / "events.jsonl"
    if not export_path.is_file():
        return check
    try:
        result = verify_export(export_path)
    except EventError as exc:
        check.problems.append(f"events.jsonl: {exc}")
        return check
    check.export = result.to_dict()
    check.events_checked = result.events_checked
    check.sessions_checked = result.sessions_checked
    for brk in result.breaks:
        check.problems.append(f"events.jsonl: {brk}")
    _compare_csv(directory, manifest, check)
    if manifest.get("checkpoint") is not None:
        _check_proofs(directory, manifest, check, key)
    if manifest.get("events_exported") != result.events_checked:
        check.problems.append(
            f"{MANIFEST} says {manifest.get('events_exported')} events were exported, "
            f"events.jsonl holds {result.events_checked}"
        )
    return check


def _compare_csv(directory: Path, manifest: Mapping[str, Any], check: PackageCheck) -> None:
    csv_path = directory / "events.csv"
    if not csv_path.is_file():
        return
    period = manifest.get("period") or {}
    reader = ExportReader.open(directory / "events.jsonl")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header is None or tuple(header) != CSV_COLUMNS:
            check.problems.append(f"events.csv: the header is not {','.join(CSV_COLUMNS)}")
            return
        events = reader.events()
        line = 1
        for line, (event, cells) in enumerate(_zip_longest(events, rows), start=2):
            if event is None:
                check.problems.append(f"events.csv line {line}: a row that events.jsonl lacks")
                return
            if cells is None:
                check.problems.append(
                    f"events.csv ends at line {line - 1}; events.jsonl has more events"
                )
                return
            expected = dict(event, in_period=in_period(event, period))
            for name, cell in zip(CSV_COLUMNS, cells, strict=False):
                if csv_cell(expected.get(name)) != cell:
                    check.problems.append(
                        f"events.csv line {line}: {name} is {cell!r}, events.jsonl has "
                        f"{csv_cell(expected.get(name))!r} (event {event['event_id']})"
                    )
                    return
            if len(cells) != len(CSV_COLUMNS):
                check.problems.append(f"events.csv line {line}: {len(cells)} columns")
                return
            check.events_in_period += bool(expected["in_period"])
    if manifest.get("events_in_period") != check.events_in_period:
        check.problems.append(
            f"{MANIFEST} says {manifest.get('events_in_period')} events are in the period; "
            f"events.csv marks {check.events_in_period}"
        )


def _check_proofs(
    directory: Path, manifest: Mapping[str, Any], check: PackageCheck, key: str | None
) -> None:
    """The checkpoint's signature, and one verifying proof per event of the period."""
    from riff.app.signing import parse_verifier_key
    from riff.tlog import TlogError, open_checkpoint
    from riff.tlog.proof_file import verify_inclusion_proof

    claimed = manifest["checkpoint"]
    check.key_source = "--key" if key else KEY_FILE
    try:
        verifiers = [parse_verifier_key(key or str(directory / KEY_FILE))]
        note = (directory / CHECKPOINT_FILE).read_text(encoding="utf-8")
        checkpoint = open_checkpoint(note, verifiers)
    except (AppError, OSError, TlogError) as exc:
        check.problems.append(f"{CHECKPOINT_FILE}: {exc}")
        return
    if (checkpoint.size, checkpoint.root_hex) != (claimed.get("size"), claimed.get("root")):
        check.problems.append(f"{CHECKPOINT_FILE} is not the checkpoint {MANIFEST} names")
    period = manifest.get("period") or {}
    for event in ExportReader.open(directory / "events.jsonl").events():
        if not in_period(event, period):
            continue
        name = f"{PROOFS_DIR}/{event['event_id']}.proof"
        try:
            text = (directory / name).read_text(encoding="utf-8")
            verified = verify_inclusion_proof(text, verifiers)
        except OSError:
            check.problems.append(f"{name} is missing: event {event['event_id']} has no proof")
            continue
        except (TlogError, UnicodeDecodeError) as exc:
            check.problems.append(f"{name}: {exc}")
            continue
        if verified.checkpoint != checkpoint:
            check.problems.append(f"{name} proves against another checkpoint")
        elif {k: verified.event.get(k) for k in EVENT_FIELDS} != {
            k: event.get(k) for k in EVENT_FIELDS
        }:
            check.problems.append(f"{name} proves another event than events.jsonl holds")
        else:
            check.proofs_checked += 1
    if check.proofs_checked != claimed.get("proofs"):
        check.problems.append(
            f"{MANIFEST} counts {claimed.get('proofs')} proofs; {check.proofs_checked} verified"
        )


def _zip_longest(
    left: Iterator[dict[str, Any]], right: Iterator[list[str]]
) -> Iterator[tuple[dict[str, Any] | None, list[str] | None]]:
    while True:
        a = next(left, None)
        b = next(right, None)
        if a is None and b is None:
            return
        yield a, b


__all__ = [
    "CompliancePackage",
    "PackageCheck",
    "is_package",
    "verify_compliance_package",
    "write_compliance_package",
]
