"""User strings as inert text for Textual: never markup, never terminal control codes.

A str given to a DataTable cell, a Static, a Label or a notification is parsed
as markup: a message preview or an operator name holding `[/x]` would crash
the screen, and `\\x1b[31m` would reach the terminal. Everything that comes
from a transcript, an event or a path goes through `plain`.
"""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(value: object) -> str:
    """The value as a string with control characters shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def plain(value: object, style: str = "") -> Text:
    """The value as a Text that no markup parser will read."""
    return Text(visible(value), style=style)
