"""``capabilities()``: the feature names that really work in this install.

A registry maps each capability name to a small *probe*: a function that
returns True when the feature is importable and works here (an optional
dependency that is missing makes its probe return False, so the name is
absent).  Every name of every area is registered below, in one place:
the reference's names first (spec section 13, in its order), then ours.
``capabilities()`` runs every probe (an exception counts as False) and
lists the names that pass.  Every name is documented in
``docs/capabilities.md``; code outside the package may add its own with
:func:`register_capability`.

The packages above the core (risk, brokers, rebalancer) declare what they
offer as entry points of the group ``nanobook.capabilities`` (name ->
``module:probe``) in their distribution's metadata; they are read with
:mod:`importlib.metadata` on the first call of :func:`capabilities` or
:func:`registered_capabilities` and registered after the core's names.  The
core never names those packages (``tests/test_layers.py`` enforces it).
Entry points exist only in installed metadata: a wheel install, or in a
source tree the ``src/nanobook.egg-info`` that ``make dev-metadata`` writes.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Callable

__all__ = ["capabilities", "py_capabilities", "register_capability", "registered_capabilities"]

_PROBES: dict[str, Callable[[], bool]] = {}
ENTRY_POINT_GROUP = "nanobook.capabilities"
_entry_points_read = False


def _read_entry_points() -> None:
    """Register, once, every probe declared in the ``nanobook.capabilities``
    entry-point group (a name already registered keeps its first probe)."""
    global _entry_points_read
    if _entry_points_read:
        return
    _entry_points_read = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _PROBES:
            _PROBES[ep.name] = _entry_point_probe(ep)


def _entry_point_probe(ep) -> Callable[[], bool]:
    def probe() -> bool:  # loading counts as part of the probe: ImportError -> False
        return bool(ep.load()())

    return probe


def register_capability(name: str, probe: Callable[[], bool], *, replace: bool = False) -> None:
    """Register (or with ``replace=True`` re-register) a capability probe.

    Parameters
    ----------
    name : str
        The capability string reported by :func:`capabilities`.
    probe : callable
        ``probe() -> bool``; must be cheap, must not print, must not need network.

    Raises
    ------
    ValueError
        If ``name`` is already registered and ``replace`` is False.
    TypeError
        If ``name`` is not a non-empty str or ``probe`` is not callable.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not callable(probe):
        raise TypeError(f"probe must be callable, got {type(probe).__name__}")
    if name in _PROBES and not replace:
        raise ValueError(f"capability {name!r} is already registered")
    _PROBES[name] = probe


def registered_capabilities() -> list[str]:
    """Every registered name, whether or not its probe passes."""
    _read_entry_points()
    return list(_PROBES)


def capabilities() -> list[str]:
    """Names of the features that work in this install (see ``docs/capabilities.md``)."""
    _read_entry_points()
    out = []
    for name, probe in list(_PROBES.items()):
        try:
            ok = bool(probe())
        except Exception:
            ok = False
        if ok:
            out.append(name)
    return out


def py_capabilities() -> list[str]:
    """Alias of :func:`capabilities`."""
    return capabilities()


# ----------------------------------------------------------------------------- probes

def _has_module(mod: str) -> bool:
    return importlib.util.find_spec(mod) is not None


def _attr(module: str, name: str) -> Callable[[], bool]:
    def probe() -> bool:
        return callable(getattr(importlib.import_module(module), name, None))

    return probe


def _all(*probes: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: all(p() for p in probes)


def _probe_backtest_stops() -> bool:
    from .portfolio import BarPrices, backtest_weights

    bars = [[("A", BarPrices(100, 100, 100, 100))], [("A", BarPrices(50, 50, 50, 50))]]
    r = backtest_weights([[("A", 0.5)], [("A", 0.5)]], bars, 10_000, None, None, 252.0, 0.0, {"fixed_stop_pct": 0.1})
    return len(r["stop_events"]) == 1 and r["stop_events"][0]["reason"] == "fixed"


def _probe_backtest_holdings() -> bool:
    from .portfolio import backtest_weights

    r = backtest_weights([[("A", 0.5)]], [[("A", 100)]], 10_000)
    return r["holdings"] == [[("A", 0.5)]] and len(r["symbol_returns"]) == 1


def _probe_dense() -> bool:
    from .portfolio.engine import kernel_available

    return kernel_available()


def _probe_pandas_backtest() -> bool:
    if not _has_module("pandas"):
        return False
    import pandas as pd

    from .portfolio import backtest_weights

    r = backtest_weights(pd.DataFrame({"A": [0.5]}), pd.DataFrame({"A": [1.0]}), 100.0)
    return len(r.equity) == 1


def _probe_plot() -> bool:
    return _has_module("matplotlib") and _has_module("pandas")


def _probe_lob() -> bool:
    nb = importlib.import_module("nanobook")
    return hasattr(nb, "MultiExchange")


# The reference's names (spec section 13), in its order; each probe checks our
# implementation of that feature, wherever it lives.
register_capability("backtest_stops", _probe_backtest_stops)
register_capability("garch_ewma_forecast", _attr("nanobook.analytics", "garch_ewma_forecast"))
for _name in ("optimize_min_variance", "optimize_max_sharpe", "optimize_risk_parity"):
    register_capability(_name, _all(lambda: _has_module("cvxpy"), _attr("nanobook.analytics", _name)))
for _name in ("inverse_cvar_weights", "inverse_cdar_weights"):
    register_capability(_name, _attr("nanobook.analytics", _name))
register_capability("backtest_holdings", _probe_backtest_holdings)
for _name in ("monte_carlo_stock_valuation_native", "monte_carlo_stock_valuation_parity",
              "monte_carlo_stock_valuation", "scenario_terminal_paths", "scenario_calibrate"):
    _fn = {"scenario_terminal_paths": "terminal_prices_to_log_return_paths",
           "scenario_calibrate": "calibrate_from_fundamentals"}.get(_name, _name)
    register_capability(_name, _attr("nanobook", _fn))

# Ours.
register_capability("backtest_dense_kernel", _probe_dense)
register_capability("backtest_pandas", _probe_pandas_backtest)
register_capability("backtest_conventions", _probe_pandas_backtest)
register_capability("tear_sheet_report", _probe_plot)
register_capability("portfolio_rebalance_lob", _probe_lob)
register_capability("garch_forecast", lambda: _has_module("arch") and _has_module("pandas"))
register_capability("optimize_hrp", lambda: _has_module("scipy"))
register_capability("optimize_portfolio", lambda: _has_module("cvxpy"))
register_capability("parameter_sweep", lambda: _has_module("pandas") and _has_module("tqdm"))
register_capability("parameter_sweep_dask",
                    lambda: _has_module("pandas") and _has_module("tqdm") and _has_module("distributed"))
register_capability("lob_batch", _attr("nanobook", "events_from_array"))
register_capability("mm_simulator", lambda: _has_module("nanobook.sim"))
del _name, _fn
