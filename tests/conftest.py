"""Suite-wide settings: no test depends on how fast the machine is."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Hypothesis fails an example slower than 200 ms, and a slow data generation, by
# default: wall-clock checks that flake on a loaded machine. Speed lives in bench/.
settings.register_profile("riff", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("riff")
