"""Exports of the event log (`format_version` "1.0"): JSON and streaming JSON Lines.

The JSON form is one document; the JSON Lines form is a header line, one
event per line, and a trailer line with sessions and metadata, so that logs
larger than memory can be written and verified in one pass.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from riff.events.chain import utc_now
from riff.events.errors import EventValidationError, ExportFormatError
from riff.events.model import (
    EVENT_FORMAT,
    EventKind,
    RepairEvent,
    check_event_values,
    fields_of,
    format_event_timestamp,
)
from riff.events.status import reverted_event_ids

FORMAT_VERSION = "1.0"
ExportFormat = Literal["json", "jsonl"]


@dataclass(slots=True)
class ExportSummary:
    """Metadata accumulated while events stream past."""

    total_events: int = 0
    active_events: int = 0
    reverted_events: int = 0
    operators: Counter[str] = field(default_factory=Counter)
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    heads: dict[str, str] = field(default_factory=dict)

    def add(self, event: Mapping[str, Any], is_reverted: bool) -> None:
        self.total_events += 1
        if event["kind"] != EventKind.REVERT.value:  # repairs and line edits
            if is_reverted:
                self.reverted_events += 1
            else:
                self.active_events += 1
        self.operators[event["operator"]] += 1
        ts = event["timestamp"]
        if self.first_timestamp is None or ts < self.first_timestamp:
            self.first_timestamp = ts
        if self.last_timestamp is None or ts > self.last_timestamp:
            self.last_timestamp = ts
        self.heads[event["session_id"]] = event["event_digest"]

    def metadata(self) -> dict[str, Any]:
        return {
            "total_events": self.total_events,
            "active_events": self.active_events,
            "reverted_events": self.reverted_events,
            "operators": dict(sorted(self.operators.items())),
            "first_timestamp": self.first_timestamp,
            "last_timestamp": self.last_timestamp,
        }

    def sessions(self, materialization: Mapping[str, str | None]) -> dict[str, Any]:
        return {
            sid: {"head_digest": head, "materialization_digest": materialization.get(sid)}
            for sid, head in sorted(self.heads.items())
        }


def _exported_at(moment: datetime | None) -> str:
    return format_event_timestamp(moment or utc_now())


def transparency_section(
    ordered: Iterable[RepairEvent], log: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The optional `transparency_log` of an export: the newest signed checkpoint and each
    event's log index, in the order the events appear in the file."""
    if not log:
        return None
    indexes: Mapping[str, int] = log["log_indexes"]
    return {
        "checkpoint": log["checkpoint"],
        "log_indexes": [indexes.get(event.event_id) for event in ordered],
    }


def export_event_log(
    events: Iterable[RepairEvent],
    *,
    materialization_digests: Mapping[str, str | None] | None = None,
    exported_at: datetime | None = None,
    transparency_log: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole JSON export as a dict; events grouped by session, in seq order."""
    ordered = sorted(events, key=lambda e: (e.session_id, e.seq))
    reverted = reverted_event_ids(ordered)
    summary = ExportSummary()
    rows: list[dict[str, Any]] = []
    for event in ordered:
        row = event.to_dict()
        row["is_reverted"] = event.event_id in reverted
        summary.add(row, row["is_reverted"])
        rows.append(row)
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "exported_at": _exported_at(exported_at),
        "sessions": summary.sessions(materialization_digests or {}),
        "metadata": summary.metadata(),
        "events": rows,
    }
    section = transparency_section(ordered, transparency_log)
    if section is not None:
        doc["transparency_log"] = section
    return doc


def write_jsonl_export(
    out: IO[bytes],
    events: Iterable[RepairEvent],
    *,
    reverted_ids: set[str],
    materialization_digests: Mapping[str, str | None] | None = None,
    exported_at: datetime | None = None,
    transparency_log: Mapping[str, Any] | None = None,
) -> ExportSummary:
    """Stream a JSON Lines export. `events`: each session's events in seq order.

    Derived status needs the whole log, so the caller passes `reverted_ids`
    (cheap: it depends on revert events only, see `reverted_ids_from_reverts`).
    """
    out.write(
        orjson.dumps({"format_version": FORMAT_VERSION, "exported_at": _exported_at(exported_at)})
        + b"\n"
    )
    summary = ExportSummary()
    indexes: Mapping[str, int] = transparency_log["log_indexes"] if transparency_log else {}
    in_order: list[int | None] = []
    for event in events:
        row = event.to_dict()
        row["is_reverted"] = event.event_id in reverted_ids
        summary.add(row, row["is_reverted"])
        out.write(orjson.dumps(row) + b"\n")
        if transparency_log:
            in_order.append(indexes.get(event.event_id))
    trailer: dict[str, Any] = {
        "sessions": summary.sessions(materialization_digests or {}),
        "metadata": summary.metadata(),
    }
    if transparency_log:
        trailer["transparency_log"] = {
            "checkpoint": transparency_log["checkpoint"],
            "log_indexes": in_order,
        }
    out.write(orjson.dumps(trailer) + b"\n")
    return summary


def write_export(
    path: Path,
    events: Iterable[RepairEvent],
    *,
    fmt: ExportFormat = "json",
    materialization_digests: Mapping[str, str | None] | None = None,
    exported_at: datetime | None = None,
    transparency_log: Mapping[str, Any] | None = None,
) -> None:
    """Write an export atomically: a temp file beside `path`, fsync, rename.

    `transparency_log` ({"checkpoint": NOTE, "log_indexes": {event_id: index}})
    adds the newest signed checkpoint and each event's log index to the export.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as out:
            if fmt == "json":
                doc = export_event_log(
                    events,
                    materialization_digests=materialization_digests,
                    exported_at=exported_at,
                    transparency_log=transparency_log,
                )
                out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
            else:
                ordered = sorted(events, key=lambda e: (e.session_id, e.seq))
                write_jsonl_export(
                    out,
                    ordered,
                    reverted_ids=reverted_event_ids(ordered),
                    materialization_digests=materialization_digests,
                    exported_at=exported_at,
                    transparency_log=transparency_log,
                )
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- loading


@dataclass(slots=True)
class ExportHeader:
    path: Path
    fmt: ExportFormat
    exported_at: str


@dataclass(slots=True)
class ExportTrailer:
    sessions: dict[str, Any]
    metadata: dict[str, Any]
    transparency_log: dict[str, Any] | None = None


def _fail(path: Path, where: str, problem: str) -> ExportFormatError:
    return ExportFormatError(
        f"{path}: {where}: {problem}; this is not a readable riff export (re-export it with "
        "`riff export`)"
    )


def check_event_row(path: Path, where: str, row: Any) -> dict[str, Any]:
    """An exported event row as a dict of spec fields, or ExportFormatError naming the field."""
    if not isinstance(row, dict):
        raise _fail(path, where, "an event must be a JSON object")
    names = fields_of(row.get("format", EVENT_FORMAT))
    missing = [name for name in names if name not in row]
    if missing:
        raise _fail(path, where, f"event field {missing[0]!r} is missing")
    extra = set(row) - set(names) - {"is_reverted"}
    if extra:
        raise _fail(path, where, f"unknown event field {sorted(extra)[0]!r}")
    if "is_reverted" in row and not isinstance(row["is_reverted"], bool):
        raise _fail(path, where, "field 'is_reverted' must be true or false")
    try:
        check_event_values(row)
    except EventValidationError as exc:
        raise _fail(path, where, str(exc)) from None
    return row


def _check_header(path: Path, doc: Any, where: str) -> str:
    if not isinstance(doc, dict):
        raise _fail(path, where, "expected a JSON object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise _fail(
            path,
            where,
            f"format_version {version!r} is not supported (this riff reads {FORMAT_VERSION!r})",
        )
    exported_at = doc.get("exported_at")
    if not isinstance(exported_at, str):
        raise _fail(path, where, "exported_at must be a string")
    return exported_at


def _check_trailer(path: Path, doc: Any, where: str) -> ExportTrailer:
    if not isinstance(doc, dict) or not (
        {"sessions", "metadata"} <= set(doc) <= {"sessions", "metadata", "transparency_log"}
    ):
        raise _fail(path, where, 'expected the trailer {"sessions": …, "metadata": …}')
    log = doc.get("transparency_log")
    if log is not None and not isinstance(log, dict):
        raise _fail(path, where, "transparency_log must be an object")
    sessions, metadata = doc["sessions"], doc["metadata"]
    if not isinstance(sessions, dict) or not all(isinstance(v, dict) for v in sessions.values()):
        raise _fail(path, where, "sessions must map session ids to objects")
    if not isinstance(metadata, dict):
        raise _fail(path, where, "metadata must be an object")
    return ExportTrailer(sessions, metadata, log)


def _parse(path: Path, line: bytes, where: str) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _fail(path, where, f"not valid JSON ({exc})") from None


def sniff_format(path: Path) -> ExportFormat:
    """JSON Lines when the first line is a complete header object without events."""
    try:
        with path.open("rb") as fh:
            first = fh.readline()
    except OSError as exc:
        raise ExportFormatError(f"{path}: cannot read it ({exc.strerror})") from None
    if not first.strip():
        raise _fail(path, "line 1", "the file is empty")
    try:
        doc = orjson.loads(first)
    except orjson.JSONDecodeError:
        return "json"
    if isinstance(doc, dict) and "events" not in doc and "format_version" in doc:
        return "jsonl"
    return "json"


@dataclass(slots=True)
class ExportReader:
    """Reads either form; `events()` streams rows (dicts) as they are in the file."""

    path: Path
    fmt: ExportFormat = "json"
    exported_at: str = ""
    trailer: ExportTrailer | None = None
    _document: dict[str, Any] | None = None

    @classmethod
    def open(cls, path: Path) -> ExportReader:
        reader = cls(path, sniff_format(path))
        if reader.fmt == "json":
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise ExportFormatError(f"{path}: cannot read it ({exc.strerror})") from None
            doc = _parse(path, raw, "document")
            reader.exported_at = _check_header(path, doc, "document")
            if not isinstance(doc.get("events"), list):
                raise _fail(path, "document", "'events' must be a list")
            parts = {"sessions": doc.get("sessions"), "metadata": doc.get("metadata")}
            if "transparency_log" in doc:
                parts["transparency_log"] = doc["transparency_log"]
            reader.trailer = _check_trailer(path, parts, "document")
            reader._document = doc
        return reader

    def events(self) -> Iterator[dict[str, Any]]:
        if self._document is not None:
            for index, row in enumerate(self._document["events"]):
                yield check_event_row(self.path, f"event #{index + 1}", row)
            return
        yield from self._stream_jsonl()

    def _stream_jsonl(self) -> Iterator[dict[str, Any]]:
        path = self.path
        with path.open("rb") as fh:
            self.exported_at = _check_header(path, _parse(path, fh.readline(), "line 1"), "line 1")
            pending: tuple[int, bytes] | None = None
            number = 1
            for number, line in enumerate(fh, start=2):
                if pending is not None:
                    where = f"line {pending[0]}"
                    yield check_event_row(path, where, _parse(path, pending[1], where))
                pending = (number, line)
            if pending is None:
                raise _fail(
                    path, f"line {number}", "the file ends without its trailer line (truncated?)"
                )
            where = f"line {pending[0]}"
            trailer = _parse(path, pending[1], where)
            if isinstance(trailer, dict) and "event_id" in trailer:
                raise _fail(path, where, "the last line is an event, not the trailer (truncated?)")
            self.trailer = _check_trailer(path, trailer, where)

    def load_events(self) -> list[RepairEvent]:
        """Every event as a model object (holds the log in memory)."""
        return [RepairEvent.from_dict(row) for row in self.events()]


def load_export(path: Path) -> tuple[ExportReader, list[RepairEvent]]:
    """Read a whole export of either form."""
    reader = ExportReader.open(path)
    events = reader.load_events()
    return reader, events
