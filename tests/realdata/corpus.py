"""Where the real transcripts are: the recordings of tests/fixtures/real_client
(always present) and the development corpus beside the checkout (or
``$RIFF_DEV_CORPUS``), skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_CLIENT = REPO / "tests" / "fixtures" / "real_client"


def dev_corpus() -> Path | None:
    named = os.environ.get("RIFF_DEV_CORPUS")
    path = Path(named) if named else REPO.parent / "shared" / "corpus" / "dev"
    return path if path.is_dir() else None


def real_client_files() -> list[Path]:
    """Every non-empty transcript the real client wrote: the flat recordings and
    every file of the recorded project folders (sessions, subagent files)."""
    return sorted(p for p in REAL_CLIENT.rglob("*.jsonl") if p.stat().st_size > 0)


def real_client_id(path: Path) -> str:
    return path.relative_to(REAL_CLIENT).as_posix()


def dev_files() -> list[Path]:
    corpus = dev_corpus()
    return sorted(corpus.glob("*.jsonl")) if corpus else []


def real_files() -> list[object]:
    """pytest params: every real-client recording, then every dev file (or one skipped
    placeholder when the corpus is absent)."""
    params: list[object] = [pytest.param(p, id=real_client_id(p)) for p in real_client_files()]
    dev = dev_files()
    if dev:
        params += [pytest.param(p, id=p.name[:60]) for p in dev]
    else:
        params.append(
            pytest.param(
                None, id="dev-corpus", marks=pytest.mark.skip(reason="no real dev corpus here")
            )
        )
    return params
