"""No test depends on the machine's speed: no assertion on a clock, no Hypothesis deadline."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
CLOCKS = {"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "process_time", "time"}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(TESTS.rglob("*.py"))]


def _reads_a_clock(node: ast.AST, clock_names: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in clock_names:
            return True
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in CLOCKS
            and isinstance(sub.func.value, ast.Name)
            and sub.func.value.id == "time"
        ):
            return True
    return False


def _clock_asserts(scope: ast.AST) -> list[int]:
    """Lines of asserts that read a clock, directly or through a name computed from one."""
    names: set[str] = set()
    assigns = [n for n in ast.walk(scope) if isinstance(n, ast.Assign)]
    for _ in range(3):  # start = clock(); elapsed = clock() - start; slow = elapsed > 1
        for node in assigns:
            if _reads_a_clock(node.value, names):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return [
        n.lineno for n in ast.walk(scope) if isinstance(n, ast.Assert) and _reads_a_clock(n, names)
    ]


def test_no_assertion_reads_a_clock() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{line}"
        for path, module in _modules()
        for line in _clock_asserts(module)
    ]
    assert offenders == [], "assert on elapsed time; measure speed in bench/ instead"


def test_no_hypothesis_deadline() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{node.lineno}"
        for path, module in _modules()
        for node in ast.walk(module)
        if isinstance(node, ast.keyword)
        and node.arg == "deadline"
        and not (isinstance(node.value, ast.Constant) and node.value.value is None)
    ]
    assert offenders == [], "a Hypothesis deadline fails slow examples on a loaded machine"
