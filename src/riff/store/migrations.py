"""The versioned schema: `schema/NNN_name.surql` files applied in order.

`riff_meta:schema.version` records the highest file applied and
`riff_meta:schema.applied` every file applied (a store written before that
list existed applied 1..version). Numbers are reserved per feature and may
land out of order, so `migrate` applies every known file not yet applied, in
number order, whatever the version says. `riff db init`, `riff db status` and
`riff db migrate` call `init_schema`, `schema_status` and `migrate`.
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
    applied: tuple[int, ...] = ()

    @property
    def pending(self) -> list[int]:
        done = set(self.applied) if self.applied else set(range(1, self.current + 1))
        return [m.version for m in migrations() if m.version not in done]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.known and not self.pending

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
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions) or (versions and versions[0] != 1):
        raise RuntimeError(f"schema files must start at 001 and have unique numbers: {versions}")
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


def applied_versions(conn: Connection) -> tuple[int, ...]:
    """The schema files applied to this database (1..version for older stores)."""
    current = current_version(conn)
    if current == 0:
        return ()
    value = conn.one("SELECT VALUE applied FROM ONLY riff_meta:schema")
    if isinstance(value, list) and value and max(int(v) for v in value) == current:
        return tuple(sorted(int(v) for v in value))
    return tuple(range(1, current + 1))


def schema_status(conn: Connection) -> SchemaStatus:
    return SchemaStatus(conn.url, current_version(conn), known_version(), applied_versions(conn))


def migrate(conn: Connection) -> list[int]:
    """Apply every schema file newer than the database's version; return those applied."""
    status = schema_status(conn)
    if status.too_new:
        raise SchemaTooNewError(conn.url, status.current, status.known)
    done = set(status.applied)
    applied: list[int] = []
    for migration in migrations():
        if migration.version in done:
            continue
        done.add(migration.version)
        conn.run(
            "BEGIN TRANSACTION;\n"
            + migration.sql
            # The runner's own bookkeeping field, defined where riff_meta exists.
            + "\nDEFINE FIELD IF NOT EXISTS applied ON riff_meta TYPE option<array<int>>;"
            + "\nUPSERT riff_meta:schema SET version = $version, applied = $applied,"
            + " updated_at = $now;"
            + "\nCOMMIT TRANSACTION;",
            {
                "version": max(done),
                "applied": sorted(done),
                "now": datetime.now(UTC).isoformat(),
            },
        )
        applied.append(migration.version)
    return applied


init_schema = migrate  # `riff db init` on an empty database is a migration from 0


def check_schema(conn: Connection) -> SchemaStatus:
    """Refuse a database this code cannot use: newer schema, or one not yet migrated."""
    status = schema_status(conn)
    if status.too_new:
        raise SchemaTooNewError(conn.url, status.current, status.known)
    if status.pending:
        raise SchemaMissingError(conn.url, status.current, status.known)
    return status


# -- drift: the live schema guards against the ones the .surql files define --

_GUARDS = ("fields", "events", "indexes")
_SINGULAR = {
    "tables": "table",
    "accesses": "access",
    "fields": "field",
    "events": "event",
    "indexes": "index",
}


@cache
def expected_definitions() -> dict[str, dict[str, str]]:
    """Every definition the schema files make, as the engine prints them (INFO FOR …).

    Built once per process by applying the files to a fresh in-memory database,
    so the expectation comes from the .surql files themselves.
    """
    conn = Connection("mem://")
    try:
        conn.use("riff", "riff")
        migrate(conn)
        return live_definitions(conn, tables=None)
    finally:
        conn.close()


def live_definitions(conn: Connection, tables: list[str] | None) -> dict[str, dict[str, str]]:
    """{"db tables": …, "db accesses": …, "<table> fields": …, …} of the live database."""
    info = conn.one("INFO FOR DB") or {}
    found: dict[str, dict[str, str]] = {
        "db tables": dict(info.get("tables") or {}),
        "db accesses": dict(info.get("accesses") or {}),
    }
    for table in tables if tables is not None else sorted(found["db tables"]):
        # Table names come from the schema files (a constant of riff), never from input.
        table_info = conn.one(f"INFO FOR TABLE {table}") or {}
        for guard in _GUARDS:
            found[f"{table} {guard}"] = dict(table_info.get(guard) or {})
    return found


def schema_drift(conn: Connection) -> list[str]:
    """How the live schema differs from the files': each difference one line.

    The guards that keep the log append-only (READONLY fields, THROWing table
    events, unique indexes, permissions, the access method) can be removed by
    root DDL, which no permission prevents; this is how riff notices. Tables
    of other software in the same database are ignored; extra fields, events
    or indexes on riff's own tables are reported.
    """
    expected = expected_definitions()
    riff_tables = sorted(expected["db tables"])
    live = live_definitions(conn, riff_tables)
    drift: list[str] = []
    for group, wanted in expected.items():
        have = live.get(group, {})
        kind = _SINGULAR[group.split(" ", 1)[1]]
        where = "the database" if group.startswith("db ") else f"table {group.split(' ')[0]}"
        for name, definition in sorted(wanted.items()):
            if name not in have:
                drift.append(f"{where}: {kind} {name} is missing (expected: {definition})")
            elif have[name] != definition:
                drift.append(
                    f"{where}: {kind} {name} is now: {have[name]} (expected: {definition})"
                )
        if group != "db tables":
            for name in sorted(set(have) - set(wanted)):
                drift.append(f"{where}: unexpected {kind} {name}: {have[name]}")
    return drift
