"""Timestamps as comparable strings.

Claude Code writes ISO 8601 UTC timestamps with milliseconds and a ``Z``
(``2025-06-01T12:34:56.789Z``); strings of that exact shape compare in time
order, so they are kept as they are (cheap) and only other shapes are parsed.
"""

from __future__ import annotations

from datetime import UTC, datetime

_CANONICAL_LENGTH = len("2025-06-01T12:34:56.789Z")


def normalize_timestamp(value: object) -> str | None:
    """Return a canonical, order-comparable form of ``value`` or None if unusable."""
    if not isinstance(value, str):
        return None
    if len(value) == _CANONICAL_LENGTH and value[-1] == "Z" and value[10] == "T":
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_transcript_timestamp(parsed)


def format_transcript_timestamp(moment: datetime) -> str:
    """Claude Code's own timestamp format: UTC, milliseconds, trailing Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def seconds_between(earlier: str, later: str) -> float:
    """Seconds from ``earlier`` to ``later`` (both canonical)."""
    start = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
    end = datetime.fromisoformat(later.replace("Z", "+00:00"))
    return (end - start).total_seconds()


CLOCK_SKEW_S = 60.0
"""How much later than its child a parent may be stamped before it is suspicious.

Real transcripts have parents stamped up to ~18 s after their child (meta and
progress rows, resumed sessions); a wrong parent is usually minutes off.
"""
