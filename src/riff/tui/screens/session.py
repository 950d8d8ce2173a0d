"""One session: the conversation tree, the selected message, findings, candidates, log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent

from riff.app.auto_apply import auto_apply_threshold
from riff.app.display import short_id
from riff.app.repair_plan import (
    SessionRepairPlan,
    apply_session_plan,
    plan_rows,
    plan_session_repairs,
)
from riff.app.repairs import PlannedRepair, candidates_for, preview_write, write_and_reload
from riff.app.review import (
    apply_choice,
    parent_in_effect,
    pending_count,
    plan_choice,
    record_of,
    revert_in_session,
    reverted_ids,
    search_session,
    shown_findings,
    shown_graph,
    undo_target,
)
from riff.app.sessions import SessionState, load_session, session_events
from riff.events import RepairEvent
from riff.transcript import (
    Candidate,
    Finding,
    MessageGraph,
    MessageRecord,
    SessionFile,
    SessionScan,
)
from riff.transcript.resume import resume_chain_indices, resume_leaf_index
from riff.tui.errors import ACTION_ERRORS
from riff.tui.plain import plain
from riff.tui.screens.modals import ConfirmScreen, ForceScreen, PlanScreen, WriteScreen
from riff.tui.widgets.conversation import ConversationTree
from riff.tui.widgets.detail import DetailPane, render_message
from riff.tui.widgets.panels import (
    CandidatePanel,
    FindingsPanel,
    LogPanel,
    SearchPanel,
    SessionPanels,
)

if TYPE_CHECKING:
    from riff.tui.app import RiffApp

SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class SessionScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("r", "repair", "Repair"),
        Binding("p", "plan", "Plan all"),
        Binding("u", "undo", "Undo"),
        Binding("w", "write", "Write file"),
        Binding("n", "next_match(1)", "Next hit", show=False),
        Binding("N", "next_match(-1)", "Prev hit", show=False),
        Binding("f", "tab('findings')", "Findings"),
        Binding("c", "tab('candidates')", "Candidates", show=False),
        Binding("e", "tab('log')", "Event log"),
        Binding("tab", "focus_next", "Next pane", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, file: SessionFile) -> None:
        super().__init__()
        self.file = file
        self.state: SessionState | None = None
        self.repair_target: str | None = None
        self.matches: list[str] = []
        self.match_pos = -1
        self._scan: SessionScan | None = None
        self._events: list[RepairEvent] | None = None
        self.panels_ready = False
        self._panels_started = False
        self._panel_waiters: list[Callable[[], object]] = []

    @property
    def riff(self) -> RiffApp:
        from riff.tui.app import RiffApp

        assert isinstance(self.app, RiffApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static(plain(f"riff · {self.file.session_id} · loading…"), id="title")
        with Horizontal(id="body"):
            yield ConversationTree(id="tree")
            with Vertical(id="side"):
                yield DetailPane(id="detail")
                # The tabs are mounted once the session is on screen (_mount_panels).
        yield Input(placeholder="search text or uuid, Enter to find", id="search-input")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search-input", Input).display = False
        self.query_one(ConversationTree).focus()
        self.load()
        # The store opens after the first paint, while the transcript is read.
        self.call_after_refresh(self._read_events)

    # -- loading ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        """Read the transcript off the UI thread; the store is only touched on it."""
        try:
            state = load_session(self.riff.ws, self.file, with_events=False)
        except ACTION_ERRORS as exc:
            self.app.call_from_thread(self._load_failed, exc)
            return
        self.app.call_from_thread(self._loaded, state.scan)

    def _read_events(self) -> None:
        try:
            self._events = session_events(self.riff.ws, self.file.session_id)
        except ACTION_ERRORS as exc:
            self._load_failed(exc)
            return
        self._show_loaded()

    def _load_failed(self, exc: Exception) -> None:
        self.query_one("#title", Static).update(plain(f"riff · {self.file.session_id} · {exc}"))
        self.notify(str(exc), severity="error", timeout=10)
        self._start_panels()

    def _start_panels(self) -> None:
        if not self._panels_started:
            self._panels_started = True
            self.call_after_refresh(self._mount_panels)

    async def _mount_panels(self) -> None:
        """The tabs, built after the first screen: showing a session does not wait for them."""
        panels = SessionPanels(id="panels")
        await self.query_one("#side", Vertical).mount(panels)
        if not panels.is_attached or not panels.query(FindingsPanel):
            return  # the screen was closed while the tabs were being built
        self.panels_ready = True
        if self.state is not None:
            self._fill_panels(self.state)
        waiters, self._panel_waiters = self._panel_waiters, []
        for callback in waiters:
            callback()

    def _when_panels(self, callback: Callable[[], object]) -> None:
        """Run `callback` now if the tabs are mounted, else as soon as they are."""
        if self.panels_ready:
            callback()
        else:
            self._panel_waiters.append(callback)

    def _fill_panels(self, state: SessionState) -> None:
        self.query_one(FindingsPanel).show(shown_findings(state))
        self.query_one(LogPanel).show(state.events, reverted_ids(state))

    def _loaded(self, scan: SessionScan) -> None:
        self._scan = scan
        self._show_loaded()

    def _show_loaded(self) -> None:
        """Show the session once both the transcript and its events are read."""
        if self._scan is None or self._events is None or self.state is not None:
            return
        self.set_state(SessionState(self.file, self._scan, self._events))
        self._scan = self._events = None

    def set_state(self, state: SessionState, *, keep: str | None = None) -> None:
        """Show `state`, keeping the cursor on `keep` (or on the current message)."""
        tree = self.query_one(ConversationTree)
        current = keep or self.cursor_uuid()
        self.state = state
        graph = shown_graph(state)
        findings = shown_findings(state)
        marks: dict[int, str] = {}
        for finding in findings:
            for uuid in finding.message_ids:
                i = graph.get_index(uuid)
                if i is not None and SEVERITY_RANK.get(finding.severity, 0) > SEVERITY_RANK.get(
                    marks.get(i, ""), 0
                ):
                    marks[i] = finding.severity
        leaf = resume_leaf_index(graph, state.transcript.last_prompt_leaf)
        resume = frozenset(resume_chain_indices(graph, leaf)) if leaf is not None else frozenset()
        keep_node = graph.get_index(current) if current else None
        if keep_node is None and len(graph):
            keep_node = self._first_problem(graph, findings)
            if keep_node is None:
                keep_node = len(graph) - 1
        tree.set_graph(graph, marks=marks, resume=resume, keep_node=keep_node)
        if self.panels_ready:
            self._fill_panels(state)
        self._title()
        self._show_detail()
        self._start_panels()

    @staticmethod
    def _first_problem(graph: MessageGraph, findings: list[Finding]) -> int | None:
        for finding in findings:
            if finding.severity == "error":
                for uuid in finding.message_ids:
                    i = graph.get_index(uuid)
                    if i is not None:
                        return i
        return None

    def _title(self) -> None:
        state = self.state
        assert state is not None
        counts: dict[str, int] = {}
        for f in shown_findings(state):
            counts[f.severity] = counts.get(f.severity, 0) + 1
        found = ", ".join(_count(n, s) for s, n in counts.items()) or "healthy"
        pending = pending_count(state)
        text = (
            f"riff · {state.session_id} · {state.file.project} · "
            f"{_count(len(shown_graph(state)), 'message')} · {found} · "
            f"{_count(len(state.events), 'event')}" + (f" · {pending} unwritten" if pending else "")
        )
        self.query_one("#title", Static).update(plain(text))

    # -- helpers ----------------------------------------------------------

    def cursor_uuid(self) -> str | None:
        tree = self.query_one(ConversationTree)
        node = tree.cursor_node
        if node is None or tree.graph is None:
            return None
        return tree.graph.uuid_at(node)

    def jump_to(self, uuid: str) -> bool:
        tree = self.query_one(ConversationTree)
        if tree.graph is None:
            return False
        node = tree.graph.get_index(uuid)
        if node is None:
            self.notify(f"{short_id(uuid)} is not a message of this file", severity="warning")
            return False
        tree.move_to_node(node)
        self._show_detail()
        return True

    def _show_detail(self) -> None:
        state = self.state
        uuid = self.cursor_uuid()
        if state is None or uuid is None:
            return
        record = record_of(state, uuid)
        if record is None:
            return
        self.query_one(DetailPane).show(
            render_message(state.file.path, record, parent_in_effect(state, uuid))
        )

    def on_conversation_tree_highlighted(self, event: ConversationTree.Highlighted) -> None:
        self._show_detail()

    def on_conversation_tree_selected(self, event: ConversationTree.Selected) -> None:
        self._show_detail()
        self.query_one(DetailPane).focus()

    def action_tab(self, tab: str) -> None:
        self._when_panels(lambda: self._tab(tab))

    def _tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        panel = {
            "findings": FindingsPanel,
            "candidates": CandidatePanel,
            "log": LogPanel,
            "search": SearchPanel,
        }[tab]
        self.query_one(panel).focus()

    def action_back(self) -> None:
        search = self.query_one("#search-input", Input)
        if search.display:
            search.display = False
            self.query_one(ConversationTree).focus()
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:  # opened directly: go to the list of every session
            self.app.pop_screen()
            self.riff.show_list()

    # -- findings and search -----------------------------------------------

    def on_findings_panel_jump(self, event: FindingsPanel.Jump) -> None:
        f = event.finding
        if f.message_ids and self.jump_to(f.message_ids[0]):
            self.query_one(ConversationTree).focus()
        elif f.lines:
            self.notify(f"line {f.lines[0]}: {f.explanation}", title=f.kind)

    def action_search(self) -> None:
        search = self.query_one("#search-input", Input)
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search-input" or self.state is None:
            return
        self.run_search(event.value)
        event.input.display = False

    def run_search(self, query: str) -> None:
        state = self.state
        if state is None:
            return
        self.matches = search_session(state, query)
        hits = [r for u in self.matches if (r := record_of(state, u)) is not None]
        self._when_panels(lambda: self._show_hits(hits))
        tree = self.query_one(ConversationTree)
        graph = shown_graph(state)
        tree.set_matches(
            frozenset(i for u in self.matches if (i := graph.get_index(u)) is not None)
        )
        if not self.matches:
            self.notify(f"no message matches {query!r}", severity="warning")
            return
        self.notify(f"{len(self.matches)} match(es); n / N for next / previous")
        self.match_pos = 0
        self.jump_to(self.matches[0])
        tree.focus()

    def _show_hits(self, hits: list[MessageRecord]) -> None:
        self.query_one(SearchPanel).show(hits)
        self.query_one(TabbedContent).active = "search"

    def action_next_match(self, step: int) -> None:
        if not self.matches:
            return
        self.match_pos = (self.match_pos + step) % len(self.matches)
        self.jump_to(self.matches[self.match_pos])

    def on_search_panel_jump(self, event: SearchPanel.Jump) -> None:
        if self.jump_to(event.uuid):
            self.query_one(ConversationTree).focus()

    # -- repair ----------------------------------------------------------

    def action_repair(self) -> None:
        """Rank parent candidates for the selected message (an orphan, usually)."""
        state = self.state
        uuid = self.cursor_uuid()
        if state is None or uuid is None:
            return
        candidates = candidates_for(state, uuid)
        self.repair_target = uuid

        def show() -> None:
            self.query_one(CandidatePanel).show(uuid, candidates)
            self._tab("candidates")

        self._when_panels(show)
        if not candidates:
            self.notify(f"no parent candidate for {short_id(uuid)}", severity="warning")

    def on_candidate_panel_jump(self, event: CandidatePanel.Jump) -> None:
        self.jump_to(event.candidate.parent_uuid)

    def on_candidate_panel_apply(self, event: CandidatePanel.Apply) -> None:
        self.apply(event.candidate)

    def apply(self, candidate: Candidate) -> None:
        state, target = self.state, self.repair_target
        if state is None or target is None:
            return
        if candidate.parent_uuid == parent_in_effect(state, target):
            self.notify(
                f"{short_id(target)} is already under {short_id(candidate.parent_uuid)}",
                severity="warning",
            )
            return
        item = plan_choice(state, target, candidate.parent_uuid, candidate=candidate)
        problems = item.problems  # validated once: _apply records this same item
        if not problems:
            self._apply(target, candidate, force=False, reason="", item=item)
            return
        what = (
            f"{short_id(target)} under {short_id(candidate.parent_uuid)} "
            f"(score {candidate.score:.2f})"
        )

        def forced(reason: str | None) -> None:
            if reason:
                self._apply(target, candidate, force=True, reason=reason, item=item)

        self.app.push_screen(ForceScreen(what, problems), forced)

    def _apply(
        self,
        target: str,
        candidate: Candidate,
        *,
        force: bool,
        reason: str,
        item: PlannedRepair | None = None,
    ) -> None:
        state = self.state
        assert state is not None
        try:
            result, new_state = apply_choice(
                self.riff.ws,
                state,
                target,
                candidate.parent_uuid,
                operator=self.riff.settings.operator,
                candidate=candidate,
                reason=reason,
                force=force,
                item=item,
            )
        except ACTION_ERRORS as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        for refused in result.refused:
            self.notify(f"refused: {refused.reason}", severity="error", timeout=10)
        if result.events:
            self.set_state(new_state, keep=target)
            self._when_panels(lambda: self.query_one(CandidatePanel).show(target, []))
            event = result.events[0]
            self.notify(
                f"repair #{event.seq}: {short_id(target)} "
                f"now under {short_id(candidate.parent_uuid)}"
                + ("" if event.validation_passed else " (forced)")
            )
            self.query_one(ConversationTree).focus()

    # -- the whole plan -----------------------------------------------------

    def action_plan(self) -> None:
        """Every repair the session needs, line kinds beside re-links, as one plan."""
        state = self.state
        if state is None:
            return
        ws = self.riff.ws
        try:
            plan = plan_session_repairs(
                ws, state, min_score=auto_apply_threshold(self.riff.settings)
            )
        except ACTION_ERRORS as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        if plan.is_empty:
            plan.close()
            self.notify("nothing to repair: no line repair, no re-link above the threshold")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._apply_plan(plan)
            else:
                plan.close()

        self.app.push_screen(
            PlanScreen(str(state.file.path), plan_rows(plan), list(plan.problems)), answer
        )

    def _apply_plan(self, plan: SessionRepairPlan) -> None:
        try:
            result = apply_session_plan(
                self.riff.ws, plan, operator=self.riff.settings.operator, write=True
            )
        except ACTION_ERRORS as exc:
            self.notify(f"not applied: {exc}", severity="error", timeout=10)
            return
        finally:
            plan.close()
        for refused in result.refused:
            self.notify(f"refused: {refused.reason}", severity="error", timeout=10)
        fresh = result.state
        if fresh is not None:
            self.file = fresh.file
            self.riff.sessions_changed = True
            self.set_state(fresh)
        self.notify(
            f"{_count(len(result.events), 'event')} appended"
            + (f"; wrote {plan.state.file.path.name}" if result.written else "")
        )

    # -- undo ------------------------------------------------------------

    def action_undo(self) -> None:
        state = self.state
        if state is None:
            return
        target = undo_target(state)
        if target is None:
            self.notify("nothing to undo: no repair in effect", severity="warning")
            return
        self._revert(target)

    def on_log_panel_revert(self, event: LogPanel.Revert) -> None:
        target = event.event
        state = self.state
        if state is None:
            return
        verb = "Re-apply (revert the revert)" if target.kind == "revert" else "Revert"
        if target.event_id in state.reverted_ids:
            self.notify(f"event #{target.seq} is already reverted", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._revert(target)

        what = f"{target.kind} {short_id(target.message_id)}"
        if target.is_line_edit:
            what += "; its bytes go back into the file now"
        self.app.push_screen(ConfirmScreen(f"{verb} event #{target.seq} ({what})?"), answer)

    def _revert(self, target: RepairEvent) -> None:
        state = self.state
        assert state is not None
        try:
            event, new_state = revert_in_session(
                self.riff.ws, state, target.event_id, operator=self.riff.settings.operator
            )
        except ACTION_ERRORS as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        if target.is_line_edit:
            self.file = new_state.file
            self.riff.sessions_changed = True
        self.set_state(new_state)
        self.notify(f"reverted event #{target.seq} (revert is event #{event.seq})")

    # -- write -----------------------------------------------------------

    def action_write(self) -> None:
        state = self.state
        if state is None:
            return
        if not pending_count(state):
            self.notify("nothing to write: the file already holds every repair")
            return
        try:
            diff = preview_write(state)
        except ACTION_ERRORS as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._write()

        self.app.push_screen(WriteScreen(str(state.file.path), diff, pending_count(state)), answer)

    def _write(self) -> None:
        state = self.state
        assert state is not None
        ws = self.riff.ws
        try:
            result, fresh = write_and_reload(ws, state, backup=True)
        except ACTION_ERRORS as exc:
            self.notify(f"not written: {exc}", severity="error", timeout=10)
            return
        self.file = fresh.file
        self.riff.sessions_changed = True
        self.set_state(fresh)
        backup = result.backup_path if result else None
        self.notify(
            f"written {state.file.path.name}" + (f"; backup {backup.name}" if backup else "")
        )
