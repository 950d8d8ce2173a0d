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
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress, repeat
from operator import add, eq, itemgetter, ne, not_
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import orjson

from riff.transcript import json_line
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
from riff.transcript.records import META, SIDECHAIN, Columns, Transcript
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
            value = json_line.loads(data)
        except orjson.JSONDecodeError:
            try:
                value = json_line.loads(data.strip(b" \t\r\n\x00"))
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
    """The API messages resume builds from the file, root first, every row re-read.

    The complete model (every loaded row, its blocks as the file has them):
    for the loaded rows' uuids and as the reference the fast check is held to.
    """
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
        reply = cols.msg_keys[rec]
        if row.role == "assistant" and reply:
            by_reply.setdefault(reply, messages[-1])
    if not messages:
        return messages
    # Off-chain rows of a loaded response join its message.
    if by_reply:
        for rec in range(len(cols)):
            ref = cols.msg_keys[rec]
            if not ref or rec in on_chain or ref not in by_reply:
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


_USER, _ASSISTANT = 1, 2
_ROLES = {_USER: "user", _ASSISTANT: "assistant"}


@dataclass(slots=True)
class _Conversation:
    """The loaded messages, of which only those the rules can flag are held.

    Messages alternate between the roles (consecutive rows of one role are
    one message), so a message's role follows from its index; a message not
    held has no row the rules could flag (no tool block, no empty content or
    text, nothing odd), and contributes no tool id to its neighbours.
    """

    count: int = 0
    first_role: str = "user"
    first: _Row | None = None
    """The first loaded row (the first message's first row)."""
    held: dict[int, _Message] = field(default_factory=dict)

    def role(self, index: int) -> str:
        if index % 2 == 0:
            return self.first_role
        return "assistant" if self.first_role == "user" else "user"

    def message(self, index: int) -> _Message:
        message = self.held.get(index)
        if message is None:
            message = self.held[index] = _Message(self.role(index))
        return message

    @classmethod
    def of(cls, messages: list[_Message]) -> _Conversation:
        if not messages:
            return cls()
        first = messages[0].rows[0] if messages[0].rows else messages[0].extra[0]
        return cls(len(messages), messages[0].role, first, dict(enumerate(messages)))


class _ChainReader:
    """The loaded conversation judged from the scan's columns; odd rows re-read from the file.

    A loaded row the rules could flag either has tool blocks (their ids, in
    block order, are columns) or is one the reader marked suspect (see
    ``Columns.api_suspects``): only those rows become objects, and only the
    suspects are read again. A million-row chain of plain text rows costs a
    few C loops over its arrays.
    """

    def __init__(self, transcript: Transcript, cols: Columns) -> None:
        self.transcript = transcript
        self.cols = cols
        self.suspects = set(cols.api_suspects)
        self.values: dict[int, dict[str, Any] | None] = {}
        self._source: _LineSource | None = None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def value(self, rec: int) -> dict[str, Any] | None:
        """A suspect row as the rules read it (None: unreadable or not sent)."""
        if rec not in self.values:
            if self._source is None:
                self._source = _LineSource(self.transcript)
            value = self._source.value(rec)
            self.values[rec] = value if value is not None and _sent(value) else None
        return self.values[rec]

    def sent_role(self, rec: int, want: str | None = None) -> str | None:
        """The role the row is sent as (None: not sent), `want` the only one asked for."""
        cols = self.cols
        line_type, _, _, flags = cols.shapes[cols.shape[rec]]
        if line_type not in ("user", "assistant") or flags & SIDECHAIN:
            return None
        if want is not None and line_type != want:
            return None
        if rec in self.suspects:
            value = self.value(rec)
            return None if value is None else str(value.get("type"))
        return None if flags & META else line_type

    def row(self, rec: int) -> _Row:
        cols = self.cols
        value = self.value(rec) if rec in self.suspects else None
        if value is None:  # the tool blocks, from the columns, in block order
            lo = bisect_left(cols.tool_rec, rec)
            hi = bisect_right(cols.tool_rec, rec, lo)
            ids, kind = cols.tool_ids, cols.tool_kind
            blocks = [
                {"type": "tool_result", "tool_use_id": ids[k]}
                if kind[k]
                else {"type": "tool_use", "id": ids[k]}
                for k in range(lo, hi)
            ]
            line_type = cols.shapes[cols.shape[rec]][0]
            value = {"type": line_type, "message": {"content": blocks}}
        return _Row(cols.line[rec], cols.uuids[cols.uid[rec]], value)

    def conversation(self, nodes: array[int]) -> _Conversation:
        """The conversation of the chain `nodes` (root first)."""
        cols = self.cols
        recs = array("i", map(cols.node_rec.__getitem__, nodes))
        table = bytes(
            (_USER if t == "user" else _ASSISTANT)
            if t in ("user", "assistant") and not flags & (SIDECHAIN | META)
            else 0
            for t, _, _, flags in cols.shapes
        )
        kinds = bytearray(map(table.__getitem__, map(cols.shape.__getitem__, recs)))
        suspects = self.suspects
        if suspects:
            for pos in compress(range(len(recs)), map(suspects.__contains__, recs)):
                role = self.sent_role(recs[pos])
                kinds[pos] = 0 if role is None else _USER if role == "user" else _ASSISTANT
        sent = array("i", compress(recs, kinds))
        if not sent:
            return _Conversation()
        roles = bytes(kinds).replace(b"\0", b"")
        # Message index of each sent row: a new message wherever the role changes.
        msg_of = array("i", accumulate(map(ne, roles, roles[:1] + roles[:-1])))
        conv = _Conversation(msg_of[-1] + 1, _ROLES[roles[0]], self.row_or_stub(sent[0]))
        flaggable = set(cols.tool_rec) | suspects
        for pos in compress(range(len(sent)), map(flaggable.__contains__, sent)):
            conv.message(msg_of[pos]).rows.append(self.row(sent[pos]))
        on_chain = bytearray(len(cols))
        deque(map(on_chain.__setitem__, recs, repeat(1)), maxlen=0)
        self._join_replies(conv, sent, roles, msg_of, on_chain, flaggable)
        self._join_results(conv, on_chain)
        return conv

    def row_or_stub(self, rec: int) -> _Row:
        cols = self.cols
        return _Row(cols.line[rec], cols.uuids[cols.uid[rec]], {})

    def _join_replies(
        self,
        conv: _Conversation,
        sent: array[int],
        roles: bytes,
        msg_of: array[int],
        on_chain: bytearray,
        flaggable: set[int],
    ) -> None:
        """Off-chain rows of a loaded response join its message (see `_messages`)."""
        cols = self.cols
        msg_keys = cols.msg_keys
        candidates = sorted(r for r in flaggable if not on_chain[r] and msg_keys[r])
        if not candidates:
            return
        wanted = {msg_keys[r] for r in candidates}
        by_reply: dict[int, int] = {}
        refs = map(msg_keys.__getitem__, sent)
        for pos in compress(range(len(sent)), map(wanted.__contains__, refs)):
            if roles[pos] == _ASSISTANT:
                by_reply.setdefault(msg_keys[sent[pos]], msg_of[pos])
        for rec in candidates:
            at = by_reply.get(msg_keys[rec])
            if at is None or cols.uid[rec] < 0:
                continue
            if self.sent_role(rec, "assistant") is not None:
                conv.message(at).extra.append(self.row(rec))

    def _join_results(self, conv: _Conversation, on_chain: bytearray) -> None:
        """Off-chain results of a loaded call join the user message after it (see `_messages`)."""
        holder: dict[str, int] = {}
        for index in sorted(conv.held):
            message = conv.held[index]
            if message.role == "assistant":
                for _, block in message.blocks():
                    if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                        holder[block["id"]] = index
        if not holder:
            return
        cols = self.cols
        # Only a row with a result for a held call can join (all its results must
        # answer calls of one message): C loops pick those rows, off the chain.
        tool_rec, kind = cols.tool_rec, cols.tool_kind
        answering = compress(range(len(tool_rec)), map(holder.__contains__, cols.tool_ids))
        candidates = {tool_rec[k] for k in answering if kind[k] and not on_chain[tool_rec[k]]}
        for rec in sorted(candidates):
            if cols.shapes[cols.shape[rec]][0] != "user":
                continue
            at = _answered_message(cols, rec, holder)
            if at is None or self.sent_role(rec, "user") is None:
                continue
            # Roles alternate and `at` is an assistant message: the message after
            # it is a user message, or there is none yet (a new one, at the end).
            if at + 1 >= conv.count:
                conv.count = at + 2
            conv.message(at + 1).extra.append(self.row(rec))


def _answered_message(cols: Columns, rec: int, holder: dict[str, int]) -> int | None:
    """The one message (as ``holder`` numbers them) whose calls every result of row
    ``rec`` answers; None for a row without a uuid or results, or answering several
    messages or a call ``holder`` does not hold."""
    tools = cols.tools_of(rec)
    if tools is None or not tools[1] or cols.uid[rec] < 0:
        return None
    indexes = {holder.get(r) for r in tools[1]}
    if None in indexes or len(indexes) != 1:
        return None
    (at,) = indexes
    return at


def _role_table(cols: Columns) -> bytes:
    """Per shape code: the role a row of that shape is sent as (0: not sent), suspects aside."""
    return bytes(
        (_USER if t == "user" else _ASSISTANT)
        if t in ("user", "assistant") and not flags & (SIDECHAIN | META)
        else 0
        for t, _, _, flags in cols.shapes
    )


_USE_IN_ASSISTANT = bytes(1 if code == 2 * _ASSISTANT else 0 for code in range(256))
_RESULT_IN_USER = bytes(1 if code == 2 * _USER + 1 else 0 for code in range(256))


def _verdict_from_columns(cols: Columns, nodes: array[int]) -> list[ApiViolation] | None:
    """The violations of the chain `nodes` (root first) when the columns settle them, else None.

    The common case, a loaded conversation whose every call is answered and
    every result asked for, is told by C loops over the columns, with no
    object per row: each tool id is keyed by the message it lands in, a
    call by its own message and a result by the message before it; the
    rules hold exactly when the two sets of keys are equal. Anything this
    cannot settle returns None, and `_ChainReader` (held to the complete
    model) judges the file: a suspect row that is loaded or could join a
    loaded message (only a suspect can be empty, odd or a server tool), a
    tool_use id held twice (where its off-chain results join would depend on
    block order), or any unpaired tool id (the violations are then named by
    the objects' path).
    """
    if not cols.tool_rec and not cols.api_suspects:
        # Nothing to pair or join anywhere (no tool id, no row to read again):
        # only the first sent row's role is left to judge, found without a
        # pass over the whole chain (a million rows: 0.5 s).
        return _first_sent_role_violation(cols, nodes)
    recs = array("i", map(cols.node_rec.__getitem__, nodes))
    suspects = set(cols.api_suspects)
    if suspects and any(map(suspects.__contains__, recs)):
        return None
    kinds = bytes(map(_role_table(cols).__getitem__, map(cols.shape.__getitem__, recs)))
    sent = array("i", compress(recs, kinds))
    if not sent:
        return []
    roles = kinds.replace(b"\0", b"")
    # Message index of each sent row: a new message wherever the role changes.
    msg_of = array("i", accumulate(map(ne, roles, roles[:1] + roles[:-1])))
    n = len(cols)
    # 1 + the message each record lands in (0: none); roles alternate, so a
    # message's role follows from its index.
    lands = array("i", [0]) * n
    deque(map(lands.__setitem__, sent, map((1).__add__, msg_of)), maxlen=0)
    on_chain = bytearray(n)
    deque(map(on_chain.__setitem__, recs, repeat(1)), maxlen=0)
    first_role = roles[0]
    other_role = _ASSISTANT if first_role == _USER else _USER
    tool_rec, tool_ids, msg_keys, uid = cols.tool_rec, cols.tool_ids, cols.msg_keys, cols.uid
    # Rows with tool ids off the chain, each once: tool_rec is in file order, so a
    # row's ids are adjacent (an array and flags, where a set and a sorted list of
    # int objects cost 3 MB for the 40,000 such rows of the 301 MB session).
    off = array("i", compress(tool_rec, map(not_, map(on_chain.__getitem__, tool_rec))))
    off_chain = compress(off, map(ne, off, chain((-1,), off)))
    # Off-chain rows of a loaded response join its message (`_ChainReader._join_replies`).
    replies = array("i", filter(msg_keys.__getitem__, off_chain))
    odd_replies = [r for r in suspects if not on_chain[r] and msg_keys[r]]
    if replies or odd_replies:
        wanted = {msg_keys[r] for r in replies} | {msg_keys[r] for r in odd_replies}
        by_reply: dict[int, int] = {}
        refs = map(msg_keys.__getitem__, sent)
        for pos in compress(range(len(sent)), map(wanted.__contains__, refs)):
            if roles[pos] == _ASSISTANT:
                by_reply.setdefault(msg_keys[sent[pos]], msg_of[pos])
        if any(msg_keys[r] in by_reply for r in odd_replies):
            return None  # a suspect joins a loaded response: only its bytes tell how
        shapes, shape = cols.shapes, cols.shape
        for rec in replies:
            at = by_reply.get(msg_keys[rec])
            if at is None or uid[rec] < 0:
                continue
            line_type, _, _, flags = shapes[shape[rec]]
            if line_type == "assistant" and not flags & (SIDECHAIN | META):
                lands[rec] = at + 1
    # Role of each message, 1-based (0: lands nowhere), one past the last for
    # results that open a new message at the end.
    count = msg_of[-1] + 1
    message_role = b"\0" + (bytes([first_role, other_role]) * (count // 2 + 1))[: count + 1]
    landed = array("i", map(lands.__getitem__, tool_rec))
    # 2 * role + kind of each tool id: a call in an assistant message, a result in a user one.
    codes = bytes(map(add, map((2).__mul__, map(message_role.__getitem__, landed)), cols.tool_kind))
    calls = codes.translate(_USE_IN_ASSISTANT)
    holder = dict(compress(zip(tool_ids, landed, strict=True), calls))
    if len(holder) != calls.count(1):
        return None
    # Off-chain results of a loaded call join the user message after it (`_join_results`).
    answering = compress(range(len(tool_rec)), map(holder.__contains__, tool_ids))
    joining = {tool_rec[k] for k in answering if cols.tool_kind[k] and not on_chain[tool_rec[k]]}
    if joining:
        if suspects & joining:
            return None
        for rec in sorted(joining):
            line_type, _, _, flags = cols.shapes[cols.shape[rec]]
            if line_type != "user" or flags & (SIDECHAIN | META):
                continue
            at = _answered_message(cols, rec, holder)
            if at is not None:
                lands[rec] = at + 1  # `at` is 1 + the call's message: the message after it
        landed = array("i", map(lands.__getitem__, tool_rec))
        codes = bytes(
            map(add, map((2).__mul__, map(message_role.__getitem__, landed)), cols.tool_kind)
        )
        calls = codes.translate(_USE_IN_ASSISTANT)
    results = codes.translate(_RESULT_IN_USER)
    out = _first_role_violation(cols, sent, first_role)
    if _every_call_answered_once_placed(holder, tool_ids, landed, results):
        return out
    asked = set(compress(zip(landed, tool_ids, strict=True), calls))
    answered = set(compress(zip(map((-1).__add__, landed), tool_ids, strict=True), results))
    if asked == answered:
        return out
    unpaired = _unpaired(cols, recs, on_chain, landed, calls, results, asked, answered)
    return None if unpaired is None else out + unpaired


def _every_call_answered_once_placed(
    holder: dict[str, int], tool_ids: list[str], landed: array[int], results: bytes
) -> bool:
    """Whether the set of (message, id) of the calls equals that of (message - 1, id) of
    the results, told without building either set.

    ``holder`` maps each call's id (ids are distinct) to its message: the results
    are all paired when each names a call of the message before its own, and they
    cover every call when their distinct ids are as many as the calls. The two sets
    hold a tuple and a table slot per id; this needs one set of the results' ids.
    """
    result_ids = list(compress(tool_ids, results))
    previous = map((-1).__add__, compress(landed, results))
    if not all(map(eq, map(holder.get, result_ids), previous)):
        return False
    return len(set(result_ids)) == len(holder)


def _first_sent_role_violation(cols: Columns, nodes: array[int]) -> list[ApiViolation]:
    """`_first_role_violation` of the chain `nodes` (root first), read up to its first sent row."""
    node_rec, shape, role_of = cols.node_rec, cols.shape, _role_table(cols)
    records = map(node_rec.__getitem__, nodes)
    roles = map(role_of.__getitem__, map(shape.__getitem__, map(node_rec.__getitem__, nodes)))
    first = next(filter(itemgetter(1), zip(records, roles, strict=True)), None)
    if first is None:
        return []
    return _first_role_violation(cols, array("i", [first[0]]), first[1])


def _first_role_violation(cols: Columns, sent: array[int], first_role: int) -> list[ApiViolation]:
    """The violation of a chain whose first sent row (``sent[0]``) is the assistant's."""
    if first_role == _USER:
        return []
    first = sent[0]
    line, uuid = cols.line[first], cols.uuids[cols.uid[first]]
    return [
        ApiViolation(
            API_FIRST_NOT_USER,
            line,
            uuid,
            uuid,
            f"line {line}: the first message resume sends is the assistant's; "
            "the API wants the user first",
        )
    ]


_MOST_UNPAIRED_ROWS = 32
"""Past this many rows with an unpaired id, the objects' path names them (placing each row
in its message costs a pass over the chain)."""


def _unpaired(
    cols: Columns,
    recs: array[int],
    on_chain: bytearray,
    landed: array[int],
    calls: bytes,
    results: bytes,
    asked: set[tuple[int, str]],
    answered: set[tuple[int, str]],
) -> list[ApiViolation] | None:
    """The calls no result answers and the results no call asked for, in `_check`'s order.

    `_check` goes message by message; within one, through its loaded rows in
    chain order, then the rows that joined it (in file order), each row's
    blocks in order. None when too many rows are involved.
    """
    tool_rec, tool_ids = cols.tool_rec, cols.tool_ids
    unpaired = [
        k for k in compress(range(len(tool_rec)), calls) if (landed[k], tool_ids[k]) not in answered
    ]
    unpaired += [
        k
        for k in compress(range(len(tool_rec)), results)
        if (landed[k] - 1, tool_ids[k]) not in asked
    ]
    rows = {tool_rec[k] for k in unpaired}
    if len(rows) > _MOST_UNPAIRED_ROWS:
        return None
    # Loaded rows first, by their place in the chain; joined rows after, by line.
    place = {rec: recs.index(rec) if on_chain[rec] else len(recs) + rec for rec in rows}
    unpaired.sort(key=lambda k: (landed[k], place[tool_rec[k]], k))
    out = []
    for k in unpaired:
        rec = tool_rec[k]
        line, uuid, tool_id = cols.line[rec], cols.uuids[cols.uid[rec]], tool_ids[k]
        if cols.tool_kind[k]:
            out.append(
                ApiViolation(
                    API_TOOL_RESULT_NOT_AFTER_USE,
                    line,
                    uuid,
                    tool_id,
                    f"line {line}: tool_result {tool_id} answers no tool_use of "
                    "the assistant message right before it",
                )
            )
        else:
            out.append(
                ApiViolation(
                    API_TOOL_USE_NOT_ANSWERED,
                    line,
                    uuid,
                    tool_id,
                    f"line {line}: tool_use {tool_id} has no tool_result in the "
                    "user message right after it",
                )
            )
    return out


def _loaded_chain(transcript: Transcript, graph: MessageGraph) -> array[int]:
    """The nodes resume loads, root first (none for an empty session)."""
    leaf = resume_leaf_index(graph, transcript.last_prompt_leaf)
    if leaf is None:
        return array("i")
    nodes = resume_chain_array(graph, leaf)
    nodes.reverse()
    return nodes


def _loaded_conversation(
    transcript: Transcript, graph: MessageGraph, nodes: array[int] | None = None
) -> _Conversation:
    cols = graph.columns
    if cols is None:
        raise ValueError("the API check needs a graph built with MessageGraph.from_records")
    if not cols.api_complete:  # columns built elsewhere: no suspects known, re-read every row
        return _Conversation.of(loaded_messages(transcript, graph))
    if nodes is None:
        nodes = _loaded_chain(transcript, graph)
    if not nodes:
        return _Conversation()
    reader = _ChainReader(transcript, cols)
    try:
        return reader.conversation(nodes)
    finally:
        reader.close()


def _empty_text(block: dict[str, Any]) -> bool:
    # Only the empty string: 2.1.x writes whitespace-only text blocks ("\n\n")
    # of streamed replies itself and resumes them without complaint.
    return block.get("type") == "text" and block.get("text") in ("", None)


def check_messages(messages: list[_Message]) -> list[ApiViolation]:
    """Every rule the messages break, in message order."""
    return _check(_Conversation.of(messages))


def _check(conv: _Conversation) -> list[ApiViolation]:
    out: list[ApiViolation] = []
    if conv.count and conv.first_role != "user":
        first = conv.first
        assert first is not None
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
    held = conv.held
    # Each message's blocks, listed once: a message is read as itself and as
    # the neighbour of the two around it.
    blocks_of = {index: list(message.blocks()) for index, message in held.items()}
    for index in sorted(held):
        message = held[index]
        blocks = blocks_of[index]
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
            asked = _use_ids(blocks_of.get(index - 1, ()))
            for row, block in blocks:
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
            after = held.get(index + 1)
            answered = (
                _result_ids(blocks_of[index + 1])
                if after is not None and after.role == "user"
                else set()
            )
            served = {
                str(b.get("tool_use_id"))
                for _, b in blocks
                if str(b.get("type", "")).endswith("_tool_result")
            }
            for row, block in blocks:
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
        for row, block in blocks:
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


def _use_ids(blocks: Iterable[tuple[_Row, dict[str, Any]]]) -> set[str]:
    return {str(b.get("id")) for _, b in blocks if b.get("type") == "tool_use"}


def _result_ids(blocks: Iterable[tuple[_Row, dict[str, Any]]]) -> set[str]:
    return {str(b.get("tool_use_id")) for _, b in blocks if b.get("type") == "tool_result"}


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
        cols = graph.columns
        if cols is not None and cols.api_complete:
            nodes = _loaded_chain(transcript, graph)
            verdict = _verdict_from_columns(cols, nodes) if nodes else []
            if verdict is not None:
                return verdict
            return _check(_loaded_conversation(transcript, graph, nodes))
        return _check(_loaded_conversation(transcript, graph))
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
