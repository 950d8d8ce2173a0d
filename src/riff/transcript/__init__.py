"""Reading, checking and repairing Claude Code transcripts (pure domain code).

Modules: ``discover`` (find session files), ``reader`` (streaming tolerant
reader), ``graph`` (message tree), ``resume`` (what ``claude --resume``
loads), ``detect`` (findings), ``suggest`` (repair candidates),
``validation`` (is a repair safe), ``write`` (byte-exact repair writer),
``scan`` (whole sessions), ``synthetic`` (generated sessions for tests/demo).
"""

from riff.transcript.detect import detect_findings, resume_loss
from riff.transcript.discover import (
    SessionFile,
    default_projects_dir,
    discover_sessions,
    resolve_session,
)
from riff.transcript.errors import (
    AmbiguousSessionError,
    RepairWriteError,
    SessionNotFoundError,
    TranscriptChangedError,
    TranscriptError,
)
from riff.transcript.findings import FINDING_KINDS, SEVERITIES, Finding
from riff.transcript.graph import MessageGraph
from riff.transcript.reader import read_message, read_transcript
from riff.transcript.records import Fingerprint, LineProblem, MessageRecord, Transcript
from riff.transcript.scan import SessionScan, scan_session, scan_sessions
from riff.transcript.suggest import Candidate, ConversationRepairEngine, OrphanSuggestions
from riff.transcript.validation import RepairProblem, check_repair, validate_repair
from riff.transcript.write import WriteResult, apply_parent_changes, preview_parent_changes

__all__ = [
    "FINDING_KINDS",
    "SEVERITIES",
    "AmbiguousSessionError",
    "Candidate",
    "ConversationRepairEngine",
    "Finding",
    "Fingerprint",
    "LineProblem",
    "MessageGraph",
    "MessageRecord",
    "OrphanSuggestions",
    "RepairProblem",
    "RepairWriteError",
    "SessionFile",
    "SessionNotFoundError",
    "SessionScan",
    "Transcript",
    "TranscriptChangedError",
    "TranscriptError",
    "WriteResult",
    "apply_parent_changes",
    "check_repair",
    "default_projects_dir",
    "detect_findings",
    "discover_sessions",
    "preview_parent_changes",
    "read_message",
    "read_transcript",
    "resolve_session",
    "resume_loss",
    "scan_session",
    "scan_sessions",
    "validate_repair",
]
