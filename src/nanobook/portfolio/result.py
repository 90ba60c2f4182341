"""The backtest result: the reference's dict, plus pandas views, plots and a tear sheet.

``BacktestWeightsResult`` *is* a ``dict`` with the reference's keys. When the
dense engine produced it, the per-period listings (``holdings``,
``symbol_returns``) are built from the dense arrays only when first read, so
a large backtest does not pay for millions of Python tuples it never uses.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ._layout import to_cents

__all__ = ["BacktestWeightsResult", "DenseData", "build_result"]

KEYS = (
    "returns",
    "equity_curve",
    "final_cash",
    "metrics",
    "skipped_rebalances",
    "holdings",
    "symbol_returns",
    "stop_events",
)


class _Lazy:
    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn


class DenseData:
    """Dense arrays behind a result: symbols, closes (int64 cents with -1 =
    absent, or float currency with NaN = absent and ``close_scale`` cents per
    unit), holdings weights (NaN = not held), the period index, and the
    skipped targets ``(period, column, wanted weight, reason code)``."""

    __slots__ = ("symbols", "_close", "close_scale", "holdings", "index", "scale", "skips", "exact_prices",
                 "traded", "costs")

    def __init__(self, *, symbols: list[str], close: np.ndarray, holdings: np.ndarray,
                 index: Any = None, scale: float = 100.0, close_scale: float = 1.0,
                 skips: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
                 exact_prices: bool = False, traded: np.ndarray | None = None,
                 costs: np.ndarray | None = None) -> None:
        self.symbols = symbols
        self._close = close  # int64 cents, or float currency converted on use (no copy kept)
        self.close_scale = close_scale
        self.holdings = holdings
        self.index = index
        self.scale = scale
        z = np.zeros(0, dtype=np.int64)
        self.skips = skips if skips is not None else (z, z, np.zeros(0), z)
        self.exact_prices = exact_prices  # float conventions: symbol returns from the prices as given
        self.traded = traded  # notional filled per period, cents (None for the oracle's results)
        self.costs = costs    # commission paid per period, cents

    @property
    def close(self) -> np.ndarray:
        """Closes in int64 cents (-1 = absent)."""
        c = self._close
        if c.dtype == np.int64:
            return c
        return to_cents(c, self.close_scale)

    def holdings_lists(self) -> list[list[tuple[str, float]]]:
        syms = np.array(self.symbols, dtype=object)
        out = []
        h = self.holdings
        for t in range(h.shape[0]):
            row = h[t]
            m = ~np.isnan(row)
            out.append(list(zip(syms[m].tolist(), row[m].tolist())))
        return out

    def symbol_return_array(self) -> np.ndarray:
        if self.exact_prices and self._close.dtype != np.int64:
            c = np.asarray(self._close, dtype=np.float64)
            return self._symbol_return_array(np.where(np.isnan(c), -1.0, c))
        return self._symbol_return_array(self.close)

    @staticmethod
    def _symbol_return_array(c: np.ndarray) -> np.ndarray:
        r = np.full(c.shape, np.nan)
        if c.shape[0] > 1:
            prev = c[:-1]
            cur = c[1:]
            ok = (prev > 0) & (cur > 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                v = (cur - prev).astype(np.float64) / prev.astype(np.float64)
            r[1:] = np.where(ok, v, np.nan)
        return r

    def symbol_returns_lists(self) -> list[list[tuple[str, float]]]:
        syms = np.array(self.symbols, dtype=object)
        c = self._close
        present = (c >= 0) if c.dtype == np.int64 else ~np.isnan(c)
        r = self.symbol_return_array()
        out = []
        for t in range(r.shape[0]):
            m = present[t]
            out.append(list(zip(syms[m].tolist(), r[t][m].tolist())))
        return out


class BacktestWeightsResult(dict):
    """The ``backtest_weights`` result dict with convenience views.

    Keys (in order): ``returns``, ``equity_curve`` (cents, ``periods + 1``
    values), ``final_cash`` (cents), ``metrics`` (:class:`Metrics` or None),
    ``skipped_rebalances``, ``holdings`` (per period ``[(sym, weight)]``),
    ``symbol_returns`` (per period ``[(sym, return)]``), ``stop_events``.

    Attributes
    ----------
    equity : pandas.Series
        Equity in currency units, indexed by period (``initial`` first).
    returns : pandas.Series
        Per-period returns (``res["returns"]`` is the plain list).
    holdings : pandas.DataFrame
        Weights per period and symbol, 0 where not held (``res["holdings"]``
        is the reference's list of lists).
    trades : pandas.DataFrame
        Entries/exits per symbol from :func:`decompose_backtest`.
    metrics : Metrics or None
    final_cash, initial_cash : float
        Currency units (``res["final_cash"]`` is in cents).
    skipped_targets : pandas.DataFrame
        Targets that could not be executed: date, period, symbol, weight, reason.
    traded_value, costs, turnover : pandas.Series
        Per period: notional filled, commission paid (currency), traded value / equity before.
    gross_exposure, net_exposure : pandas.Series
        Per period: sum of absolute / signed holding weights.

    Every view is in currency units or fractions; the dict values keep the
    reference's units (cents).
    """

    def __init__(self, *args: Any, dense: DenseData | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._dense = dense

    # ------------------------------------------------------------------ lazy dict protocol
    def __getitem__(self, key: Any) -> Any:
        v = dict.__getitem__(self, key)
        if isinstance(v, _Lazy):
            v = v.fn()
            dict.__setitem__(self, key, v)
        return v

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def _materialize(self) -> None:
        for k in list(dict.keys(self)):
            self[k]

    def __iter__(self) -> Iterator[Any]:
        return iter(dict.keys(self))

    def values(self):  # type: ignore[override]
        self._materialize()
        return dict.values(self)

    def items(self):  # type: ignore[override]
        self._materialize()
        return dict.items(self)

    def copy(self) -> dict:  # type: ignore[override]
        self._materialize()
        return dict(dict.items(self))

    def __eq__(self, other: object) -> bool:
        self._materialize()
        if isinstance(other, BacktestWeightsResult):
            other._materialize()
        return dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # currency units, like every other view (the dict values stay in cents)
        m = dict.get(self, "metrics")
        n = len(dict.get(self, "returns") or [])
        eq = dict.get(self, "equity_curve") or [0]
        return (f"BacktestWeightsResult(periods={n}, final_equity={eq[-1] / self.scale:.2f}, "
                f"final_cash={self.final_cash:.2f}, skipped_targets={len(self._skips()[0])}, metrics={m!r})")

    def __reduce__(self):
        self._materialize()
        return (BacktestWeightsResult, (dict(dict.items(self)),))

    def pop(self, *a: Any) -> Any:  # type: ignore[override]
        self._materialize()
        return dict.pop(self, *a)

    def setdefault(self, *a: Any) -> Any:  # type: ignore[override]
        self._materialize()
        return dict.setdefault(self, *a)

    def popitem(self) -> Any:
        self._materialize()
        return dict.popitem(self)

    def to_dict(self) -> dict[str, Any]:
        """A plain ``dict`` with every value built."""
        return self.copy()

    # ------------------------------------------------------------------ pandas views
    def _index(self, n: int) -> Any:
        if self._dense is not None and self._dense.index is not None:
            return self._dense.index
        import pandas as pd

        return pd.RangeIndex(n)

    @property
    def scale(self) -> float:
        """Cents per currency unit of the views (100)."""
        return self._dense.scale if self._dense is not None else 100.0

    @property
    def metrics(self) -> Any:
        return self["metrics"]

    @property
    def final_cash(self) -> float:
        """Cash at the end, in currency units (``res["final_cash"]`` is in cents)."""
        return float(dict.get(self, "final_cash") or 0) / self.scale

    @property
    def initial_cash(self) -> float:
        """Cash at the start, in currency units."""
        eq = dict.get(self, "equity_curve") or [0]
        return float(eq[0]) / self.scale

    def _skips(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._dense is None:
            z = np.zeros(0, dtype=np.int64)
            return z, z, np.zeros(0), z
        return self._dense.skips

    @property
    def skipped_targets(self) -> Any:
        """Every target that could not be executed, as a DataFrame.

        Columns: ``date`` (the period's index label; the period number for
        list or array input), ``period`` (0-based), ``symbol``, ``weight``
        (the wanted weight; 0 for a held position that was to be closed) and
        ``reason`` (``"no price"``: the symbol had no price that period, e.g.
        before its listing, after a delisting or in a hole, so the target was
        not traded and its share stayed in cash; ``"no price, position held
        at its last price"``: a held position could not be traded and was
        kept, valued at its last price). ``backtest_weights`` warns once per
        run with the count. Periods without any fill bar are listed in
        ``res["skipped_rebalances"]`` instead.
        """
        import pandas as pd

        t, j, w, code = self._skips()
        syms = np.array(self._dense.symbols if self._dense is not None else [], dtype=object)
        idx = self._dense.index if self._dense is not None else None
        dates = np.asarray(idx)[t] if idx is not None else t
        reasons = np.array(["no price", "no price, position held at its last price"], dtype=object)
        return pd.DataFrame({"date": dates, "period": t, "symbol": syms[j] if len(j) else syms[:0],
                             "weight": w, "reason": reasons[code] if len(code) else reasons[:0]})

    def _per_period(self, arr: np.ndarray | None, name: str) -> Any:
        import pandas as pd

        if arr is None:
            raise ValueError(f"{name} is only recorded by backtest_weights runs (not by the test oracle)")
        return pd.Series(arr / self.scale, index=self._index(len(arr)), name=name)

    @property
    def traded_value(self) -> Any:
        """Notional filled per period (buys and sells, stop exits included), currency units, a pandas Series."""
        return self._per_period(self._dense.traded if self._dense is not None else None, "traded_value")

    @property
    def costs(self) -> Any:
        """Commission paid per period (``CostModel``: bps with its minimum), currency units, a pandas Series.

        Slippage is not in it: it is paid through the execution price."""
        return self._per_period(self._dense.costs if self._dense is not None else None, "costs")

    @property
    def turnover(self) -> Any:
        """Traded value per period divided by the equity before it (0.5 = half the book traded), a pandas Series."""
        tv = self.traded_value
        prev = np.asarray(self["equity_curve"][:-1], dtype=np.float64) / self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(prev > 0, tv.to_numpy() / prev, np.nan)
        return type(tv)(out, index=tv.index, name="turnover")

    @property
    def gross_exposure(self) -> Any:
        """Sum of absolute holding weights per period (a pandas Series; 1.0 = fully invested, no leverage)."""
        h = self.holdings
        return h.abs().sum(axis=1).rename("gross_exposure")

    @property
    def net_exposure(self) -> Any:
        """Sum of signed holding weights per period (long minus short), a pandas Series."""
        return self.holdings.sum(axis=1).rename("net_exposure")

    @property
    def equity(self) -> Any:
        """Equity (currency units) at the end of each period, as a pandas Series."""
        import pandas as pd

        eq = np.asarray(self["equity_curve"][1:], dtype=np.float64) / self.scale
        return pd.Series(eq, index=self._index(len(eq)), name="equity")

    @property
    def returns(self) -> Any:
        """Per-period returns as a pandas Series."""
        import pandas as pd

        r = np.asarray(self["returns"], dtype=np.float64)
        return pd.Series(r, index=self._index(len(r)), name="returns")

    @property
    def holdings(self) -> Any:
        """Weights per period (rows) and symbol (columns); 0 where not held."""
        import pandas as pd

        if self._dense is not None:
            h = np.nan_to_num(self._dense.holdings, nan=0.0)
            return pd.DataFrame(h, index=self._index(h.shape[0]), columns=list(self._dense.symbols))
        rows = [dict(p) for p in self["holdings"]]
        df = pd.DataFrame(rows, index=self._index(len(rows))).fillna(0.0)
        return df.reindex(sorted(df.columns), axis=1)

    @property
    def trades(self) -> Any:
        """Position episodes (entry/exit period and weight per symbol) as a DataFrame."""
        import pandas as pd

        from .attribution import decompose_backtest

        d = decompose_backtest(self["holdings"], self["symbol_returns"])
        df = pd.DataFrame(d["trades"], columns=["symbol", "entry_index", "exit_index", "entry_weight", "exit_weight"])
        return df

    def plot(self, ax: Any = None, **kw: Any) -> Any:
        """Plot the equity curve (matplotlib); returns the Axes."""
        import matplotlib

        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(10, 4))
        self.equity.plot(ax=ax, **kw)
        ax.set_ylabel("equity")
        ax.set_title("Equity curve")
        del matplotlib
        return ax

    def tear_sheet(self, rolling_window: int = 63, periods_per_year: int = 252) -> dict[str, Any]:
        """The reference's tear-sheet dict (:func:`tear_sheet`)."""
        from .attribution import tear_sheet

        return tear_sheet(self, rolling_window, periods_per_year)

    def tear_sheet_figure(self, rolling_window: int = 63, periods_per_year: int = 252, title: str = "",
                          **kw: Any) -> Any:
        """A matplotlib Figure of the tear sheet (:func:`~nanobook.portfolio.report.tear_sheet_figure`;
        keywords ``benchmark``, ``cost_bps``, ``costs``, ``currency``)."""
        from .report import tear_sheet_figure

        return tear_sheet_figure(self, rolling_window, periods_per_year, title, **kw)

    def save_report(self, folder: str, name: str = "tear_sheet", rolling_window: int = 63,
                    periods_per_year: int = 252, title: str = "", **kw: Any) -> dict[str, str]:
        """Write ``<name>.png`` and ``<name>.html`` into ``folder``; returns their paths
        (:func:`~nanobook.portfolio.report.save_report`; keywords ``benchmark``,
        ``cost_bps``, ``costs``, ``currency``)."""
        from .report import save_report

        return save_report(self, folder, name, rolling_window, periods_per_year, title, **kw)

    def report_metrics(self, benchmark: Any = None, periods_per_year: int = 252, **kw: Any) -> dict[str, Any]:
        """The tear sheet's metrics table (:func:`~nanobook.portfolio.report.report_metrics`)."""
        from .report import report_metrics

        return report_metrics(self, benchmark, periods_per_year, **kw)


def lazy(fn: Callable[[], Any]) -> _Lazy:
    return _Lazy(fn)


def build_result(raw: dict[str, Any], ppy: float, rf: float, dense: DenseData | None = None) -> BacktestWeightsResult:
    """The result of one run: the raw pieces in the reference's key order, plus its metrics."""
    from .metrics import compute_metrics

    metrics = compute_metrics(raw["returns"], ppy, rf) if raw["returns"] else None
    return BacktestWeightsResult(
        returns=raw["returns"],
        equity_curve=raw["equity_curve"],
        final_cash=raw["final_cash"],
        metrics=metrics,
        skipped_rebalances=raw["skipped_rebalances"],
        holdings=raw["holdings"],
        symbol_returns=raw["symbol_returns"],
        stop_events=raw["stop_events"],
        dense=dense,
    )
