"""Offline verification of an export file, fast and in bounded memory.

Pass 1 streams every event once: msgspec decodes and type-checks it in C, its
digest is recomputed, and its seq and link are checked against its session's
head; only per-session heads, a 64-bit hash of each event id, and the events
that reverts name are kept. Pass 2 runs only when the log holds reverts (or a
hash collision hints at a duplicated id): it re-reads just the lines of the
messages that reverts touch and folds them to check the revert rules and the
derived status the export claims.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

import msgspec

from riff.events.errors import ExportFormatError
from riff.events.export import FORMAT_VERSION, ExportTrailer, sniff_format
from riff.events.fold import ChainBreak, SessionFold
from riff.events.verify import (
    SessionHead,
    ValidationResult,
    chain_step_problems,
    check_expected_heads,
)
from riff.events.wire import (
    WireEvent,
    canonical_wire_bytes,
    semantic_problem,
    wire_decoder,
)

_BUCKET_MASK = 255


class _WireExport(msgspec.Struct):
    format_version: str
    exported_at: str
    sessions: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    events: list[msgspec.Raw]


class _Header(msgspec.Struct, forbid_unknown_fields=True):
    format_version: str
    exported_at: str


class _Trailer(msgspec.Struct, forbid_unknown_fields=True):
    sessions: dict[str, dict[str, Any]]
    metadata: dict[str, Any]


def _fail(path: Path, where: str, problem: str) -> ExportFormatError:
    return ExportFormatError(
        f"{path}: {where}: {problem}; this is not a readable riff export (re-export it with "
        "`riff export`)"
    )


def _decode_event(path: Path, where: str, raw: bytes) -> WireEvent:
    try:
        event = wire_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _fail(path, where, f"invalid event: {exc}") from None
    except msgspec.DecodeError as exc:
        raise _fail(path, where, f"not valid JSON ({exc})") from None
    problem = semantic_problem(event)
    if problem is not None:
        raise _fail(path, where, f"field {problem[0]!r} {problem[1]}")
    return event


def _check_version(path: Path, where: str, version: str) -> None:
    if version != FORMAT_VERSION:
        raise _fail(
            path,
            where,
            f"format_version {version!r} is not supported (this riff reads {FORMAT_VERSION!r})",
        )


@dataclass(slots=True)
class _SessionHead:
    seq: int = 0
    digest: str = "0" * 64


@dataclass(slots=True)
class _Pass1:
    """Everything pass 1 keeps: O(sessions + reverts), plus 8 bytes per event id."""

    heads: dict[str, _SessionHead] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)
    # 64-bit hashes of every event id, in buckets, to find duplicates at the end;
    # and per event in file order, 32-bit hashes of its id and its message, so
    # that pass 2 decodes only the lines that can matter.
    id_buckets: list[array[int]] = field(
        default_factory=lambda: [array("q") for _ in range(_BUCKET_MASK + 1)]
    )
    id_hashes: array[int] = field(default_factory=lambda: array("L"))
    message_hashes: array[int] = field(default_factory=lambda: array("L"))
    revert_targets: set[str] = field(default_factory=set)
    revert_messages: set[str] = field(default_factory=set)
    revert_sessions: set[str] = field(default_factory=set)
    claimed_reverted: set[str] = field(default_factory=set)
    events: int = 0
    repairs: int = 0
    operators: dict[str, int] = field(default_factory=dict)
    first_ts: str = "\uffff"
    last_ts: str = ""

    def feed(self, e: WireEvent) -> None:
        # The hot loop of `riff verify`: keep it to plain comparisons.
        self.events += 1
        head = self.heads.get(e.session_id)
        if head is None:
            head = self.heads[e.session_id] = _SessionHead()
        actual = sha256(canonical_wire_bytes(e)).hexdigest()
        if actual != e.event_digest or e.seq != head.seq + 1 or e.prev_digest != head.digest:
            for problem, detail in chain_step_problems(
                head.seq, head.digest, e.seq, e.prev_digest, e.event_digest, actual
            ):
                self.breaks.append(ChainBreak(e.session_id, e.seq, e.event_id, problem, detail))
        head.seq = e.seq
        head.digest = e.event_digest
        id_hash = hash(e.event_id)
        self.id_buckets[id_hash & _BUCKET_MASK].append(id_hash)
        self.id_hashes.append(id_hash & 0xFFFFFFFF)
        self.message_hashes.append(hash(e.message_id) & 0xFFFFFFFF)
        if e.reverts_event_id is not None:
            self.revert_targets.add(e.reverts_event_id)
            self.revert_messages.add(e.message_id)
            self.revert_sessions.add(e.session_id)
        else:
            self.repairs += 1
        if e.is_reverted:
            self.claimed_reverted.add(e.event_id)
        operators = self.operators
        operators[e.operator] = operators.get(e.operator, 0) + 1
        ts = e.timestamp
        if ts > self.last_ts:
            self.last_ts = ts
        if ts < self.first_ts:
            self.first_ts = ts

    def colliding_hashes(self) -> set[int]:
        """Id hashes seen twice: a duplicated event id, or (rarely) a hash collision."""
        suspects: set[int] = set()
        for bucket in self.id_buckets:  # bucket by bucket keeps the peak small
            ordered = sorted(bucket)
            suspects.update(a for a, b in itertools.pairwise(ordered) if a == b)
        return suspects


@dataclass(slots=True)
class _Pass2:
    """Folds only the messages that reverts touch; finds duplicated ids."""

    wanted_messages: set[str]
    revert_targets: set[str]
    suspect_hashes: set[int]
    folds: dict[str, SessionFold] = field(default_factory=dict)
    target_home: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    seen_suspects: dict[str, tuple[str, int]] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)
    _message_hashes: set[int] = field(default_factory=set)
    _id_hashes: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._message_hashes = {hash(m) & 0xFFFFFFFF for m in self.wanted_messages}
        self._id_hashes = {hash(t) & 0xFFFFFFFF for t in self.revert_targets} | {
            h & 0xFFFFFFFF for h in self.suspect_hashes
        }

    def wants(self, first: _Pass1, index: int) -> bool:
        """Whether event #index (file order) may matter, judged from pass 1's hashes."""
        return (
            first.message_hashes[index] in self._message_hashes
            or first.id_hashes[index] in self._id_hashes
        )

    def feed(self, e: WireEvent) -> None:
        if self.suspect_hashes and hash(e.event_id) in self.suspect_hashes:
            first = self.seen_suspects.get(e.event_id)
            if first is not None:
                self.breaks.append(
                    ChainBreak(
                        e.session_id,
                        e.seq,
                        e.event_id,
                        "duplicate_event_id",
                        f"event id {e.event_id} also appears at session {first[0]} seq {first[1]}",
                    )
                )
            else:
                self.seen_suspects[e.event_id] = (e.session_id, e.seq)
        if e.event_id in self.revert_targets:
            self.target_home[e.event_id] = (e.session_id, e.message_id, e.seq)
        if e.message_id not in self.wanted_messages:
            return
        fold = self.folds.get(e.session_id)
        if fold is None:
            fold = self.folds[e.session_id] = SessionFold(e.session_id)
        row = msgspec.structs.asdict(e)
        if e.reverts_event_id is not None:
            problem = self._revert_problem(fold, e, row)
            if problem:
                self.breaks.append(
                    ChainBreak(e.session_id, e.seq, e.event_id, "bad_revert", problem)
                )
        fold.apply(row)

    def _revert_problem(
        self, fold: SessionFold, e: WireEvent, row: Mapping[str, Any]
    ) -> str | None:
        target = e.reverts_event_id
        assert target is not None
        home = self.target_home.get(target)
        if home is not None and home[0] == e.session_id and home[1] != e.message_id:
            return f"reverts {target}, which re-parented another message ({home[1]})"
        return fold.revert_problem(row)

    def reverted_ids(self) -> set[str]:
        return set().union(*(f.reverted_ids() for f in self.folds.values()))

    def reverted_repairs(self) -> int:
        return sum(f.reverted_repair_count() for f in self.folds.values())


def _read_header(path: Path, line: bytes) -> None:
    try:
        header = msgspec.json.decode(line, type=_Header)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _fail(path, "line 1", f"not a valid header ({exc})") from None
    _check_version(path, "line 1", header.format_version)


def _read_trailer(path: Path, number: int, line: bytes, fh: Any) -> ExportTrailer | None:
    """The trailer if `line` is one and nothing follows it, else None."""
    try:
        trailer = msgspec.json.decode(line, type=_Trailer)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if fh.readline():
        raise _fail(path, f"line {number + 1}", "lines follow the trailer")
    return ExportTrailer(trailer.sessions, trailer.metadata)


Runs = dict[str, list[tuple[int, int, int]]]  # session -> (start byte, end byte, first event #)


def _scan_jsonl(path: Path, first: _Pass1) -> tuple[ExportTrailer, Runs]:
    """Pass 1 over a JSON Lines export; also notes where each session's lines lie."""
    runs: Runs = {}
    with path.open("rb") as fh:
        header = fh.readline()
        _read_header(path, header)
        offset = len(header)
        run_session: str | None = None
        run_start = offset
        run_index = 0
        number = 1
        decode = wire_decoder.decode
        for number, line in enumerate(fh, start=2):
            try:
                event = decode(line)
                problem = semantic_problem(event)
            except (msgspec.ValidationError, msgspec.DecodeError):
                trailer = _read_trailer(path, number, line, fh)
                if trailer is not None:
                    if run_session is not None:
                        runs.setdefault(run_session, []).append((run_start, offset, run_index))
                    return trailer, runs
                _decode_event(path, f"line {number}", line)  # raises with the reason
                raise  # pragma: no cover
            if problem is not None:
                raise _fail(path, f"line {number}", f"field {problem[0]!r} {problem[1]}")
            if event.session_id != run_session:
                if run_session is not None:
                    runs.setdefault(run_session, []).append((run_start, offset, run_index))
                run_session, run_start, run_index = event.session_id, offset, first.events
            first.feed(event)
            offset += len(line)
    if number > 1 and first.events:
        raise _fail(
            path, f"line {number}", "the last line is an event, not the trailer (truncated?)"
        )
    raise _fail(path, f"line {number + 1}", "the file ends without its trailer line (truncated?)")


def _rescan_jsonl(
    path: Path, first: _Pass1, second: _Pass2, runs: Runs, sessions: set[str] | None
) -> None:
    """Pass 2: re-read the runs of `sessions` (all when None), decoding only wanted lines."""
    spans = sorted(
        span
        for sid, session_runs in runs.items()
        if sessions is None or sid in sessions
        for span in session_runs
    )
    with path.open("rb") as fh:
        for start, end, index in spans:
            fh.seek(start)
            for offset, line in enumerate(fh.read(end - start).splitlines(), start=index):
                if second.wants(first, offset):
                    second.feed(_decode_event(path, f"event #{offset + 1}", line))


def verify_export(path: Path, expected_heads: Mapping[str, str] | None = None) -> ValidationResult:
    """Verify an export file of either form.

    Raises ExportFormatError when the file is not a readable export; returns
    a result whose breaks locate every inconsistency otherwise.
    """
    fmt = sniff_format(path)
    first = _Pass1()
    decoded: list[WireEvent] = []
    runs: Runs = {}
    if fmt == "json":
        try:
            document = msgspec.json.decode(path.read_bytes(), type=_WireExport)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _fail(path, "document", str(exc)) from None
        _check_version(path, "document", document.format_version)
        decoded = [
            _decode_event(path, f"event #{i + 1}", bytes(raw))
            for i, raw in enumerate(document.events)
        ]
        for event in decoded:
            first.feed(event)
        trailer = ExportTrailer(document.sessions, document.metadata)
    else:
        trailer, runs = _scan_jsonl(path, first)

    suspects = first.colliding_hashes()
    second = _Pass2(first.revert_messages, first.revert_targets, suspects)
    if first.revert_targets or suspects:
        if fmt == "json":
            for index, event in enumerate(decoded):
                if second.wants(first, index):
                    second.feed(event)
        else:
            _rescan_jsonl(path, first, second, runs, None if suspects else first.revert_sessions)

    result = ValidationResult(
        events_checked=first.events,
        sessions_checked=len(first.heads),
        breaks=first.breaks + second.breaks,
    )
    result.heads = {sid: SessionHead(h.seq, h.digest) for sid, h in first.heads.items()}
    result.reverted_ids = second.reverted_ids()
    result.breaks.extend(_status_breaks(first, result.reverted_ids))
    result.breaks.extend(_metadata_breaks(trailer, first, second))
    if expected_heads:
        result.breaks.extend(check_expected_heads(result, expected_heads))
    return result


def _status_breaks(first: _Pass1, derived: set[str]) -> list[ChainBreak]:
    return [
        ChainBreak(
            "*",
            None,
            event_id,
            "metadata_mismatch",
            f"the export says event {event_id} is "
            f"{'reverted' if event_id in first.claimed_reverted else 'not reverted'}, "
            "the log says otherwise",
        )
        for event_id in sorted(first.claimed_reverted ^ derived)
    ]


def _metadata_breaks(trailer: ExportTrailer, first: _Pass1, second: _Pass2) -> list[ChainBreak]:
    reverted_repairs = second.reverted_repairs()
    computed: dict[str, Any] = {
        "total_events": first.events,
        "active_events": first.repairs - reverted_repairs,
        "reverted_events": reverted_repairs,
        "operators": dict(first.operators),
        "first_timestamp": first.first_ts if first.events else None,
        "last_timestamp": first.last_ts if first.events else None,
    }
    breaks = []
    for key, value in computed.items():
        if trailer.metadata.get(key) != value:
            breaks.append(
                ChainBreak(
                    "*",
                    None,
                    None,
                    "metadata_mismatch",
                    f"metadata.{key} is {trailer.metadata.get(key)!r}, the events give {value!r}",
                )
            )
    extra = set(trailer.metadata) - set(computed)
    if extra:
        breaks.append(
            ChainBreak(
                "*", None, None, "metadata_mismatch", f"unknown metadata keys {sorted(extra)}"
            )
        )
    for session_id in sorted(set(trailer.sessions) | set(first.heads)):
        recorded = trailer.sessions.get(session_id, {}).get("head_digest")
        head = first.heads.get(session_id)
        actual = head.digest if head else None
        if recorded != actual:
            breaks.append(
                ChainBreak(
                    session_id,
                    head.seq if head else None,
                    None,
                    "head_mismatch",
                    f"the export lists head {str(recorded)[:12]}…, its events end at "
                    f"{str(actual)[:12]}…",
                )
            )
    return breaks
