"""Test fixtures are generated, never real user data: see riff.testing.synthetic."""

from riff.testing.synthetic import (
    BREAKAGE_KINDS,
    Breakage,
    BuiltSession,
    GeneratedSession,
    GroundTruth,
    build_projects_dir,
    generate_session,
    inject,
    iter_session_lines,
    write_generated_session,
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
    "write_generated_session",
    "write_session_stream",
]
