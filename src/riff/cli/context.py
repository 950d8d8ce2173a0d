"""What every command gets: settings (with flags applied), output switches, the store."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import typer

from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, stderr
from riff.settings import Settings

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


def _known_errors() -> tuple[type[BaseException], ...]:
    """Every error type that is the user's input or environment, not a riff bug."""
    from riff.app.errors import AppError
    from riff.events.errors import EventError
    from riff.settings import SettingsError

    known: list[type[BaseException]] = [CliError, AppError, EventError, SettingsError, OSError]
    try:
        from riff.transcript.errors import TranscriptError

        known.append(TranscriptError)
    except ImportError:  # pragma: no cover - during bootstrap
        pass
    try:
        from riff.store.errors import StoreError

        known.append(StoreError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(known)


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
        except _known_errors() as exc:
            debug = _debug_enabled(args, kwargs)
            if debug:
                traceback.print_exc()
            code = exc.code if isinstance(exc, CliError) else _exit_code_of(exc)
            stderr.print(f"[red]error:[/] {one_line(exc)}", highlight=False, markup=True)
            raise typer.Exit(int(code)) from None
        except KeyboardInterrupt:
            stderr.print("interrupted; nothing was half-written")
            raise typer.Exit(130) from None

    return wrapper


def _exit_code_of(exc: BaseException) -> ExitCode:
    code = getattr(exc, "exit_code", None)
    return ExitCode(code) if isinstance(code, int) and code in (1, 2) else ExitCode.USAGE


def _debug_enabled(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    for value in (*args, *kwargs.values()):
        if isinstance(value, typer.Context):
            obj = value.find_root().obj
            return isinstance(obj, AppContext) and obj.debug
    return False
