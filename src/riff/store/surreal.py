"""ImmutableEventStore: the SurrealDB recorder of the event store.

Events live in `repairs_events` (append-only: READONLY fields and a table event
refusing UPDATE/DELETE; see schema/001_init.surql). An append of N event rows
is one transaction: the session record, its message records, one INSERT of N
rows (each row is also the graph edge session -> repairs_events -> message),
the session's head, the stale mark on its materialized view, and the rows'
transparency-log leaves with the tree's new size. The rows and leaves arrive
sealed and hashed (riff.app.eventlog); this module only stores and reads them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn

from riff.store.connection import Connection, QueryFailed
from riff.store.errors import (
    AppendOnlyError,
    AuthError,
    ConcurrencyError,
    LogIndexTaken,
    StoreError,
)
from riff.store.lock import StoreLock
from riff.store.protocol import EventRow, HeadRow, LeafRow, NodeId, TreeState, ViewRow
from riff.store.rows import (
    EVENT_SELECT,
    MAX_SEQ,
    VIEWS_TABLE,
    event_to_body,
    row_to_view,
    stored_event,
    view_to_row,
)
from riff.store.sdk import RecordID
from riff.store.tlog import APPEND_LEAVES, CONFLICT_MARKS, TlogRecorder

_APPEND = (
    """
BEGIN TRANSACTION;
INSERT IGNORE INTO session { id: type::thing("session", $sid), session_id: $sid } RETURN NONE;
INSERT IGNORE INTO message $messages.map(|$m| {
    id: type::thing("message", $m), session_id: $m[0], message_id: $m[1]
}) RETURN NONE;
INSERT RELATION INTO repairs_events (
    SELECT *,
        type::thing("repairs_events", [session_id, seq]) AS id,
        type::thing("session", session_id) AS in,
        type::thing("message", [session_id, message_id]) AS out
    FROM $rows
) RETURN NONE;
UPSERT $head_id SET session_id = $sid, seq = $seq, digest = $digest RETURN NONE;
UPDATE $view_id SET is_stale = true RETURN NONE;
"""
    + APPEND_LEAVES
    + """
COMMIT TRANSACTION;
"""
)
_EVENTS_PAGE = f"SELECT {EVENT_SELECT} FROM repairs_events:[$sid, $lo]..[$sid, $end] LIMIT $n"
_EVENTS_PAST = "SELECT seq, event_digest FROM repairs_events:[$sid, $lo]..[$sid, $end]"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_SUMMARY_FIELDS = (
    "session_id, through_seq, head_digest, materialization_digest, is_stale, drift_detected, "
    "updated_at, source_path"
)
"""A view's fields but its maps: what listing views reads."""


def _identifier(name: str) -> str:
    """A table or field name riff itself chose; never user data (that is bound)."""
    if not _IDENTIFIER.fullmatch(name):
        raise StoreError(f"{name!r} is not a table or field name")
    return name


# The schema's refusals of a row that does not continue the chain (another writer won).
_CONFLICT_MARKS = ("already exists", "already contains", "prev_digest", "session_head")


class ImmutableEventStore:
    """Append-only repair events in SurrealDB; every query takes $parameters only."""

    def __init__(
        self,
        conn: Connection,
        *,
        identity: str | None = None,
        lock: StoreLock | None = None,
        page_size: int = 1000,
    ) -> None:
        self.conn = conn
        self.identity = identity
        self.page_size = page_size
        self._lock = lock
        self.tlog = TlogRecorder(conn)

    @property
    def url(self) -> str:
        return self.conn.url

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        self.conn.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ImmutableEventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -----------------------------------------------------------

    def append(self, session_id: str, rows: Sequence[EventRow], leaves: Sequence[LeafRow]) -> None:
        """Store a session's next event rows and their log leaves in one transaction.

        The schema refuses rows that do not continue the chain (ConcurrencyError:
        another writer appended first) and leaves at indexes already taken
        (LogIndexTaken: plan them again).
        """
        if not rows:
            return
        if len(leaves) != len(rows):
            raise StoreError(f"append to session {session_id}: one log leaf per event row")
        last = rows[-1]
        # Record ids and edge ends are built by the query from the rows' own
        # fields: RecordID values cost the SDK's CBOR encoder ~25 us per event.
        params: dict[str, Any] = {
            "messages": [[session_id, mid] for mid in dict.fromkeys(r["message_id"] for r in rows)],
            "rows": [event_to_body(r) for r in rows],
            "head_id": RecordID("session_head", session_id),
            "sid": session_id,
            "seq": last["seq"],
            "digest": last["event_digest"],
            "view_id": RecordID(VIEWS_TABLE, session_id),
            "leaves": [leaf.to_row() for leaf in leaves],
            "tree_size": leaves[-1].log_index + 1,
        }
        try:
            self.conn.run(_APPEND, params)
        except QueryFailed as exc:
            if any(mark in exc.message for mark in CONFLICT_MARKS):
                raise LogIndexTaken(session_id) from None
            self._raise_append_error(session_id, int(rows[0]["seq"]), exc)

    def log_state(self) -> TreeState:
        return self.tlog.state()

    def log_nodes(self, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        return self.tlog.nodes(wanted)

    def _raise_append_error(self, session_id: str, seq: int, exc: QueryFailed) -> NoReturn:
        message = exc.message
        if "`operator`" in message:
            raise AuthError(
                f"the database refused an event under another operator than the signed-in "
                f"user {self.identity!r}; sign in as that operator"
            ) from None
        if any(mark in message for mark in _CONFLICT_MARKS):
            raise ConcurrencyError(session_id, f"another writer appended seq {seq} first") from None
        raise StoreError(f"append to session {session_id} failed: {message}") from None

    # -- blobs -------------------------------------------------------------

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        """INSERT IGNORE: content-addressed, so a stored blob is already these bytes."""
        if not blobs:
            return
        rows = [
            {
                "id": RecordID("blobs", blob_id),
                "sha256": blob_id,
                "size": len(data),
                "data": base64.b64encode(data).decode("ascii"),
            }
            for blob_id, data in blobs.items()
        ]
        self.conn.run("INSERT IGNORE INTO blobs $rows RETURN NONE", {"rows": rows})

    def get_blobs(self, blob_ids: Sequence[str]) -> dict[str, bytes]:
        if not blob_ids:
            return {}
        rows = self.conn.one(
            "SELECT sha256, data FROM $ids", {"ids": [RecordID("blobs", b) for b in blob_ids]}
        )
        return {
            row["sha256"]: base64.b64decode(row["data"])
            for row in rows or []
            if row and row.get("sha256")
        }

    def update(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise AppendOnlyError(
            "repair events are never changed; append a revert (riff revert EVENT_ID) instead"
        )

    def delete(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise AppendOnlyError(
            "repair events are never deleted; append a revert (riff revert EVENT_ID) instead"
        )

    # -- reading -----------------------------------------------------------

    def events(self, session_id: str, from_seq: int = 1) -> Iterator[EventRow]:
        """The session's events from `from_seq` on, in seq order, read in pages.

        Each page continues after the last seq read, so a missing seq (a gap)
        never ends the read early: every stored row of the range is returned.
        """
        lo = max(1, from_seq)
        while lo <= MAX_SEQ:
            rows = (
                self.conn.one(
                    _EVENTS_PAGE,
                    {"sid": session_id, "lo": lo, "end": MAX_SEQ + 1, "n": self.page_size},
                )
                or []
            )
            rows.sort(key=lambda r: r["seq"])
            for row in rows:
                yield stored_event(row)
            if len(rows) < self.page_size:
                return
            lo = int(rows[-1]["seq"]) + 1

    def all_events(self) -> Iterator[EventRow]:
        """Every event, session by session, each session in seq order."""
        for session_id in self.sessions():
            yield from self.events(session_id)

    def event(self, event_id: str) -> EventRow | None:
        rows = self.conn.one(
            f"SELECT {EVENT_SELECT} FROM repairs_events WHERE event_id = $id", {"id": event_id}
        )
        return stored_event(rows[0]) if rows else None

    def head(self, session_id: str) -> HeadRow | None:
        """Where the session's chain ends, read from the events themselves.

        The `session_head` row is where riff's last append left the chain; an
        event written past it by another client (a raw INSERT) still counts,
        so such an event never locks the session out of appends.
        """
        row = self.head_row(session_id)
        start = row.seq if row is not None else 0
        past = self.conn.one(_EVENTS_PAST, {"sid": session_id, "lo": start + 1, "end": MAX_SEQ + 1})
        if past:
            last = max(past, key=lambda r: int(r["seq"]))
            return HeadRow(session_id, int(last["seq"]), last["event_digest"])
        return row

    def head_row(self, session_id: str) -> HeadRow | None:
        """The session's `session_head` row (riff's own appends move it), if any."""
        row = self.conn.one(
            "SELECT seq, digest FROM ONLY $head_id",
            {"head_id": RecordID("session_head", session_id)},
        )
        if not row:
            return None
        return HeadRow(session_id, int(row["seq"]), row["digest"])

    def heads(self) -> dict[str, HeadRow]:
        """Every `session_head` row: where riff's own appends left each chain."""
        rows = self.conn.one("SELECT session_id, seq, digest FROM session_head") or []
        return {
            r["session_id"]: HeadRow(r["session_id"], int(r["seq"]), r["digest"])
            for r in sorted(rows, key=lambda r: r["session_id"])
        }

    def schema_drift(self) -> list[str]:
        """The guards root DDL removed, changed or added (docs/store.md); nothing for a
        record user (who may not read definitions) or a schema not yet migrated."""
        from riff.store.migrations import schema_drift, schema_status

        if self.identity is not None or not schema_status(self.conn).up_to_date:
            return []
        return schema_drift(self.conn)

    def event_row_count(self) -> int:
        """Every row of the log table, wherever it is stored (one counting scan)."""
        rows = self.conn.one("SELECT count() AS n FROM repairs_events GROUP ALL") or []
        return int(rows[0]["n"]) if rows else 0

    def event_counts(self) -> dict[str, int]:
        """Rows of the log table per session_id (a full scan: the slow, sure way)."""
        rows = self.conn.one(
            "SELECT session_id, count() AS n FROM repairs_events GROUP BY session_id"
        )
        return {str(r["session_id"]): int(r["n"]) for r in rows or []}

    def misplaced_events(self, session_id: str) -> list[dict[str, Any]]:
        """Rows of the session stored under another record id than [session_id, seq]."""
        rows = self.conn.one(
            "SELECT id, session_id, seq, event_id FROM repairs_events "
            "WHERE session_id = $sid AND record::id(id) != [session_id, seq]",
            {"sid": session_id},
        )
        return [dict(r) for r in rows or []]

    def sessions(self) -> list[str]:
        """Every session with events: the head rows, plus any session whose rows
        were written without one (found when the row count disagrees)."""
        heads = self.heads()
        ids = set(heads)
        if self.event_row_count() != sum(h.seq for h in heads.values()):
            ids.update(self.event_counts())
        return sorted(ids)

    def count(self, session_id: str | None = None) -> int:
        if session_id is not None:
            head = self.head(session_id)
            return head.seq if head is not None else 0
        return self.event_row_count()

    def revert_rows(self, session_id: str | None = None) -> list[EventRow]:
        """(session_id, seq, event_id, reverts_event_id) of every revert, each session in
        seq order."""
        if session_id is None:
            rows = self.conn.one(
                "SELECT session_id, seq, event_id, reverts_event_id FROM repairs_events "
                "WHERE kind = 'revert'"
            )
        else:
            rows = self.conn.one(
                "SELECT session_id, seq, event_id, reverts_event_id "
                "FROM repairs_events:[$sid, 1]..[$sid, $end] WHERE kind = 'revert'",
                {"sid": session_id, "end": MAX_SEQ + 1},
            )
        return sorted(
            (dict(r) for r in rows or []), key=lambda r: (str(r["session_id"]), int(r["seq"]))
        )

    def events_for_message(self, message_id: str) -> list[EventRow]:
        """Every event that re-parented message `message_id` (any session): a graph walk."""
        rows = self.conn.one(
            f"SELECT {EVENT_SELECT} FROM array::flatten("
            "(SELECT VALUE <-repairs_events FROM message WHERE message_id = $mid))",
            {"mid": message_id},
        )
        return sorted(
            (stored_event(r) for r in rows or []), key=lambda r: (r["session_id"], r["seq"])
        )

    def sessions_by_operator(self, operator: str) -> list[str]:
        """Sessions in which `operator` appended at least one event (edge -> session)."""
        rows = self.conn.one(
            "RETURN array::sort(array::distinct("
            "(SELECT VALUE in.session_id FROM repairs_events WHERE operator = $op)))",
            {"op": operator},
        )
        return list(rows or [])

    def event_id_count(self, event_id: str) -> int:
        """How many rows carry `event_id` (more than one is a forged duplicate)."""
        rows = self.conn.one(
            "SELECT count() AS n FROM repairs_events WHERE event_id = $id GROUP ALL",
            {"id": event_id},
        )
        return int(rows[0]["n"]) if rows else 0

    # -- plain records -----------------------------------------------------

    def add_rows(
        self, table: str, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str] = ()
    ) -> None:
        """Insert `rows` in one statement; `key` fields make the record id (unique)."""
        name = _identifier(table)
        if not rows:
            return
        body = [{"id": RecordID(name, [r[k] for k in key]), **r} if key else dict(r) for r in rows]
        self.conn.run(f"INSERT INTO {name} $rows RETURN NONE", {"rows": body})

    def rows(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        newest_first_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of `table` whose fields equal `where`, newest first by a field, at most `limit`."""
        query = f"SELECT * OMIT id FROM {_identifier(table)}"
        params: dict[str, Any] = {}
        if where:
            tests = []
            for n, (field, value) in enumerate(where.items()):
                tests.append(f"{_identifier(field)} = $w{n}")
                params[f"w{n}"] = value
            query += " WHERE " + " AND ".join(tests)
        if newest_first_by is not None:
            query += f" ORDER BY {_identifier(newest_first_by)} DESC"
        if limit is not None:
            query += " LIMIT $limit"
            params["limit"] = limit
        return [dict(r) for r in self.conn.one(query, params) or []]

    # -- materialized views ------------------------------------------------

    def get_view(self, session_id: str) -> ViewRow | None:
        row = self.conn.one(
            "SELECT * OMIT id FROM ONLY $vid", {"vid": RecordID(VIEWS_TABLE, session_id)}
        )
        return row_to_view(row) if row else None

    def put_view(self, view: ViewRow) -> None:
        self.conn.run(
            "UPSERT $vid CONTENT $row RETURN NONE",
            {"vid": RecordID(VIEWS_TABLE, view["session_id"]), "row": view_to_row(view)},
        )

    def put_view_if_current(self, view: ViewRow) -> bool:
        """Store `view` unless events were appended past its through_seq meanwhile."""
        head = self.head(view["session_id"])
        if (head.seq if head is not None else 0) != view["through_seq"]:
            return False
        self.put_view(view)
        return True

    def mark_view(
        self,
        session_id: str,
        *,
        drift_detected: bool,
        drift_report: Mapping[str, Any] | None,
        updated_at: str,
    ) -> None:
        """Set a view's drift flags in place: a check of a big view does not send (or
        make riff encode again) maps of every message to change two fields."""
        self.conn.run(
            "UPDATE $vid SET drift_detected = $drift, drift_report = $report, updated_at = $at "
            "RETURN NONE",
            {
                "vid": RecordID(VIEWS_TABLE, session_id),
                "drift": drift_detected,
                "report": None if drift_report is None else dict(drift_report),
                "at": updated_at,
            },
        )

    def view_summaries(self) -> list[dict[str, Any]]:
        """Per view: session, through_seq, stale and drift flags (no parent maps)."""
        rows = self.conn.one(f"SELECT {_SUMMARY_FIELDS} FROM sessions_materialized")
        return sorted(rows or [], key=lambda r: r["session_id"])

    def view_summary(self, session_id: str) -> dict[str, Any] | None:
        """One view's summary row, without reading (or decoding) its maps."""
        row = self.conn.one(
            f"SELECT {_SUMMARY_FIELDS} FROM ONLY $vid", {"vid": RecordID(VIEWS_TABLE, session_id)}
        )
        return row or None
