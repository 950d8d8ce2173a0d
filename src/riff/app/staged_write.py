"""A transcript's rewrite made ahead, in another process, while this one records events.

`repair --write` appends its events and stores the view before it writes the
file, and the write of a big transcript (copy every byte, hash it, fsync) does
not depend on those: the re-links it writes are known when the plan is. So
the rewrite is staged into a temp file beside the transcript by a child
process (a fresh interpreter: this process may run an embedded store's
threads, which rule out a fork) while this one opens the store and appends;
the write then only checks the staged file and swaps it in
(riff.transcript.write.apply_parent_changes with `staged`), exactly as if it
had made it then.

A shortcut only: when the re-links to write turn out other than those staged
(a re-link refused while recording), or the child fails, the write is made
the usual way, and a staged file not used is removed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from riff.transcript.write import TEMP_SUFFIX, StagedRewrite, stage_parent_changes


class StagedWrite:
    """The child staging one rewrite, and what it staged."""

    def __init__(
        self, process: subprocess.Popen[bytes], path: Path, changes: dict[str, str | None]
    ) -> None:
        self._process = process
        self._path = path
        self._changes = changes
        self._staged: StagedRewrite | None = None
        self._taken = False
        self._discarded = False

    @classmethod
    def start(
        cls,
        path: Path,
        changes: Mapping[str, str | None],
        lines: Sequence[tuple[int, int, str]],
    ) -> StagedWrite | None:
        """The child staging `changes` into a temp file beside `path` (None: no child)."""
        request = {
            "path": str(path),
            "changes": dict(changes),
            "lines": [list(line) for line in lines],
            "owner": os.getpid(),
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        staging = cls(process, path, dict(changes))
        stdin: IO[bytes] | None = process.stdin
        try:
            assert stdin is not None
            stdin.write(orjson.dumps(request))
            stdin.close()
        except (OSError, AssertionError):
            staging.discard()
            return None
        return staging

    def take(self, changes: Mapping[str, str | None]) -> StagedRewrite | None:
        """The staged rewrite when it is of exactly `changes` and the child made it; it
        is then the caller's (`discard` leaves its file alone). None: write the usual way."""
        if self._taken or self._discarded or dict(changes) != self._changes:
            return None
        staged = self._result()
        self._taken = staged is not None
        return staged

    def _result(self) -> StagedRewrite | None:
        process = self._process
        if self._staged is None and process.returncode is None:
            out = b""
            if process.stdout is not None:
                with process.stdout:
                    out = process.stdout.read()
            if process.wait() == 0:
                with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                    found = orjson.loads(out)
                    self._staged = StagedRewrite(
                        Path(found["tmp"]),
                        int(found["size"]),
                        str(found["sha256"]),
                        tuple(found["found"]),
                        int(found["lines_changed"]),
                    )
        return self._staged

    def discard(self) -> None:
        """Stop the child if it still runs; remove its file unless it was taken."""
        self._discarded = True
        if self._process.returncode is None:
            with contextlib.suppress(OSError):
                self._process.kill()
            self._result()
        if self._taken:
            return
        if self._staged is not None:
            with contextlib.suppress(OSError):
                self._staged.tmp.unlink()
            return
        # Stopped before it said which file it made: its files are named for this process.
        # The name is data, not a pattern: a `?` or `[` in it must not match others' files.
        pattern = f".{glob.escape(self._path.name)}.{os.getpid()}.*{TEMP_SUFFIX}"
        for leftover in self._path.parent.glob(pattern):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _main() -> int:
    request: dict[str, Any] = orjson.loads(sys.stdin.buffer.read())
    staged = stage_parent_changes(
        request["path"],
        request["changes"],
        lines=[(int(o), int(n), str(u)) for o, n, u in request["lines"]],
        owner=int(request["owner"]),
    )
    sys.stdout.buffer.write(
        orjson.dumps(
            {
                "tmp": str(staged.tmp),
                "size": staged.size,
                "sha256": staged.sha256,
                "found": list(staged.found),
                "lines_changed": staged.lines_changed,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(_main())


__all__ = ["StagedWrite"]
