"""Where command output goes: data on stdout (tables or one JSON document), talk on stderr.

`stdout` and `stderr` are Rich consoles, made (and Rich imported) on first
use: `riff scan --json` prints its document with orjson and never needs Rich.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from rich.console import Console

    stdout: Console
    stderr: Console


def stdout_console() -> Console:
    """The console for data on stdout (made on first use)."""
    console = globals().get("stdout")
    if console is None:
        from rich.console import Console

        # emoji=False: ":rocket:" in a transcript or a path is text, like markup.
        console = Console(highlight=False, soft_wrap=False, emoji=False)
        if not console.is_terminal:
            # A pipe or a file gets a wide page rather than Rich's 80-column default.
            console = Console(highlight=False, soft_wrap=False, emoji=False, width=150)
        globals()["stdout"] = console
    return console


def stderr_console() -> Console:
    """The console for progress, remarks and errors on stderr (made on first use)."""
    console = globals().get("stderr")
    if console is None:
        from rich.console import Console

        console = globals()["stderr"] = Console(
            stderr=True, highlight=False, soft_wrap=True, emoji=False
        )
    return console


def __getattr__(name: str) -> Any:
    if name == "stdout":
        return stdout_console()
    if name == "stderr":
        return stderr_console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TAG = re.compile(r"[a-z#/@][^[]*?]")  # what Rich's parser takes for a tag after "["
_BRACKET = re.compile(r"(\\*)\[")


def _escape_markup(text: str) -> str:
    # rich.markup.escape leaves "\\[" before a non-tag as is, and the parser
    # then drops that backslash; here every "[" renders as itself.
    def bracket(match: re.Match[str]) -> str:
        backslashes = match.group(1)
        if _TAG.match(text, match.end()):
            return backslashes * 2 + "\\["
        return backslashes + "\\[" if backslashes else "["

    escaped = _BRACKET.sub(bracket, text)
    trailing = len(escaped) - len(escaped.rstrip("\\"))
    return escaped + "\\" * trailing  # so they cannot escape a tag that follows


def safe(value: object) -> str:
    """A user-supplied value as inert text inside Rich markup.

    Transcripts, events and paths are data: `[/x]` must not close a style (a
    MarkupError that no event deletion could ever cure) and `\\x1b[31m` must
    not reach the terminal. Markup is escaped and control characters are
    shown as \\xNN.
    """
    return _escape_markup(plain(value))


def plain(value: object) -> str:
    """A user-supplied value for a Rich ``Text`` (no markup is parsed there): control
    characters shown as \\xNN, as `safe` does."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


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
            stdout_console().print(*parts)

    def note(self, message: str) -> None:
        """Progress and remarks for a person: stderr, unless --quiet."""
        if not self.quiet:
            stderr_console().print(message)
