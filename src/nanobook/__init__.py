"""nanobook: strategy code decides what to hold; nanobook works out what happens.

The public surface is the union of the engine (``nanobook._engine``), the
portfolio simulator and backtester (``nanobook.portfolio``), the analytics
(``nanobook.analytics``) and the market-data feeds (``nanobook.feeds``).
Heavy optional libraries (pandas, scipy, cvxpy, arch, matplotlib, dask) are
imported lazily inside the functions that need them, so ``import nanobook``
stays fast.
"""
from . import dtypes
from ._engine import (
    BookSnapshot,
    CancelResult,
    Event,
    Exchange,
    LevelSnapshot,
    ModifyResult,
    MultiExchange,
    Order,
    StopSubmitResult,
    SubmitResult,
    Trade,
    events_from_array,
    load_events,
    save_events,
)

from . import analytics, datasets, feeds, portfolio, sim  # noqa: E402  (after the engine they use)
from ._capabilities import capabilities, py_capabilities, register_capability  # noqa: E402
from .analytics import scenarios  # noqa: E402  (nanobook.scenarios, as in the reference)
from .analytics import *  # noqa: F401,F403,E402
from .feeds import *  # noqa: F401,F403,E402
from .portfolio import *  # noqa: F401,F403,E402

__version__ = "0.20.0"

# The reference exports its risk engine and IBKR adapter at top level, and
# its compiled module as ``nanobook.nanobook``.  Here those classes live in
# the layers above, which declare the top-level names they serve as entry
# points of the group ``nanobook.exports`` (name -> ``module:attr``, in
# pyproject.toml).  They resolve on first access only, so ``import nanobook``
# never imports those layers, and the core never names them.
_EXPORTS = None


def _exports():
    global _EXPORTS
    if _EXPORTS is None:
        from importlib.metadata import entry_points

        _EXPORTS = {ep.name: ep for ep in entry_points(group="nanobook.exports")}
    return _EXPORTS


def __getattr__(name):
    if name == "__all__":  # the core's names plus those the upper layers declare
        return sorted(_CORE_ALL | set(_exports()))
    if name == "nanobook":
        import sys

        return sys.modules[__name__]
    if not name.startswith("__") and name in _exports():
        return _exports()[name].load()
    raise AttributeError(f"module 'nanobook' has no attribute {name!r}")

_ENGINE = [
    "BookSnapshot", "CancelResult", "Event", "Exchange", "LevelSnapshot",
    "ModifyResult", "MultiExchange", "Order", "StopSubmitResult", "SubmitResult",
    "Trade", "events_from_array", "load_events", "save_events", "dtypes",
    "capabilities", "py_capabilities", "register_capability", "scenarios", "sim",
    "nanobook",
]

_CORE_ALL = (set(_ENGINE) | set(portfolio.__all__) | set(analytics.__all__)
             | set(feeds.__all__))
