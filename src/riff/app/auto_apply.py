"""How sure riff must be to repair without a person choosing (a light module: `riff guard`
reads it on every hook)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from riff.settings import Settings


def auto_apply_threshold(settings: Settings) -> float:
    """The lowest candidate score that `riff repair --yes` applies by default and that
    `riff guard --auto` applies on its own: one rule for both."""
    return settings.min_score
