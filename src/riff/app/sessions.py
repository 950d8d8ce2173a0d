"""A session as riff sees it: the transcript on disk plus the repairs in the store.

The effective parent map is the fold of the session's events over its base
parents. The base is the file's parents, except that a message touched by
events starts from the `old_parent_uuid` of its first event: events carry their
own history, so the state is the same whether or not riff has already written
the repairs into the file, and new lines Claude Code appended are picked up.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from riff.app.errors import AppError
from riff.app.viewstore import rebuild, update
from riff.app.workspace import Workspace
from riff.events import RepairEvent, ReplayResult, replay_repair_events
from riff.maps import Overlay
from riff.transcript import (
    Finding,
    MessageGraph,
    MessageRecord,
    SessionFile,
    SessionScan,
    Transcript,
    detect_findings,
    scan_session,
)
from riff.transcript.records import RecordsByUuid
from riff.transcript.resume import resume_chain_array, resume_leaf_index
from riff.views import SourceFingerprint, ViewRecord
from riff.views.source import SourceState

if TYPE_CHECKING:
    from riff.transcript.suggest import ConversationRepairEngine


@dataclass
class SessionState:
    file: SessionFile
    scan: SessionScan
    events: list[RepairEvent] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        return self.file.session_id

    @property
    def transcript(self) -> Transcript:
        return self.scan.transcript

    @cached_property
    def records_by_uuid(self) -> Mapping[str, MessageRecord]:
        """First record of each uuid, built on access (a million records are never all made)."""
        return RecordsByUuid(self.transcript.columns)

    @cached_property
    def file_parents(self) -> Mapping[str, str | None]:
        return self.transcript.parent_map()

    @cached_property
    def timestamps(self) -> Mapping[str, str | None]:
        return self.transcript.timestamp_map()

    @cached_property
    def base_parents(self) -> Mapping[str, str | None]:
        """The file's parents with each moved message's parent before its first event
        (the file's map itself when no event moved a parent: none is changed in place)."""
        moves = [event for event in self.events if event.edit is None]
        if not moves:  # a line edit moves no parent; its message_id names a line
            return self.file_parents
        first_parents: dict[str, str | None] = {}
        for event in moves:
            first_parents.setdefault(event.message_id, event.old_parent_uuid)
        return Overlay(self.file_parents, first_parents)

    @cached_property
    def replay(self) -> ReplayResult:
        return replay_repair_events(self.base_parents, self.events, session_id=self.session_id)

    @property
    def parents(self) -> Mapping[str, str | None]:
        """The effective parent map: what the conversation is after riff's repairs."""
        return self.replay.parents

    @cached_property
    def pending_changes(self) -> dict[str, str | None]:
        """Messages whose effective parent differs from the file: what `--write` writes
        (in file order). Only a message an event names can differ: the others keep
        the file's parent in the base and in the fold."""
        if not self.events:
            return {}
        file_parents = self.file_parents
        parents = self.replay.parents
        node = self.transcript.columns.index  # file_parents' order: node numbers
        named = {e.message_id for e in self.events if e.message_id in file_parents}
        return {
            m: parents[m]
            for m in sorted(named, key=node.__getitem__)
            if file_parents[m] != parents[m]
        }

    def with_events(self, events: list[RepairEvent]) -> SessionState:
        """The same file read with other events: what was derived from the file alone
        (its parents, timestamps, records) is shared, not derived again."""
        other = SessionState(self.file, self.scan, events)
        for name in _FILE_DERIVED:
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    @cached_property
    def effective_findings(self) -> list[Finding]:
        """Findings of the conversation as repaired (the file's findings when no repairs)."""
        if not self.pending_changes:
            return self.scan.findings
        return detect_findings(
            self.transcript,
            parent_overrides=self.pending_changes,
            known_uuids=self.scan.known_uuids,
        )

    @cached_property
    def graph(self) -> MessageGraph:
        """The message graph as repaired (the file's graph when nothing is pending)."""
        if not self.pending_changes:
            return self.scan.graph
        return MessageGraph.from_records(
            self.transcript.records,
            parent_overrides=self.pending_changes,
            external_uuids=self.scan.known_uuids,
        )

    def resume_chain(self) -> list[str]:
        """What `claude --resume` would load, oldest first, after riff's repairs."""
        uuids = self.graph.uuids
        return [uuids[i] for i in reversed(self.resume_chain_nodes())]

    def resume_chain_nodes(self) -> array[int]:
        """The resume chain as graph node indices, newest (the leaf) first."""
        graph = self.graph
        leaf = resume_leaf_index(graph, self.transcript.last_prompt_leaf)
        if leaf is None:
            return array("i")
        return resume_chain_array(graph, leaf)

    @property
    def reverted_ids(self) -> frozenset[str]:
        return self.replay.reverted_event_ids

    def source_state(self) -> SourceState:
        """What the session's view is built from: the base parents (see base_parents)."""
        return SourceState(self.session_id, self.base_parents, self.timestamps, self._fingerprint())

    def file_source(self) -> SourceState:
        """The file as it is, as read_source reads it: its own parents (for drift checks)."""
        return SourceState(self.session_id, self.file_parents, self.timestamps, self._fingerprint())

    def _fingerprint(self) -> SourceFingerprint:
        fp = self.transcript.fingerprint
        assert fp.sha256 is not None  # load_session reads the file with its hash
        return SourceFingerprint(str(self.file.path.resolve()), fp.size, fp.mtime_ns, fp.sha256)


_FILE_DERIVED = ("records_by_uuid", "file_parents", "timestamps")
"""SessionState's cached properties that depend on the file only."""


def load_session(
    ws: Workspace,
    session: str | SessionFile,
    *,
    with_events: bool = True,
    content_hash: bool = True,
) -> SessionState:
    """Read a session's transcript (with its session's other files) and its events.

    ``content_hash=False`` is for callers that only show the session: its
    fingerprint then carries no hash, so no write or view can be based on it.
    """
    file = session if isinstance(session, SessionFile) else ws.resolve(session)
    try:
        others = ws.sessions()
    except AppError:  # a single file given by path, with no projects dir around it
        others = [file]
    scan = scan_session(file, others, content_hash=content_hash)
    events = session_events(ws, file.session_id) if with_events else []
    return SessionState(file, scan, events)


def session_events(ws: Workspace, session_id: str) -> list[RepairEvent]:
    """The session's events, in seq order (none, without opening it, if no store exists)."""
    store = ws.store_if_created()
    return [] if store is None else list(store.events(session_id))


def ensure_view(ws: Workspace, state: SessionState) -> ViewRecord:
    """The session's materialized view, rebuilt when missing or built from another file state."""
    view = current_view(ws, state)
    return view if view is not None else rebuild(ws.store, state.session_id, state.source_state())


def current_view(ws: Workspace, state: SessionState) -> ViewRecord | None:
    """The session's stored view, brought up to date with its log; None when there is
    none, or it was built from another state of the file (rebuild it then)."""
    store = ws.store
    view = store.get_view(state.session_id)
    fingerprint = state.transcript.fingerprint
    source = view.source if view is not None else None
    if (
        view is None
        or source is None
        or source.sha256 != fingerprint.sha256
        or view.base_parents != state.base_parents
    ):
        return None
    if view.is_stale or view.through_seq != (state.events[-1].seq if state.events else 0):
        return update(store, state.session_id)
    return view


def repair_engine() -> ConversationRepairEngine:
    # Imported here: the suggestion engine is for planning, and a session only
    # shown (`riff show`) needs none of it.
    from riff.transcript.suggest import ConversationRepairEngine

    return ConversationRepairEngine()
