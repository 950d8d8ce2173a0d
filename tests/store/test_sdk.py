"""The store imports the SurrealDB SDK without its HTTP clients, which still work when used."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
import riff.store.connection  # the SDK, as riff imports it
loaded = [m for m in ("aiohttp.client", "requests.sessions") if m in sys.modules]
assert not loaded, loaded
from surrealdb import Surreal
import surrealdb.connections.async_http as async_http
import surrealdb.connections.blocking_http as blocking_http
assert type(Surreal("http://127.0.0.1:9")).__name__ == "BlockingHttpSurrealConnection"
assert async_http.aiohttp.ClientTimeout(total=1).total == 1  # the real module, on first use
assert blocking_http.requests.Session.__name__ == "Session"
assert "aiohttp.client" in sys.modules and "requests.sessions" in sys.modules
import aiohttp.web_exceptions  # a submodule imports as usual
print("ok")
"""


def test_http_clients_load_on_first_use() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
