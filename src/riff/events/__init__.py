"""The repair-event core: pure functions over immutable, hash-chained events."""

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
