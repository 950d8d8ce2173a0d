"""`riff verify --all`: every chain and view in the database."""

from __future__ import annotations

from riff.app.integrity import verify_database as verify_store
from riff.cli.context import AppContext
from riff.cli.errors import ExitCode
from riff.cli.output import Output
from riff.cli.verify_cmd import parse_expected_heads, report_verification
from riff.store import open_store


def verify_database(app_ctx: AppContext, expect_head: list[str], out: Output) -> ExitCode:
    heads = parse_expected_heads(expect_head)
    with open_store(app_ctx.settings) as store:
        out.note(f"verifying every chain and view in {store.url} …")
        result = verify_store(store, expected_heads=heads)
        return report_verification(out, result, store.url)
