"""Which of riff's proof files a file is, from its first bytes (no parsing, no crypto).

Kept apart from riff.tlog.proof_file so that `riff verify FILE` can ask before
it loads the signing stack.
"""

from __future__ import annotations

from pathlib import Path

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
CONSISTENCY_FORMAT = "riff.tlog-consistency/1"


def looks_like_tlog_proof(head: bytes) -> bool:
    return head.startswith(TLOG_PROOF_HEADER.encode() + b"\n")


def looks_like_consistency_proof(head: bytes) -> bool:
    return b'"format"' in head[:200] and CONSISTENCY_FORMAT.encode() in head[:200]


def proof_kind(path: Path) -> str | None:
    """'inclusion' or 'consistency' when the file is one of riff's proofs, else None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
    except OSError:
        return None
    if looks_like_tlog_proof(head):
        return "inclusion"
    if looks_like_consistency_proof(head):
        return "consistency"
    return None


__all__ = [
    "CONSISTENCY_FORMAT",
    "TLOG_PROOF_HEADER",
    "looks_like_consistency_proof",
    "looks_like_tlog_proof",
    "proof_kind",
]
