"""A hang fails the test run fast and says where it hung.

pytest-timeout (``timeout_method = "thread"`` in pyproject.toml) handles a
test that hangs while the GIL is free (a ``nogil`` loop, a blocking call): its
timer thread dumps every thread's stack and ends the run.  It cannot handle a
loop in compiled code that *holds* the GIL, because its timer is a Python
thread.  This plugin is the backstop for that case: for the duration of each
test (setup, call, teardown) it arms ``faulthandler``'s watchdog, a C thread
that needs no GIL, at the test's timeout plus ``NANOBOOK_HANG_GRACE``
seconds (default 15); if the test is still running then, the watchdog writes
every thread's Python stack to the real stderr (not pytest's capture) and
exits the process with status 1.

Loaded by ``tests/conftest.py``; ``tests/test_hangguard.py`` shows both kinds
of hang failing within their timeout.
"""
from __future__ import annotations

import faulthandler
import os
import sys

import pytest

GRACE = float(os.environ.get("NANOBOOK_HANG_GRACE", "15"))


def _timeout(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
        if value is not None:
            return float(value)
    return float(item.config.getini("timeout") or 0)


def _real_stderr(config: pytest.Config):
    """The stderr the run started with, saved by pytest's fd capture (the
    watchdog's dump must not land in a capture file that nobody reads after
    the process exits)."""
    capman = config.pluginmanager.getplugin("capturemanager")
    err = getattr(getattr(capman, "_global_capturing", None), "err", None)
    fd = getattr(err, "targetfd_save", None)
    return fd if isinstance(fd, int) else sys.__stderr__


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    seconds = _timeout(item)
    if seconds > 0:
        out = _real_stderr(item.config)
        if isinstance(out, int):
            os.write(out, b"")  # fail here, not in the watchdog, if the fd is bad
        faulthandler.dump_traceback_later(seconds + GRACE, exit=True, file=out)
    try:
        yield
    finally:
        if seconds > 0:
            faulthandler.cancel_dump_traceback_later()
