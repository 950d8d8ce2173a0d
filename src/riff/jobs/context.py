"""What a job gets (store, settings, clock, randomness, a stop flag) and what it returns."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from riff.app.stores import EventLog
from riff.events.chain import Clock
from riff.events.model import format_event_timestamp
from riff.settings import Settings

log = logging.getLogger("riff.jobs")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobContext:
    store: EventLog
    settings: Settings
    clock: Clock = utc_now
    rng: random.Random = field(default_factory=random.Random)
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[str], None] | None = None

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def now(self) -> str:
        return format_event_timestamp(self.clock())

    def step(self, message: str) -> None:
        """A unit of work is done (a view, a session): tell whoever watches."""
        log.debug(message)
        if self.progress is not None:
            self.progress(message)


@dataclass
class JobResult:
    outcome: str  # ok | problems | interrupted (failed is set by the runner)
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
