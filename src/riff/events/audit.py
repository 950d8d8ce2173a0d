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

import functools
import itertools
import json
import operator
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import Any, NoReturn

import msgspec

from riff.events.errors import ExportFormatError
from riff.events.export import (
    FORMAT_VERSION,
    ExportReader,
    ExportSummary,
    ExportTrailer,
    sniff_format,
)
from riff.events.fold import ChainBreak, SessionFold
from riff.events.model import EVENT_FIELDS, GENESIS_DIGEST
from riff.events.verify import (
    ChainVerifier,
    SessionHead,
    ValidationResult,
    chain_step_problems,
    check_expected_heads,
)
from riff.events.wire import (
    DAYS_OK,
    WireEvent,
    batch_shape_ok,
    day_is_real,
    semantic_problem,
    shape_problem,
    wire_decoder,
    wire_digest,
)

Runs = dict[str, list[tuple[int, int, int]]]  # session -> (start byte, end byte, first event #)


_get_event_id = operator.attrgetter("event_id")
_get_message_id = operator.attrgetter("message_id")
_get_timestamp = operator.attrgetter("timestamp")
_get_operator = operator.attrgetter("operator")
_get_kind = operator.attrgetter("kind")
_get_reverts = operator.attrgetter("reverts_event_id")
_get_is_reverted = operator.attrgetter("is_reverted")
_get_session = operator.attrgetter("session_id")


def _where(first_number: int, index: int, lengths: list[int] | None) -> str:
    """A line number in a JSON Lines file, an event number in a JSON document."""
    return (
        f"line {first_number + index}" if lengths is not None else f"event #{first_number + index}"
    )


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
    transparency_log: dict[str, Any] | None = None  # checked by riff.app.export_tree


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
    # Per event in file order: the hash of its id (duplicates are found by
    # sorting these at the end) and of its message, so that pass 2 decodes
    # only the lines that can matter. 16 bytes an event, nothing else.
    id_hashes: array[int] = field(default_factory=lambda: array("q"))
    message_hashes: array[int] = field(default_factory=lambda: array("q"))
    revert_targets: set[str] = field(default_factory=set)
    revert_messages: set[str] = field(default_factory=set)
    revert_sessions: set[str] = field(default_factory=set)
    claimed_reverted: set[str] = field(default_factory=set)
    events: int = 0
    revert_count: int = 0
    operators: Counter[str] = field(default_factory=Counter)
    first_ts: str = "\uffff"
    last_ts: str = ""
    # Where each session's lines lie in a JSON Lines file: (start, end, first event #).
    runs: Runs = field(default_factory=dict)
    offset: int = 0
    run_session: str | None = None
    run_start: int = 0
    run_index: int = 0

    def feed_batch(
        self, path: Path, events: list[WireEvent], lengths: list[int] | None, first_number: int
    ) -> None:
        """Check a batch of decoded events in file order (the hot loop of `riff verify`).

        Whatever can be done field by field over the batch is done by C loops
        (map, Counter, min/max, array); the per-event loop only chains digests.
        `lengths` are the events' line lengths in a JSON Lines file, used to
        note where each session's lines lie for pass 2.
        """
        where = functools.partial(_where, first_number, lengths=lengths)
        self._batch_fields(path, events, where)
        heads = self.heads
        breaks = self.breaks
        offset = self.offset
        run_session = self.run_session
        head = heads.get(run_session) if run_session is not None else None
        for index, e in enumerate(events):
            sid = e.session_id
            if sid != run_session:
                if run_session is not None:
                    self.runs.setdefault(run_session, []).append(
                        (self.run_start, offset, self.run_index)
                    )
                run_session, self.run_start = sid, offset
                self.run_index = self.events + index
                head = heads.get(sid)
                if head is None:
                    if not sid.strip():
                        self._refuse(path, e, where(index))
                    head = heads[sid] = _SessionHead()
            assert head is not None
            seq = e.seq
            actual = wire_digest(e)
            if actual != e.event_digest or seq != head.seq + 1 or e.prev_digest != head.digest:
                if seq == 1 and e.prev_digest != GENESIS_DIGEST:
                    self._refuse(path, e, where(index))
                for problem, detail in chain_step_problems(
                    head.seq, head.digest, seq, e.prev_digest, e.event_digest, actual
                ):
                    breaks.append(ChainBreak(sid, seq, e.event_id, problem, detail))
            head.seq = seq
            head.digest = e.event_digest
            if lengths is not None:
                offset += lengths[index]
        self.events += len(events)
        self.offset = offset
        self.run_session = run_session

    def _batch_fields(self, path: Path, events: list[WireEvent], where: Any) -> None:
        if not events:
            return
        ids = list(map(_get_event_id, events))
        message_ids = list(map(_get_message_id, events))
        timestamps = list(map(_get_timestamp, events))
        joined_times = "".join(timestamps)
        if not batch_shape_ok(events, ids, message_ids, joined_times):
            for index, event in enumerate(events):
                problem = shape_problem(event)
                if problem is not None:
                    raise _fail(path, where(index), f"field {problem[0]!r} {problem[1]}")
        self.id_hashes.extend(map(hash, ids))
        self.message_hashes.extend(map(hash, message_ids))
        self.first_ts = min(self.first_ts, min(timestamps))
        self.last_ts = max(self.last_ts, max(timestamps))
        for day in {ts[:10] for ts in timestamps} - DAYS_OK:
            if not day_is_real(day):
                index = next(i for i, ts in enumerate(timestamps) if ts.startswith(day))
                self._refuse(path, events[index], where(index))
        before = len(self.operators)
        self.operators.update(map(_get_operator, events))
        if len(self.operators) != before and any(not op.strip() for op in self.operators):
            index = next(i for i, e in enumerate(events) if not e.operator.strip())
            self._refuse(path, events[index], where(index))
        kinds = list(map(_get_kind, events))
        targets = list(map(_get_reverts, events))
        reverts = kinds.count("revert")
        self.revert_count += reverts
        if reverts or targets.count(None) != len(targets):
            is_revert = list(map(operator.eq, kinds, itertools.repeat("revert")))
            has_target = list(map(operator.is_not, targets, itertools.repeat(None)))
            if is_revert != has_target or any(map(operator.eq, targets, ids)):
                for index, (kind, target) in enumerate(zip(kinds, targets, strict=True)):
                    if (kind == "revert") != (target is not None) or target == ids[index]:
                        self._refuse(path, events[index], where(index))
            self.revert_targets.update(compress(targets, has_target))
            self.revert_messages.update(compress(message_ids, has_target))
            self.revert_sessions.update(compress(map(_get_session, events), has_target))
        claims = list(map(_get_is_reverted, events))
        if claims.count(True):
            self.claimed_reverted.update(compress(ids, claims))

    def close_runs(self) -> None:
        if self.run_session is not None:
            self.runs.setdefault(self.run_session, []).append(
                (self.run_start, self.offset, self.run_index)
            )
            self.run_session = None

    @property
    def repairs(self) -> int:
        return self.events - self.revert_count

    @staticmethod
    def _refuse(path: Path, event: WireEvent, where: str) -> NoReturn:
        problem = semantic_problem(event, shapes_checked=True)
        field_name, text = problem or ("event", "is not valid")
        raise _fail(path, where, f"field {field_name!r} {text}")

    def colliding_hashes(self) -> set[int]:
        """Id hashes seen twice: a duplicated event id, or (rarely) a hash collision."""
        ordered = sorted(self.id_hashes)
        return {a for a, b in itertools.pairwise(ordered) if a == b}


class _FoldRow(msgspec.Struct, gc=False):
    """The fields pass 2 folds (pass 1 has already checked every line in full)."""

    event_id: str
    session_id: str
    seq: int
    message_id: str
    old_parent_uuid: str | None = None
    new_parent_uuid: str | None = None
    reverts_event_id: str | None = None
    event_digest: str = ""


_fold_rows = msgspec.json.Decoder(list[_FoldRow])


@dataclass(slots=True)
class _Pass2:
    """Folds only the messages that reverts touch, a session at a time; finds duplicated ids.

    A session's fold is dropped once the session is done: what is kept is
    its reverted ids and count, not its events.
    """

    wanted_messages: set[str]
    revert_targets: set[str]
    suspect_hashes: set[int]
    folds: dict[str, SessionFold] = field(default_factory=dict)
    target_home: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    seen_suspects: dict[str, tuple[str, int]] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)
    _message_hashes: set[int] = field(default_factory=set)
    _id_hashes: set[int] = field(default_factory=set)
    _reverted: set[str] = field(default_factory=set)
    _reverted_repairs: int = 0

    def __post_init__(self) -> None:
        self._message_hashes = {hash(m) for m in self.wanted_messages}
        self._id_hashes = {hash(t) for t in self.revert_targets} | self.suspect_hashes

    def wanted(self, first: _Pass1, start: int, stop: int) -> list[int]:
        """Which events #start..#stop (file order) may matter, judged from pass 1's hashes."""
        by_message = map(self._message_hashes.__contains__, first.message_hashes[start:stop])
        by_id = map(self._id_hashes.__contains__, first.id_hashes[start:stop])
        return list(compress(range(start, stop), map(operator.or_, by_message, by_id)))

    def feed(self, e: WireEvent | _FoldRow) -> None:
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
        if e.reverts_event_id is not None:
            problem = self._revert_problem(fold, e)
            if problem:
                self.breaks.append(
                    ChainBreak(e.session_id, e.seq, e.event_id, "bad_revert", problem)
                )
        fold.apply_fields(
            e.message_id,
            e.event_id,
            e.seq,
            e.old_parent_uuid,
            e.new_parent_uuid,
            e.reverts_event_id,
            e.event_digest,
        )

    def _revert_problem(self, fold: SessionFold, e: WireEvent | _FoldRow) -> str | None:
        target = e.reverts_event_id
        assert target is not None
        home = self.target_home.get(target)
        if home is not None and home[0] == e.session_id and home[1] != e.message_id:
            return f"reverts {target}, which re-parented another message ({home[1]})"
        return fold.revert_problem_fields(
            target, e.message_id, e.old_parent_uuid, e.new_parent_uuid
        )

    def close_session(self, session_id: str) -> None:
        """Keep what the session's fold found, then drop the fold."""
        fold = self.folds.pop(session_id, None)
        if fold is not None:
            self._reverted |= fold.reverted_ids()
            self._reverted_repairs += fold.reverted_repair_count()
        self.target_home.clear()  # a revert's target counts only in its own session

    def close_all(self) -> None:
        for session_id in list(self.folds):
            self.close_session(session_id)

    def reverted_ids(self) -> set[str]:
        return self._reverted

    def reverted_repairs(self) -> int:
        return self._reverted_repairs


def _check_header_keys(path: Path, line: bytes) -> None:
    try:
        json.loads(line, object_pairs_hook=_duplicate_key)
    except KeyError as dup:
        raise _fail(path, "line 1", f"key {dup.args[0]!r} appears twice") from None
    except ValueError:
        return


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


# A JSON object with a key twice ("operator":"mallory","operator":"root")
# decodes as its last value in every fast decoder, so what was verified would
# not be what a reader of the file sees. Each key's quoted name is counted in
# C first; only a suspect (a name seen more often than objects that may hold
# it) is parsed again with a pairs hook that names the duplicate.
_KEY_NAMES = tuple(f'"{name}"'.encode() for name in (*EVENT_FIELDS, "is_reverted"))


def _duplicate_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise KeyError(key)  # caught right below, in _check_unique_keys
        seen[key] = value
    return seen


def _check_unique_keys(path: Path, where: str, raw: bytes) -> None:
    """ExportFormatError when an object of `raw` repeats a key (see above)."""
    if all(raw.count(name) <= 1 for name in _KEY_NAMES):
        return
    try:
        json.loads(raw, object_pairs_hook=_duplicate_key)
    except KeyError as dup:
        raise _fail(path, where, f"key {dup.args[0]!r} appears twice in one object") from None
    except ValueError:
        return  # not JSON at all: the decoder names that


_REQUIRED_KEYS = tuple(f'"{name}"'.encode() for name in EVENT_FIELDS)
_DERIVED_KEY = b'"is_reverted"'


_TEXT_FIELDS = tuple(
    operator.attrgetter(name) for name in ("reason", "operator", "session_id", "timestamp")
)


def _keys_surely_unique(raw: bytes, events: list[WireEvent]) -> bool:
    """True when no event decoded from `raw` can repeat a key; False: look line by line.

    Every decoded event holds each of its 16 fields at least once (unknown
    keys are refused) and `is_reverted` at least when it has a value for it;
    so if `raw` holds no more key-value pairs than that, none is there twice.
    Pairs are counted by their colons in one C pass: every colon of `raw` is
    a pair's or lies in a text value (reason, operator, session id,
    timestamp), whose colons are counted in the decoded strings; the other
    values are ids, digests, numbers and literals (their characters are
    checked right after this). A backslash-u escape could spell a colon the
    raw bytes do not show: then each field's quoted name is counted instead.
    A count that is too high only means False.
    """
    count = len(events)
    holders = count - list(map(_get_is_reverted, events)).count(None)
    if b"\\u" not in raw:
        in_values = sum(
            sum(map(str.count, map(text, events), itertools.repeat(":"))) for text in _TEXT_FIELDS
        )
        return raw.count(b":") - in_values == len(_REQUIRED_KEYS) * count + holders
    if any(raw.count(name) != count for name in _REQUIRED_KEYS):
        return False
    return raw.count(_DERIVED_KEY) == holders


_BATCH_LINES = 1024
_JOIN_LIMIT = 8 << 20
"""Batches of more bytes are decoded line by line (joining them would copy a huge line)."""
_batch_decoder = msgspec.json.Decoder(list[WireEvent])


def _decode_lines(
    path: Path, first_number: int, lines: list[bytes], fh: Any
) -> tuple[list[WireEvent], ExportTrailer | None]:
    """Decode a batch of event lines in one C call; on any trouble go line by line.

    Line by line finds the trailer (the file's last line) or names the bad line.
    """
    try:
        if sum(map(len, lines)) > _JOIN_LIMIT:  # a huge line: not copied into a batch
            raise msgspec.DecodeError
        events = _batch_decoder.decode(b"[" + b",".join(lines) + b"]")
    except (msgspec.ValidationError, msgspec.DecodeError):
        events = []
        for number, line in enumerate(lines, start=first_number):
            try:
                events.append(wire_decoder.decode(line))
            except (msgspec.ValidationError, msgspec.DecodeError):
                if number == first_number + len(lines) - 1:
                    trailer = _read_trailer(path, number, line, fh)
                    if trailer is not None:
                        return events, trailer
                _decode_event(path, f"line {number}", line)  # raises with the reason
                raise  # pragma: no cover
    return events, None


def _scan_jsonl(path: Path, first: _Pass1) -> tuple[ExportTrailer, Runs]:
    """Pass 1 over a JSON Lines export, a batch of lines per C decode."""
    with path.open("rb") as fh:
        header = fh.readline()
        _read_header(path, header)
        _check_header_keys(path, header)
        first.offset = len(header)
        number = 2  # of the next line
        trailer: ExportTrailer | None = None
        while trailer is None:
            lines = list(itertools.islice(fh, _BATCH_LINES))
            if not lines:
                break
            try:
                events, trailer = _decode_lines(path, number, lines, fh)
            except ExportFormatError:
                _check_lines_unique_keys(path, number, lines)  # a repeated key is named first
                raise
            if trailer is not None or not _batch_keys_surely_unique(lines, events):
                _check_lines_unique_keys(path, number, lines)
            first.feed_batch(path, events, [len(line) for line in lines], number)
            number += len(lines)
    first.close_runs()
    if trailer is not None:
        return trailer, first.runs
    if first.events:
        raise _fail(
            path, f"line {number - 1}", "the last line is an event, not the trailer (truncated?)"
        )
    raise _fail(path, f"line {number}", "the file ends without its trailer line (truncated?)")


def _batch_keys_surely_unique(lines: list[bytes], events: list[WireEvent]) -> bool:
    """`_keys_surely_unique` over a batch, joined unless that would copy a huge line."""
    if sum(map(len, lines)) <= _JOIN_LIMIT:
        return _keys_surely_unique(b"".join(lines), events)
    pairs = zip(lines, events, strict=True)
    return all(_keys_surely_unique(line, [event]) for line, event in pairs)


def _check_lines_unique_keys(path: Path, first_number: int, lines: list[bytes]) -> None:
    for offset, line in enumerate(lines):
        _check_unique_keys(path, f"line {first_number + offset}", line)


def _rescan_jsonl(
    path: Path, first: _Pass1, second: _Pass2, runs: Runs, sessions: set[str] | None
) -> None:
    """Pass 2: re-read the runs of `sessions` (all when None) a session at a time.

    Only the wanted lines are decoded, in one C call per run, into the few
    fields the fold needs; each session's fold is dropped when it is done.
    """
    with path.open("rb") as fh:
        for sid, session_runs in runs.items():
            if sessions is not None and sid not in sessions:
                continue
            for start, end, index in session_runs:
                fh.seek(start)
                lines = fh.read(end - start).splitlines()
                picked = second.wanted(first, index, index + len(lines))
                if not picked:
                    continue
                chosen = [lines[i - index] for i in picked]
                try:
                    rows: list[WireEvent] | list[_FoldRow] = _fold_rows.decode(
                        b"[" + b",".join(chosen) + b"]"
                    )
                except (msgspec.ValidationError, msgspec.DecodeError):  # changed since pass 1
                    rows = [
                        _decode_event(path, f"event #{i + 1}", line)
                        for i, line in zip(picked, chosen, strict=True)
                    ]
                for row in rows:
                    second.feed(row)
            second.close_session(sid)


class _TypedExport(msgspec.Struct):
    format_version: str
    exported_at: str
    sessions: dict[str, dict[str, Any]]
    metadata: dict[str, Any]
    events: list[WireEvent]


def _decode_document(path: Path) -> tuple[list[WireEvent], ExportTrailer]:
    """The JSON form: decoded and type-checked in one call; precise errors on failure."""
    raw = path.read_bytes()
    try:
        typed = msgspec.json.decode(raw, type=_TypedExport)
        _check_version(path, "document", typed.format_version)
        events = typed.events
        if not _keys_surely_unique(raw, events):
            _check_unique_keys(path, "document", raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        try:
            document = msgspec.json.decode(raw, type=_WireExport)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _fail(path, "document", str(exc)) from None
        _check_version(path, "document", document.format_version)
        events = [
            _decode_event(path, f"event #{i + 1}", bytes(row))
            for i, row in enumerate(document.events)
        ]
        return events, ExportTrailer(document.sessions, document.metadata)
    return events, ExportTrailer(typed.sessions, typed.metadata)


def verify_export(path: Path, expected_heads: Mapping[str, str] | None = None) -> ValidationResult:
    """Verify an export file of either form.

    Raises ExportFormatError when the file is not a readable export; returns
    a result whose breaks locate every inconsistency otherwise.
    """
    try:
        return _verify_export(path, expected_heads)
    except RecursionError:  # msgspec decodes nested values recursively
        raise _fail(path, "document", "JSON nested too deeply") from None


def _verify_export(path: Path, expected_heads: Mapping[str, str] | None) -> ValidationResult:
    fmt = sniff_format(path)
    if _holds_format_2(path):
        return _verify_any_format(path, expected_heads)
    first = _Pass1()
    decoded: list[WireEvent] = []
    runs: Runs = {}
    if fmt == "json":
        decoded, trailer = _decode_document(path)
        first.feed_batch(path, decoded, None, 1)

    else:
        trailer, runs = _scan_jsonl(path, first)

    suspects = first.colliding_hashes()
    second = _Pass2(first.revert_messages, first.revert_targets, suspects)
    if first.revert_targets or suspects:
        if fmt == "json":
            for index in second.wanted(first, 0, len(decoded)):
                second.feed(decoded[index])
            second.close_all()
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


_V2_MARK = b'"riff.repair-event/2"'


def _holds_format_2(path: Path) -> bool:
    """Whether any event of the export is of format 2 (read in blocks, overlapping)."""
    edge = len(_V2_MARK) - 1
    tail = b""
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            # The block itself, then the few bytes across its start (no copy of the block).
            if _V2_MARK in block or _V2_MARK in tail + block[:edge]:
                return True
            tail = block[-edge:]
    return False


def _verify_any_format(
    path: Path, expected_heads: Mapping[str, str] | None = None
) -> ValidationResult:
    """Exports holding format-2 events: every event checked by the model, one chain verifier.

    Format-1-only exports keep the fast path above; this one reads both
    formats with the same rules (digests, links, seqs, reverts, metadata).
    """
    reader = ExportReader.open(path)
    verifier = ChainVerifier()
    summary = ExportSummary()
    claimed: dict[str, bool] = {}
    rows: list[dict[str, Any]] = []
    for row in reader.events():
        verifier.feed(row)
        rows.append(row)
        if "is_reverted" in row:
            claimed[row["event_id"]] = row["is_reverted"]
    result = verifier.finish()
    for row in rows:
        summary.add(row, row["event_id"] in result.reverted_ids)
    for event_id, says in sorted(claimed.items()):
        if says != (event_id in result.reverted_ids):
            result.breaks.append(
                ChainBreak(
                    "*",
                    None,
                    event_id,
                    "metadata_mismatch",
                    f"the export says event {event_id} is "
                    f"{'reverted' if says else 'not reverted'}, the log says otherwise",
                )
            )
    trailer = reader.trailer
    assert trailer is not None  # ExportReader fails without one
    for key, value in summary.metadata().items():
        if trailer.metadata.get(key) != value:
            result.breaks.append(
                ChainBreak(
                    "*",
                    None,
                    None,
                    "metadata_mismatch",
                    f"metadata.{key} is {trailer.metadata.get(key)!r}, the events give {value!r}",
                )
            )
    for session_id in sorted(set(trailer.sessions) | set(result.heads)):
        recorded = trailer.sessions.get(session_id, {}).get("head_digest")
        head = result.heads.get(session_id)
        if recorded != (head.digest if head else None):
            result.breaks.append(
                ChainBreak(
                    session_id,
                    head.seq if head else None,
                    None,
                    "head_mismatch",
                    f"the export lists head {str(recorded)[:12]}…, its events end at "
                    f"{str(head.digest if head else None)[:12]}…",
                )
            )
    if expected_heads:
        result.breaks.extend(check_expected_heads(result, expected_heads))
    return result
