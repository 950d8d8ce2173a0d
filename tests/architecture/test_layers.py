"""Imports point one way: interfaces -> riff.app -> domain -> (nothing of riff's but the base).

The layers (docs/architecture.md):

    interfaces  riff.cli, riff.tui, riff.report, riff.jobs, riff.hooks
    services    riff.app
    domain      riff.transcript, riff.events, riff.views, riff.tlog, riff.testing
    storage     riff.store
    base        riff (the version), riff.errors, riff.lazy, riff.maps, riff.settings: anyone
                may import them

Rules, checked on every `import` in src/riff (inside functions and
TYPE_CHECKING blocks too, since a lazy import is still a dependency):

- a layer imports only from the layers below it;
- interfaces never import riff.store or riff.views: they go through riff.app;
- among interfaces only the CLI imports the others (it starts the TUI, the jobs, the report);
- the domain never imports riff.app, riff.store or an interface;
- the store never imports the domain (it records rows; riff.app gives them meaning).

KNOWN lists the imports that break a rule and are accepted, each with its
reason; it is empty, and an entry that no longer occurs fails the test too, so
the list stays exact.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

INTERFACES = {"cli", "tui", "report", "jobs", "hooks"}
SERVICES = {"app"}
DOMAIN = {"transcript", "events", "views", "tlog", "testing"}
STORAGE = {"store"}
BASE = {"", "errors", "lazy", "maps", "settings"}
RANK = {
    **dict.fromkeys(INTERFACES, 3),
    **dict.fromkeys(SERVICES, 2),
    **dict.fromkeys(DOMAIN, 1),
    **dict.fromkeys(STORAGE, 0),
}

KNOWN: set[tuple[str, str]] = set()


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _broken_rule(importer: str, imported: str) -> str | None:
    source, target = _package(importer), _package(imported)
    if source == target or target in BASE:
        return None
    if target not in RANK:
        return f"{imported} belongs to no layer; add it to tests/architecture/test_layers.py"
    if source not in RANK:
        return f"{importer} belongs to no layer; add it to tests/architecture/test_layers.py"
    if source in INTERFACES and target in ("store", "views"):
        return "interfaces go through riff.app, never to riff.store or riff.views"
    if source in INTERFACES and target in INTERFACES and source != "cli":
        return "only the CLI starts other interfaces"
    if source in DOMAIN and target not in DOMAIN:
        return "the domain imports no service, store or interface"
    if source in STORAGE:
        return "the store imports no domain package"
    if RANK[target] > RANK[source]:
        return "imports point down the layers"
    return None


def _imports() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted((SRC / "riff").rglob("*.py")):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found.extend((module, name) for name in names if name.startswith("riff."))
    return found


def test_imports_point_down_the_layers() -> None:
    imports = _imports()
    assert len(imports) > 100  # the scan saw riff's code
    broken = {(a, b): rule for a, b in imports if (rule := _broken_rule(a, b))}
    new = sorted(f"{a} -> {b}: {rule}" for (a, b), rule in broken.items() if (a, b) not in KNOWN)
    assert new == []
    gone = sorted(f"{a} -> {b}" for a, b in KNOWN if (a, b) not in broken)
    assert gone == [], "fixed: remove these from KNOWN"


def test_the_rules_catch_what_they_forbid() -> None:
    assert _broken_rule("riff.cli.repair_cmd", "riff.store")
    assert _broken_rule("riff.tui.app", "riff.views")
    assert _broken_rule("riff.transcript.reader", "riff.app.sessions")
    assert _broken_rule("riff.events.model", "riff.store.rows")
    assert _broken_rule("riff.store.surreal", "riff.transcript.validation")
    assert _broken_rule("riff.app.repairs", "riff.cli.output")
    assert _broken_rule("riff.jobs.tasks", "riff.tui.app")
    assert _broken_rule("riff.cli.tui_cmd", "riff.tui.app") is None
    assert _broken_rule("riff.app.repairs", "riff.store") is None
    assert _broken_rule("riff.cli.repair_cmd", "riff.transcript") is None
    assert _broken_rule("riff.store.surreal", "riff.errors") is None
