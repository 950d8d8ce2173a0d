"""A re-link chosen in the TUI is validated once (real app, real store, real file).

The count is taken on the domain's one validation function; see
tests/cli/test_validation_once.py for how.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from riff.settings import Settings
from riff.transcript import Candidate
from riff.tui.app import RiffApp
from riff.tui.screens.session import SessionScreen
from tests.cli.test_validation_once import count_validations

from .conftest import ORPHANED, Projects, drive, wait_until


def test_a_repair_in_the_tui_is_validated_once(
    settings: Settings, projects: Projects, monkeypatch: pytest.MonkeyPatch
) -> None:
    orphan = projects.orphan.message_id
    parent = projects.orphan.true_parent
    assert orphan is not None and parent is not None
    app = RiffApp(settings, session=ORPHANED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen) and screen.state is not None
        screen.repair_target = orphan
        calls = count_validations(monkeypatch)
        screen.apply(Candidate(parent_uuid=parent, score=0.9))

        def recorded() -> bool:
            return len(list(app.ws.store.events(ORPHANED))) == 1

        await wait_until(pilot, recorded, "the repair recorded")
        [event] = app.ws.store.events(ORPHANED)
        assert event.validation_passed and event.new_parent_uuid == parent
        assert dict(calls) == {orphan: 1}

    drive(app, script)
