"""Test fixtures are generated, never real user data: see riff.transcript.synthetic."""

from riff.transcript.synthetic import (
    BREAKAGE_KINDS,
    Breakage,
    BuiltSession,
    GeneratedSession,
    GroundTruth,
    build_projects_dir,
    generate_session,
    inject,
    iter_session_lines,
    write_session,
    write_session_stream,
)

__all__ = [
    "BREAKAGE_KINDS",
    "Breakage",
    "BuiltSession",
    "GeneratedSession",
    "GroundTruth",
    "build_projects_dir",
    "generate_session",
    "inject",
    "iter_session_lines",
    "write_session",
    "write_session_stream",
]
