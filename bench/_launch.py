"""Run bench contenders as child processes of a small launcher, for honest peak RSS.

Linux keeps a process's peak RSS across exec, and a child made by fork or
vfork starts from its parent's: every child of a bench that generated
hundreds of MB of data in-process would report at least the bench's own
RSS. So the bench starts this launcher first, while it is still small, and
the launcher starts every contender and reports what ``wait4`` says of it.

    launcher = Launcher()          # before generating anything
    wall, cpu, rss, code, err = launcher.run(argv, env)

It also byte-compiles riff's modules first, as installing a wheel does: in a
checkout run with PYTHONDONTWRITEBYTECODE, every start-up would otherwise
compile riff's sources again (about 0.1 s per command on this machine).
"""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_SERVER = r"""
import json, os, subprocess, sys, time
for request in sys.stdin:
    argv, env, stdout = json.loads(request)
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, stdout=open(stdout, "wb") if stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    print(json.dumps([
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024,
        os.waitstatus_to_exitcode(status), err.decode(errors="replace")[-2000:],
    ]), flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        import riff

        compileall.compile_dir(Path(riff.__file__).parent, quiet=1)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self, argv: list[str], env: dict[str, str], stdout: str | None = None
    ) -> tuple[float, float, int, int, str]:
        """(wall s, CPU s, peak RSS bytes, exit code, stderr tail) of one child process."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps([argv, env, stdout]) + "\n")
        self._proc.stdin.flush()
        reply: list[Any] = json.loads(self._proc.stdout.readline())
        return reply[0], reply[1], reply[2], reply[3], reply[4]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()
