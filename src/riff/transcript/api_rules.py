"""The Messages API's request rules, checked on the conversation resume would send.

`claude --resume` turns the chain it loads (riff.transcript.resume) into the
`messages` of an API request. The API refuses a request that breaks these
rules, so a transcript whose loaded chain breaks one cannot be resumed as it
is (2.1.x patches some of them on the fly; older versions send them as they
are):

- the first message comes from the user;
- every `tool_result` answers a `tool_use` of the assistant message right
  before it;
- every `tool_use` is answered by a `tool_result` in the user message right
  after it;
- no message has empty content and no text block is empty (`""`);
- every `server_tool_use` is answered by its `*_tool_result` block in the
  same assistant message (the API runs server tools itself).

How rows become messages, as Claude Code builds them: rows of one API
response (assistant rows sharing `message.id`, written one content block a
row) form one message, and consecutive rows of one role are one message (the
API joins consecutive turns of a role). Rows resume loads although they are
off the chain (the other rows of a loaded response, the results of a loaded
call; see resume.py) count where they belong. Rows the CLI never sends as
conversation are left out: sidechain, meta and API-error rows, and every row
that is neither `user` nor `assistant` (progress, attachments, system rows).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import orjson

from riff.transcript.findings import (
    API_EMPTY_CONTENT,
    API_FINDING_KINDS,
    API_FIRST_NOT_USER,
    API_SERVER_TOOL_NOT_ANSWERED,
    API_TOOL_RESULT_NOT_AFTER_USE,
    API_TOOL_USE_NOT_ANSWERED,
    CYCLE,
    ERROR,
    ORPHAN,
    TOOL_RESULT_WITHOUT_USE,
    TOOL_USE_WITHOUT_RESULT,
    UNEXPECTED_ROOT,
    Finding,
)
from riff.transcript.graph import MessageGraph
from riff.transcript.records import SIDECHAIN, Transcript
from riff.transcript.resume import resume_chain_array, resume_leaf_index

API_RULES = API_FINDING_KINDS
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ApiViolation:
    rule: str
    line: int
    """1-based line of the row holding the offending block (or message)."""
    row_uuid: str
    subject: str
    """What the rule is about: a tool id, or the row's uuid."""
    detail: str

    @property
    def key(self) -> tuple[str, str]:
        """Identity across edits (line numbers shift; tool ids and uuids do not)."""
        return (self.rule, self.subject)


@dataclass(slots=True)
class _Row:
    line: int
    uuid: str
    value: dict[str, Any]

    @property
    def role(self) -> str:
        return str(self.value.get("type"))

    def content(self) -> Any:
        message = self.value.get("message")
        return message.get("content") if isinstance(message, dict) else None

    def blocks(self) -> list[dict[str, Any]]:
        content = self.content()
        return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


@dataclass(slots=True)
class _Message:
    role: str
    rows: list[_Row] = field(default_factory=list)
    extra: list[_Row] = field(default_factory=list)
    """Off-chain rows resume loads into this message."""

    def all_rows(self) -> Iterator[_Row]:
        yield from self.rows
        yield from self.extra

    def blocks(self) -> Iterator[tuple[_Row, dict[str, Any]]]:
        for row in self.all_rows():
            for block in row.blocks():
                yield row, block


def _sent(value: dict[str, Any]) -> bool:
    """Is this row sent to the API as conversation?"""
    return (
        value.get("type") in ("user", "assistant")
        and not value.get("isSidechain")
        and not value.get("isMeta")
        and not value.get("isApiErrorMessage")
    )


class _LineSource:
    """Reads the JSON object of a record from the transcript's file, once per record."""

    def __init__(self, transcript: Transcript) -> None:
        self.cols = transcript.columns
        self.fd = os.open(Path(transcript.path), os.O_RDONLY)

    def close(self) -> None:
        os.close(self.fd)

    def value(self, rec: int) -> dict[str, Any] | None:
        data = os.pread(self.fd, self.cols.length[rec], self.cols.offset[rec])
        try:  # the common case: only the fields the rules read are decoded
            return _slim_struct(_row_decoder.decode(data))
        except (msgspec.DecodeError, RecursionError):
            pass  # odd types or bytes around the JSON: the general path below
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            try:
                value = orjson.loads(data.strip(b" \t\r\n\x00"))
            except orjson.JSONDecodeError:
                return None
        return _slim(value) if isinstance(value, dict) else None


class _ApiBlock(msgspec.Struct, gc=False):
    type: Any = None
    id: Any = None
    tool_use_id: Any = None
    name: Any = None
    text: msgspec.Raw = msgspec.Raw(b"null")


class _ApiMessage(msgspec.Struct, gc=False):
    content: msgspec.Raw = msgspec.Raw(b"null")


class _ApiRow(msgspec.Struct, gc=False):
    # The transcript's own keys, hence the camelCase.
    type: Any = None
    isSidechain: Any = None
    isMeta: Any = None
    isApiErrorMessage: Any = None
    message: _ApiMessage | None = None


_row_decoder = msgspec.json.Decoder(_ApiRow)
_blocks_decoder = msgspec.json.Decoder(list[_ApiBlock])


def _shown(raw: msgspec.Raw) -> Any:
    """A text value as the rules see it: "" or None as they are, any other value "…".

    Told from the value's bytes (a JSON string of two bytes is empty), so a
    100 MB text is never decoded.
    """
    head = memoryview(raw)[:1].tobytes()
    if head == b"n":
        return None
    return "" if head == b'"' and len(memoryview(raw)) == 2 else "…"


def _slim_struct(row: _ApiRow) -> dict[str, Any]:
    """`_slim` of a row decoded with only the fields the rules read (absent reads as None)."""
    slim: dict[str, Any] = {
        "type": row.type,
        "isSidechain": row.isSidechain,
        "isMeta": row.isMeta,
        "isApiErrorMessage": row.isApiErrorMessage,
    }
    if row.message is not None:
        raw = row.message.content
        content: Any
        if memoryview(raw)[:1].tobytes() == b"[":
            content = [
                {
                    "type": b.type,
                    "id": b.id,
                    "tool_use_id": b.tool_use_id,
                    "name": b.name,
                    "text": _shown(b.text),
                }
                for b in _blocks_decoder.decode(raw)
            ]
        else:
            content = _shown(raw)
        slim["message"] = {"content": content}
    return slim


_ROW_KEYS = ("type", "isSidechain", "isMeta", "isApiErrorMessage")
_BLOCK_KEYS = ("type", "id", "tool_use_id", "name")


def _slim(value: dict[str, Any]) -> dict[str, Any]:
    """What the rules read of a row: its kind flags and its blocks' ids, no text.

    A loaded chain can hold a million rows: keeping each row's whole object
    (its text, tool inputs and outputs) cost gigabytes. A text is kept only
    as whether it is empty, which is all the rules ask of it.
    """
    slim = {key: value[key] for key in _ROW_KEYS if key in value}
    message = value.get("message")
    if isinstance(message, dict):
        content = message.get("content")
        if isinstance(content, str):
            content = content and "…"
        elif isinstance(content, list):
            content = [_slim_block(block) if isinstance(block, dict) else 0 for block in content]
        slim["message"] = {"content": content}
    return slim


def _slim_block(block: dict[str, Any]) -> dict[str, Any]:
    slim = {key: block[key] for key in _BLOCK_KEYS if key in block}
    if "text" in block:
        text = block["text"]
        slim["text"] = text if text in ("", None) else "…"
    return slim


def loaded_messages(transcript: Transcript, graph: MessageGraph) -> list[_Message]:
    """The API messages resume builds from the file, root first."""
    cols = graph.columns
    if cols is None:
        raise ValueError("the API check needs a graph built with MessageGraph.from_records")
    leaf = resume_leaf_index(graph, transcript.last_prompt_leaf)
    if leaf is None:
        return []
    chain_nodes = list(resume_chain_array(graph, leaf))
    chain_nodes.reverse()
    source = _LineSource(transcript)
    try:
        return _messages(cols, chain_nodes, source)
    finally:
        source.close()


def _messages(cols: Any, chain_nodes: list[int], source: _LineSource) -> list[_Message]:
    messages: list[_Message] = []
    on_chain: set[int] = set()
    by_reply: dict[int, _Message] = {}
    for node in chain_nodes:
        rec = cols.node_rec[node]
        on_chain.add(rec)
        flags = cols.shapes[cols.shape[rec]][3]
        if cols.shapes[cols.shape[rec]][0] not in ("user", "assistant") or flags & SIDECHAIN:
            continue
        value = source.value(rec)
        if value is None or not _sent(value):
            continue
        row = _Row(cols.line[rec], cols.uuids[node], value)
        if not messages or messages[-1].role != row.role:
            messages.append(_Message(row.role))
        messages[-1].rows.append(row)
        if row.role == "assistant" and cols.msg_ref[rec] >= 0:
            by_reply.setdefault(cols.msg_ref[rec], messages[-1])
    if not messages:
        return messages
    # Off-chain rows of a loaded response join its message.
    if by_reply:
        for rec in range(len(cols)):
            ref = cols.msg_ref[rec]
            if ref < 0 or rec in on_chain or ref not in by_reply:
                continue
            flags = cols.shapes[cols.shape[rec]][3]
            if cols.shapes[cols.shape[rec]][0] != "assistant" or flags & SIDECHAIN:
                continue
            value = source.value(rec)
            if value is not None and _sent(value) and cols.uid[rec] >= 0:
                node = cols.uid[rec]
                by_reply[ref].extra.append(_Row(cols.line[rec], cols.uuids[node], value))
    # Off-chain results of a loaded call join the user message after that call.
    holder: dict[str, int] = {}
    for index, message in enumerate(messages):
        if message.role == "assistant":
            for _, block in message.blocks():
                if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                    holder[block["id"]] = index
    if holder:
        for rec, _uses, results in cols.tool_records():
            if rec in on_chain or not results or cols.uid[rec] < 0:
                continue
            if cols.shapes[cols.shape[rec]][0] != "user":
                continue
            indexes = {holder.get(r) for r in results}
            if None in indexes or len(indexes) != 1:
                continue
            (at,) = indexes
            assert at is not None
            value = source.value(rec)
            if value is None or not _sent(value):
                continue
            row = _Row(cols.line[rec], cols.uuids[cols.uid[rec]], value)
            if at + 1 < len(messages) and messages[at + 1].role == "user":
                messages[at + 1].extra.append(row)
            else:
                messages.insert(at + 1, _Message("user", extra=[row]))
                holder = {k: (v + 1 if v > at else v) for k, v in holder.items()}
    return messages


def _empty_text(block: dict[str, Any]) -> bool:
    # Only the empty string: 2.1.x writes whitespace-only text blocks ("\n\n")
    # of streamed replies itself and resumes them without complaint.
    return block.get("type") == "text" and block.get("text") in ("", None)


def check_messages(messages: list[_Message]) -> list[ApiViolation]:
    """Every rule the messages break, in message order."""
    out: list[ApiViolation] = []
    if messages and messages[0].role != "user":
        first = messages[0].rows[0] if messages[0].rows else messages[0].extra[0]
        out.append(
            ApiViolation(
                API_FIRST_NOT_USER,
                first.line,
                first.uuid,
                first.uuid,
                f"line {first.line}: the first message resume sends is the assistant's; "
                "the API wants the user first",
            )
        )
    for index, message in enumerate(messages):
        before = messages[index - 1] if index > 0 else None
        after = messages[index + 1] if index + 1 < len(messages) else None
        for row in message.all_rows():
            content = row.content()
            if content == "" or content == []:
                out.append(
                    ApiViolation(
                        API_EMPTY_CONTENT,
                        row.line,
                        row.uuid,
                        row.uuid,
                        f"line {row.line}: the {row.role} row's content is empty",
                    )
                )
        if message.role == "user":
            asked = _ids(before, "tool_use") if before is not None else set()
            for row, block in message.blocks():
                if block.get("type") == "tool_result" and block.get("tool_use_id") not in asked:
                    tool_id = str(block.get("tool_use_id"))
                    out.append(
                        ApiViolation(
                            API_TOOL_RESULT_NOT_AFTER_USE,
                            row.line,
                            row.uuid,
                            tool_id,
                            f"line {row.line}: tool_result {tool_id} answers no tool_use of "
                            "the assistant message right before it",
                        )
                    )
        else:
            answered = _result_ids(after) if after is not None else set()
            served = {
                str(b.get("tool_use_id"))
                for _, b in message.blocks()
                if str(b.get("type", "")).endswith("_tool_result")
            }
            for row, block in message.blocks():
                kind = block.get("type")
                tool_id = str(block.get("id"))
                if kind == "tool_use" and tool_id not in answered:
                    out.append(
                        ApiViolation(
                            API_TOOL_USE_NOT_ANSWERED,
                            row.line,
                            row.uuid,
                            tool_id,
                            f"line {row.line}: tool_use {tool_id} has no tool_result in the "
                            "user message right after it",
                        )
                    )
                elif kind == "server_tool_use" and tool_id not in served:
                    out.append(
                        ApiViolation(
                            API_SERVER_TOOL_NOT_ANSWERED,
                            row.line,
                            row.uuid,
                            tool_id,
                            f"line {row.line}: server_tool_use {tool_id} "
                            f"({block.get('name')}) has no result block in its message",
                        )
                    )
        for row, block in message.blocks():
            if _empty_text(block):
                out.append(
                    ApiViolation(
                        API_EMPTY_CONTENT,
                        row.line,
                        row.uuid,
                        row.uuid,
                        f"line {row.line}: an empty text block in the {row.role} row",
                    )
                )
    return out


def _ids(message: _Message, kind: str) -> set[str]:
    return {str(b.get("id")) for _, b in message.blocks() if b.get("type") == kind}


def _result_ids(message: _Message) -> set[str]:
    if message.role != "user":
        return set()
    return {
        str(b.get("tool_use_id")) for _, b in message.blocks() if b.get("type") == "tool_result"
    }


def _on_file(data: bytes, use: Callable[[Transcript, MessageGraph], _T]) -> _T:
    # The reader and the resume model work on files: give them one.
    from riff.transcript.detect import build_graph
    from riff.transcript.reader import read_transcript

    with tempfile.TemporaryDirectory(prefix="riff-api-") as folder:
        path = Path(folder) / "transcript.jsonl"
        path.write_bytes(data)
        transcript = read_transcript(path, content_hash=False)
        return use(transcript, build_graph(transcript))


def api_violations_of_bytes(data: bytes) -> list[ApiViolation]:
    """The violations of a transcript held in memory (a repair plan's before and after)."""
    return _on_file(data, api_violations)


def loaded_row_uuids(data: bytes) -> set[str]:
    """uuids of the rows resume sends as conversation (a transcript held in memory)."""

    def rows(transcript: Transcript, graph: MessageGraph) -> set[str]:
        return {r.uuid for m in loaded_messages(transcript, graph) for r in m.all_rows()}

    return _on_file(data, rows)


def new_or_unfixed(
    before: list[ApiViolation], after: list[ApiViolation], claimed: set[tuple[str, str]]
) -> list[ApiViolation]:
    """Violations `after` has that `before` did not, and those a plan claimed to fix."""
    had = {v.key for v in before}
    return [v for v in after if v.key not in had or v.key in claimed]


def api_violations(transcript: Transcript, graph: MessageGraph) -> list[ApiViolation]:
    """Every request rule the chain resume loads from `transcript` breaks.

    An empty list when the file cannot be re-read (it moved since the scan).
    """
    try:
        return check_messages(loaded_messages(transcript, graph))
    except OSError:
        return []


_REPAIRABLE = frozenset(
    {API_TOOL_USE_NOT_ANSWERED, API_TOOL_RESULT_NOT_AFTER_USE, API_SERVER_TOOL_NOT_ANSWERED}
)
# A violation a file-wide tool finding already names (same row) is not told twice.
_COVERED_BY = {
    API_TOOL_USE_NOT_ANSWERED: TOOL_USE_WITHOUT_RESULT,
    API_TOOL_RESULT_NOT_AFTER_USE: TOOL_RESULT_WITHOUT_USE,
}


_CHAIN_BREAKS = frozenset({ORPHAN, UNEXPECTED_ROOT, CYCLE})


def api_findings(
    transcript: Transcript, graph: MessageGraph, others: list[Finding]
) -> list[Finding]:
    """The violations as findings, leaving out rows `others` already report for the same reason."""
    told = {(f.kind, m) for f in others for m in f.message_ids}
    # A chain cut short by a broken link starts wherever the break left it: the
    # break is the finding (and re-linking it the repair), not the first message.
    chain_cut = any(f.kind in _CHAIN_BREAKS for f in others)
    out = []
    for v in api_violations(transcript, graph):
        covered = _COVERED_BY.get(v.rule)
        if covered is not None and (covered, v.row_uuid) in told:
            continue
        if v.rule == API_FIRST_NOT_USER and chain_cut:
            continue
        out.append(
            Finding(
                v.rule,
                ERROR,
                (v.row_uuid,),
                (v.line,),
                v.detail[0].upper() + v.detail[1:] + "; the API rejects the resumed request.",
                repairable=v.rule in _REPAIRABLE,
            )
        )
    return out
