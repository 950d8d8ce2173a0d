"""riff's commands load lazily; the table that lists them stays true to the commands."""

from __future__ import annotations

import inspect

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from riff.cli.app import COMMANDS, LazyCommands, app, load_command


def _first_paragraph(text: str) -> str:
    return inspect.cleandoc(text).split("\n\n")[0]


def test_each_entry_names_the_real_command_and_repeats_its_help() -> None:
    for name, (module, attribute, help_text) in COMMANDS.items():
        target = load_command(name)
        if isinstance(target, typer.Typer):
            info = target.info
            assert info.help is not None, name
            assert _first_paragraph(str(info.help)) == help_text, name
        else:
            assert target.__module__ == module and target.__name__ == attribute, name
            assert target.__doc__ is not None, name
            assert _first_paragraph(target.__doc__) == help_text, name


def _listing(group: LazyCommands, capsys: pytest.CaptureFixture[str]) -> str:
    ctx = typer.Context(group, info_name="riff")
    group.format_help(ctx, ctx.make_formatter())
    return capsys.readouterr().out


def test_help_lists_the_same_with_every_command_loaded(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    group = typer.main.get_group(app)
    assert isinstance(group, LazyCommands)
    lazy = _listing(group, capsys)
    assert all(f" {name} " in lazy for name in COMMANDS)
    for name in COMMANDS:  # load them all: the listing must not change
        group.get_command(typer.Context(group), name)
    assert _listing(group, capsys) == lazy


def test_a_command_runs_from_its_lazily_loaded_module() -> None:
    result = CliRunner().invoke(app, ["verify", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0 and "Usage: riff verify" in result.stdout
