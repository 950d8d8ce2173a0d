"""The two passes of `riff verify FILE` over a format-1 export (see riff.events.audit).

Pass 1 (`ChainPass`) sees every event once, a batch of decoded events at a
time: digests, links, seqs, shapes and metadata are checked by C loops over
the batch's columns, and a batch they do not clear is checked again event by
event, which names every break. A session's reverts are settled when the
session ends, from its columns (`riff.events.revert_check`). What pass 1
keeps grows with the sessions plus an 8-byte hash of each event id, plus
16 bytes per reverted event; the open session's columns are kept only until
it ends, and at most `OPEN_SESSION_LIMIT` events of it.

Pass 2 (`RevertPass`) folds with `SessionFold`, the rule book, the sessions
pass 1 could not settle: an export whose sessions are split into several
runs, a session longer than the limit, a revert of a revert, anything odd;
all of them when two event ids may be the same.
"""

from __future__ import annotations

import operator
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, repeat
from pathlib import Path
from typing import NoReturn

import msgspec

from riff.events.errors import ExportFormatError
from riff.events.event_ids import pack_ids, repeated_hashes
from riff.events.fold import ChainBreak, SessionFold
from riff.events.model import GENESIS_DIGEST
from riff.events.revert_check import settle_reverts
from riff.events.verify import chain_step_problems
from riff.events.wire import (
    DAYS_OK,
    BlankableWireEvent,
    WireEvent,
    batch_shape_ok,
    day_is_real,
    digests_shape_ok,
    ids_shape_ok,
    semantic_problem,
    shape_problem,
    wire_digests,
)

Runs = dict[str, list[tuple[int, int, int]]]  # session -> (start byte, end byte, first event #)
Where = Callable[[int], str]

OPEN_SESSION_LIMIT = 1 << 14
"""Events of one session whose columns pass 1 keeps; longer sessions go to pass 2."""

_DAY = slice(0, 10)
_get_event_id = operator.attrgetter("event_id")
_get_session = operator.attrgetter("session_id")
_get_seq = operator.attrgetter("seq")
_get_prev = operator.attrgetter("prev_digest")
_get_digest = operator.attrgetter("event_digest")
_get_message_id = operator.attrgetter("message_id")
_get_old = operator.attrgetter("old_parent_uuid")
_get_new = operator.attrgetter("new_parent_uuid")
_get_timestamp = operator.attrgetter("timestamp")
_get_operator = operator.attrgetter("operator")
_get_kind = operator.attrgetter("kind")
_get_reverts = operator.attrgetter("reverts_event_id")
_get_is_reverted = operator.attrgetter("is_reverted")


def fail(path: Path, where: str, problem: str) -> ExportFormatError:
    return ExportFormatError(
        f"{path}: {where}: {problem}; this is not a readable riff export (re-export it with "
        "`riff export`)"
    )


def refuse(path: Path, event: WireEvent, where: str) -> NoReturn:
    problem = semantic_problem(event, shapes_checked=True)
    field_name, text = problem or ("event", "is not valid")
    raise fail(path, where, f"field {field_name!r} {text}")


@dataclass(slots=True)
class _SessionHead:
    seq: int = 0
    digest: str = GENESIS_DIGEST


class _Columns:
    """One batch's fields, a list each (built by C loops, shared by every check)."""

    __slots__ = (
        "claims",
        "digests",
        "ids",
        "messages",
        "news",
        "olds",
        "prevs",
        "seqs",
        "sessions",
        "targets",
        "timestamps",
    )

    def __init__(self, events: Sequence[WireEvent]) -> None:
        self.ids: list[str] = list(map(_get_event_id, events))
        self.sessions: list[str] = list(map(_get_session, events))
        self.seqs: list[int] = list(map(_get_seq, events))
        self.prevs: list[str] = list(map(_get_prev, events))
        self.digests: list[str] = list(map(_get_digest, events))
        self.messages: list[str] = list(map(_get_message_id, events))
        self.olds: list[str | None] = list(map(_get_old, events))
        self.news: list[str | None] = list(map(_get_new, events))
        self.targets: list[str | None] = list(map(_get_reverts, events))
        self.claims: list[bool | None] = list(map(_get_is_reverted, events))
        self.timestamps: list[str] = list(map(_get_timestamp, events))


@dataclass(slots=True)
class Batch:
    """Decoded events with their columns and recomputed digests."""

    events: list[BlankableWireEvent]
    cols: _Columns
    actual: list[str]
    shortest: list[int] | None  # each event's shortest line (see wire_digests)

    @property
    def blank_digest(self) -> bool:
        """Whether an event lacks `event_digest` (decoded blank: refuse it)."""
        return "" in self.cols.digests


@dataclass(slots=True)
class _OpenSession:
    """The session being read: the columns its reverts are settled from when it ends."""

    session_id: str
    settle: bool = True  # False: pass 2 folds it (kept columns are dropped)
    reverts: int = 0
    ids: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    olds: list[str | None] = field(default_factory=list)
    news: list[str | None] = field(default_factory=list)
    targets: list[str | None] = field(default_factory=list)
    claims: list[bool | None] = field(default_factory=list)

    def extend(self, cols: _Columns, start: int, stop: int) -> None:
        self.ids += cols.ids[start:stop]
        self.messages += cols.messages[start:stop]
        self.olds += cols.olds[start:stop]
        self.news += cols.news[start:stop]
        self.targets += cols.targets[start:stop]
        self.claims += cols.claims[start:stop]


@dataclass(slots=True)
class ChainPass:
    """Pass 1: every event once, in file order (see the module's docstring)."""

    path: Path
    exact: bool = False  # check every event one by one (the reference path, for tests)
    heads: dict[str, _SessionHead] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)
    id_hashes: array[int] = field(default_factory=lambda: array("q"))
    events: int = 0
    revert_count: int = 0
    operators: Counter[str] = field(default_factory=Counter)
    first_ts: str = "\uffff"
    last_ts: str = ""
    # The ids the reverts of pass 1's settled sessions undo, packed one
    # session after another (grown in place: never held twice), and where.
    settled: bytearray = field(default_factory=bytearray)
    settled_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Sessions left to pass 2, and sessions whose lines ended (to notice a split one).
    unsettled: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    open: _OpenSession | None = None
    # Where each session's lines lie in a JSON Lines file: (start, end, first event #).
    runs: Runs = field(default_factory=dict)
    offset: int = 0
    run_session: str | None = None
    run_start: int = 0
    run_index: int = 0

    @staticmethod
    def prepare(events: list[BlankableWireEvent]) -> Batch:
        """A decoded batch's columns and digests (nothing is judged or kept yet)."""
        cols = _Columns(events)
        actual, shortest = wire_digests(events, cols.digests, cols.claims)
        return Batch(events, cols, actual, shortest)

    @staticmethod
    def prepare_digested(events: list[BlankableWireEvent], actual: list[str]) -> Batch:
        """`prepare` for events whose digests the caller computed."""
        return Batch(events, _Columns(events), actual, None)

    def feed(self, batch: Batch, lengths: list[int] | None, where: Where) -> None:
        """Check a prepared batch in file order (the hot loop of `riff verify`).

        `lengths` are its events' line lengths in a JSON Lines file (None in
        a JSON document), for pass 2 to find a session's lines again.
        """
        events, cols = batch.events, batch.cols
        if not events:
            return
        self._check_fields(events, cols, where)
        self._follow_sessions(cols)
        if self.exact or not self._chain_fast(cols, batch.actual, lengths):
            self._check_digest_shapes(events, cols, where)
            self._chain_exact(events, batch.actual, lengths, where)
        self.events += len(events)

    def finish(self) -> None:
        """After the last batch: settle the last session, close the last run."""
        self._close_open()
        if self.run_session is not None:
            self.runs.setdefault(self.run_session, []).append(
                (self.run_start, self.offset, self.run_index)
            )
            self.run_session = None

    @property
    def repairs(self) -> int:
        return self.events - self.revert_count

    def colliding_hashes(self) -> set[int]:
        """Id hashes seen twice: a duplicated event id, or (rarely) a hash collision."""
        return repeated_hashes(self.id_hashes)

    def settled_reverted(self) -> bytes | bytearray:
        """The ids pass 1's sessions undo, packed (pass 2's sessions excluded)."""
        dropped = [span for sid, span in self.settled_spans.items() if sid in self.unsettled]
        if not dropped:
            return self.settled
        kept = [
            self.settled[start:end]
            for sid, (start, end) in self.settled_spans.items()
            if sid not in self.unsettled
        ]
        return b"".join(kept)

    # ------------------------------------------------------------ chains

    def _chain_fast(self, cols: _Columns, actual: list[str], lengths: list[int] | None) -> bool:
        """The batch's chains in C loops; False (nothing changed) when any step looks wrong."""
        digests = cols.digests
        if actual != digests:
            return False
        sessions, seqs, prevs = cols.sessions, cols.seqs, cols.prevs
        count = len(sessions)
        same = list(map(operator.eq, sessions[1:], sessions))
        linked = map(
            operator.and_,
            map(operator.eq, prevs[1:], digests),
            map(operator.eq, seqs[1:], map(operator.add, seqs, repeat(1))),
        )
        if any(map(operator.gt, same, linked)):  # same session, yet not linked
            return False
        starts = [0, *compress(range(1, count), map(operator.not_, same))]
        heads = self.heads
        for start in starts:
            sid = sessions[start]
            head = heads.get(sid)
            if head is None:
                if seqs[start] != 1 or prevs[start] != GENESIS_DIGEST or not sid.strip():
                    return False
            elif seqs[start] != head.seq + 1 or prevs[start] != head.digest:
                return False
        if len(set(map(sessions.__getitem__, starts))) != len(starts):
            return False  # a session twice in the batch: its heads move between runs
        offsets = list(accumulate(lengths, initial=self.offset)) if lengths is not None else None
        for start, stop in zip(starts, [*starts[1:], count], strict=True):
            sid = sessions[start]
            if sid != self.run_session:
                at = offsets[start] if offsets is not None else 0
                if self.run_session is not None:
                    self.runs.setdefault(self.run_session, []).append(
                        (self.run_start, at, self.run_index)
                    )
                self.run_session, self.run_start = sid, at
                self.run_index = self.events + start
            head = heads.get(sid)
            if head is None:
                head = heads[sid] = _SessionHead()
            head.seq = seqs[stop - 1]
            head.digest = digests[stop - 1]
        if offsets is not None:
            self.offset = offsets[-1]
        return True

    def _chain_exact(
        self,
        events: Sequence[WireEvent],
        actual: list[str],
        lengths: list[int] | None,
        where: Where,
    ) -> None:
        """Event by event: every break named, the chain continued from the event as stored."""
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
                        refuse(self.path, e, where(index))
                    head = heads[sid] = _SessionHead()
            assert head is not None
            seq = e.seq
            digest = actual[index]
            if digest != e.event_digest or seq != head.seq + 1 or e.prev_digest != head.digest:
                if seq == 1 and e.prev_digest != GENESIS_DIGEST:
                    refuse(self.path, e, where(index))
                for problem, detail in chain_step_problems(
                    head.seq, head.digest, seq, e.prev_digest, e.event_digest, digest
                ):
                    breaks.append(ChainBreak(sid, seq, e.event_id, problem, detail))
            head.seq = seq
            head.digest = e.event_digest
            if lengths is not None:
                offset += lengths[index]
        self.offset = offset
        self.run_session = run_session

    # ------------------------------------------------------------ reverts

    def _follow_sessions(self, cols: _Columns) -> None:
        """Keep the open session's columns; settle each session whose lines end."""
        sessions = cols.sessions
        count = len(sessions)
        starts = [0, *compress(range(1, count), map(operator.ne, sessions[1:], sessions))]
        for start, stop in zip(starts, [*starts[1:], count], strict=True):
            sid = sessions[start]
            current = self.open
            if current is None or current.session_id != sid:
                self._close_open()
                current = self.open = _OpenSession(sid)
                if sid in self.closed:  # the session's lines are split: pass 2 folds it
                    current.settle = False
            if not current.settle:
                continue
            if self.exact or len(current.ids) + stop - start > OPEN_SESSION_LIMIT:
                current.settle = False
                self.open = _OpenSession(sid, settle=False)  # drops the kept columns
                continue
            current.extend(cols, start, stop)
            current.reverts += stop - start - cols.targets[start:stop].count(None)

    def _close_open(self) -> None:
        current = self.open
        if current is None:
            return
        self.open = None
        sid = current.session_id
        self.closed.add(sid)
        if not current.settle:
            self.unsettled.add(sid)
            return
        if not current.reverts:
            if current.claims.count(True):
                self.unsettled.add(sid)
            return
        reverted = settle_reverts(
            current.ids,
            current.messages,
            current.olds,
            current.news,
            current.targets,
            current.claims,
        )
        if reverted is None:
            self.unsettled.add(sid)
        else:
            start = len(self.settled)
            self.settled += pack_ids(reverted)
            self.settled_spans[sid] = (start, len(self.settled))

    # ------------------------------------------------------------ fields

    def _check_fields(self, events: Sequence[WireEvent], cols: _Columns, where: Where) -> None:
        """Shapes (but digests'), dates, operators, kinds; id hashes, operators, time range.

        Digests need no look when the chains check out in C: then each equals
        a digest computed here or the genesis. Any refusal names the first
        event of the wrong shape first, as the event-by-event check would.
        """
        version7 = cols.ids + list(filter(None, cols.targets))
        uuids = cols.messages + list(filter(None, cols.news)) + list(filter(None, cols.olds))
        if not ids_shape_ok(version7, uuids, "".join(cols.timestamps)):
            self._name_bad_shape(events, where)
        self.id_hashes.extend(map(hash, cols.ids))
        timestamps = cols.timestamps
        self.first_ts = min(self.first_ts, min(timestamps))
        self.last_ts = max(self.last_ts, max(timestamps))
        days: set[str] = set(map(operator.getitem, timestamps, repeat(_DAY)))
        for day in days - DAYS_OK:
            if not day_is_real(day):
                index = next(i for i, ts in enumerate(timestamps) if ts.startswith(day))
                self._refuse(events, index, where)
        before = len(self.operators)
        self.operators.update(map(_get_operator, events))
        if len(self.operators) != before and any(not op.strip() for op in self.operators):
            index = next(i for i, e in enumerate(events) if not e.operator.strip())
            self._refuse(events, index, where)
        kinds = list(map(_get_kind, events))
        targets = cols.targets
        reverts = kinds.count("revert")
        self.revert_count += reverts
        if reverts or targets.count(None) != len(targets):
            is_revert = list(map(operator.eq, kinds, repeat("revert")))
            has_target = list(map(operator.is_not, targets, repeat(None)))
            if is_revert != has_target or any(map(operator.eq, targets, cols.ids)):
                for index, (kind, target) in enumerate(zip(kinds, targets, strict=True)):
                    if (kind == "revert") != (target is not None) or target == cols.ids[index]:
                        self._refuse(events, index, where)

    def _check_digest_shapes(
        self, events: Sequence[WireEvent], cols: _Columns, where: Where
    ) -> None:
        if not digests_shape_ok(cols.prevs + cols.digests):
            self._name_bad_shape(events, where)

    def _refuse(self, events: Sequence[WireEvent], index: int, where: Where) -> NoReturn:
        if not batch_shape_ok(events):
            self._name_bad_shape(events, where)
        refuse(self.path, events[index], where(index))

    def _name_bad_shape(self, events: Sequence[WireEvent], where: Where) -> None:
        for index, event in enumerate(events):
            problem = shape_problem(event)
            if problem is not None:
                raise fail(self.path, where(index), f"field {problem[0]!r} {problem[1]}")


class FoldRow(msgspec.Struct, gc=False):
    """The fields pass 2 folds (pass 1 has already checked every line in full)."""

    event_id: str
    session_id: str
    seq: int
    message_id: str
    old_parent_uuid: str | None = None
    new_parent_uuid: str | None = None
    reverts_event_id: str | None = None
    event_digest: str = ""
    is_reverted: bool | None = None


fold_rows = msgspec.json.Decoder(list[FoldRow])
Row = WireEvent | FoldRow


@dataclass(slots=True)
class RevertPass:
    """Pass 2: `SessionFold` over whole sessions; duplicated ids among the suspects.

    A session's rows are read twice: once for the messages its reverts touch
    and the events they name, once to fold the events on those messages
    (the others cannot change what a revert may do). Its fold is dropped
    when it is done.
    """

    suspect_hashes: set[int]
    breaks: list[ChainBreak] = field(default_factory=list)
    reverted: set[str] = field(default_factory=set)
    claimed: set[str] = field(default_factory=set)
    reverted_repairs: int = 0
    _seen_suspects: dict[str, tuple[str, int]] = field(default_factory=dict)

    def fold_session(self, session_id: str, rows: Callable[[], Iterable[Row]]) -> None:
        """Fold one session; `rows()` gives its rows in file order (called twice)."""
        messages: set[str] = set()
        targets: set[str] = set()
        for row in rows():
            if row.reverts_event_id is not None:
                messages.add(row.message_id)
                targets.add(row.reverts_event_id)
        fold = SessionFold(session_id)
        homes: dict[str, tuple[str, int]] = {}  # event a revert names -> (message, seq)
        for row in rows():
            self._feed(fold, row, messages, targets, homes)
        self.reverted |= fold.reverted_ids()
        self.reverted_repairs += fold.reverted_repair_count()

    def _feed(
        self,
        fold: SessionFold,
        e: Row,
        messages: set[str],
        targets: set[str],
        homes: dict[str, tuple[str, int]],
    ) -> None:
        if self.suspect_hashes and hash(e.event_id) in self.suspect_hashes:
            first = self._seen_suspects.get(e.event_id)
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
                self._seen_suspects[e.event_id] = (e.session_id, e.seq)
        if e.is_reverted:
            self.claimed.add(e.event_id)
        if e.event_id in targets:
            homes[e.event_id] = (e.message_id, e.seq)
        if e.message_id not in messages:
            return
        target = e.reverts_event_id
        if target is not None:
            home = homes.get(target)
            if home is not None and home[0] != e.message_id:
                problem: str | None = (
                    f"reverts {target}, which re-parented another message ({home[0]})"
                )
            else:
                problem = fold.revert_problem_fields(
                    target, e.message_id, e.old_parent_uuid, e.new_parent_uuid
                )
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
            target,
            e.event_digest,
        )
