"""A re-link is validated once per plan: `riff repair` (real CLI, real store, real files).

The count is taken on the domain's one validation function
(riff.transcript.validation.check_repair), wrapped so each call is counted
and then runs as ever; nothing else is replaced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import orjson
import pytest
from typer.testing import CliRunner

import riff.transcript.validation as validation
from riff.app.demo import DemoSession
from riff.cli.app import app


def count_validations(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls of the domain's re-link validation, per message id."""
    calls: Counter[str] = Counter()
    real = validation.check_repair

    def counted(
        parents: Mapping[str, str | None],
        timestamps: Mapping[str, str | None],
        message_id: str,
        new_parent: str | None,
    ) -> list[validation.RepairProblem]:
        calls[message_id] += 1
        return real(parents, timestamps, message_id, new_parent)

    monkeypatch.setattr(validation, "check_repair", counted)
    return calls


def test_riff_repair_validates_each_relink_once(
    demo_sessions: list[DemoSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    calls = count_validations(monkeypatch)
    result = CliRunner().invoke(app, ["repair", target.session_id, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    recorded = [e["message_id"] for e in doc["events"]]
    assert recorded, doc  # the pipeline ran: something was planned and recorded
    assert all(calls[m] == 1 for m in recorded), calls


def test_a_chosen_relink_is_validated_once(
    demo_sessions: list[DemoSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = next(s for s in demo_sessions if "orphan" in s.breakages)
    truth = target.truths[0]
    assert truth.true_parent is not None
    calls = count_validations(monkeypatch)
    args = ["repair", target.session_id, "-m", truth.message_id, "-p", truth.true_parent]
    result = CliRunner().invoke(app, [*args, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert calls == Counter({truth.message_id: 1})
