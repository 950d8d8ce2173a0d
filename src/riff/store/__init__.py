"""Storage: the EventStore protocol (a plain recorder of rows) and its backends.

The errors and the protocol are imported eagerly; the SurrealDB backend (and
with it the SDK and its HTTP stacks) only when one of its names is first
used, so that commands which never open a store start light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riff.lazy import lazy_names
from riff.store.errors import (
    AppendOnlyError,
    AuthError,
    ConcurrencyError,
    LogIndexTaken,
    NoViewError,
    OpenedElsewhereError,
    RepairRefusedError,
    SchemaMissingError,
    SchemaTooNewError,
    StoredViewError,
    StoreError,
    StoreInUseError,
    TlogStateError,
)
from riff.store.protocol import EventRow, EventStore, HeadRow, LeafRow, TreeState, ViewRow

if TYPE_CHECKING:
    from riff.store.connection import Connection, QueryFailed
    from riff.store.lock import StoreLock
    from riff.store.migrations import (
        SchemaStatus,
        check_schema,
        init_schema,
        known_version,
        migrate,
        schema_status,
    )
    from riff.store.open import connect, open_store
    from riff.store.surreal import ImmutableEventStore
    from riff.store.users import create_user, list_users, set_password

_LAZY = {
    "Connection": "riff.store.connection",
    "QueryFailed": "riff.store.connection",
    "StoreLock": "riff.store.lock",
    "connect": "riff.store.open",
    "open_store": "riff.store.open",
    "SchemaStatus": "riff.store.migrations",
    "check_schema": "riff.store.migrations",
    "init_schema": "riff.store.migrations",
    "known_version": "riff.store.migrations",
    "migrate": "riff.store.migrations",
    "schema_status": "riff.store.migrations",
    "ImmutableEventStore": "riff.store.surreal",
    "create_user": "riff.store.users",
    "list_users": "riff.store.users",
    "set_password": "riff.store.users",
}


__getattr__ = lazy_names(globals(), _LAZY)


__all__ = [
    "AppendOnlyError",
    "AuthError",
    "ConcurrencyError",
    "Connection",
    "EventRow",
    "EventStore",
    "HeadRow",
    "ImmutableEventStore",
    "LeafRow",
    "LogIndexTaken",
    "NoViewError",
    "OpenedElsewhereError",
    "QueryFailed",
    "RepairRefusedError",
    "SchemaMissingError",
    "SchemaStatus",
    "SchemaTooNewError",
    "StoreError",
    "StoreInUseError",
    "StoreLock",
    "StoredViewError",
    "TlogStateError",
    "TreeState",
    "ViewRow",
    "check_schema",
    "connect",
    "create_user",
    "init_schema",
    "known_version",
    "list_users",
    "migrate",
    "open_store",
    "schema_status",
    "set_password",
]
