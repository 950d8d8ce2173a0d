"""`riff verify`: check an export offline, or the whole database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from riff.cli.context import app_context, guarded
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, safe, stdout
from riff.events.audit import verify_export
from riff.events.verify import ValidationResult
from riff.settings import Settings

if TYPE_CHECKING:
    from riff.app.export_tree import ExportTreeCheck


def parse_expected_heads(values: list[str]) -> dict[str, str]:
    heads: dict[str, str] = {}
    for value in values:
        session, sep, digest = value.partition("=")
        digest = digest.strip().lower()
        if not sep or not session.strip() or len(digest) != 64 or not _is_hex(digest):
            raise CliError(
                f"--expect-head {value!r}: expected SESSION=DIGEST with a "
                "64-character hex digest (a unique session id prefix is enough)"
            )
        heads[session.strip()] = digest
    return heads


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def report_verification(
    out: Output, result: ValidationResult, subject: str, tree: ExportTreeCheck | None = None
) -> ExitCode:
    ok = result.ok and (tree is None or tree.ok)
    if out.json:
        doc = result.to_dict()
        if tree is not None:
            doc = doc | {"ok": ok, "tlog": tree.to_dict()}
        out.emit_json(doc)
    elif not out.quiet:
        if result.ok:
            stdout.print(
                f"[green]intact[/]: {safe(subject)}: {result.events_checked} events in "
                f"{result.sessions_checked} sessions, every digest and link verified"
            )
        else:
            stdout.print(
                f"[red bold]TAMPERED[/]: {safe(subject)}: {len(result.breaks)} break(s) in "
                f"{result.events_checked} events of {result.sessions_checked} sessions"
            )
            for brk in result.breaks:
                stdout.print(f"  [red]✗[/] {safe(brk)}", markup=True, highlight=False)
        if tree is not None:
            _report_tree(tree)
    return ExitCode.OK if ok else ExitCode.PROBLEMS


def _report_tree(tree: ExportTreeCheck) -> None:
    for check in tree.checked:
        if check["ok"]:
            stdout.print(
                f"[green]intact[/]: the export's first {check['size']} events build the tree "
                f"that the checkpoint from {safe(str(check['where']))} signed",
                highlight=False,
            )
    for problem in tree.problems:
        stdout.print(f"  [red]✗[/] {safe(problem)}", highlight=False)
    for remark in tree.remarks:
        stdout.print(f"  [dim]{safe(remark)}[/]", highlight=False)


def verify_file(
    path: Path,
    expect_head: list[str],
    out: Output,
    *,
    checkpoints: list[Path] | None = None,
    key: str | None = None,
    settings: Settings | None = None,
) -> ExitCode:
    heads = parse_expected_heads(expect_head)
    result = verify_export(path, heads)
    tree = None
    if checkpoints or _carries_checkpoint(path):
        from riff.app.export_tree import verify_export_tree
        from riff.app.signing import local_verifiers, parse_verifier_key

        notes = [(str(p), _read_note(p)) for p in checkpoints or []]
        if key:
            verifiers = [parse_verifier_key(key)]
        else:
            verifiers = local_verifiers(settings) if settings is not None else []
        tree = verify_export_tree(path, notes, verifiers)
    return report_verification(out, result, str(path), tree)


def _carries_checkpoint(path: Path) -> bool:
    """Whether the export has a transparency_log (looked for in its last 64 KiB)."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        if size > 64 * 1024 * 1024:  # JSON Lines: the section sits in the trailer line
            fh.seek(max(0, size - 16 * 1024 * 1024))
        else:
            fh.seek(0)
        return b'"transparency_log"' in fh.read()


def _read_note(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"--checkpoint {path}: cannot read it ({exc})") from None


ExpectHeadOption = Annotated[
    list[str] | None,
    typer.Option(
        "--expect-head",
        metavar="SESSION=DIGEST",
        help="A head recorded elsewhere (anchor); catches truncation. Repeatable.",
    ),
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@guarded
def verify(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="An export (.json or .jsonl), a proof file or a compliance package directory "
            "to verify offline."
        ),
    ] = None,
    use_db: Annotated[
        bool,
        typer.Option("--db", "--all", help="Verify every chain, head and view in the database."),
    ] = False,
    expect_head: ExpectHeadOption = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            metavar="NOTE",
            help="A signed checkpoint kept elsewhere (an auditor's copy) to hold the log "
            "against. Repeatable.",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="VKEY",
            help="The verifier key (or a file holding it) that signed the checkpoints "
            "(default: the data dir's signing key).",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Verify an export or a proof file offline, or the whole database (--db): digests,
    chains, reverts, heads, and the transparency log against its signed checkpoints."""
    app_ctx = app_context(ctx)
    out = app_ctx.output(json)
    if file is None and not use_db:
        raise CliError("give an export or proof FILE to verify, or --db to verify the database")
    if file is not None and file.is_dir():
        code = verify_package(file, out, key)
    elif file is not None:
        from riff.tlog.proof_kinds import proof_kind

        if proof_kind(file) is not None:
            from riff.cli.checkpoint_cmd import verify_proof

            code = verify_proof(file, key, out, app_ctx.settings)
        else:
            code = verify_file(
                file,
                expect_head or [],
                out,
                checkpoints=checkpoint or [],
                key=key,
                settings=app_ctx.settings,
            )
    else:
        from riff.cli.db_verify import verify_whole_database

        code = verify_whole_database(app_ctx, expect_head or [], out, checkpoint or [], key)
    raise typer.Exit(int(code))


def verify_package(directory: Path, out: Output, key: str | None = None) -> ExitCode:
    """`riff verify DIR`: a compliance package, every file and the export inside."""
    from riff.app.compliance import verify_compliance_package

    check = verify_compliance_package(directory, key)
    if out.json:
        out.emit_json(check.to_json())
    elif not out.quiet:
        proofs = (
            f"; checkpoint signature and {check.proofs_checked} inclusion proofs verified with "
            + ("the given key" if check.key_source == "--key" else "the package's own key")
            if check.checkpoint
            else "; no checkpoint in the package"
        )
        if check.ok:
            stdout.print(
                f"[green]intact[/]: package {safe(str(directory))}: {check.files_checked} "
                f"files unchanged, {check.events_checked} events in {check.sessions_checked} "
                f"sessions verified, {check.events_in_period} in the period, csv matches"
                f"{proofs}"
            )
        else:
            stdout.print(
                f"[red bold]PROBLEMS[/]: package {safe(str(directory))}: "
                f"{len(check.problems)} problem(s)"
            )
            for problem in check.problems:
                stdout.print(f"  [red]✗[/] {safe(problem)}")
    return ExitCode.OK if check.ok else ExitCode.PROBLEMS
