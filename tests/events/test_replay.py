"""Property tests of the fold: replay equals the step-by-step state; revert-all restores base."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riff.events import (
    ChainHead,
    EventDraft,
    RevertError,
    active_events,
    create_revert_event,
    replay_repair_events,
    reverted_event_ids,
    seal_event,
)
from riff.events.canonical import calculate_session_digest
from riff.events.model import GENESIS_DIGEST
from tests.event_factories import LogBuilder, TickingClock, message_uuid, valid_logs


@settings(max_examples=150)
@given(valid_logs())
def test_replay_equals_step_by_step_state(log: LogBuilder) -> None:
    result = replay_repair_events(log.base_parents, log.events, session_id=log.session_id)
    assert result.parents == log.parents
    assert result.chain_verified
    assert result.divergences == ()
    assert result.applied_count == len(log.events)
    assert result.through_seq == len(log.events)
    expected_head = log.events[-1].event_digest if log.events else GENESIS_DIGEST
    assert result.head_digest == expected_head
    # Two independent derivations of status agree.
    assert set(result.reverted_event_ids) == reverted_event_ids(log.events)
    assert set(result.active_event_ids) == {e.event_id for e in active_events(log.events)}
    assert result.materialization_digest == calculate_session_digest(
        log.session_id, len(log.events), log.parents
    )


@settings(max_examples=150)
@given(valid_logs())
def test_replay_of_every_prefix_matches(log: LogBuilder) -> None:
    # Replaying a prefix then the rest gives the same state as one replay.
    for cut in range(len(log.events) + 1):
        first = replay_repair_events(log.base_parents, log.events[:cut], session_id=log.session_id)
        rest = replay_repair_events(first.parents, log.events[cut:], session_id=log.session_id)
        if cut < len(log.events):
            # The tail alone does not start at genesis, so its chain check fails by design.
            assert rest.parents == log.parents
        else:
            assert first.parents == log.parents


@settings(max_examples=200)
@given(valid_logs())
def test_state_is_the_latest_active_repair_of_each_message(log: LogBuilder) -> None:
    # The revert rules keep each message's history a stack, so the parent map
    # never disagrees with the derived status.
    expected = dict(log.base_parents)
    for event in active_events(log.events):  # in seq order
        expected[event.message_id] = event.new_parent_uuid
    assert log.parents == expected


@settings(max_examples=200)
@given(valid_logs())
def test_reverting_everything_restores_base(log: LogBuilder) -> None:
    while active := active_events(log.events):
        latest = active[-1]
        assert latest in log.revertable(), "the latest active repair can always be reverted"
        log.revert(latest)
    assert active_events(log.events) == []
    result = replay_repair_events(log.base_parents, log.events)
    assert result.parents == dict(log.base_parents)
    assert result.chain_verified and result.divergences == ()


def test_revert_of_revert_reapplies_and_null_is_restored_as_null() -> None:
    a, b = message_uuid(1), message_uuid(2)
    log = LogBuilder("s", {a: None, b: None})
    repair = log.repair(a, b)
    revert = log.revert(repair)
    assert (revert.old_parent_uuid, revert.new_parent_uuid) == (b, None)
    assert revert.reverts_event_id == repair.event_id
    again = log.revert(revert)
    assert (again.old_parent_uuid, again.new_parent_uuid) == (None, b)
    result = replay_repair_events(log.base_parents, log.events)
    assert result.parents[a] == b
    assert result.reverted_event_ids == {revert.event_id}
    assert result.active_event_ids == {repair.event_id}


def test_revert_refused_when_already_reverted_or_moved_since() -> None:
    a, b, c = message_uuid(1), message_uuid(2), message_uuid(3)
    log = LogBuilder("s", {a: None, b: None, c: None})
    first = log.repair(a, b)
    log.repair(a, c)
    with pytest.raises(RevertError, match="moved again"):
        create_revert_event(first, log.events, operator="x")
    second = log.events[-1]
    log.revert(second)
    log.revert(first)
    with pytest.raises(RevertError, match="already reverted"):
        create_revert_event(first, log.events, operator="x")


def test_divergence_is_reported_and_event_still_applied() -> None:
    a, b, c = message_uuid(1), message_uuid(2), message_uuid(3)
    clock = TickingClock()
    event = seal_event(ChainHead("s"), EventDraft(a, c, b, "alice"), clock=clock)
    result = replay_repair_events({a: None, b: None, c: None}, [event])
    assert len(result.divergences) == 1
    d = result.divergences[0]
    assert (d.seq, d.message_id, d.recorded_old_parent, d.actual_parent) == (1, a, c, None)
    assert result.parents[a] == b


@given(st.integers(1, 40))
def test_replay_refuses_mixed_sessions(n: int) -> None:
    a = message_uuid(1)
    e1 = seal_event(ChainHead("s1"), EventDraft(a, None, None, "x"))
    e2 = seal_event(ChainHead(f"other-{n}"), EventDraft(a, None, None, "x"))
    with pytest.raises(ValueError, match="one session"):
        replay_repair_events({a: None}, [e1, e2])


@settings(max_examples=100)
@given(valid_logs())
def test_replay_never_changes_its_base_and_copies_it_only_when_an_event_moves_a_parent(
    log: LogBuilder,
) -> None:
    base = dict(log.base_parents)
    before = dict(base)
    result = replay_repair_events(base, log.events, session_id=log.session_id)
    assert base == before
    if log.events:
        assert result.parents is not base
    else:  # nothing moved: the base itself (a million-message map is 40 MB a copy)
        assert result.parents is base
