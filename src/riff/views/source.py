"""What a view is built from: the source transcript's parent map and timestamps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from riff.views.record import SourceFingerprint


@dataclass(frozen=True, slots=True)
class SourceState:
    """A session's base state: parents and timestamps as the transcript has them."""

    session_id: str | None
    parents: Mapping[str, str | None]
    timestamps: Mapping[str, str | None]
    fingerprint: SourceFingerprint | None = None


def read_source(path: Path | str) -> SourceState:
    """Parents and timestamps of every uuid-bearing line of a transcript file."""
    from riff.transcript.reader import read_transcript  # the transcript layer reads files

    transcript = read_transcript(path)
    parents = transcript.parent_map()
    timestamps = transcript.timestamp_map()
    fp = transcript.fingerprint
    assert fp.sha256 is not None  # read with its content hash (the default)
    return SourceState(
        session_id=transcript.session_id,
        parents=parents,
        timestamps=timestamps,
        fingerprint=SourceFingerprint(str(Path(path).resolve()), fp.size, fp.mtime_ns, fp.sha256),
    )
