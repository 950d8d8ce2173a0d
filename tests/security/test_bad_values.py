"""Low and Medium: malformed exports, flags and values give one line and exit 2 (issue 13)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from riff.cli.main import app
from riff.events import ChainHead, EventDraft, seal_events
from riff.events.export import write_export
from tests.cli.conftest import riff_env  # noqa: F401 (fixture)
from tests.store.helpers import M

runner = CliRunner()


def _export(tmp_path: Path, fmt: str = "jsonl") -> tuple[Path, str, str]:
    events = seal_events(
        ChainHead("0194d7c1-aaaa-7bbb-8ccc-000000000001"),
        [EventDraft(M[1], M[0], None, "alice", "r"), EventDraft(M[2], M[1], M[0], "alice")],
    )
    path = tmp_path / f"export.{fmt}"
    write_export(path, events, fmt=fmt)  # type: ignore[arg-type]
    return path, events[-1].session_id, events[-1].event_digest


def _verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["verify", *args])
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    return result.exit_code, output


@pytest.mark.parametrize(
    "deep", ['{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 100_000], ids=["objects", "arrays"]
)
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_deeply_nested_json_is_one_line_exit_2(tmp_path: Path, deep: str, fmt: str) -> None:
    path = tmp_path / f"deep.{fmt}"
    header = '{"format_version":"1.0","exported_at":"2026-01-01T00:00:00.000000Z"'
    if fmt == "json":
        path.write_text(header + ',"sessions":{},"metadata":' + deep + ',"events":[]}')
    else:
        path.write_text(header + '}\n{"sessions":{},"metadata":' + deep + "}\n")
    code, output = _verify(str(path))
    assert code == 2 and len(output.strip().splitlines()) == 1, output


def test_an_export_line_with_a_duplicated_key_is_refused(tmp_path: Path) -> None:
    path, _sid, _head = _export(tmp_path)
    lines = path.read_bytes().splitlines()
    row = orjson.loads(lines[1])
    row["operator"] = "mallory"
    forged = orjson.dumps(row)[:-1] + b',"operator":"alice"}'
    lines[1] = forged
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, output = _verify(str(path))
    assert code == 2 and "'operator' appears twice" in output and "line 2" in output


def test_a_json_export_with_a_duplicated_key_is_refused(tmp_path: Path) -> None:
    path, _sid, _head = _export(tmp_path, "json")
    text = path.read_text()
    path.write_text(
        text.replace('"operator": "alice"', '"operator": "mallory", "operator": "alice"', 1)
    )
    code, output = _verify(str(path))
    assert code == 2 and "'operator' appears twice" in output


def test_a_reason_that_names_a_key_is_not_a_duplicate(tmp_path: Path) -> None:
    events = seal_events(ChainHead("s1"), [EventDraft(M[1], M[0], None, "alice", "operator")])
    path = tmp_path / "e.jsonl"
    write_export(path, events, fmt="jsonl")
    assert _verify(str(path))[0] == 0


def test_expect_head_accepts_a_unique_prefix(tmp_path: Path) -> None:
    path, sid, head = _export(tmp_path)
    assert _verify(str(path), "--expect-head", f"{sid[:8]}={head}")[0] == 0
    assert _verify(str(path), "--expect-head", f"{sid[:8]}={head.upper()}")[0] == 0
    assert _verify(str(path), "--expect-head", f"{sid[:8]}={'0' * 64}")[0] == 1


@pytest.mark.parametrize("digest", ["z" * 64, "a" * 63, "a" * 65, "", "g" + "a" * 63])
def test_expect_head_rejects_a_malformed_digest(tmp_path: Path, digest: str) -> None:
    path, sid, _head = _export(tmp_path)
    code, output = _verify(str(path), "--expect-head", f"{sid}={digest}")
    assert code == 2 and "64-character hex" in output


@pytest.mark.parametrize("flag", ["--since", "--until"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-45", "[/x]", "abc"])
def test_since_and_until_reject_garbage(
    riff_env: dict[str, str],  # noqa: F811
    flag: str,
    value: str,
) -> None:
    result = runner.invoke(app, ["log", flag, value])
    assert result.exit_code == 2, result.output
    assert flag in result.stderr and "Traceback" not in result.output


def test_since_accepts_dates_and_times(riff_env: dict[str, str]) -> None:  # noqa: F811
    for value in ("2026-01-31", "2026-01-31T14:00:00Z", "2026-01-31T14:00"):
        assert runner.invoke(app, ["log", "--since", value]).exit_code == 0


def test_a_malformed_expect_head_is_quoted_as_given(tmp_path: Path) -> None:
    path, _sid, _head = _export(tmp_path)
    code, output = _verify(str(path), "--expect-head", "[/x]=zz")
    assert code == 2 and "'[/x]=zz'" in output
