import os

from hypothesis import HealthCheck, settings

from hangguard import pytest_runtest_protocol  # noqa: F401  (a hang fails fast: tests/hangguard.py)

# One profile for CI (more examples, no deadline: the machine is shared and
# tests never time anything) and a quicker one for local iteration.
settings.register_profile(
    "ci", max_examples=300, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
