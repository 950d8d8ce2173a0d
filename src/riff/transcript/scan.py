"""Scan whole sessions: read each file once, detect with the session's other files known."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress
from operator import not_

from riff.transcript.detect import build_graph, detect_findings
from riff.transcript.discover import SessionFile, SessionGroups, session_group
from riff.transcript.findings import ERROR, INFO, UNDECODABLE_NAME, UNREADABLE_FILE, Finding
from riff.transcript.graph import MessageGraph
from riff.transcript.reader import read_transcript
from riff.transcript.records import Transcript
from riff.transcript.resume import resume_loss_count


@dataclass
class SessionScan:
    file: SessionFile
    transcript: Transcript
    graph: MessageGraph
    findings: list[Finding]
    resume_loss: int
    known_uuids: frozenset[str] = frozenset()
    """uuids of the session's other files (parents there are not missing)."""

    @property
    def messages(self) -> int:
        return len(self.graph)

    def to_json(self) -> dict[str, object]:
        """One entry of ``riff scan --json``'s ``sessions``."""
        path = printable(str(self.file.path))
        findings = [f.to_json() for f in self.findings]
        if path != str(self.file.path):
            findings.append(undecodable_name_finding(path).to_json())
        return {
            "session_id": printable(self.file.session_id),
            "path": path,
            "project": printable(self.file.project),
            "messages": self.messages,
            "lines": self.transcript.line_count,
            "findings": findings,
            "resume_loss": self.resume_loss,
        }


def printable(text: str) -> str:
    """A file name as valid UTF-8: bytes that were not UTF-8 shown as \\xNN."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def undecodable_name_finding(path: str) -> Finding:
    return Finding(
        UNDECODABLE_NAME,
        INFO,
        (),
        (),
        f"the file name is not UTF-8 (shown as {path}); it was scanned, but rename it so "
        "that other tools can name it",
        False,
    )


def unreadable_scan_json(file: SessionFile, exc: OSError) -> dict[str, object]:
    """The entry of a file that could not be read: one finding, the other files still scanned."""
    path = printable(str(file.path))
    why = exc.strerror or type(exc).__name__
    finding = Finding(
        UNREADABLE_FILE,
        ERROR,
        (),
        (),
        f"cannot read {path}: {why}; check its permissions (the other files were scanned)",
        False,
    )
    return {
        "session_id": printable(file.session_id),
        "path": path,
        "project": printable(file.project),
        "messages": 0,
        "lines": 0,
        "findings": [finding.to_json()],
        "resume_loss": 0,
    }


def _scan(file: SessionFile, transcript: Transcript, others: Iterable[Transcript]) -> SessionScan:
    known_uuids: set[str] = set()
    known_uses: set[str] = set()
    known_results: set[str] = set()
    for other in others:  # from the columns: no record object per line
        cols = other.columns
        known_uuids.update(cols.index)
        known_uses.update(compress(cols.tool_ids, map(not_, cols.tool_kind)))
        known_results.update(compress(cols.tool_ids, cols.tool_kind))
    graph = build_graph(transcript, known_uuids=known_uuids)
    findings = detect_findings(
        transcript,
        known_tool_use_ids=known_uses,
        known_tool_result_ids=known_results,
        graph=graph,
    )
    return SessionScan(
        file,
        transcript,
        graph,
        findings,
        resume_loss_count(graph, transcript.last_prompt_leaf),
        frozenset(known_uuids),
    )


def scan_sessions(files: list[SessionFile], *, content_hash: bool = True) -> Iterator[SessionScan]:
    """Scan every file; files of one session are read together so cross-file links resolve.

    Yields in the order of ``files`` within each group (one group in memory at a time).
    ``content_hash=False`` is for scans that only report: their fingerprints
    carry no hash, so no write can be based on them.
    """
    done: set[str] = set()
    groups = SessionGroups(files)
    for file in files:
        if str(file.path) in done:
            continue
        group = [file, *groups.group(file)]
        transcripts = {
            str(f.path): read_transcript(f.path, content_hash=content_hash) for f in group
        }
        for member in group:
            key = str(member.path)
            if key in done:
                continue
            done.add(key)
            others = [t for k, t in transcripts.items() if k != key]
            yield _scan(member, transcripts[key], others)


def scan_session(
    file: SessionFile, all_files: list[SessionFile] | None = None, *, content_hash: bool = True
) -> SessionScan:
    """Scan one file, knowing the other files of its session when ``all_files`` is given.

    ``content_hash=False``: for a caller that only shows the session (no write
    can be based on this scan; hashing is about a third of reading).
    """
    group = session_group(file, all_files or [])
    transcript = read_transcript(file.path, content_hash=content_hash)
    # Only the session's own file can be written: the others need no hash.
    others = [read_transcript(f.path, content_hash=False) for f in group]
    return _scan(file, transcript, others)
