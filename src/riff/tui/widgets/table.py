"""A data table whose column widths are set in the same update as its rows.

Textual's DataTable measures auto-width columns later, when it is next idle,
and keeps the rows it painted in the meantime cached at the old widths. On a
busy machine the first paint with data (or a screenshot) could therefore show
every column cut to its header's width. Here each fill measures its cells and
fixes the widths and the scrollable size before any row can be painted, so
the rows are never drawn at a width they do not have.

Cells are plain text or Rich Text; plain strings are shown as they are, never
read as markup (a project name or a preview may hold square brackets).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable

from riff.tui.plain import visible

Cell = str | Text
Row = tuple[str, Sequence[Cell]]
"""A row's key and its cells, one per column."""


def as_text(cell: Cell) -> Text:
    """A str cell as text: never markup, control characters shown as \\xNN."""
    return cell if isinstance(cell, Text) else Text(visible(cell), no_wrap=True, end="")


def text_width(text: Text) -> int:
    """Cells the widest line of `text` takes on a terminal."""
    return max((line.cell_len for line in text.split("\n", allow_blank=True)), default=0)


class FittedTable(DataTable[Cell]):
    def __init__(self, labels: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.labels = list(labels)

    def on_mount(self) -> None:
        self.fill([])

    def fill(self, rows: Iterable[Row]) -> None:
        """Replace every row, with each column as wide as its header or widest cell."""
        texts = [(key, [as_text(cell) for cell in cells]) for key, cells in rows]
        widths = [Text(label).cell_len for label in self.labels]
        for _, cells in texts:
            for i, cell in enumerate(cells):
                widths[i] = max(widths[i], text_width(cell))
        self.clear(columns=True)
        for label, width in zip(self.labels, widths, strict=True):
            self.add_column(label, width=width, key=label)
        for key, cells in texts:
            self.add_row(*cells, key=key)
        # What the table would compute on its next idle, known now: every row is one line.
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            sum(column.get_render_width(self) for column in self.ordered_columns),
            self.row_count + header,
        )
