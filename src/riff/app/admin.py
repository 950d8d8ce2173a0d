"""The database's own upkeep: schema version, migrations, team members.

These speak SurrealDB (schema files, record users), so they open the
SurrealDB recorder themselves; everything else in riff.app works on any
backend through an EventLog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from riff.app.errors import AppError
from riff.app.eventlog import EventLog
from riff.app.workspace import Workspace
from riff.settings import Settings
from riff.store.protocol import EventStore

if TYPE_CHECKING:
    from riff.store import ImmutableEventStore


def surreal_store(ws: Workspace) -> ImmutableEventStore:
    """The workspace's store, which must be the SurrealDB recorder for schema and users."""
    return surreal_recorder(ws.store)


def surreal_recorder(store: EventLog | EventStore) -> ImmutableEventStore:
    """`store` as the SurrealDB recorder: schema, users and the transparency log live there."""
    from riff.store import ImmutableEventStore

    if isinstance(store, EventLog):
        store = store.recorder
    if not isinstance(store, ImmutableEventStore):
        raise AppError(
            f"{store.url} is not a SurrealDB store; schema, users and the transparency log "
            "live there"
        )
    return store


def _raw_store(settings: Settings) -> ImmutableEventStore:
    """The store without creating or checking its schema: for status and migrate."""
    from riff.store import open_store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(settings, create=False, check=False)


def init_store(ws: Workspace) -> dict[str, Any]:
    """Open (create, migrate) the workspace's store; its URL and schema status."""
    from riff.store import schema_status

    store = surreal_store(ws)
    return {"url": store.url} | schema_status(store.conn).to_dict()


def store_status(settings: Settings) -> dict[str, Any]:
    """Schema version and, when the schema is usable, the sessions and events held,
    and the schema guards that differ from the schema files' (`schema_drift`)."""
    from riff.app.integrity import schema_breaks
    from riff.store import schema_status

    with _raw_store(settings) as store:
        status = schema_status(store.conn)
        info: dict[str, Any] = {"url": store.url} | status.to_dict()
        if status.current and not status.too_new:
            info |= {"sessions": len(store.sessions()), "events": store.count()}
        info["schema_drift"] = [brk.detail for brk in schema_breaks(EventLog(store))]
    return info


def migrate_store(settings: Settings) -> dict[str, Any]:
    """Apply pending schema versions and index older events in the transparency log;
    what was applied, how many events were indexed, and the status after."""
    from riff.app.tlog_migration import finish_migration
    from riff.store import migrate, schema_status

    with _raw_store(settings) as store:
        applied = migrate(store.conn)
        status = schema_status(store.conn)
        indexed = finish_migration(store)
        return {"applied": applied, "log_indexed": indexed} | status.to_dict()


def create_operator(ws: Workspace, name: str, password: str) -> None:
    """A team member who may only append and read events (a record user)."""
    from riff.store import create_user

    create_user(surreal_store(ws).conn, name, password)


__all__ = [
    "create_operator",
    "init_store",
    "migrate_store",
    "store_status",
    "surreal_recorder",
    "surreal_store",
]
