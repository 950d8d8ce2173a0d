"""Factories and hypothesis strategies for repair events and their logs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from riff.events import (
    ChainHead,
    EventDraft,
    RepairEvent,
    create_revert_event,
    seal_event,
)
from riff.events.fold import SessionFold
from riff.events.revert import revert_draft, revert_draft_payload


def message_uuid(n: int) -> str:
    return str(uuid.UUID(int=0x0B6E3C2E_9A57_4C0E_A4F5_000000000000 + n))


class TickingClock:
    """A clock a test controls: each call advances by one millisecond."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@dataclass
class LogBuilder:
    """Builds a valid session log step by step and keeps the state it implies."""

    session_id: str
    base_parents: dict[str, str | None]
    clock: TickingClock = field(default_factory=TickingClock)
    events: list[RepairEvent] = field(default_factory=list)
    parents: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.parents = dict(self.base_parents)

    @property
    def head(self) -> ChainHead:
        if not self.events:
            return ChainHead(self.session_id)
        last = self.events[-1]
        return ChainHead(self.session_id, last.seq, last.event_digest)

    def repair(
        self, message_id: str, new_parent: str | None, *, operator: str = "alice", **kw: object
    ) -> RepairEvent:
        draft = EventDraft(message_id, self.parents[message_id], new_parent, operator, **kw)  # type: ignore[arg-type]
        event = seal_event(self.head, draft, clock=self.clock)
        self.events.append(event)
        self.parents[message_id] = new_parent
        return event

    def revert(self, target: RepairEvent, *, operator: str = "bob") -> RepairEvent:
        event = create_revert_event(target, self.events, operator=operator, clock=self.clock)
        self.events.append(event)
        self.parents[target.message_id] = event.new_parent_uuid
        return event

    def revertable(self) -> list[RepairEvent]:
        """Events the spec allows reverting now."""
        fold = SessionFold(self.session_id, self.base_parents)
        for event in self.events:
            fold.apply(event.to_dict())
        return [
            e
            for e in self.events
            if fold.revert_problem(revert_draft_payload(e) | {"message_id": e.message_id}) is None
        ]


def revert_of(target: RepairEvent, head: ChainHead, clock: TickingClock) -> RepairEvent:
    return seal_event(head, revert_draft(target, operator="bob"), clock=clock)


# ------------------------------------------------------------------ strategies

printable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40
)
operator_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20
).filter(lambda s: s.strip() != "")
scores = st.one_of(
    st.none(),
    st.just(0.0),
    st.just(1.0),
    st.just(0),
    st.just(1),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.floats(min_value=0.0, max_value=1e-5),
    st.floats(min_value=0.99999, max_value=1.0),
)


@st.composite
def sealed_events(draw: st.DrawFn) -> RepairEvent:
    """Any single event the model admits."""
    n = draw(st.integers(0, 1000))
    kind_revert = draw(st.booleans())
    head = ChainHead(
        draw(operator_names),
        draw(st.integers(0, 2**40)),
        draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
    )
    if head.seq == 0:
        head = ChainHead(head.session_id)
    draft = EventDraft(
        message_uuid(n),
        draw(st.one_of(st.none(), st.builds(message_uuid, st.integers(0, 1000)))),
        draw(st.one_of(st.none(), st.builds(message_uuid, st.integers(0, 1000)))),
        draw(operator_names),
        draw(printable_text),
        draw(scores),
        draw(st.booleans()),
    )
    if kind_revert:
        from riff.events import EventKind, generate_event_id

        draft = EventDraft(
            draft.message_id,
            draft.old_parent_uuid,
            draft.new_parent_uuid,
            draft.operator,
            draft.reason,
            None,
            True,
            EventKind.REVERT,
            generate_event_id(),
        )
    return seal_event(head, draft, clock=TickingClock(datetime(2020, 1, 1, tzinfo=UTC)))


@st.composite
def valid_logs(draw: st.DrawFn, max_steps: int = 25) -> LogBuilder:
    """A random valid session log of repairs, reverts and reverts of reverts."""
    size = draw(st.integers(2, 8))
    ids = [message_uuid(i) for i in range(size)]
    base: dict[str, str | None] = {mid: (ids[i - 1] if i else None) for i, mid in enumerate(ids)}
    builder = LogBuilder(draw(st.sampled_from(["sess-a", "sess-b"])), base)
    for _ in range(draw(st.integers(0, max_steps))):
        revertable = builder.revertable()
        if revertable and draw(st.booleans()):
            builder.revert(draw(st.sampled_from(revertable)))
        else:
            message = draw(st.sampled_from(ids))
            new_parent = draw(st.sampled_from([None, *ids]))
            builder.repair(message, new_parent, similarity_score=draw(scores))
    return builder


def iter_sessions(count: int, events_per_session: int) -> Iterator[LogBuilder]:
    for s in range(count):
        ids = [message_uuid(i) for i in range(events_per_session + 1)]
        base: dict[str, str | None] = {mid: None for mid in ids}
        builder = LogBuilder(f"session-{s:04d}", base)
        for i in range(events_per_session):
            builder.repair(ids[i + 1], ids[i], similarity_score=0.9)
        yield builder
