import os

import pytest
from hypothesis import HealthCheck, settings

from hangguard import pytest_runtest_protocol  # noqa: F401  (a hang fails fast: tests/hangguard.py)
from skippolicy import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401  (no silent skips)

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

# Engine tests run compiled loops: a hang there fails within a minute, not
# after the suite-wide five.
ENGINE_TIMEOUT = 120


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/engine/" in str(item.path) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(ENGINE_TIMEOUT))
