"""open_store: lock, connect, namespace/database, sign-in, schema check."""

from __future__ import annotations

from riff.settings import Settings
from riff.store.connection import Connection, is_remote, surrealkv_path
from riff.store.errors import AuthError
from riff.store.lock import StoreLock
from riff.store.migrations import check_schema, current_version, migrate
from riff.store.surreal import ImmutableEventStore
from riff.store.users import signed_in_name


def connect(settings: Settings, *, lock: StoreLock | None = None) -> Connection:
    """A signed-in connection using the settings' url, namespace, database, credentials."""
    url = settings.resolved_db_url
    path = surrealkv_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = Connection(url)
    try:
        if settings.db_access:
            conn.use(settings.db_namespace, settings.db_database)
            if not (settings.db_username and settings.db_password):
                raise AuthError(
                    f"access {settings.db_access!r} needs RIFF_DB_USERNAME and RIFF_DB_PASSWORD"
                )
            conn.signin_record(settings.db_access, settings.db_username, settings.db_password)
        else:
            if settings.db_username and settings.db_password:
                conn.signin_root(settings.db_username, settings.db_password)
            elif is_remote(url):
                raise AuthError(
                    f"server {url} needs credentials; set RIFF_DB_USERNAME and RIFF_DB_PASSWORD"
                )
            conn.use(settings.db_namespace, settings.db_database)
    except BaseException:
        conn.close()
        raise
    return conn


def open_store(
    settings: Settings, *, create: bool = True, check: bool = True
) -> ImmutableEventStore:
    """Open the configured store; use it as a context manager to release it.

    An embedded surrealkv:// store is locked for this process first
    (StoreInUseError names the holder). An empty database gets the schema
    when `create` (root connections only); a database with an older schema
    needs `riff db migrate` (SchemaMissingError) and one with a newer schema
    is refused (SchemaTooNewError).
    """
    url = settings.resolved_db_url
    path = surrealkv_path(url)
    lock = StoreLock(path) if path is not None else None
    if lock is not None:
        lock.acquire()
    try:
        conn = connect(settings)
        try:
            identity = signed_in_name(conn) if settings.db_access else None
            if create and not settings.db_access and current_version(conn) == 0:
                migrate(conn)
            if check:
                check_schema(conn)
        except BaseException:
            conn.close()
            raise
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return ImmutableEventStore(conn, identity=identity, lock=lock)
