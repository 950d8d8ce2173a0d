"""Synthetic Claude Code 2.x sessions with known breakages.

Deterministic given a seed. Used by the tests, the benchmarks and ``riff
demo`` (so it lives in the package). A generated session is healthy: riff
must report nothing about it; :func:`inject` then breaks it on purpose and
returns the ground truth of each breakage.

Shapes produced (see the spec): user prompts; assistant responses written as
several lines (thinking / text / tool_use) sharing ``message.id``;
tool_use/tool_result pairs, including parallel calls whose results branch
off each tool_use line; bash progress chains a tool_result hangs from; hook
progress leaves; meta user lines; compactions (``compact_boundary`` root with
``logicalParentUuid`` and a compact-summary user line); ``summary``,
``file-history-snapshot`` and ``last-prompt`` lines without uuid; bursts of
identical timestamps; 1.x inline sidechains and 2.x subagent files.
"""

from __future__ import annotations

import random
import uuid as uuid_module
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from riff.testing import synthetic_text as text
from riff.transcript.findings import FINDING_KINDS
from riff.transcript.timestamps import format_transcript_timestamp

DEFAULT_START = datetime(2025, 9, 1, 9, 30, tzinfo=UTC)
# The generator can inject every kind of finding the detectors know.
BREAKAGE_KINDS = FINDING_KINDS

Line = dict[str, Any] | bytes
"""A line as a JSON object, or raw bytes (no newline) written verbatim."""


@dataclass(frozen=True)
class GroundTruth:
    """One injected breakage: where it is and what the right answer is."""

    kind: str
    line: int
    """1-based physical line where a detector must point."""
    message_id: str | None = None
    """The message that was broken (the one a repair changes)."""
    true_parent: str | None = None
    """Its parent before the breakage (the repair's answer)."""
    related_id: str | None = None
    """Another message a finding must name (e.g. the leaf of a lost branch)."""
    detail: str = ""


Breakage = GroundTruth


@dataclass
class GeneratedSession:
    session_id: str
    lines: list[Line]
    cwd: str = "/home/dev/projects/shop"
    truncated_tail: bytes | None = None
    truths: list[GroundTruth] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    @property
    def project_slug(self) -> str:
        return self.cwd.replace("/", "-")

    def messages(self) -> list[dict[str, Any]]:
        return [x for x in self.lines if isinstance(x, dict) and "uuid" in x]

    def to_bytes(self) -> bytes:
        return b"".join(_dump(x) for x in self.lines) + (self.truncated_tail or b"")


def _dump(line: Line) -> bytes:
    if isinstance(line, bytes):
        return line + b"\n"
    return orjson.dumps(line) + b"\n"


class _Builder:
    """Writes one conversation line by line, keeping the chain tail."""

    def __init__(
        self,
        rng: random.Random,
        session_id: str,
        start: datetime,
        *,
        version: str,
        cwd: str,
        sidechain: bool = False,
        agent_id: str | None = None,
        tail: str | None = None,
    ) -> None:
        self.rng = rng
        self.session_id = session_id
        self.clock = start
        self.version = version
        self.cwd = cwd
        self.sidechain = sidechain
        self.agent_id = agent_id
        self.tail = tail
        self.messages = 0

    # -- primitives -----------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid_module.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, prefix: str, n: int = 24) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(n))

    def tick(self, low_ms: int, high_ms: int) -> str:
        # Bursts: a fifth of the lines share the previous line's timestamp.
        if self.rng.random() >= 0.2:
            self.clock += timedelta(milliseconds=self.rng.randint(low_ms, high_ms))
        return format_transcript_timestamp(self.clock)

    def base(self, line_type: str, parent: str | None, ts: str) -> dict[str, Any]:
        self.messages += 1
        line: dict[str, Any] = {
            "parentUuid": parent,
            "isSidechain": self.sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": "main",
        }
        if self.agent_id is not None:
            line["agentId"] = self.agent_id
        line["type"] = line_type
        line["uuid"] = self.new_id()
        line["timestamp"] = ts
        return line

    def user(self, content: Any, parent: str | None, **extra: Any) -> dict[str, Any]:
        line = self.base("user", parent, self.tick(2_000, 90_000))
        line["message"] = {"role": "user", "content": content}
        line.update(extra)
        return line

    def assistant(
        self, block: dict[str, Any], parent: str | None, msg_id: str, req: str
    ) -> dict[str, Any]:
        line = self.base("assistant", parent, self.tick(300, 6_000))
        line["message"] = {
            "model": "claude-sonnet-4-5-20250929",
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "content": [block],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.rng.randint(3, 12),
                "cache_creation_input_tokens": self.rng.randint(0, 4000),
                "cache_read_input_tokens": self.rng.randint(10_000, 90_000),
                "output_tokens": self.rng.randint(1, 900),
                "service_tier": "standard",
            },
        }
        line["requestId"] = req
        return line

    def progress(self, data: dict[str, Any], parent: str | None, tool_id: str) -> dict[str, Any]:
        line = self.base("progress", parent, self.tick(100, 3_000))
        line["data"] = data
        line["toolUseID"] = tool_id
        line["parentToolUseID"] = tool_id
        return line

    # -- turns ----------------------------------------------------------------

    def snapshot(self, message_id: str) -> dict[str, Any]:
        return {
            "type": "file-history-snapshot",
            "messageId": message_id,
            "snapshot": {
                "messageId": message_id,
                "trackedFileBackups": {},
                "timestamp": format_transcript_timestamp(self.clock),
            },
            "isSnapshotUpdate": False,
        }

    def turn(self, *, inline_sidechains: bool) -> Iterator[dict[str, Any]]:
        """A user prompt and the whole assistant response to it."""
        rng = self.rng
        if not self.sidechain and rng.random() < 0.08:
            meta = self.user(
                "Caveat: The messages below were generated by the user while running "
                "local commands. DO NOT respond to these messages.",
                self.tail,
                isMeta=True,
            )
            self.tail = meta["uuid"]
            yield meta
        prompt = self.user(rng.choice(text.PROMPTS), self.tail, permissionMode="default")
        if not self.sidechain:
            yield self.snapshot(prompt["uuid"])
        self.tail = prompt["uuid"]
        yield prompt
        rounds = rng.choice((1, 1, 2, 2, 3, 4))
        for round_no in range(rounds):
            yield from self.response(
                final=round_no == rounds - 1, inline_sidechains=inline_sidechains
            )

    def response(self, *, final: bool, inline_sidechains: bool) -> Iterator[dict[str, Any]]:
        rng = self.rng
        msg_id, req = self.token("msg_01"), self.token("req_011C")
        if rng.random() < 0.5:
            block = {
                "type": "thinking",
                "thinking": rng.choice(text.THINKING),
                "signature": self.token("Eu8B", 64),
            }
            line = self.assistant(block, self.tail, msg_id, req)
            self.tail = line["uuid"]
            yield line
        if final or rng.random() < 0.6:
            line = self.assistant(
                {"type": "text", "text": rng.choice(text.ASSISTANT_TEXTS)}, self.tail, msg_id, req
            )
            self.tail = line["uuid"]
            yield line
        if final:
            return
        if rng.random() < 0.25:
            yield from self.parallel_calls(msg_id, req)
        else:
            yield from self.single_call(msg_id, req, inline_sidechains=inline_sidechains)

    def tool_use(self, tool: str, msg_id: str, req: str) -> tuple[dict[str, Any], str]:
        tool_id = self.token("toolu_01")
        block = {
            "type": "tool_use",
            "id": tool_id,
            "name": tool,
            "input": text.tool_input(self.rng, tool),
        }
        return self.assistant(block, self.tail, msg_id, req), tool_id

    def tool_result(self, tool_id: str, parent: str | None, source: str) -> dict[str, Any]:
        output = text.tool_output(self.rng, int(self.rng.lognormvariate(6.5, 1.0)))
        line = self.user(
            [{"tool_use_id": tool_id, "type": "tool_result", "content": output}],
            parent,
            toolUseResult={"stdout": output, "stderr": "", "interrupted": False},
            sourceToolAssistantUUID=source,
        )
        return line

    def single_call(
        self, msg_id: str, req: str, *, inline_sidechains: bool
    ) -> Iterator[dict[str, Any]]:
        rng = self.rng
        tool = "Task" if inline_sidechains and rng.random() < 0.3 else rng.choice(text.TOOLS)
        call, tool_id = self.tool_use(tool, msg_id, req)
        self.tail = call["uuid"]
        yield call
        if tool == "Task":
            yield from self.inline_sidechain()
        if tool == "Bash" and rng.random() < 0.7:
            for n in range(rng.randint(1, 4)):
                data = {
                    "type": "bash_progress",
                    "output": rng.choice(text.CODE),
                    "elapsedTimeSeconds": n + 1,
                    "totalLines": n + 3,
                }
                line = self.progress(data, self.tail, tool_id)
                self.tail = line["uuid"]
                yield line
        result = self.tool_result(tool_id, self.tail, call["uuid"])
        self.tail = result["uuid"]
        yield result
        if rng.random() < 0.3:
            hook = {
                "type": "hook_progress",
                "hookEvent": "PostToolUse",
                "hookName": f"PostToolUse:{tool}",
                "command": "ruff format --quiet",
            }
            yield self.progress(hook, result["uuid"], tool_id)  # a normal progress leaf

    def parallel_calls(self, msg_id: str, req: str) -> Iterator[dict[str, Any]]:
        calls: list[tuple[dict[str, Any], str]] = []
        for _ in range(self.rng.randint(2, 4)):
            call, tool_id = self.tool_use(self.rng.choice(("Read", "Grep", "Glob")), msg_id, req)
            self.tail = call["uuid"]
            calls.append((call, tool_id))
            yield call
        # Each result hangs from its own tool_use line: a normal branch.
        for call, tool_id in calls:
            result = self.tool_result(tool_id, call["uuid"], call["uuid"])
            self.tail = result["uuid"]
            yield result

    def inline_sidechain(self) -> Iterator[dict[str, Any]]:
        """1.x: a subagent's messages inline, starting at their own null root."""
        sub = _Builder(
            self.rng,
            self.session_id,
            self.clock,
            version=self.version,
            cwd=self.cwd,
            sidechain=True,
        )
        for _ in range(self.rng.randint(1, 2)):
            yield from sub.turn(inline_sidechains=False)
        self.clock = sub.clock
        self.messages += sub.messages

    def compaction(self) -> Iterator[dict[str, Any]]:
        boundary = self.base("system", None, self.tick(1_000, 5_000))
        boundary.update(
            {
                "logicalParentUuid": self.tail,
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "level": "info",
                "compactMetadata": {"trigger": "auto", "preTokens": 155_000},
            }
        )
        yield boundary
        summary = self.user(
            "This session is being continued from a previous conversation that ran out of "
            "context. The conversation is summarized below: the user asked to "
            + self.rng.choice(text.PROMPTS).lower(),
            boundary["uuid"],
            isCompactSummary=True,
            isVisibleInTranscriptOnly=True,
        )
        self.tail = summary["uuid"]
        yield summary


def iter_session_lines(
    n_messages: int,
    *,
    seed: int,
    session_id: str | None = None,
    start: datetime = DEFAULT_START,
    version: str = "2.0.76",
    cwd: str = "/home/dev/projects/shop",
    compactions: bool = True,
    inline_sidechains: bool = False,
    sidechain: bool = False,
    agent_id: str | None = None,
    first_parent: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The lines of one healthy session, streamed (for very large files)."""
    rng = random.Random(seed)
    builder = _Builder(
        rng,
        session_id or str(uuid_module.UUID(int=rng.getrandbits(128), version=4)),
        start,
        version=version,
        cwd=cwd,
        sidechain=sidechain,
        agent_id=agent_id,
        tail=first_parent,
    )
    if not sidechain and rng.random() < 0.3:
        yield {"type": "summary", "summary": "Fix flaky login test", "leafUuid": builder.new_id()}
    last_prompt = ""
    turns = 0
    while builder.messages < n_messages:
        turns += 1
        if compactions and not sidechain and turns % 40 == 0:
            yield from builder.compaction()
        for line in builder.turn(inline_sidechains=inline_sidechains):
            message = line.get("message")
            if line.get("type") == "user" and isinstance(message, dict):
                content = message.get("content")
                if isinstance(content, str):
                    last_prompt = content
            yield line
        if not sidechain and rng.random() < 0.02:
            yield {"type": "summary", "summary": rng.choice(text.PROMPTS), "leafUuid": builder.tail}
    if not sidechain:
        yield {
            "type": "last-prompt",
            "lastPrompt": last_prompt,
            "leafUuid": builder.tail,
            "sessionId": builder.session_id,
        }


def generate_session(
    n_messages: int,
    *,
    seed: int,
    session_id: str | None = None,
    start: datetime = DEFAULT_START,
    **options: Any,
) -> GeneratedSession:
    """A healthy session of about ``n_messages`` uuid-bearing lines (ends at a turn's end)."""
    rng = random.Random(seed)
    sid = session_id or str(uuid_module.UUID(int=rng.getrandbits(128), version=4))
    lines: list[Line] = list(
        iter_session_lines(n_messages, seed=seed, session_id=sid, start=start, **options)
    )
    cwd = options.get("cwd", "/home/dev/projects/shop")
    return GeneratedSession(session_id=sid, lines=lines, cwd=cwd)


def write_generated_session(path: Path, session: GeneratedSession) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for line in session.lines:
            handle.write(_dump(line))
        if session.truncated_tail:
            handle.write(session.truncated_tail)
    return path


def write_session_stream(path: Path, n_messages: int, *, seed: int, **options: Any) -> Path:
    """Write a (possibly huge) healthy session without holding it in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb", buffering=1 << 20) as handle:
        for line in iter_session_lines(n_messages, seed=seed, **options):
            handle.write(orjson.dumps(line) + b"\n")
    return path


# Re-exported for callers that think in terms of "inject a breakage".
from riff.testing.synthetic_inject import inject  # noqa: E402
from riff.testing.synthetic_tree import BuiltSession, build_projects_dir  # noqa: E402

__all__ = [
    "BREAKAGE_KINDS",
    "Breakage",
    "BuiltSession",
    "GeneratedSession",
    "GroundTruth",
    "Line",
    "build_projects_dir",
    "generate_session",
    "inject",
    "iter_session_lines",
    "write_generated_session",
    "write_session_stream",
]
