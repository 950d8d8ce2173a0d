"""The leaves of riff's log: one per event, over the bytes its digest covers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riff.events import canonical_payload_bytes
from riff.tlog.hashing import leaf_hash


def event_leaf_hash(event: Mapping[str, Any]) -> bytes:
    """SHA-256(0x00 || the RFC 8785 bytes whose SHA-256 is the event's digest)."""
    return leaf_hash(canonical_payload_bytes(event))
