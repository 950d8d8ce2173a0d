"""Offline verification of an export: chains, digests, reverts, metadata, anchored heads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from riff.events.export import ExportReader, ExportSummary
from riff.events.fold import ChainBreak
from riff.events.verify import ChainVerifier, ValidationResult, check_expected_heads


def verify_export(path: Path, expected_heads: Mapping[str, str] | None = None) -> ValidationResult:
    """Verify an export file of either form in one streaming pass.

    Raises ExportFormatError when the file is not a readable export; returns
    a result whose breaks locate every inconsistency otherwise.
    """
    reader = ExportReader.open(path)
    verifier = ChainVerifier()
    summary = ExportSummary()
    claimed_reverted: set[str] = set()
    claimed_active: set[str] = set()
    for row in reader.events():
        claim = row.pop("is_reverted", None)
        if claim is True:
            claimed_reverted.add(row["event_id"])
        verifier.feed(row)
        summary.add(row, False)
    result = verifier.finish()
    del claimed_active
    for brk in _status_breaks(verifier, claimed_reverted, result):
        verifier.add_break(brk)
    assert reader.trailer is not None
    for brk in _metadata_breaks(
        reader.trailer.sessions, reader.trailer.metadata, summary, verifier
    ):
        verifier.add_break(brk)
    if expected_heads:
        for brk in check_expected_heads(result, expected_heads):
            verifier.add_break(brk)
    return result


def _status_breaks(
    verifier: ChainVerifier, claimed: set[str], result: ValidationResult
) -> list[ChainBreak]:
    breaks = []
    for event_id in sorted(claimed ^ result.reverted_ids):
        where = verifier.locate(event_id)
        says = "reverted" if event_id in claimed else "not reverted"
        breaks.append(
            ChainBreak(
                where[0],
                where[1],
                event_id,
                "metadata_mismatch",
                f"the export says the event is {says}, the log says otherwise",
            )
        )
    return breaks


def _metadata_breaks(
    sessions: Mapping[str, Any],
    metadata: Mapping[str, Any],
    summary: ExportSummary,
    verifier: ChainVerifier,
) -> list[ChainBreak]:
    computed = summary.metadata()
    reverted_repairs = verifier.reverted_repair_count()
    computed["active_events"] -= reverted_repairs
    computed["reverted_events"] = reverted_repairs
    breaks = []
    for key, value in computed.items():
        if metadata.get(key) != value:
            breaks.append(
                ChainBreak(
                    "*",
                    None,
                    None,
                    "metadata_mismatch",
                    f"metadata.{key} is {metadata.get(key)!r}, the events give {value!r}",
                )
            )
    extra = set(metadata) - set(computed)
    if extra:
        breaks.append(
            ChainBreak("*", None, None, "metadata_mismatch", f"unknown metadata {sorted(extra)}")
        )
    for session_id in sorted(set(sessions) | set(summary.heads)):
        recorded = sessions.get(session_id, {}).get("head_digest")
        actual = summary.heads.get(session_id)
        if recorded != actual:
            breaks.append(
                ChainBreak(
                    session_id,
                    None,
                    None,
                    "head_mismatch",
                    f"the export's sessions list head {str(recorded)[:12]}…, "
                    f"its events end at {str(actual)[:12]}…",
                )
            )
    return breaks
