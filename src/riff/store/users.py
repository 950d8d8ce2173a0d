"""Team mode: record users (admin side). Passwords are hashed by the database (argon2)."""

from __future__ import annotations

from typing import Any

from riff.store.connection import Connection, QueryFailed
from riff.store.errors import AuthError, StoreError

ACCESS_NAME = "operator"  # the DEFINE ACCESS of schema/001_init.surql


def create_user(conn: Connection, name: str, password: str) -> None:
    """Create a record user (needs a root/owner connection)."""
    if not password:
        raise AuthError(f"user {name!r} needs a non-empty password")
    try:
        created = conn.one(
            "CREATE riff_user SET name = $name, pass = crypto::argon2::generate($pass) "
            "RETURN VALUE name",
            {"name": name, "pass": password},
        )
    except QueryFailed as exc:
        if "already contains" in exc.message:
            raise AuthError(f"user {name!r} already exists; pick another name") from None
        if "`name`" in exc.message:
            raise AuthError(
                f"user name {name!r} is not allowed; use 1-64 letters, digits, _ . @ -"
            ) from None
        raise StoreError(f"cannot create user {name!r}: {exc.message}") from None
    if not created:  # the table's permissions refused it silently: not root/owner
        raise AuthError(
            f"user {name!r} was not created: only a root or owner connection may create "
            "users; run `riff db create-user` without RIFF_DB_ACCESS"
        )


def set_password(conn: Connection, name: str, password: str) -> None:
    if not password:
        raise AuthError(f"user {name!r} needs a non-empty password")
    rows = conn.one(
        "UPDATE riff_user SET pass = crypto::argon2::generate($pass) WHERE name = $name "
        "RETURN VALUE name",
        {"name": name, "pass": password},
    )
    if not rows:
        raise AuthError(f"user {name!r} does not exist; create it first")


def list_users(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.one("SELECT name, created_at FROM riff_user ORDER BY name")
    return [{"name": r["name"], "created_at": str(r.get("created_at"))} for r in rows or []]


def signed_in_name(conn: Connection) -> str | None:
    """The record user's name behind this connection ($auth), None for system users."""
    name = conn.one("RETURN $auth.name")
    return name if isinstance(name, str) else None
