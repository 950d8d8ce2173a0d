"""`riff checkpoint`, `riff prove`, `riff key show`: the transparency log's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riff.cli.common import workspace
from riff.cli.context import guarded
from riff.cli.errors import CliError, ExitCode
from riff.cli.output import Output, safe, stdout

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
key_app = typer.Typer(help="The key that signs checkpoints.", no_args_is_help=True)


@guarded
def checkpoint(
    ctx: typer.Context,
    list_all: Annotated[
        bool, typer.Option("--list", help="List the recorded checkpoints instead.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Sign the log's tree head; record it in the database and in <data dir>/checkpoints/."""
    from riff.app.checkpoints import create_checkpoint, recorded_checkpoints

    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        if list_all:
            rows = recorded_checkpoints(ws)
            if out.json:
                out.emit_json({"checkpoints": rows})
            elif not rows:
                out.say("no checkpoints yet; run `riff checkpoint`")
            for row in rows if not out.json else []:
                where = (
                    "disk+db"
                    if row["on_disk"] and row["in_database"]
                    else ("disk only" if row["on_disk"] else "database only")
                )
                out.say(
                    f"{row['size']:>10}  {row['root'][:16]}…  {row['created_at'] or '?'}  {where}"
                )
            return
        result = create_checkpoint(ws)
        if out.json:
            out.emit_json(result.to_dict())
            return
        out.note(
            f"{'signed' if result.created else 'unchanged since'} checkpoint of "
            f"{result.checkpoint.size} events → {result.path}"
        )
        if not out.quiet:
            stdout.print(safe(result.note), end="", highlight=False, soft_wrap=True)


@key_app.command("show")
@guarded
def key_show(ctx: typer.Context, json: JsonOption = False) -> None:
    """Print the public key and the verifier key string that checks riff's checkpoints."""
    from riff.app.checkpoints import public_key

    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        info = public_key(ws)
        if out.json:
            out.emit_json(info)
            return
        out.say(f"verifier key: {safe(info['vkey'])}")
        out.say(f"public key (Ed25519, base64): {info['public_key']}")
        out.say(f"key name: {safe(info['name'])}  key id: {info['key_id']}")
        out.note(f"signing key: {info['source']}")


@guarded
def prove(
    ctx: typer.Context,
    event: Annotated[
        str | None, typer.Argument(help="The event id (or a unique prefix) to prove.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the proof to this file.")
    ] = None,
    consistency: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--consistency",
            metavar="OLD NEW",
            help="Prove that checkpoint NEW extends OLD (sizes or .note files; NEW: 'newest').",
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Write a self-contained proof that anyone can check offline with `riff verify FILE --key`."""
    from riff.app.proofs import consistency_proof, inclusion_proof

    if (event is None) == (consistency is None):
        raise CliError("give an EVENT_ID to prove, or --consistency OLD NEW")
    with workspace(ctx) as (app_ctx, ws):
        out = app_ctx.output(json)
        if consistency is not None:
            old, new = consistency
            proof = consistency_proof(ws, old, None if new == "newest" else new)
            text = proof.render()
            summary: dict[str, object] = {
                "kind": "consistency",
                "proof": [h.hex() for h in proof.path],
            }
        else:
            assert event is not None
            inclusion = inclusion_proof(ws, event)
            text = inclusion.render()
            summary = {
                "kind": "inclusion",
                "event_id": inclusion.event["event_id"],
                "log_index": inclusion.index,
                "proof": [h.hex() for h in inclusion.path],
            }
        _deliver(out, text, output, summary)


def _deliver(out: Output, text: str, output: Path | None, summary: dict[str, object]) -> None:
    if output is not None:
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
        summary["file"] = str(output)
        if out.json:
            out.emit_json(summary)
        else:
            out.note(
                f"wrote {summary['kind']} proof to {output}; check it with `riff verify {output}`"
            )
        return
    if out.json:
        out.emit_json(summary | {"text": text})
        return
    stdout.print(safe(text), end="", highlight=False, soft_wrap=True)


def verify_proof(path: Path, key: str | None, out: Output, settings: object) -> ExitCode:
    """`riff verify FILE` for a proof file: exit 0 when it holds, 1 when it does not."""
    from riff.app.proofs import verify_proof_file
    from riff.settings import Settings
    from riff.tlog import TlogError
    from riff.tlog.proof_file import VerifiedInclusion

    assert isinstance(settings, Settings)
    try:
        verified = verify_proof_file(path, settings, key)
    except TlogError as exc:
        if out.json:
            out.emit_json({"ok": False, "file": str(path), "problem": str(exc)})
        elif not out.quiet:
            stdout.print(f"[red bold]INVALID PROOF[/]: {safe(str(path))}: {safe(str(exc))}")
        return ExitCode.PROBLEMS
    if isinstance(verified, VerifiedInclusion):
        doc = {
            "ok": True,
            "file": str(path),
            "kind": "inclusion",
            "event_id": verified.event["event_id"],
            "session_id": verified.event["session_id"],
            "seq": verified.event["seq"],
            "log_index": verified.index,
            "checkpoint": {
                "origin": verified.checkpoint.origin,
                "size": verified.checkpoint.size,
                "root": verified.checkpoint.root_hex,
            },
        }
        line = (
            f"[green]proof holds[/]: event {safe(str(verified.event['event_id']))} (session "
            f"{safe(str(verified.event['session_id']))} seq {verified.event['seq']}) is entry "
            f"{verified.index} of {safe(verified.checkpoint.origin)}, whose signed checkpoint "
            f"covers {verified.checkpoint.size} events"
        )
    else:
        doc = {
            "ok": True,
            "file": str(path),
            "kind": "consistency",
            "origin": verified.new.origin,
            "old": {"size": verified.old.size, "root": verified.old.root_hex},
            "new": {"size": verified.new.size, "root": verified.new.root_hex},
        }
        line = (
            f"[green]proof holds[/]: the signed checkpoint of {verified.new.size} events extends "
            f"the one of {verified.old.size} events of {safe(verified.new.origin)}"
        )
    if out.json:
        out.emit_json(doc)
    elif not out.quiet:
        stdout.print(line, highlight=False)
    return ExitCode.OK
