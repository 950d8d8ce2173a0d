"""A connection to SurrealDB: embedded (mem://, surrealkv://) or a server (ws, http).

All queries go through `Connection.run`, which takes parameters as $vars only,
checks every statement's status and turns engine errors into store errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from riff.store.engine_memory import preset_value_cache_size
from riff.store.errors import AuthError, OpenedElsewhereError, StoreError
from riff.store.sdk import Surreal

EMBEDDED_SCHEMES = ("mem://", "memory", "surrealkv://", "file://", "rocksdb://")
REMOTE_SCHEMES = ("ws://", "wss://", "http://", "https://")
_NOT_EXECUTED = "not executed due to a failed transaction"
# What surrealkv says when another process wrote the files under this one.
_FOREIGN_WRITE = "Invalid revision"


class QueryFailed(StoreError):
    """A statement returned an error; `message` is the engine's text."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def surrealkv_path(url: str) -> Path | None:
    """The directory of an embedded surrealkv:// (or file://) store, else None."""
    for scheme in ("surrealkv://", "file://", "rocksdb://"):
        if url.startswith(scheme):
            rest = url[len(scheme) :]
            return Path(rest).expanduser().resolve() if rest else None
    return None


def is_remote(url: str) -> bool:
    return url.startswith(REMOTE_SCHEMES)


class Connection:
    """A thin wrapper around the SDK's blocking connection."""

    def __init__(self, url: str) -> None:
        if not url.startswith(EMBEDDED_SCHEMES + REMOTE_SCHEMES):
            raise StoreError(
                f"database url {url!r} is not supported; use mem://, surrealkv:///path, "
                "ws(s)://host:port or http(s)://host:port"
            )
        self.url = url
        if surrealkv_path(url) is not None:
            preset_value_cache_size()  # else the engine lists every process to size it
        try:
            self._db: Any = Surreal(url)
            if is_remote(url) and hasattr(self._db, "connect"):
                self._db.connect()
        except Exception as exc:
            raise StoreError(f"cannot open database {url}: {_one_line(exc)}") from None
        self.namespace: str | None = None
        self.database: str | None = None

    def use(self, namespace: str, database: str) -> None:
        self._db.use(namespace, database)
        self.namespace, self.database = namespace, database

    def signin_root(self, username: str, password: str) -> None:
        try:
            self._db.signin({"username": username, "password": password})
        except Exception as exc:
            raise AuthError(
                f"sign-in as {username!r} at {self.url} failed ({_one_line(exc)}); "
                "check RIFF_DB_USERNAME / RIFF_DB_PASSWORD"
            ) from None

    def _record_credentials(self, access: str, name: str, password: str) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "database": self.database,
            "access": access,
            "variables": {"name": name, "pass": password},
        }

    def signin_record(self, access: str, name: str, password: str) -> None:
        try:
            self._db.signin(self._record_credentials(access, name, password))
        except Exception as exc:
            raise AuthError(
                f"sign-in of user {name!r} with access {access!r} failed ({_one_line(exc)}); "
                "check the name and password"
            ) from None

    def signup_record(self, access: str, name: str, password: str) -> None:
        try:
            self._db.signup(self._record_credentials(access, name, password))
        except Exception as exc:
            raise AuthError(
                f"sign-up of user {name!r} failed ({_one_line(exc)}); the name may be taken"
            ) from None

    def invalidate(self) -> None:
        self._db.invalidate()

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run statements; return each statement's result; raise QueryFailed on any error."""
        try:
            response = self._db.query_raw(sql, dict(params or {}))
        except Exception as exc:
            if _FOREIGN_WRITE in str(exc):
                raise OpenedElsewhereError(self.url) from None
            raise QueryFailed(_one_line(exc)) from None
        if response.get("error") is not None:
            error = response["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            if _FOREIGN_WRITE in str(message) and surrealkv_path(self.url) is not None:
                raise OpenedElsewhereError(self.url)
            raise QueryFailed(str(message))
        results = response.get("result") or []
        failures = [r["result"] for r in results if r.get("status") == "ERR"]
        if failures:
            real = [f for f in failures if _NOT_EXECUTED not in str(f)]
            message = str((real or failures)[0])
            if _FOREIGN_WRITE in message and surrealkv_path(self.url) is not None:
                raise OpenedElsewhereError(self.url)
            raise QueryFailed(message)
        return [r.get("result") for r in results]

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The result of the last statement."""
        results = self.run(sql, params)
        return results[-1] if results else None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closed twice or a dropped socket
            self._db.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
