"""Suite-wide settings: no test depends on how fast the machine is."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis fails an example slower than 200 ms, and a slow data generation, by
# default: wall-clock checks that flake on a loaded machine. Speed lives in bench/.
settings.register_profile("riff", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("riff")


@pytest.fixture(autouse=True)
def _files_written_a_moment_ago_are_not_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests write a transcript and repair it at once: the "changed seconds ago" rule of
    riff.app.live_files would refuse that. Tests of that rule set the window themselves;
    the open-for-writing check (/proc) stays on everywhere."""
    monkeypatch.setenv("RIFF_LIVE_QUIET_SECONDS", "0")
