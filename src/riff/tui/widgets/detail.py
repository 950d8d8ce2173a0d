"""The detail pane: one message's full content, read from the file when shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from rich.console import Group, RenderableType
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from riff.transcript import MessageRecord, read_message
from riff.tui.errors import ACTION_ERRORS
from riff.tui.plain import visible

MAX_BLOCK_CHARS = 20_000
"""A block longer than this is cut (tool outputs can be megabytes)."""


def _cut(text: str) -> str:
    """At most MAX_BLOCK_CHARS of `text`, control characters shown as \\xNN."""
    if len(text) <= MAX_BLOCK_CHARS:
        return visible(text)
    more = len(text) - MAX_BLOCK_CHARS
    return visible(text[:MAX_BLOCK_CHARS]) + f"\n… ({more} more characters)"


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        return repr(value)


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            if isinstance(item, dict) and item.get("type") == "text":
                parts.append(str(item.get("text", "")))
            else:
                parts.append(_json(item))
        return "\n".join(parts)
    return _json(content)


def render_blocks(content: Any) -> list[RenderableType]:
    """Text, thinking, tool calls and results of a message's content, each titled."""
    if content is None:
        return [Text("(no message body)", style="italic red")]
    if isinstance(content, str):
        return [Text(_cut(content))]
    if not isinstance(content, list):
        return [Text(_cut(_json(content)))]
    out: list[RenderableType] = []
    for block in content:
        if not isinstance(block, dict):
            out.append(Text(_cut(_json(block))))
            continue
        kind = block.get("type")
        if kind == "text":
            out.append(Text(_cut(str(block.get("text", "")))))
        elif kind == "thinking":
            out.append(Text("thinking", style="bold magenta"))
            out.append(Text(_cut(str(block.get("thinking", ""))), style="italic dim"))
        elif kind == "tool_use":
            out.append(
                Text(f"tool call {block.get('name', '?')}  id {block.get('id', '?')}", "bold cyan")
            )
            out.append(Text(_cut(_json(block.get("input")))))
        elif kind == "tool_result":
            error = " (error)" if block.get("is_error") else ""
            title = f"tool result for {block.get('tool_use_id', '?')}{error}"
            out.append(Text(title, style="bold red" if error else "bold green"))
            out.append(Text(_cut(_result_text(block.get("content")))))
        elif kind == "image":
            out.append(Text("[image]", style="dim"))
        else:
            out.append(Text(f"{kind or 'block'}", style="bold"))
            out.append(Text(_cut(_json(block))))
        out.append(Text(""))
    return out or [Text("(empty content)", style="italic dim")]


def render_message(path: Path, record: MessageRecord, parent: str | None) -> RenderableType:
    """The header and content of one message, read lazily from its byte offset."""
    head = Text()
    head.append(f"{record.type or '?'}", style="bold")
    if record.subtype:
        head.append(f" ({record.subtype})")
    head.append(f"  line {record.line}")
    if record.timestamp:
        head.append(f"  {record.timestamp}", style="dim")
    head.append(f"\nuuid   {record.uuid}\nparent {parent or '— (root)'}")
    if parent != record.parent_uuid:
        head.append(f"\n  (file says {record.parent_uuid or '— (root)'})", style="yellow")
    flags = [
        name
        for name, on in (
            ("sidechain", record.is_sidechain),
            ("meta", record.is_meta),
            ("compact boundary", record.is_compact_boundary),
        )
        if on
    ]
    if flags:
        head.append("\n" + ", ".join(flags), style="italic")
    try:
        obj = read_message(path, record)
    except ACTION_ERRORS as exc:
        return Group(head, Text(""), Text(f"(body unavailable: {exc})", style="italic red"))
    message = obj.get("message")
    if isinstance(message, dict):
        body = render_blocks(message.get("content"))
    elif record.type in ("user", "assistant"):
        body = render_blocks(None)
    else:
        shown = {k: v for k, v in obj.items() if k not in ("uuid", "parentUuid", "sessionId")}
        body = [Text(_cut(_json(shown)))]
    return Group(head, Text(""), *body)


class DetailPane(VerticalScroll):
    """Scrollable content of the selected message."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Select a message.", id="detail-body")

    def show(self, renderable: RenderableType) -> None:
        self.query_one("#detail-body", Static).update(renderable)
        self.scroll_home(animate=False)
