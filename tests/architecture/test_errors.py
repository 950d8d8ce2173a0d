"""Every error riff raises on purpose derives from the one root, riff.errors.RiffError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import riff
from riff.errors import RiffError

# Modules that need an optional stack at import time are still imported here:
# the dev environment has every dependency.


def _riff_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(riff.__path__, "riff.")]


def test_every_exception_class_of_riff_derives_from_riff_error() -> None:
    strays: list[str] = []
    seen = 0
    for name in _riff_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            seen += 1
            if not issubclass(cls, RiffError):
                strays.append(f"{name}.{cls.__qualname__}")
    assert seen >= 20  # the scan found riff's errors at all
    assert strays == []


def test_exit_codes_follow_the_root() -> None:
    from riff.app.errors import ProblemsFound
    from riff.cli.errors import CliError, ExitCode
    from riff.store.errors import RepairRefusedError

    assert RiffError("x").exit_code == 2
    assert ProblemsFound("x").exit_code == 1
    assert CliError("x", ExitCode.PROBLEMS).exit_code == 1
    assert RepairRefusedError("m", ["p"]).exit_code == 2
