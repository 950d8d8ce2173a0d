"""Small text forms that the CLI, the TUI and the report show alike."""

from __future__ import annotations

from collections.abc import Mapping


def short_id(uuid: str | None, width: int = 8) -> str:
    """The first characters of an id (a dash for none): enough to tell ids apart on screen."""
    return "—" if uuid is None else uuid[:width]


def signal_text(
    signals: Mapping[str, float],
    *,
    limit: int | None = None,
    separator: str = ", ",
    readable_names: bool = True,
) -> str:
    """A candidate's signals, strongest first: "tool id match 1.00, file order 0.90"."""
    strongest = sorted(signals.items(), key=lambda kv: -kv[1])
    if limit is not None:
        strongest = strongest[:limit]
    return separator.join(
        f"{name.replace('_', ' ') if readable_names else name} {value:.2f}"
        for name, value in strongest
    )


__all__ = ["short_id", "signal_text"]
