"""The repository stands on its own: no tracked file points outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A path out of the checkout, or a document a clone does not have.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|/work/main|/work/wt|shared/spec|DESIGN\.md")
# Tests and benchmarks may read the real transcript corpus beside the checkout,
# behind a clean skip when it is absent; nothing else may point out.
ALLOWED_IN_TESTS = re.compile(r"\.\./shared/corpus")


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_refers_outside_the_repository() -> None:
    offenders: list[str] = []
    files = _tracked_files()
    assert any(f.name == "README.md" for f in files)  # the listing worked
    for path in files:
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary fixtures
        in_tests = path.relative_to(ROOT).parts[0] in ("tests", "bench")
        for number, line in enumerate(text.splitlines(), 1):
            if not OUTSIDE.search(line):
                continue
            if in_tests and ALLOWED_IN_TESTS.search(line):
                continue
            offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_the_docs_link_only_to_files_that_exist() -> None:
    link = re.compile(r"\]\(([^)#:]+)(?:#[^)]*)?\)")
    missing: list[str] = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in link.findall(doc.read_text(encoding="utf-8")):
            if not (doc.parent / target).exists():
                missing.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert missing == []
