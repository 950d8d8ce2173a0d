"""Services for reviewing one session by hand (the TUI's needs, usable by anyone).

Built only on the other `riff.app` services: a choice of parent becomes a plan
item (validated once, by `plan_item`), is applied through `apply_plan`, and
undone through `revert_event`; the session state is then advanced with the new
events instead of re-reading the transcript.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from riff.app.line_repairs import revert_line_edit
from riff.app.repairs import (
    ApplyResult,
    PlannedRepair,
    RepairPlan,
    apply_plan,
    plan_item,
    revert_event,
    write_and_reload,
)
from riff.app.scanning import ScanCache, scan_files
from riff.app.sessions import SessionState, load_session
from riff.app.workspace import Workspace
from riff.events import RepairEvent
from riff.transcript import Candidate, Finding, MessageGraph, MessageRecord


@dataclass(frozen=True)
class SessionSummary:
    """One row of a session list."""

    session_id: str
    project: str
    path: Path
    size: int
    mtime_ns: int
    messages: int
    errors: int
    warnings: int
    infos: int
    resume_loss: int
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def findings(self) -> int:
        return self.errors + self.warnings + self.infos


def list_sessions(ws: Workspace, *, project: str | None = None) -> list[SessionSummary]:
    """Every session (or one project's), broken first, with finding counts (scan cache used)."""
    files = [f for f in ws.sessions() if project is None or f.project == project]
    cache = ScanCache(ws.settings.cache_dir / "scan.json")
    report = scan_files(files, cache=cache)
    with contextlib.suppress(OSError):  # an unsaved cache is only a slower next start
        cache.save()
    by_path = {str(f.path): f for f in files}
    out: list[SessionSummary] = []
    for scan in report.sessions:
        file = by_path.get(scan["path"])
        if file is None:
            continue
        severities = [f["severity"] for f in scan["findings"]]
        kinds: dict[str, int] = {}
        for finding in scan["findings"]:
            kinds[finding["kind"]] = kinds.get(finding["kind"], 0) + 1
        out.append(
            SessionSummary(
                session_id=file.session_id,
                project=file.project,
                path=file.path,
                size=file.size,
                mtime_ns=file.mtime_ns,
                messages=int(scan["messages"]),
                errors=severities.count("error"),
                warnings=severities.count("warning"),
                infos=severities.count("info"),
                resume_loss=int(scan.get("resume_loss") or 0),
                kinds=kinds,
            )
        )
    return out


# -- the session as shown ---------------------------------------------------
#
# With no events, the conversation as repaired is the file's: the scan's graph
# and findings serve as they are, and no uuid -> parent map of the whole file is
# built (SessionState builds them from one record object per line).


def shown_graph(state: SessionState) -> MessageGraph:
    """The message graph as repaired (the scan's own when the session has no events)."""
    return state.graph if state.events else state.scan.graph


def shown_findings(state: SessionState) -> list[Finding]:
    """The findings of the conversation as repaired."""
    return state.effective_findings if state.events else state.scan.findings


def pending_count(state: SessionState) -> int:
    """Repairs in effect that the file does not hold yet."""
    return len(state.pending_changes) if state.events else 0


def reverted_ids(state: SessionState) -> frozenset[str]:
    """Events of the session that a later revert undid."""
    return state.reverted_ids if state.events else frozenset()


def record_of(state: SessionState, uuid: str) -> MessageRecord | None:
    """The (first) record of a message, built from the columns on demand."""
    graph = state.scan.graph
    i = graph.get_index(uuid)
    if i is None or graph.records is None:
        return None
    return graph.records[i]


def parent_in_effect(state: SessionState, uuid: str) -> str | None:
    """The parent of a message as repaired (may name a message the session lacks)."""
    graph = shown_graph(state)
    return graph.parent_of(uuid) if uuid in graph else None


def plan_choice(
    state: SessionState,
    message_id: str,
    new_parent: str | None,
    *,
    candidate: Candidate | None = None,
) -> PlannedRepair:
    """A parent chosen by hand as a plan item: its `problems` say why it would be
    refused (empty: fine). Show them, then hand the same item to `apply_choice`,
    which records it without validating again."""
    return plan_item(state, message_id, new_parent, candidate=candidate, by_hand="chosen by hand")


def problems_for(state: SessionState, message_id: str, new_parent: str | None) -> list[str]:
    """Why re-parenting `message_id` under `new_parent` would be refused (empty: fine)."""
    return plan_choice(state, message_id, new_parent).problems


def apply_choice(
    ws: Workspace,
    state: SessionState,
    message_id: str,
    new_parent: str | None,
    *,
    operator: str,
    candidate: Candidate | None = None,
    reason: str = "",
    force: bool = False,
    item: PlannedRepair | None = None,
) -> tuple[ApplyResult, SessionState]:
    """Append one chosen repair through the store; return it and the advanced state.

    `item` is the choice as `plan_choice` planned (and validated) it; without
    it the choice is planned here.
    """
    if item is None or (item.message_id, item.new_parent) != (message_id, new_parent):
        item = plan_choice(state, message_id, new_parent, candidate=candidate)
    plan = RepairPlan(state, [item])
    result = apply_plan(ws, plan, operator=operator, reason=reason, force=force)
    return result, advance(state, result.events)


def advance(state: SessionState, events: list[RepairEvent]) -> SessionState:
    """The same transcript with more events folded in (no file read)."""
    if not events:
        return state
    new = SessionState(state.file, state.scan, [*state.events, *events])
    # What depends on the file only is kept (built once per file, not once per repair).
    for name in _FILE_CACHES:
        if name in state.__dict__:
            new.__dict__[name] = state.__dict__[name]
    return new


_FILE_CACHES = ("records_by_uuid", "file_parents", "timestamps")


def undo_target(state: SessionState) -> RepairEvent | None:
    """The latest repair of the session, of any kind, still in effect (what `undo` reverts)."""
    if not state.events:
        return None
    reverted = state.reverted_ids
    for event in reversed(state.events):
        if not event.is_revert and event.event_id not in reverted:
            return event
    return None


def revert_in_session(
    ws: Workspace,
    state: SessionState,
    event_id: str,
    *,
    operator: str,
    reason: str = "",
    force_live: bool = False,
) -> tuple[RepairEvent, SessionState]:
    """Append a revert of one of the session's events; return it and the session now.

    A re-link's revert is an event (written with the next write); a line
    edit's revert puts its bytes back into the file at once, so the session
    is read again.
    """
    target = next((e for e in state.events if e.event_id == event_id), None)
    if target is not None and target.is_line_edit:
        if state.pending_changes:
            # Re-links reverted (or made) since the last write: the file gets them
            # first, so it holds the bytes the line edit left.
            write_and_reload(ws, state, force_live=force_live)
        event, _ = revert_line_edit(
            ws, event_id, operator=operator, reason=reason, force_live=force_live
        )
        return event, load_session(ws, state.file.path.as_posix())
    event, _ = revert_event(ws, event_id, operator=operator, reason=reason)
    return event, advance(state, [event])


def search_session(state: SessionState, query: str, *, limit: int = 500) -> list[str]:
    """Message uuids matching `query`, in file order: a uuid prefix, or text anywhere in a line.

    Text is searched case-insensitively in the raw bytes of the file (one
    pass, memory-mapped), so message bodies are found without decoding them.
    """
    query = query.strip()
    if not query:
        return []
    cols = state.transcript.columns
    uuids = cols.uuids
    by_uuid = [u for u in uuids if u.startswith(query)]
    if by_uuid:
        return by_uuid[:limit]
    needle = query.lower().encode()
    hits: list[str] = []
    seen: set[str] = set()
    offsets, lengths, uid = cols.offset, cols.length, cols.uid
    for pos in _find_all(state.file.path, needle):
        i = bisect_right(offsets, pos) - 1
        if i < 0 or uid[i] < 0 or pos >= offsets[i] + lengths[i]:
            continue
        uuid = uuids[uid[i]]
        if uuid in seen:
            continue
        seen.add(uuid)
        hits.append(uuid)
        if len(hits) >= limit:
            break
    return hits


_CHUNK = 8 * 1024 * 1024


def _find_all(path: Path, needle: bytes) -> Iterator[int]:
    """Byte offsets of case-insensitive (ASCII) occurrences of a lowered `needle`, streamed."""
    overlap = len(needle) - 1
    try:
        with path.open("rb") as handle:
            base = 0
            tail = b""
            while chunk := handle.read(_CHUNK):
                window = (tail + chunk).lower()
                start = base - len(tail)
                pos = window.find(needle)
                while pos != -1:
                    if pos + len(needle) > len(tail):  # not already reported
                        yield start + pos
                    pos = window.find(needle, pos + 1)
                tail = window[-overlap:] if overlap else b""
                base += len(chunk)
    except OSError:
        return
