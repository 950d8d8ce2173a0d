"""The repair-event core: pure functions over immutable, hash-chained events.

Each name below loads its module on first use (``riff.lazy``): a scan that
meets a torn line imports ``riff.events.line_edit`` alone, not the whole core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riff.lazy import lazy_names

if TYPE_CHECKING:
    from riff.events.canonical import (
        calculate_session_digest,
        canonical_payload_bytes,
        compute_event_digest,
        event_digest,
    )
    from riff.events.chain import ChainHead, EventDraft, generate_event_id, seal_event, seal_events
    from riff.events.errors import (
        EventError,
        EventValidationError,
        ExportFormatError,
        ImmutableEventError,
        RevertError,
    )
    from riff.events.fold import ChainBreak, Divergence, SessionFold
    from riff.events.model import (
        EVENT_FIELDS,
        EVENT_FORMAT,
        EVENT_FORMAT_V2,
        GENESIS_DIGEST,
        EventKind,
        RepairEvent,
        event_from_row,
        event_to_row,
        fields_of,
    )
    from riff.events.replay import ReplayResult, replay_repair_events
    from riff.events.revert import check_revert_allowed, create_revert_event, revert_draft
    from riff.events.status import active_events, is_reverted, reverted_event_ids
    from riff.events.verify import ChainVerifier, ValidationResult, validate_event_immutability

_LAZY = {
    "calculate_session_digest": "riff.events.canonical",
    "canonical_payload_bytes": "riff.events.canonical",
    "compute_event_digest": "riff.events.canonical",
    "event_digest": "riff.events.canonical",
    "ChainHead": "riff.events.chain",
    "EventDraft": "riff.events.chain",
    "generate_event_id": "riff.events.chain",
    "seal_event": "riff.events.chain",
    "seal_events": "riff.events.chain",
    "EventError": "riff.events.errors",
    "EventValidationError": "riff.events.errors",
    "ExportFormatError": "riff.events.errors",
    "ImmutableEventError": "riff.events.errors",
    "RevertError": "riff.events.errors",
    "ChainBreak": "riff.events.fold",
    "Divergence": "riff.events.fold",
    "SessionFold": "riff.events.fold",
    "EVENT_FIELDS": "riff.events.model",
    "EVENT_FORMAT": "riff.events.model",
    "EVENT_FORMAT_V2": "riff.events.model",
    "GENESIS_DIGEST": "riff.events.model",
    "EventKind": "riff.events.model",
    "RepairEvent": "riff.events.model",
    "event_from_row": "riff.events.model",
    "event_to_row": "riff.events.model",
    "fields_of": "riff.events.model",
    "ReplayResult": "riff.events.replay",
    "replay_repair_events": "riff.events.replay",
    "check_revert_allowed": "riff.events.revert",
    "create_revert_event": "riff.events.revert",
    "revert_draft": "riff.events.revert",
    "active_events": "riff.events.status",
    "is_reverted": "riff.events.status",
    "reverted_event_ids": "riff.events.status",
    "ChainVerifier": "riff.events.verify",
    "ValidationResult": "riff.events.verify",
    "validate_event_immutability": "riff.events.verify",
}

__getattr__ = lazy_names(globals(), _LAZY)

__all__ = [
    "EVENT_FIELDS",
    "EVENT_FORMAT",
    "EVENT_FORMAT_V2",
    "GENESIS_DIGEST",
    "ChainBreak",
    "ChainHead",
    "ChainVerifier",
    "Divergence",
    "EventDraft",
    "EventError",
    "EventKind",
    "EventValidationError",
    "ExportFormatError",
    "ImmutableEventError",
    "RepairEvent",
    "ReplayResult",
    "RevertError",
    "SessionFold",
    "ValidationResult",
    "active_events",
    "calculate_session_digest",
    "canonical_payload_bytes",
    "check_revert_allowed",
    "compute_event_digest",
    "create_revert_event",
    "event_digest",
    "event_from_row",
    "event_to_row",
    "fields_of",
    "generate_event_id",
    "is_reverted",
    "replay_repair_events",
    "revert_draft",
    "reverted_event_ids",
    "seal_event",
    "seal_events",
    "validate_event_immutability",
]
