"""No silent skips: a skip in the default run must name an optional
dependency that is really absent (`pytest.importorskip`), or be a docs block
that the document itself marks as not runnable (tests/test_docs.py).  Any
other skip (a kernel "not built", a feature "not available yet", a record
"not exported") is turned into a failure that says so.

Loaded by tests/conftest.py; tests/test_skippolicy.py shows both sides.
"""
from __future__ import annotations

import importlib.util
import re

import pytest

_ABSENT = re.compile(r"could not import '([\w.]+)'")


def _skip_is_allowed(nodeid: str, reason: str) -> bool:
    if nodeid.startswith("tests/test_docs.py::test_blocks_marked_not_run"):
        return True
    m = _ABSENT.search(reason)
    if m is None:
        return False
    try:
        return importlib.util.find_spec(m.group(1)) is None
    except (ImportError, ValueError):
        return True  # its parent package is absent


def _police(report) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if not _skip_is_allowed(report.nodeid, str(reason)):
        report.outcome = "failed"
        report.longrepr = (f"skipped without naming an absent optional dependency: {reason}\n"
                           "(a core feature must not skip; see tests/skippolicy.py)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _police(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _police(outcome.get_result())
