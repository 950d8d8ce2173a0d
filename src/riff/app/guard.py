"""`riff guard`: check the one session a Claude Code hook names and say what to do.

Claude Code runs the hook command with a JSON object on stdin (`session_id`,
`transcript_path`, `cwd`, `hook_event_name`, and per event `source` for
SessionStart, `reason` for SessionEnd, `stop_hook_active` for Stop) and reads
what the command prints on stdout. How each event shows it, as observed with
Claude Code 2.1.332 and documented in its hooks reference:

- SessionStart: `hookSpecificOutput.additionalContext` is added to the model's
  context (a `system` message "SessionStart hook additional context: …" in the
  request); `systemMessage` is shown to the user in the terminal
  ("SessionStart:resume says: …") and recorded in the transcript.
- Stop: `systemMessage` is shown to the user ("Stop says: …"); riff never sets
  `decision: block`, which would make Claude carry on working.
- SessionEnd: nothing the hook prints can be shown any more (the session is
  over); riff prints the same `systemMessage` for logs and does its `--auto` work.
- Exit code 2 would turn stderr into a "hook error" notice, other non-zero codes
  into an error line: guard always exits 0, prints nothing when all is well, and
  writes its own failures to `<data dir>/guard.log` instead of failing the hook.

This module imports only the standard library and orjson at the top: the
common case (an unchanged session, answered from the scan cache) must cost
little more than starting Python. The transcript reader, the suggestion
engine and the store are imported only when a scan or a repair needs them.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from riff.app.auto_apply import auto_apply_threshold, auto_repairs
from riff.app.errors import GuardInputError
from riff.app.live_files import QUIET_SECONDS, live_reason
from riff.app.scan_cache import ScanCache, scan_cache_path

if TYPE_CHECKING:
    from riff.settings import Settings

GUARD_OPERATOR = "riff-guard"
LOG_FILE_NAME = "guard.log"
LOG_MAX_BYTES = 1024 * 1024
MAX_HOOK_INPUT_BYTES = 1024 * 1024
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "fish", "ksh", "busybox"})


@dataclass(frozen=True)
class HookInput:
    event: str
    session_id: str | None
    transcript_path: Path | None
    source: str | None = None
    reason: str | None = None
    cwd: str | None = None


def parse_hook_input(raw: bytes) -> HookInput:
    if len(raw) > MAX_HOOK_INPUT_BYTES:
        raise GuardInputError(f"hook input of {len(raw)} bytes is larger than riff expects")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise GuardInputError(f"hook input is not JSON ({exc}); run guard from a hook") from None
    if not isinstance(data, dict):
        raise GuardInputError("hook input is not a JSON object; run guard from a hook")

    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    path = text("transcript_path")
    return HookInput(
        event=text("hook_event_name") or "",
        session_id=text("session_id"),
        transcript_path=Path(path).expanduser() if path else None,
        source=text("source"),
        reason=text("reason"),
        cwd=text("cwd"),
    )


# -- scanning one session, cache first ----------------------------------------------


@dataclass(frozen=True)
class _Stamp:
    path: Path
    size: int
    mtime_ns: int


def find_transcript(hook: HookInput, projects_dir: Path) -> Path | None:
    """The transcript the hook names, else `<projects>/*/<session_id>.jsonl`."""
    if hook.transcript_path is not None and hook.transcript_path.is_file():
        return hook.transcript_path
    if hook.session_id and "/" not in hook.session_id and projects_dir.is_dir():
        for candidate in projects_dir.glob(f"*/{hook.session_id}.jsonl"):
            return candidate
    return None


def _stamp(path: Path) -> _Stamp:
    stat = path.stat()
    return _Stamp(path.resolve(), stat.st_size, stat.st_mtime_ns)


def _subagent_stamps(path: Path) -> list[_Stamp]:
    folder = path.parent / path.stem / "subagents"
    if not folder.is_dir():
        return []
    return [_stamp(p) for p in sorted(folder.glob("agent-*.jsonl"))]


def check_session(path: Path, cache_dir: Path) -> dict[str, Any]:
    """The session's `riff scan --json` entry; from the cache when its files did not change."""
    cache = ScanCache(scan_cache_path(cache_dir))
    stamps = [_stamp(path), *_subagent_stamps(path)]
    cached = [cache.get(s) for s in stamps]
    first = cached[0]
    if first is not None and all(c is not None for c in cached):
        return first
    from riff.transcript.discover import describe_file
    from riff.transcript.scan import scan_session

    file = describe_file(path)
    group = _session_files(file)
    scan = scan_session(file, group).to_json()
    cache.put(file, scan)
    with contextlib.suppress(OSError):  # a cache not saved is only a slower next time
        cache.save()
    return scan


def _session_files(file: Any) -> list[Any]:
    """The files of the session's project, for cross-file links (subagents, parents)."""
    from riff.transcript.discover import discover_sessions

    projects_dir = file.path.parent.parent
    if file.is_subagent and file.path.parent.name == "subagents":
        projects_dir = file.path.parent.parent.parent.parent
    return [s for s in discover_sessions(projects_dir) if s.project == file.project]


# -- what to tell -------------------------------------------------------------------


def problems_of(scan: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings worth interrupting someone for (errors and warnings)."""
    return [f for f in scan.get("findings", []) if f.get("severity") in ("error", "warning")]


def findings_digest(problems: list[dict[str, Any]]) -> str:
    """Which findings were told (a checksum: only "the same as last time?" is asked of it)."""
    keys = sorted(
        f"{f.get('kind')}:{','.join(f.get('message_ids') or [])}:{(f.get('lines') or [0])[0]}"
        for f in problems
    )
    text = "\n".join(keys).encode()
    return f"{len(keys)}-{zlib.crc32(text):08x}-{zlib.adler32(text):08x}"


def session_ref(path: Path, session_id: str, projects_dir: Path) -> str:
    """How `riff repair` names the session: its id under riff's projects dir, else its path."""
    try:
        path.resolve().relative_to(projects_dir.resolve())
    except ValueError:
        import shlex

        return shlex.quote(str(path))
    return session_id


def repair_command(ref: str) -> str:
    return f"riff repair {ref} --write"


def _kinds(problems: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for finding in problems:
        kind = str(finding.get("kind"))
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))


@dataclass
class Notice:
    """What guard says: one line for the user, a few for the model (SessionStart only)."""

    user: str
    model: str
    command: str | None


def compose_notice(
    scan: dict[str, Any], ref: str, *, auto: bool = False, threshold: float | None = None
) -> Notice | None:
    problems = problems_of(scan)
    if not problems:
        return None
    session_id = str(scan.get("session_id", ""))
    short = session_id[:8]
    noun = "break" if len(problems) == 1 else "breaks"
    loss = int(scan.get("resume_loss") or 0)
    total = int(scan.get("messages") or 0)
    head = f"riff: session {short} has {len(problems)} {noun} ({_kinds(problems)})"
    if loss:
        head += f"; `claude --resume` loses {loss} of {total} messages"
    repairable = any(f.get("repairable") for f in problems)
    command = repair_command(ref) if repairable else None
    if auto and command is not None:
        sure = "" if threshold is None else f" scoring at least {threshold:.2f}"
        action = (
            f"riff guard --auto applies the repairs{sure} once Claude Code has let go of "
            f"the file (`riff log {short}` lists them); to review them yourself instead, quit "
            f"and run `{command}`"
        )
    elif command is not None:
        action = (
            f"To fix it, quit Claude Code, run `{command}`, then `claude --resume {session_id}`"
        )
    else:
        action = f"riff cannot rewrite these; `riff show {ref}` shows where they are"
    user = f"{head}. {action}"
    model = (
        "riff (a checker for Claude Code transcripts) found that this session's saved "
        f"transcript is damaged: {_kinds(problems)}."
        + (
            f" Resuming it loaded only part of it ({loss} of {total} messages are cut off)."
            if loss
            else ""
        )
        + (f" The user can repair it by quitting and running `{command}`." if command else "")
    )
    return Notice(user, model, command)


def hook_output(event: str, notice: Notice) -> dict[str, Any]:
    """The JSON object Claude Code reads from a hook's stdout, per event."""
    out: dict[str, Any] = {"systemMessage": notice.user}
    if event == "SessionStart":
        out["hookSpecificOutput"] = {
            "hookEventName": "SessionStart",
            "additionalContext": notice.model,
        }
    return out


# -- remembering what was said ---------------------------------------------------------


class NoticeState:
    """Per session: the digest of the findings last told, so Stop does not repeat itself."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sessions: dict[str, str] = {}
        try:
            data = orjson.loads(path.read_bytes())
            if isinstance(data, dict):
                self.sessions = {k: v for k, v in data.items() if isinstance(v, str)}
        except (OSError, orjson.JSONDecodeError):
            pass

    def seen(self, session_id: str, digest: str) -> bool:
        return self.sessions.get(session_id) == digest

    def remember(self, session_id: str, digest: str) -> None:
        if self.sessions.get(session_id) == digest:
            return
        self.sessions[session_id] = digest
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(orjson.dumps(self.sessions))
        os.replace(tmp, self.path)


def guard_dir(data_dir: Path) -> Path:
    return data_dir / "guard"


# -- the hook ---------------------------------------------------------------------------


@dataclass
class GuardResult:
    output: dict[str, Any] | None = None
    scan: dict[str, Any] | None = None
    spawned: bool = False
    notes: list[str] = field(default_factory=list)


Spawner = Callable[["Settings", Path, str, int | None], bool]


def run_guard(
    raw: bytes,
    settings: Settings,
    *,
    auto: bool = False,
    spawn: Spawner | None = None,
) -> GuardResult:
    """Check the hook's session; the output to print (None: say nothing)."""
    hook = parse_hook_input(raw)
    result = GuardResult()
    path = find_transcript(hook, settings.projects_dir)
    if path is None:
        result.notes.append("no transcript yet")
        return result
    scan = check_session(path, settings.cache_dir)
    result.scan = scan
    problems = problems_of(scan)
    session_id = str(scan.get("session_id") or hook.session_id or path.stem)
    state = NoticeState(guard_dir(settings.data_dir) / "notified.json")
    if not problems:
        state.remember(session_id, "")
        return result
    if auto and any(auto_repairs(f) for f in problems):
        # Planning needs the suggestion engine and applying needs the store: both are
        # left to a detached process that waits until Claude Code has let go of the file.
        launch = spawn or spawn_deferred_apply
        result.spawned = launch(settings, path, session_id, claude_pid())
    digest = findings_digest(problems)
    # SessionStart always tells (a new view of the session); later events only news.
    if hook.event != "SessionStart" and state.seen(session_id, digest):
        return result
    ref = session_ref(path, session_id, settings.projects_dir)
    threshold = auto_apply_threshold(settings)
    notice = compose_notice(scan, ref, auto=result.spawned, threshold=threshold)
    if notice is None:
        return result
    result.output = hook_output(hook.event, notice)
    state.remember(session_id, digest)
    return result


def _now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def log_guard_error(data_dir: Path, exc: BaseException, context: str = "") -> None:
    """Append the failure to `<data dir>/guard.log` (rotated at 1 MB); never raise."""
    try:
        path = data_dir / LOG_FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
            os.replace(path, path.with_suffix(".log.1"))
        import traceback

        stamp = _now_text()
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} pid {os.getpid()} {context}\n{trace}\n")
    except Exception:  # the log is the last resort; there is nowhere else to tell
        pass


def log_guard_note(data_dir: Path, message: str) -> None:
    try:
        path = data_dir / LOG_FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"{_now_text()} pid {os.getpid()} {message}\n")
    except Exception:
        pass


# -- --auto: repairs above the auto-apply threshold, once nobody writes the file --------


def claude_pid() -> int | None:
    """The process that ran the hook: the first ancestor that is not a shell (Linux only)."""
    pid = os.getppid()
    for _ in range(8):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        if comm not in SHELLS:
            return pid
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid <= 1:
            return None
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie has exited; only its parent has not collected it yet
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class AutoApplyResult:
    applied: int = 0
    refused: int = 0
    skipped: str | None = None
    event_ids: list[str] = field(default_factory=list)
    backup: str | None = None


def apply_when_quiet(
    settings: Settings,
    path: Path,
    *,
    wait_for_pid: int | None = None,
    quiet_seconds: float = QUIET_SECONDS,
    max_wait_seconds: float = 12 * 3600,
    poll_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> AutoApplyResult:
    """Wait until Claude Code is gone and the file is quiet, then apply what is safe."""
    deadline = time.monotonic() + max_wait_seconds
    while True:
        reason = live_reason(path, quiet_seconds)
        if wait_for_pid is not None and _alive(wait_for_pid):
            reason = f"process {wait_for_pid} (Claude Code) is still running"
        if reason is None:
            break
        if time.monotonic() >= deadline:
            return AutoApplyResult(skipped=f"gave up waiting: {reason}")
        sleep(poll_seconds)
    return apply_auto_repairs(settings, path, quiet_seconds=quiet_seconds)


def apply_auto_repairs(
    settings: Settings, path: Path, *, quiet_seconds: float = QUIET_SECONDS
) -> AutoApplyResult:
    """Apply (events + file) the repairs above the auto-apply threshold, if nobody writes."""
    reason = live_reason(path, quiet_seconds)
    if reason is not None:
        return AutoApplyResult(skipped=f"not applied: {reason}")
    from riff.app.repairs import apply_auto

    outcome = apply_auto(settings, path, operator=GUARD_OPERATOR)
    return AutoApplyResult(
        applied=len(outcome.events),
        refused=len(outcome.refused),
        event_ids=[e.event_id for e in outcome.events],
        backup=str(outcome.written.backup_path)
        if outcome.written and outcome.written.backup_path
        else None,
    )


def spawn_deferred_apply(
    settings: Settings, path: Path, session_id: str, wait_for_pid: int | None
) -> bool:
    """Start one detached `riff guard --apply-when-quiet` per session; True if one runs."""
    import subprocess
    import sys

    lock = guard_dir(settings.data_dir) / f"apply-{session_id}.lock"
    if _locked(lock):
        return True
    env = dict(os.environ)
    env["RIFF_DATA_DIR"] = str(settings.data_dir)
    env["RIFF_PROJECTS_DIR"] = str(settings.projects_dir)
    if settings.db_url:
        env["RIFF_DB_URL"] = settings.db_url
    argv = [sys.executable, "-m", "riff.cli.main", "guard", "--apply-when-quiet", str(path)]
    if wait_for_pid is not None:
        argv += ["--wait-for-pid", str(wait_for_pid)]
    # No pipe of Claude Code's may stay open in the child, or the hook would not end.
    subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env=env,
    )
    return True


def _locked(lock: Path) -> bool:
    """True when another deferred apply holds the session's lock."""
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def hold_apply_lock(data_dir: Path, session_id: str) -> Any:
    """Take the session's deferred-apply lock for this process's life (None if taken)."""
    import fcntl

    lock = guard_dir(data_dir) / f"apply-{session_id}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = lock.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle
