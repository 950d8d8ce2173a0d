"""The whole review flow, driven with Textual's pilot on generated sessions and a real store."""

from __future__ import annotations

from pathlib import Path

import orjson
from textual.pilot import Pilot
from textual.widgets import Input

from riff.app.recording import append_revert
from riff.settings import Settings
from riff.transcript import Candidate
from riff.transcript.discover import describe_file
from riff.tui.app import RiffApp
from riff.tui.screens.modals import ForceScreen, HelpScreen, WriteScreen
from riff.tui.screens.session import SessionScreen
from riff.tui.screens.session_list import SessionListScreen
from riff.tui.widgets.conversation import ConversationTree
from riff.tui.widgets.detail import DetailPane
from riff.tui.widgets.panels import CandidatePanel, FindingsPanel, LogPanel, SearchPanel

from .conftest import (
    HEALTHY,
    ORPHANED,
    WRECKED,
    Projects,
    drive,
    laid_out,
    press_until,
    settle,
    wait_until,
)


def _current(app: RiffApp) -> object:
    """The screen on top (typed loosely: a key press changes it behind mypy's back)."""
    return app.screen


async def _type_into(pilot: Pilot[None], box: Input, open_key: str, text: str) -> None:
    """Open `box` with `open_key` and type `text` once it has the focus (keys typed before
    would go to the widget that had it)."""
    await press_until(pilot, open_key, until=lambda: box.has_focus, what=f"{box.id} focused")
    await press_until(pilot, *text, until=lambda: box.value == text, what=f"{text!r} typed")


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

        panel = screen.query_one(CandidatePanel)

        def shown() -> bool:
            return panel.has_focus and bool(panel.candidates)

        await press_until(pilot, "r", until=shown, what="candidates shown")
        top = panel.candidates[0]
        assert top.parent_uuid == projects.orphan.true_parent

        def at_top() -> bool:
            return screen.cursor_uuid() == top.parent_uuid

        await press_until(pilot, "t", until=at_top, what="cursor on the candidate")
        screen.jump_to(orphan)
        panel.focus()
        await wait_until(pilot, lambda: panel.has_focus, "candidate panel focused")

        assert screen.state is not None

        def repaired() -> bool:
            state = screen.state
            return state is not None and state.parents[orphan] == top.parent_uuid

        await press_until(pilot, "enter", until=repaired, what="top candidate applied")
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

        def two_events() -> bool:
            return len(list(app.ws.store.events(ORPHANED))) == 2

        await press_until(pilot, "u", until=two_events, what="the revert")  # undo
        assert [e.kind for e in app.ws.store.events(ORPHANED)] == ["repair", "revert"]
        assert stored[0].event_id in app.ws.store.reverted_ids(ORPHANED)
        assert screen.state.parents[orphan] == screen.state.file_parents[orphan]
        assert app.ws.store.get_view(ORPHANED).through_seq == 2  # type: ignore[union-attr]

        await press_until(pilot, "r", until=shown, what="candidates shown again")
        await press_until(pilot, "enter", until=repaired, what="top candidate applied again")

        def preview() -> bool:
            return isinstance(app.screen, WriteScreen) and app.screen.is_mounted

        await press_until(pilot, "w", until=preview, what="the diff preview")
        assert isinstance(app.screen, WriteScreen)
        assert top.parent_uuid in app.screen.diff
        assert _parent_on_disk(path, orphan) != top.parent_uuid  # nothing written yet

        def written() -> bool:
            state = screen.state
            return _current(app) is screen and state is not None and not state.pending_changes

        await press_until(pilot, "y", until=written, what="the file written")
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

        def asking() -> bool:
            return isinstance(app.screen, ForceScreen) and bool(app.screen.query("#force"))

        screen.apply(Candidate(parent_uuid=later, score=0.1))
        await wait_until(pilot, asking, "the force dialog")
        assert isinstance(app.screen, ForceScreen)
        assert app.screen.problems
        force = app.screen.query_one("#force")
        assert force.disabled  # no reason, no force

        def back() -> bool:
            return _current(app) is screen

        await press_until(pilot, "escape", until=back, what="the dialog closed")
        assert list(app.ws.store.events(ORPHANED)) == []

        screen.apply(Candidate(parent_uuid=later, score=0.1))
        await wait_until(pilot, asking, "the force dialog again")
        dialog = app.screen
        reason = dialog.query_one("#reason", Input)
        await wait_until(pilot, lambda: laid_out(reason), "the dialog laid out")
        await pilot.click("#reason")
        await wait_until(pilot, lambda: reason.has_focus, "the reason box focused")

        def typed() -> bool:
            return reason.value == "checked by hand"

        await press_until(pilot, *"checked by hand", until=typed, what="the reason typed")
        force = dialog.query_one("#force")
        await wait_until(
            pilot, lambda: not force.disabled and laid_out(force), "the force button enabled"
        )
        await pilot.click("#force")

        def one_event() -> bool:
            return len(list(app.ws.store.events(ORPHANED))) == 1

        await wait_until(pilot, one_event, "the forced repair")
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
        detail = screen.query_one(DetailPane)
        await press_until(
            pilot, "g", "j", "j", "G", "k", "h", "l", "space", "space", "enter",
            until=lambda: detail.has_focus, what="the message opened",
        )  # fmt: skip
        # A finding without a message (a malformed line) only explains itself.
        panel = screen.query_one(FindingsPanel)
        screen.action_tab("findings")
        await wait_until(pilot, lambda: panel.has_focus, "the findings focused")
        row = next(i for i, f in enumerate(panel.findings) if f.kind == "malformed_line")
        panel.move_cursor(row=row)

        def explained() -> bool:
            return any(n.title == "malformed_line" for n in app._notifications)

        await press_until(pilot, "enter", until=explained, what="the finding explained")
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
        candidates = screen.query_one(CandidatePanel)
        await press_until(
            pilot, "k", "k", "w", "r", "u",
            until=lambda: candidates.has_focus, what="the candidates focused",
        )  # fmt: skip
        search = screen.query_one("#search-input", Input)
        await _type_into(pilot, search, "slash", "x")

        def hidden() -> bool:
            return not search.display

        await press_until(pilot, "enter", until=hidden, what="the search run")
        assert _current(app) is screen

    drive(app, script)


def test_search_by_text_and_uuid(settings: Settings, projects: Projects) -> None:
    orphan = projects.orphan.message_id
    assert orphan is not None
    app = RiffApp(settings, session=ORPHANED)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        search = screen.query_one("#search-input", Input)
        await press_until(pilot, "g", until=lambda: screen.cursor_uuid() != orphan, what="top")
        await _type_into(pilot, search, "slash", orphan[:10])

        def found() -> bool:
            return screen.cursor_uuid() == orphan

        await press_until(pilot, "enter", until=found, what="the uuid found")
        await _type_into(pilot, search, "slash", "let me")

        def several() -> bool:
            return len(screen.matches) > 1

        await press_until(pilot, "enter", until=several, what="the text found")
        first = screen.cursor_uuid()
        assert first == screen.matches[0]

        def second() -> bool:
            return screen.cursor_uuid() == screen.matches[1]

        await press_until(pilot, "n", until=second, what="the next hit")
        assert screen.cursor_uuid() != first
        screen.jump_to(screen.matches[0])
        hits = screen.query_one(SearchPanel)
        screen.action_tab("search")
        await wait_until(pilot, lambda: hits.has_focus, "the hits focused")
        await press_until(pilot, "down", "enter", until=second, what="the second hit opened")
        assert screen.query_one(SearchPanel).row_count == len(screen.matches)

    drive(app, script)


def test_session_list_sorts_filters_and_opens(settings: Settings, projects: Projects) -> None:
    app = RiffApp(settings)

    async def script(pilot: Pilot[None]) -> None:
        screen = app.screen
        assert isinstance(screen, SessionListScreen)
        ids = [s.session_id for s in screen.visible_rows()]
        assert ids[-1] == HEALTHY and set(ids) == {ORPHANED, HEALTHY, WRECKED}
        table = screen.query_one("#sessions")
        box = screen.query_one("#filter", Input)
        await press_until(pilot, "b", until=lambda: screen.broken_only, what="broken only")
        assert HEALTHY not in [s.session_id for s in screen.visible_rows()]

        def sorted_by_size() -> bool:
            return not screen.broken_only and screen.sort_index == 2

        await press_until(pilot, "b", "s", "s", until=sorted_by_size, what="sorted by size")
        sizes = [s.size for s in screen.visible_rows()]
        assert sizes == sorted(sizes, reverse=True)  # "largest"
        await _type_into(pilot, box, "slash", "orphan")
        await press_until(pilot, "enter", until=lambda: table.has_focus, what="the list focused")
        assert screen.filter_text == "orphan"
        assert [s.session_id for s in screen.visible_rows()] == [ORPHANED]

        def cleared() -> bool:
            return not box.display and not screen.filter_text

        await press_until(pilot, "escape", until=cleared, what="the filter cleared")
        assert len(screen.visible_rows()) == 3

        def helping() -> bool:
            return isinstance(app.screen, HelpScreen)

        await press_until(pilot, "question_mark", until=helping, what="the help")

        def listed() -> bool:
            return _current(app) is screen and table.has_focus

        await press_until(pilot, "escape", until=listed, what="the help closed")
        await _type_into(pilot, box, "slash", "1111")
        await press_until(pilot, "enter", until=lambda: table.has_focus, what="the list focused")

        def opened() -> bool:
            return isinstance(app.screen, SessionScreen)

        await press_until(pilot, "enter", until=opened, what="the session opened")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.file.session_id == ORPHANED
        await press_until(pilot, "escape", until=lambda: _current(app) is screen, what="back")

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
        append_revert(app.ws.store, repair.event_id, operator="bob")
        await pilot.press("u")  # the screen still thinks the repair is in effect
        await pilot.pause()
        assert _current(app) is screen
        assert [e.kind for e in app.ws.store.events(ORPHANED)] == ["repair", "revert"]
        shown = [n.message for n in app._notifications]
        assert any("already reverted" in m for m in shown), shown

    drive(app, script)
