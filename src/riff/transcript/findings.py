"""The Finding type and the vocabulary of cli-json.md (kinds, severities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

ORPHAN: Final = "orphan"
UNEXPECTED_ROOT: Final = "unexpected_root"
CYCLE: Final = "cycle"
DUPLICATE_UUID: Final = "duplicate_uuid"
TOOL_USE_WITHOUT_RESULT: Final = "tool_use_without_result"
TOOL_RESULT_WITHOUT_USE: Final = "tool_result_without_use"
LOST_BRANCH: Final = "lost_branch"
TIMESTAMP_ANOMALY: Final = "timestamp_anomaly"
MALFORMED_LINE: Final = "malformed_line"
TRUNCATED_LINE: Final = "truncated_line"

FINDING_KINDS: Final = (
    ORPHAN,
    UNEXPECTED_ROOT,
    CYCLE,
    DUPLICATE_UUID,
    TOOL_USE_WITHOUT_RESULT,
    TOOL_RESULT_WITHOUT_USE,
    LOST_BRANCH,
    TIMESTAMP_ANOMALY,
    MALFORMED_LINE,
    TRUNCATED_LINE,
)

# Findings of the API request rules (riff.transcript.api_rules) on the chain
# resume loads: reported where the kinds above do not already name the row.
API_FIRST_NOT_USER: Final = "api_first_not_user"
API_TOOL_RESULT_NOT_AFTER_USE: Final = "api_tool_result_not_after_use"
API_TOOL_USE_NOT_ANSWERED: Final = "api_tool_use_not_answered"
API_EMPTY_CONTENT: Final = "api_empty_content"
API_SERVER_TOOL_NOT_ANSWERED: Final = "api_server_tool_not_answered"
API_FINDING_KINDS: Final = (
    API_FIRST_NOT_USER,
    API_TOOL_RESULT_NOT_AFTER_USE,
    API_TOOL_USE_NOT_ANSWERED,
    API_EMPTY_CONTENT,
    API_SERVER_TOOL_NOT_ANSWERED,
)

# Findings about a file rather than its lines: the scan reports them, the
# generator never injects them (they are properties of the file system).
UNREADABLE_FILE: Final = "unreadable_file"
UNDECODABLE_NAME: Final = "undecodable_name"
FILE_FINDING_KINDS: Final = (UNREADABLE_FILE, UNDECODABLE_NAME)

ERROR: Final = "error"
"""Resume loses or rejects conversation."""
WARNING: Final = "warning"
INFO: Final = "info"
SEVERITIES: Final = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Finding:
    """One problem of a transcript, shaped like a finding of ``riff scan --json``."""

    kind: str
    severity: str
    message_ids: tuple[str, ...]
    lines: tuple[int, ...]
    """1-based physical line numbers; the first is where to look."""
    explanation: str
    repairable: bool
    lost_messages: int | None = None
    """For lost_branch: conversation messages resume would not load."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "message_ids": list(self.message_ids),
            "lines": list(self.lines),
            "explanation": self.explanation,
            "repairable": self.repairable,
        }
        if self.lost_messages is not None:
            out["lost_messages"] = self.lost_messages
        return out


def byte_count(count: int) -> str:
    """``count`` bytes in words, for what a finding or a repair says ("1 byte", "3 bytes")."""
    return f"{count} byte" if count == 1 else f"{count} bytes"
