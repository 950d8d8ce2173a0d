"""The whole review flow, driven with Textual's pilot on generated sessions and a real store."""

from __future__ import annotations

from pathlib import Path

import orjson
from textual.pilot import Pilot

from riff.settings import Settings
from riff.transcript import Candidate
from riff.transcript.discover import describe_file
from riff.tui.app import RiffApp
from riff.tui.screens.modals import ForceScreen, HelpScreen, WriteScreen
from riff.tui.screens.session import SessionScreen
from riff.tui.screens.session_list import SessionListScreen
from riff.tui.widgets.conversation import ConversationTree
from riff.tui.widgets.panels import CandidatePanel, FindingsPanel, LogPanel, SearchPanel

from .conftest import HEALTHY, ORPHANED, WRECKED, Projects, drive, settle


def _current(app: RiffApp) -> object:
    """The screen on top (typed loosely: a key press changes it behind mypy's back)."""
    return app.screen


def _parent_on_disk(path: Path, uuid: str) -> str | None:
    for line in path.read_bytes().splitlines():
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and obj.get("uuid") == uuid:
            parent = obj.get("parentUuid")
            return parent if isinstance(parent, str) else None
    raise AssertionError(f"{uuid} not in {path}")


def test_repair_undo_write_flow(settings: Settings, projects: Projects) -> None:
    orphan = projects.orphan.message_id
    assert orphan is not None
    path = projects.paths[ORPHANED]
    app = RiffApp(settings, session=ORPHANED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        # The screen opens on the first error: the orphan, marked and listed.
        assert screen.cursor_uuid() == orphan
        findings = screen.query_one(FindingsPanel).findings
        assert [f.kind for f in findings if f.severity == "error"] == ["orphan"]

        await pilot.press("r")
        await pilot.pause()
        panel = screen.query_one(CandidatePanel)
        assert panel.has_focus and panel.candidates
        top = panel.candidates[0]
        assert top.parent_uuid == projects.orphan.true_parent

        await pilot.press("t")  # jump to the candidate in the tree
        await pilot.pause()
        assert screen.cursor_uuid() == top.parent_uuid
        screen.jump_to(orphan)
        await pilot.pause()

        screen.query_one(CandidatePanel).focus()
        await pilot.press("enter")  # apply the top candidate
        await pilot.pause()
        assert screen.state is not None
        assert screen.state.parents[orphan] == top.parent_uuid
        assert screen.cursor_uuid() == orphan  # the tree reloaded in place
        log = screen.query_one(LogPanel)
        assert [(e.kind, e.message_id) for e in log.events] == [("repair", orphan)]
        stored = list(app.ws.store.events(ORPHANED))
        assert len(stored) == 1 and stored[0].validation_passed
        assert stored[0].new_parent_uuid == top.parent_uuid
        assert stored[0].operator == "alice"
        view = app.ws.store.get_view(ORPHANED)
        assert view is not None and view.through_seq == 1
        assert not [f for f in screen.state.effective_findings if f.kind == "orphan"]

        await pilot.press("u")  # undo: a revert event, the orphan is back
        await pilot.pause()
        assert [e.kind for e in app.ws.store.events(ORPHANED)] == ["repair", "revert"]
        assert stored[0].event_id in app.ws.store.reverted_ids(ORPHANED)
        assert screen.state.parents[orphan] == screen.state.file_parents[orphan]
        assert app.ws.store.get_view(ORPHANED).through_seq == 2  # type: ignore[union-attr]

        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.state.parents[orphan] == top.parent_uuid

        await pilot.press("w")  # diff preview first
        await pilot.pause()
        assert isinstance(app.screen, WriteScreen)
        assert top.parent_uuid in app.screen.diff
        assert _parent_on_disk(path, orphan) != top.parent_uuid  # nothing written yet
        await pilot.press("y")
        await pilot.pause()
        assert _current(app) is screen
        assert _parent_on_disk(path, orphan) == top.parent_uuid
        backups = [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".")]
        assert len(backups) == 1  # the original, kept
        assert _parent_on_disk(backups[0], orphan) != top.parent_uuid
        assert screen.state.pending_changes == {}
        assert not [f for f in screen.state.effective_findings if f.severity == "error"]

    drive(app, script)


def test_invalid_choice_needs_a_reason_and_a_second_yes(
    settings: Settings, projects: Projects
) -> None:
    orphan = projects.orphan.message_id
    assert orphan is not None
    app = RiffApp(settings, session=ORPHANED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen) and screen.state is not None
        # A later message is no valid parent (timestamp, maybe a descendant).
        later = screen.state.graph.uuid_at(len(screen.state.graph) - 1)
        screen.repair_target = orphan
        screen.apply(Candidate(parent_uuid=later, score=0.1))
        await pilot.pause()
        assert isinstance(app.screen, ForceScreen)
        assert app.screen.problems
        force = app.screen.query_one("#force")
        assert force.disabled  # no reason, no force
        await pilot.press("escape")
        await pilot.pause()
        assert list(app.ws.store.events(ORPHANED)) == []

        screen.apply(Candidate(parent_uuid=later, score=0.1))
        await pilot.pause()
        await pilot.click("#reason")
        await pilot.press(*"checked by hand")
        await pilot.click("#force")
        await pilot.pause()
        events = list(app.ws.store.events(ORPHANED))
        assert len(events) == 1 and not events[0].validation_passed
        assert "checked by hand" in events[0].reason

    drive(app, script)


def test_broken_session_opens_and_every_row_shows(settings: Settings, projects: Projects) -> None:
    app = RiffApp(settings, session=WRECKED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen) and screen.state is not None
        kinds = {f.kind for f in screen.query_one(FindingsPanel).findings}
        assert {"malformed_line", "cycle", "truncated_line", "duplicate_uuid"} <= kinds
        tree = screen.query_one(ConversationTree)
        assert len(tree.outline) == len(screen.state.graph)  # cycles laid out too
        assert tree.outline.cycle_starts
        for row in range(len(tree.outline)):  # every message's detail renders
            tree.move_to_node(tree.outline.nodes[row], center=False)
            screen._show_detail()
        await pilot.press("g", "j", "j", "G", "k", "h", "l", "space", "space", "enter")
        # A finding without a message (a malformed line) only explains itself.
        panel = screen.query_one(FindingsPanel)
        screen.action_tab("findings")
        row = next(i for i, f in enumerate(panel.findings) if f.kind == "malformed_line")
        panel.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert _current(app) is screen

    drive(app, script)


def test_missing_body_and_vanished_file_are_shown_not_raised(
    settings: Settings, projects: Projects
) -> None:
    app = RiffApp(settings, session=HEALTHY)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        projects.paths[HEALTHY].write_bytes(b"")  # the body is gone from under us
        await pilot.press("k", "k")
        await pilot.pause()
        await pilot.press("w", "r", "u", "slash", "x", "enter")
        await pilot.pause()
        assert _current(app) is screen

    drive(app, script)


def test_search_by_text_and_uuid(settings: Settings, projects: Projects) -> None:
    orphan = projects.orphan.message_id
    assert orphan is not None
    app = RiffApp(settings, session=ORPHANED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await pilot.press("g", "slash", *orphan[:10], "enter")
        await pilot.pause()
        assert screen.cursor_uuid() == orphan
        await pilot.press("slash", *"let me", "enter")
        await pilot.pause()
        assert len(screen.matches) > 1
        first = screen.cursor_uuid()
        await pilot.press("n")
        assert screen.cursor_uuid() == screen.matches[1] != first
        screen.action_tab("search")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen.cursor_uuid() == screen.matches[1]
        assert screen.query_one(SearchPanel).row_count == len(screen.matches)

    drive(app, script)


def test_session_list_sorts_filters_and_opens(settings: Settings, projects: Projects) -> None:
    app = RiffApp(settings)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionListScreen)
        ids = [s.session_id for s in screen.visible_rows()]
        assert ids[-1] == HEALTHY and set(ids) == {ORPHANED, HEALTHY, WRECKED}
        await pilot.press("b")
        assert HEALTHY not in [s.session_id for s in screen.visible_rows()]
        await pilot.press("b", "s", "s")
        sizes = [s.size for s in screen.visible_rows()]
        assert sizes == sorted(sizes, reverse=True)  # "largest"
        await pilot.press("slash", *"orphan", "enter")
        assert [s.session_id for s in screen.visible_rows()] == [ORPHANED]
        await pilot.press("escape")
        assert len(screen.visible_rows()) == 3
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("slash", *"1111", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.file.session_id == ORPHANED
        await pilot.press("escape")
        await pilot.pause()
        assert _current(app) is screen

    drive(app, script)


def test_session_opened_from_the_list_shows_its_cursor(
    settings: Settings, projects: Projects
) -> None:
    app = RiffApp(settings)

    async def script(pilot: Pilot[None]) -> None:
        app.open_session(describe_file(projects.paths[HEALTHY]))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionScreen) and screen.state is not None
        tree = screen.query_one(ConversationTree)
        height = tree.scrollable_content_region.height
        assert len(tree.outline) > height  # the last message is below the first page
        assert tree.scroll_y <= tree.cursor_row < tree.scroll_y + height

    drive(app, script)


def test_a_refused_revert_is_shown_not_raised(settings: Settings, projects: Projects) -> None:
    """Undo of an event someone else reverted meanwhile: the store refuses (RevertError)."""
    orphan = projects.orphan.message_id
    assert orphan is not None
    app = RiffApp(settings, session=ORPHANED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await pilot.press("r")
        await pilot.pause()
        screen.query_one(CandidatePanel).focus()
        await pilot.press("enter")
        await pilot.pause()
        [repair] = list(app.ws.store.events(ORPHANED))
        # Reverted behind the screen's back, as another riff process would.
        app.ws.store.revert(repair.event_id, operator="bob")
        await pilot.press("u")  # the screen still thinks the repair is in effect
        await pilot.pause()
        assert _current(app) is screen
        assert [e.kind for e in app.ws.store.events(ORPHANED)] == ["repair", "revert"]
        shown = [n.message for n in app._notifications]
        assert any("already reverted" in m for m in shown), shown

    drive(app, script)
