"""The SurrealDB SDK, as riff imports it: without its HTTP clients until one is used.

The SDK's package imports every connection class, and with them aiohttp and
requests (a quarter of a second, and an SSL context each), which only its
http(s):// connections use. Each is first registered as a stand-in module that
runs the real import on the first attribute asked of it, so importing the SDK
runs neither. (importlib.util.LazyLoader does not serve: on Python 3.11 the
`import` statement itself reads the module's attributes, which runs it.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _ImportedOnUse(ModuleType):
    """Stands in for a module until an attribute it lacks is asked for: then the real
    module is imported, and this one takes on its names (whoever holds it sees them)."""

    def __getattr__(self, attribute: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attribute)


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return  # not installed: the SDK's own import says so
    stand_in = _ImportedOnUse(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


for _client in ("aiohttp", "requests"):
    _defer(_client)

from surrealdb import RecordID, Surreal  # noqa: E402 - after the stand-ins above

__all__ = ["RecordID", "Surreal"]
