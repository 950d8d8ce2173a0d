"""Opening a store, for the interfaces: they name riff.app, never riff.store.

`EventStore` is the protocol every backend offers (riff.store.protocol);
`open_event_store` opens the one the settings name (SurrealDB: embedded
surrealkv:// by default, mem:// in tests, ws(s):// for a server), loading its
SDK only then.
"""

from __future__ import annotations

from typing import Any

from riff.settings import Settings
from riff.store.errors import NoViewError
from riff.store.protocol import EventStore, ViewRecord


def open_event_store(settings: Settings, **options: Any) -> EventStore:
    from riff.store import open_store

    return open_store(settings, **options)


__all__ = ["EventStore", "NoViewError", "ViewRecord", "open_event_store"]
