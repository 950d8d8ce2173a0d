"""What every command gets: settings (with flags applied), output switches, the store."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, safe, stderr
from riff.errors import RiffError

if TYPE_CHECKING:
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
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except USER_ERRORS as exc:
            if _debug_enabled(args, kwargs):
                traceback.print_exc()
            raise typer.Exit(report_error(exc)) from None
        except KeyboardInterrupt:
            stderr.print("interrupted; nothing was half-written")
            raise typer.Exit(130) from None

    return wrapper


def report_error(exc: BaseException) -> int:
    """Print a user error as one line on stderr; its exit code (1 or 2)."""
    stderr.print(f"[red]error:[/] {safe(one_line(exc))}", highlight=False, markup=True)
    code = getattr(exc, "exit_code", None)
    return int(ExitCode(code) if isinstance(code, int) and code in (1, 2) else ExitCode.USAGE)


def _debug_enabled(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    for value in (*args, *kwargs.values()):
        if isinstance(value, typer.Context):
            obj = value.find_root().obj
            return isinstance(obj, AppContext) and obj.debug
    return False
