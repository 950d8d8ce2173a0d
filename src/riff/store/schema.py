"""The versioned schema: `schema/NNN_name.surql` files applied in order.

`riff_meta:schema.version` records the highest file applied. `riff db init`,
`riff db status` and `riff db migrate` call `init_schema`, `schema_status` and
`migrate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from riff.store.connection import Connection, QueryFailed
from riff.store.errors import SchemaMissingError, SchemaTooNewError

_FILE_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.surql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    url: str
    current: int
    known: int

    @property
    def pending(self) -> list[int]:
        return list(range(self.current + 1, self.known + 1))

    @property
    def up_to_date(self) -> bool:
        return self.current == self.known

    @property
    def too_new(self) -> bool:
        return self.current > self.known

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "current": self.current,
            "known": self.known,
            "pending": self.pending,
            "up_to_date": self.up_to_date,
        }


@cache
def migrations() -> tuple[Migration, ...]:
    found: list[Migration] = []
    for entry in resources.files("riff.store").joinpath("schema").iterdir():
        match = _FILE_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"schema files are not numbered 1..N: {migration.name}")
    return tuple(found)


def known_version() -> int:
    all_migrations = migrations()
    return all_migrations[-1].version if all_migrations else 0


def current_version(conn: Connection) -> int:
    """The version recorded in the database, 0 for an empty database."""
    try:
        value = conn.one("SELECT VALUE version FROM ONLY riff_meta:schema")
    except QueryFailed as exc:
        if "does not exist" in exc.message:
            return 0
        raise
    return int(value) if isinstance(value, int) else 0


def schema_status(conn: Connection) -> SchemaStatus:
    return SchemaStatus(conn.url, current_version(conn), known_version())


def migrate(conn: Connection) -> list[int]:
    """Apply every schema file newer than the database's version; return those applied."""
    status = schema_status(conn)
    if status.too_new:
        raise SchemaTooNewError(conn.url, status.current, status.known)
    applied: list[int] = []
    for migration in migrations():
        if migration.version <= status.current:
            continue
        conn.run(
            "BEGIN TRANSACTION;\n"
            + migration.sql
            + "\nUPSERT riff_meta:schema SET version = $version, updated_at = $now;"
            + "\nCOMMIT TRANSACTION;",
            {"version": migration.version, "now": datetime.now(UTC).isoformat()},
        )
        applied.append(migration.version)
    return applied


init_schema = migrate  # `riff db init` on an empty database is a migration from 0


def check_schema(conn: Connection) -> SchemaStatus:
    """Refuse a database this code cannot use: newer schema, or one not yet migrated."""
    status = schema_status(conn)
    if status.too_new:
        raise SchemaTooNewError(conn.url, status.current, status.known)
    if status.current < status.known:
        raise SchemaMissingError(conn.url, status.current, status.known)
    return status
