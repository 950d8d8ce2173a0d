"""What a TUI action can fail with because of the user's data or environment.

Every screen catches these (and only these) to show the message and stay
usable; anything else is a bug and surfaces as one.
"""

from __future__ import annotations

from riff.errors import RiffError

ACTION_ERRORS: tuple[type[Exception], ...] = (RiffError, OSError)
