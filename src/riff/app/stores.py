"""Opening a store, for the interfaces: they name riff.app, never riff.store.

`open_event_store` opens the backend the settings name (SurrealDB: embedded
surrealkv:// by default, mem:// in tests, ws(s):// for a server), loading its
SDK only then, and returns it as an EventLog: events in, events out.
"""

from __future__ import annotations

from typing import Any

from riff.app.eventlog import EventLog
from riff.settings import Settings
from riff.store.errors import NoViewError
from riff.views import ViewRecord


def open_event_store(settings: Settings, **options: Any) -> EventLog:
    from riff.store import open_store

    return EventLog(open_store(settings, **options))


__all__ = ["EventLog", "NoViewError", "ViewRecord", "open_event_store"]
