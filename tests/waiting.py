"""Waiting in tests: on a condition, with a bound that only a hang reaches.

The suite runs on shared, busy machines. A test waits for what it needs (a line
from a child, a row in the store, a widget focused), never for a fixed time,
and never asserts how long anything took: speed is measured in bench/.
"""

from __future__ import annotations

import time
from collections.abc import Callable

HANG_LIMIT = 300.0
"""Seconds before a wait gives up: far above any run, even on a loaded machine."""


def wait_for(condition: Callable[[], bool], what: str, poll: float = 0.02) -> None:
    """Block until `condition()` holds; an AssertionError naming `what` if it never does."""
    deadline = time.monotonic() + HANG_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {HANG_LIMIT:.0f} s")
        time.sleep(poll)
