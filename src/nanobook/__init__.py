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
# its compiled module as ``nanobook.nanobook``.  Here they live in the layers
# above (nanobook_risk, nanobook_broker); these names resolve to them on
# first access only, so ``import nanobook`` never imports those layers and
# nothing in nanobook uses them.
_UPPER = {
    "RiskEngine": "nanobook_risk",
    "IbkrBroker": "nanobook_broker",
    "BinanceBroker": "nanobook_broker",
}


def __getattr__(name):
    if name in _UPPER:
        import importlib

        return getattr(importlib.import_module(_UPPER[name]), name)
    if name == "nanobook":
        import sys

        return sys.modules[__name__]
    raise AttributeError(f"module 'nanobook' has no attribute {name!r}")

_ENGINE = [
    "BookSnapshot", "CancelResult", "Event", "Exchange", "LevelSnapshot",
    "ModifyResult", "MultiExchange", "Order", "StopSubmitResult", "SubmitResult",
    "Trade", "events_from_array", "load_events", "save_events", "dtypes",
    "capabilities", "py_capabilities", "register_capability", "scenarios", "sim",
    "RiskEngine", "IbkrBroker", "BinanceBroker", "nanobook",
]

__all__ = sorted(set(_ENGINE) | set(portfolio.__all__) | set(analytics.__all__)
                 | set(feeds.__all__))
