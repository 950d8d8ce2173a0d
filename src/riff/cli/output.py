"""Where command output goes: data on stdout (tables or one JSON document), talk on stderr."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console

# A pipe or a file gets a wide page rather than Rich's 80-column default.
stdout = Console(highlight=False, soft_wrap=False)
if not stdout.is_terminal:
    stdout = Console(highlight=False, soft_wrap=False, width=150)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Output:
    """Per-invocation output switches shared by every command."""

    def __init__(self, *, json: bool = False, quiet: bool = False) -> None:
        self.json = json
        self.quiet = quiet

    def emit_json(self, document: Any) -> None:
        sys.stdout.buffer.write(
            orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str) + b"\n"
        )
        sys.stdout.flush()

    def say(self, *parts: Any) -> None:
        """Human output; silent with --json (stdout is then the document) or --quiet."""
        if not self.json and not self.quiet:
            stdout.print(*parts)

    def note(self, message: str) -> None:
        """Progress and remarks for a person: stderr, unless --quiet."""
        if not self.quiet:
            stderr.print(message)
