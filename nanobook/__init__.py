"""nanobook: strategy code decides what to hold; nanobook works out what happens.

The public surface is the union of the engine (``nanobook._engine``), the
portfolio simulator and backtester (``nanobook.portfolio``), the analytics
(``nanobook.analytics``) and the market-data feeds (``nanobook.feeds``).
Heavy optional libraries (pandas, scipy, cvxpy, arch, matplotlib, dask) are
imported lazily inside the functions that need them, so ``import nanobook``
stays fast.
"""
from . import analytics, feeds, portfolio
from .analytics import *  # noqa: F401,F403
from .feeds import *  # noqa: F401,F403
from .portfolio import *  # noqa: F401,F403

__version__ = "0.20.0"

__all__ = sorted(set(portfolio.__all__) | set(analytics.__all__) | set(feeds.__all__))
