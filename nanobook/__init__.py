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

from . import analytics, feeds, portfolio, sim  # noqa: E402  (after the engine they use)
from ._capabilities import capabilities, py_capabilities, register_capability  # noqa: E402
from .analytics import scenarios  # noqa: E402  (nanobook.scenarios, as in the reference)
from .analytics import *  # noqa: F401,F403,E402
from .feeds import *  # noqa: F401,F403,E402
from .portfolio import *  # noqa: F401,F403,E402

__version__ = "0.20.0"

_ENGINE = [
    "BookSnapshot", "CancelResult", "Event", "Exchange", "LevelSnapshot",
    "ModifyResult", "MultiExchange", "Order", "StopSubmitResult", "SubmitResult",
    "Trade", "events_from_array", "load_events", "save_events", "dtypes",
    "capabilities", "py_capabilities", "register_capability", "scenarios", "sim",
]

__all__ = sorted(set(_ENGINE) | set(portfolio.__all__) | set(analytics.__all__)
                 | set(feeds.__all__))
