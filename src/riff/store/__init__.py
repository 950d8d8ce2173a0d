"""Storage: the EventStore protocol and its SurrealDB implementation."""

from riff.store.connection import Connection, QueryFailed
from riff.store.errors import (
    AuthError,
    ConcurrencyError,
    ImmutableEventError,
    NoViewError,
    RepairRefusedError,
    RevertError,
    SchemaMissingError,
    SchemaTooNewError,
    StoreError,
    StoreInUseError,
)
from riff.store.lock import StoreLock
from riff.store.open import connect, open_store
from riff.store.protocol import EventStore, SourceFingerprint, ViewRecord
from riff.store.schema import (
    SchemaStatus,
    check_schema,
    init_schema,
    known_version,
    migrate,
    schema_status,
)
from riff.store.surreal import ImmutableEventStore
from riff.store.users import create_user, list_users, set_password

__all__ = [
    "AuthError",
    "ConcurrencyError",
    "Connection",
    "EventStore",
    "ImmutableEventError",
    "ImmutableEventStore",
    "NoViewError",
    "QueryFailed",
    "RepairRefusedError",
    "RevertError",
    "SchemaMissingError",
    "SchemaStatus",
    "SchemaTooNewError",
    "SourceFingerprint",
    "StoreError",
    "StoreInUseError",
    "StoreLock",
    "ViewRecord",
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
