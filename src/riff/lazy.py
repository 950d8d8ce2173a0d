"""Package names that load their module on first use (PEP 562), written once.

Importing one module of a package runs the package's ``__init__`` first: a
package that imported all of its modules there would make ``riff scan`` pay
for the event core, the store's SDK or the log's proofs it never uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(namespace: dict[str, Any], homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the package whose globals are ``namespace``: each
    name of ``homes`` is imported from its module (a full dotted name) when first
    asked for, then kept in the namespace."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
