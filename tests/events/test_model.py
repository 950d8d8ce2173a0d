from __future__ import annotations

import dataclasses

import pytest

from riff.events import EventValidationError, RepairEvent
from riff.events.model import GENESIS_DIGEST
from tests.event_factories import LogBuilder, message_uuid


@pytest.fixture
def event() -> RepairEvent:
    builder = LogBuilder("s", {message_uuid(1): None, message_uuid(2): None})
    return builder.repair(message_uuid(1), message_uuid(2), similarity_score=0.5)


def test_event_has_exactly_the_spec_fields(event: RepairEvent) -> None:
    assert list(event.to_dict()) == [
        "format", "event_id", "kind", "session_id", "seq", "timestamp", "message_id",
        "old_parent_uuid", "new_parent_uuid", "operator", "reason", "similarity_score",
        "validation_passed", "reverts_event_id", "prev_digest", "event_digest",
    ]  # fmt: skip
    assert "is_reverted" not in event.to_dict()


def test_event_is_immutable(event: RepairEvent) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.seq = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("kind", "delete", "kind"),
        ("seq", 0, "seq"),
        ("seq", True, "seq"),
        ("seq", "1", "seq"),
        ("similarity_score", 1.01, "similarity_score"),
        ("similarity_score", -0.1, "similarity_score"),
        ("similarity_score", float("nan"), "similarity_score"),
        ("similarity_score", True, "similarity_score"),
        ("timestamp", "2026-11-26T00:16:59Z", "timestamp"),
        ("timestamp", "2026-02-30T00:16:59.123456Z", "timestamp"),
        ("event_id", "not-a-uuid", "event_id"),
        ("event_id", "0b6e3c2e-9a57-4c0e-a4f5-2c1d6c3ab001", "event_id"),  # v4, not v7
        ("message_id", "not-a-uuid", "message_id"),
        ("new_parent_uuid", "x", "new_parent_uuid"),
        ("operator", "  ", "operator"),
        ("reason", None, "reason"),
        ("validation_passed", 1, "validation_passed"),
        ("prev_digest", "abc", "prev_digest"),
        ("prev_digest", "1" * 64, "prev_digest"),  # seq 1 must link to genesis
        ("format", "riff.repair-event/3", "format"),
        ("reverts_event_id", "01a21559-0824-7650-8c0f-c46bc183f233", "reverts_event_id"),
    ],
)
def test_bad_values_name_the_field(
    event: RepairEvent, field: str, value: object, fragment: str
) -> None:
    data = event.to_dict()
    data[field] = value
    with pytest.raises(EventValidationError) as info:
        RepairEvent.from_dict(data)
    assert info.value.field == fragment
    assert fragment in str(info.value)


def test_revert_without_target_is_refused(event: RepairEvent) -> None:
    data = event.to_dict() | {"kind": "revert"}
    with pytest.raises(EventValidationError) as info:
        RepairEvent.from_dict(data)
    assert info.value.field == "reverts_event_id"


def test_from_dict_rejects_missing_and_unknown_fields(event: RepairEvent) -> None:
    data = event.to_dict()
    del data["operator"]
    with pytest.raises(EventValidationError, match="operator"):
        RepairEvent.from_dict(data)
    with pytest.raises(EventValidationError, match="colour"):
        RepairEvent.from_dict(event.to_dict() | {"colour": "red"})


def test_from_dict_round_trips(event: RepairEvent) -> None:
    assert RepairEvent.from_dict(event.to_dict()) == event
    assert RepairEvent.from_dict(event.to_dict() | {"is_reverted": True}) == event


def test_first_event_links_to_genesis(event: RepairEvent) -> None:
    assert event.seq == 1
    assert event.prev_digest == GENESIS_DIGEST
