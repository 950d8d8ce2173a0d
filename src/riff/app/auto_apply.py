"""How sure riff must be to repair without a person choosing (a light module: `riff guard`
reads it on every hook)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from riff.settings import Settings


def auto_apply_threshold(settings: Settings) -> float:
    """The lowest candidate score that `riff repair --yes` applies by default and that
    `riff guard --auto` applies on its own: one rule for both."""
    return settings.min_score


def applied_min_score(
    settings: Settings, min_score: float | None, *, unattended: bool, by_hand: bool = False
) -> tuple[float, bool]:
    """(the lowest re-link score a plan applies, whether --min-score was raised to it).

    A person who confirms the plan may go below the threshold with --min-score;
    when nobody confirms (`--yes`, or `--json`, which cannot ask), only what the
    calibration stands behind is applied. A re-link given by hand (--message with
    --parent/--root or alone) was chosen by a person: no threshold.
    """
    threshold = auto_apply_threshold(settings)
    score = threshold if min_score is None else min_score
    if unattended and not by_hand and score < threshold:
        return threshold, True
    return score, False


LINE_EDIT_KINDS = frozenset(
    {
        "malformed_line",
        "truncated_line",
        "duplicate_uuid",
        "tool_use_without_result",
        "tool_result_without_use",
    }
)
"""Finding kinds (riff.transcript.findings) that only line edits repair: `riff repair
--write` rewrites them, `riff guard --auto` (re-links only) leaves them to a person.
Spelled out here so that the hook path imports no transcript code."""


def auto_repairs(finding: Mapping[str, Any]) -> bool:
    """Whether `riff guard --auto` has something to do for a finding (as in scan JSON)."""
    return bool(finding.get("repairable")) and finding.get("kind") not in LINE_EDIT_KINDS
