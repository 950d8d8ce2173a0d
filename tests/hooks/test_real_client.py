"""Opt-in (`pytest -m oracle`): the real Claude Code CLI runs riff's hooks on resume.

Installs `@anthropic-ai/claude-code` (pinned 2.1.x) from npm into a cache dir,
installs riff's hooks into a temporary `CLAUDE_CONFIG_DIR` with `riff hooks
install`, resumes a transcript with a cut link against the vendored stub API
(tools/resume_oracle/stub_api.py: nothing leaves the machine), and checks that
riff's guard ran and that what it said reached Claude Code: the request the CLI
sent carries guard's additionalContext, and the transcript records guard's
systemMessage (what the terminal shows as "SessionStart:resume says: …").
Skipped only when npm cannot install the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.hooks.conftest import wait_until

pytestmark = pytest.mark.oracle

CLAUDE_VERSION = "2.1.332"
ROOT = Path(__file__).resolve().parents[2]
STUB = ROOT / "tools" / "resume_oracle" / "stub_api.py"
HEALTHY = ROOT / "tests" / "fixtures" / "real_client" / "real_2.1.332_healthy.jsonl"
RIFF = Path(sys.executable).with_name("riff")


@pytest.fixture(scope="module")
def claude() -> Path:
    """The pinned CLI, installed once into ~/.cache/riff-oracle/<version>."""
    prefix = Path.home() / ".cache" / "riff-oracle" / CLAUDE_VERSION
    binary = prefix / "node_modules" / ".bin" / "claude"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install the Claude Code CLI")
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                f"@anthropic-ai/claude-code@{CLAUDE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0 or not binary.exists():
            pytest.skip(f"npm could not install the Claude Code CLI: {done.stderr[-500:]}")
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=120
    )
    assert version.stdout.startswith(CLAUDE_VERSION), version
    return binary


def cut_before_pause(rows: list[dict[str, Any]], prompt: str) -> str:
    """Point the user row `prompt` at a missing parent after a 10-minute pause
    (2.1.x bridges gaps under 5 s by timestamp, so the pause makes resume lose Q1)."""
    at = next(i for i, r in enumerate(rows) if r.get("message", {}).get("content") == prompt)
    rows[at]["parentUuid"] = str(uuid.uuid4())
    for row in rows[at:]:
        if isinstance(row.get("timestamp"), str):
            stamp = datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
            later = stamp + timedelta(minutes=10)
            row["timestamp"] = later.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(rows[at]["uuid"])


def test_claude_code_runs_riff_guard_on_resume_and_shows_its_message(
    claude: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    config = home / ".claude"
    run_dir = tmp_path / "proj"
    run_dir.mkdir()
    slug = re.sub(r"[^a-zA-Z0-9]", "-", str(run_dir))
    rows = [json.loads(line) for line in HEALTHY.read_text().splitlines() if line.strip()]
    session_id = rows[0]["sessionId"]
    cut_before_pause(rows, "Q2: second question")
    transcript = config / "projects" / slug / f"{session_id}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    onboarded = {
        "hasCompletedOnboarding": True,
        "numStartups": 5,
        "projects": {
            str(run_dir): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
        },
    }
    for place in (home / ".claude.json", config / ".claude.json"):
        place.write_text(json.dumps(onboarded))

    riff_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config),
        "RIFF_DATA_DIR": str(tmp_path / "riff-data"),
        "RIFF_CONFIG": str(tmp_path / "no-riff-config.toml"),
    }
    installed = subprocess.run(
        [str(RIFF), "hooks", "install", "--json"],
        env=riff_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(installed.stdout)["settings"] == str(config / "settings.json")

    log = tmp_path / "requests.jsonl"
    port_file = tmp_path / "port"
    stub = subprocess.Popen(
        [sys.executable, str(STUB), "--log", str(log), "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: port_file.exists() or stub.poll() is not None, "the stub started")
        assert stub.poll() is None, "the stub API exited"
        port = int(port_file.read_text())
        env = {
            **riff_env,
            "TMPDIR": str(tmp_path),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
            "ANTHROPIC_API_KEY": "sk-ant-dummy",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_AUTO_COMPACT": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        probe = "PROBE_" + uuid.uuid4().hex[:8]
        done = subprocess.run(
            [
                str(claude),
                "-p",
                "--resume",
                session_id,
                "--output-format",
                "stream-json",
                "--verbose",
                probe,
            ],
            cwd=run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        os.killpg(stub.pid, signal.SIGTERM)
        stub.wait(timeout=30)
    assert done.returncode == 0, done.stderr[-2000:]

    command = f"riff repair {session_id} --write"
    requests = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    sent = next(
        r["body"]
        for r in requests
        if r["method"] == "POST"
        and r["path"].startswith("/v1/messages")
        and probe in json.dumps(r["body"].get("messages", []))
    )
    context = [
        block["text"]
        for message in sent["messages"]
        if message.get("role") == "system"
        for block in message.get("content", [])
        if isinstance(block, dict)
        and "SessionStart hook additional context: riff" in block.get("text", "")
    ]
    assert len(context) == 1 and command in context[0], sent["messages"][-3:]

    recorded = [json.loads(line) for line in transcript.read_text().splitlines()]
    shown = [
        r["attachment"]["content"]
        for r in recorded
        if r.get("type") == "attachment"
        and r["attachment"].get("type") == "hook_system_message"
        and r["attachment"].get("hookName") == "SessionStart:resume"
    ]
    assert len(shown) == 1 and shown[0].startswith(f"riff: session {session_id[:8]} has ")
    assert "orphan 1" in shown[0] and command in shown[0]
    assert not (tmp_path / "riff-data" / "guard.log").exists()  # guard logged no failure
    print(f"\nClaude Code {CLAUDE_VERSION} showed: {shown[0]}\nthe model got: {context[0]}")
