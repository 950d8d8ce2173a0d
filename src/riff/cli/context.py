"""What every command gets: settings (with flags applied), output switches, the store.

Free of Typer and Rich at import: `riff scan` runs without either
(riff.cli.scan_direct), and an error line loads Rich only when it is printed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, safe, stderr_console
from riff.errors import RiffError

if TYPE_CHECKING:
    import typer

    from riff.settings import Settings  # read only by the commands that run

# What the user's input or environment can cause; anything else is a bug and
# keeps its traceback. The one place the CLI catches them is `guarded`.
USER_ERRORS = (RiffError, OSError)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class AppContext:
    settings: Settings
    debug: bool = False
    quiet: bool = False
    json: bool = False  # the global --json: every data command prints JSON
    extras: dict[str, Any] = field(default_factory=dict)

    def output(self, json: bool = False) -> Output:
        return Output(json=json or self.json, quiet=self.quiet)


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        raise CliError("internal: the command ran without riff's context")
    return obj


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror or text}"
    return " ".join(text.split())


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Turn known errors into one line on stderr and an exit code; --debug shows the trace."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import typer  # loaded already: the command runs under Typer

        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except USER_ERRORS as exc:
            raise typer.Exit(user_error(exc, debug=_debug_enabled(args, kwargs))) from None
        except KeyboardInterrupt:
            raise typer.Exit(interrupted()) from None

    return wrapper


def user_error(exc: BaseException, *, debug: bool) -> int:
    """A user error as `guarded` reports it (its trace first with --debug); its exit code."""
    if debug:
        import traceback

        traceback.print_exc()
    return report_error(exc)


def interrupted() -> int:
    """Ctrl-C as `guarded` reports it; its exit code."""
    stderr_console().print("interrupted; nothing was half-written")
    return 130


def report_error(exc: BaseException) -> int:
    """Print a user error as one line on stderr; its exit code (1 or 2)."""
    stderr_console().print(f"[red]error:[/] {safe(one_line(exc))}", highlight=False, markup=True)
    code = getattr(exc, "exit_code", None)
    return int(ExitCode(code) if isinstance(code, int) and code in (1, 2) else ExitCode.USAGE)


def _debug_enabled(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    import typer

    for value in (*args, *kwargs.values()):
        if isinstance(value, typer.Context):
            obj = value.find_root().obj
            return isinstance(obj, AppContext) and obj.debug
    return False
