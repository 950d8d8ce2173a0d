"""Small text forms that the CLI, the TUI and the report show alike."""

from __future__ import annotations


def short_id(uuid: str | None, width: int = 8) -> str:
    """The first characters of an id (a dash for none): enough to tell ids apart on screen."""
    return "—" if uuid is None else uuid[:width]


__all__ = ["short_id"]
