"""The conversation tree: a line-drawn outline of every message of a session.

A Textual Tree of 50k nodes is slow to build; this widget keeps the outline as
integer arrays (riff.tui.layout) and draws only the rows on screen from the
compact records, so opening a big session costs a walk of the graph, no more.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from riff.transcript import MessageGraph, MessageRecord
from riff.transcript.graph import DANGLING, EXTERNAL
from riff.tui.layout import Outline, ancestors_to_unfold, build_outline
from riff.tui.plain import visible

SEVERITY_MARK = {"error": "●", "warning": "●", "info": "·"}
KIND_WIDTH = 8
SHORT_KINDS = {
    "attachment": "attach",
    "file-history-snapshot": "snapshot",
    "last-prompt": "leaf",
    "queue-operation": "queue",
}
"""Line types longer than the kind column, in words rather than cut."""


def kind_label(record: MessageRecord) -> str:
    if record.is_compact_boundary:
        return "compact"
    if record.type == "assistant":
        return "tool" if record.tool_use_ids else "asst"
    if record.type == "user":
        if record.tool_result_ids and not record.is_conversation:
            return "result"
        return "meta" if record.is_meta else "user"
    kind = record.type or "?"
    return SHORT_KINDS.get(kind, kind[:KIND_WIDTH])


class ConversationTree(ScrollView, can_focus=True):
    """The outline of a session's messages, with a cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("left,h", "fold", "Fold", show=False),
        Binding("right,l", "unfold", "Unfold", show=False),
        Binding("space", "toggle_fold", "Toggle fold", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-tree--cursor",
        "conversation-tree--resume",
        "conversation-tree--sidechain",
        "conversation-tree--compact",
        "conversation-tree--error",
        "conversation-tree--warning",
        "conversation-tree--info",
        "conversation-tree--line",
        "conversation-tree--kind",
        "conversation-tree--missing",
        "conversation-tree--match",
    }

    class Highlighted(Message):
        def __init__(self, node: int) -> None:
            super().__init__()
            self.node = node

    class Selected(Message):
        def __init__(self, node: int) -> None:
            super().__init__()
            self.node = node

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.graph: MessageGraph | None = None
        self.records: Sequence[MessageRecord] = []
        self.outline: Outline = build_outline(MessageGraph(()))
        self.collapsed: set[int] = set()
        self.marks: Mapping[int, str] = {}
        self.resume: Collection[int] = frozenset()
        self.matches: Collection[int] = frozenset()
        self.cursor_row = 0

    # -- data ------------------------------------------------------------

    def set_graph(
        self,
        graph: MessageGraph,
        *,
        marks: Mapping[int, str],
        resume: Collection[int],
        keep_node: int | None = None,
    ) -> None:
        """Show `graph` (records aligned with its nodes); keep the cursor on `keep_node`."""
        self.graph = graph
        self.records = graph.records or []
        self.marks = marks
        self.resume = resume
        self._relayout()
        if keep_node is not None and 0 <= keep_node < len(graph):
            self.move_to_node(keep_node, center=False)
        else:
            self._set_cursor(min(self.cursor_row, max(len(self.outline) - 1, 0)))

    def set_matches(self, nodes: Collection[int]) -> None:
        self.matches = nodes
        self.refresh()

    def _relayout(self) -> None:
        assert self.graph is not None
        self.outline = build_outline(self.graph, self.collapsed)
        self.virtual_size = Size(self.size.width or 80, len(self.outline))
        self.refresh()

    @property
    def cursor_node(self) -> int | None:
        if not len(self.outline):
            return None
        return self.outline.nodes[self.cursor_row]

    def move_to_node(self, node: int, *, center: bool = True) -> None:
        """Put the cursor on `node`, unfolding what hides it."""
        if self.graph is None:
            return
        hidden = ancestors_to_unfold(self.graph, node, self.collapsed)
        if hidden or self.outline.row_of[node] < 0:
            self.collapsed.difference_update(hidden)
            self._relayout()
        row = self.outline.row_of[node]
        if row >= 0:
            self._set_cursor(row, center=center)

    def _set_cursor(self, row: int, *, center: bool = False) -> None:
        total = len(self.outline)
        if total == 0:
            self.cursor_row = 0
            self.refresh()
            return
        row = max(0, min(row, total - 1))
        changed = row != self.cursor_row
        self.cursor_row = row
        self._scroll_to_cursor(center)
        # The virtual size of a fresh layout is applied on the next refresh: scroll again then.
        self.call_after_refresh(self._scroll_to_cursor, center)
        self.refresh()
        node = self.cursor_node
        if node is not None and (changed or center):
            self.post_message(self.Highlighted(node))

    def _scroll_to_cursor(self, center: bool) -> None:
        # force: a screen pushed over another may not allow scrolling until its first layout.
        row = self.cursor_row
        height = max(self.scrollable_content_region.height, 1)
        top = int(self.scroll_y)
        if center and not top <= row < top + height:
            self.scroll_to(y=max(row - height // 2, 0), animate=False, immediate=True, force=True)
        elif row < top:
            self.scroll_to(y=row, animate=False, immediate=True, force=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True, force=True)

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # The cursor may be scrolled to (forced) before the scrollbar exists: sync its thumb.
        if shown:
            self.vertical_scrollbar.position = self.scroll_y

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.outline))

    # -- actions ---------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        height = max(self.scrollable_content_region.height - 1, 1)
        self._set_cursor(self.cursor_row + direction * height)

    def action_first(self) -> None:
        self._set_cursor(0)

    def action_last(self) -> None:
        self._set_cursor(len(self.outline) - 1)

    def action_fold(self) -> None:
        node = self.cursor_node
        if node is None or self.graph is None:
            return
        if self.graph.child_count(node) and node not in self.collapsed:
            self.collapsed.add(node)
            self._relayout()
            self._set_cursor(self.outline.row_of[node])
            return
        # Already folded or a leaf: go up to where this thread branched off.
        depth = self.outline.depths[self.cursor_row]
        row = self.cursor_row - 1
        while row >= 0 and self.outline.depths[row] >= depth and depth > 0:
            row -= 1
        if depth > 0 and row >= 0:
            self._set_cursor(row)

    def action_unfold(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node in self.collapsed:
            self.collapsed.discard(node)
            self._relayout()
            self._set_cursor(self.outline.row_of[node])
        else:
            self._set_cursor(self.cursor_row + 1)

    def action_toggle_fold(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node in self.collapsed:
            self.action_unfold()
        else:
            self.action_fold()

    def action_select(self) -> None:
        node = self.cursor_node
        if node is not None:
            self.post_message(self.Selected(node))

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y
        if 0 <= row < len(self.outline):
            self._set_cursor(row)
            if event.chain >= 2:
                self.action_select()

    # -- drawing ---------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"conversation-tree--{name}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        base = self.rich_style
        if row >= len(self.outline) or self.graph is None:
            return Strip.blank(width, base)
        node = self.outline.nodes[row]
        record = self.records[node] if node < len(self.records) else None
        segments = self._row_segments(row, node, record)
        style = base + self._style("cursor") if row == self.cursor_row else base
        return Strip(segments).apply_style(style).crop_extend(0, width, style)

    def _row_segments(self, row: int, node: int, record: MessageRecord | None) -> list[Segment]:
        assert self.graph is not None
        graph = self.graph
        out: list[Segment] = []
        in_resume = node in self.resume
        out.append(Segment("▌" if in_resume else " ", self._style("resume")))
        mark = self.marks.get(node)
        out.append(
            Segment(SEVERITY_MARK.get(mark, " ") if mark else " ", self._style(mark or "info"))
        )
        line = record.line if record else 0
        out.append(Segment(f"{line:>6} ", self._style("line")))
        out.append(Segment("  " * self.outline.depths[row]))
        children = graph.child_count(node)
        if node in self.collapsed:
            fold = "▸"
        elif children > 1:
            fold = "▾"
        elif node in self.outline.cycle_starts:
            fold = "↻"
        else:
            fold = " "
        out.append(Segment(fold + " "))
        parent = graph.parent_index(node)
        if record is None:
            out.append(Segment("?       (no record)", self._style("missing")))
            return out
        label = kind_label(record)
        label_style = self._style("compact") if record.is_compact_boundary else self._style("kind")
        out.append(Segment(f"{label:<{KIND_WIDTH}} ", label_style))
        text_style = Style()
        if record.is_sidechain:
            out.append(Segment("⑂ ", self._style("sidechain")))
            text_style = self._style("sidechain")
        if parent == DANGLING:
            out.append(Segment("[parent missing] ", self._style("missing")))
        elif parent == EXTERNAL:
            out.append(Segment("[parent in another file] ", self._style("line")))
        if record.is_compact_boundary:
            out.append(Segment("━━ conversation compacted ━━ ", self._style("compact")))
        if node in self.matches:
            text_style = text_style + self._style("match")
        preview = visible(record.preview.replace("\n", " ")) or "(no text)"
        out.append(Segment(preview, text_style))
        return out
