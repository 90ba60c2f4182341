"""The backtest result: the reference's dict, plus pandas views, plots and a tear sheet.

``BacktestWeightsResult`` *is* a ``dict`` with the reference's keys. When the
dense engine produced it, the per-period listings (``holdings``,
``symbol_returns``) are built from the dense arrays only when first read, so
a large backtest does not pay for millions of Python tuples it never uses.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

__all__ = ["BacktestWeightsResult", "DenseData"]

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
    """Dense arrays behind a result: symbols, closes (cents, -1 = absent),
    holdings weights (NaN = not held), optional period index and currency scale."""

    __slots__ = ("symbols", "_close", "close_scale", "holdings", "index", "scale")

    def __init__(self, symbols: list[str], close: np.ndarray, holdings: np.ndarray,
                 index: Any = None, scale: float = 100.0, close_scale: float = 1.0) -> None:
        self.symbols = symbols
        self._close = close  # int64 cents, or float currency converted on use (no copy kept)
        self.close_scale = close_scale
        self.holdings = holdings
        self.index = index
        self.scale = scale

    @property
    def close(self) -> np.ndarray:
        """Closes in int64 cents (-1 = absent)."""
        c = self._close
        if c.dtype == np.int64:
            return c
        from .frames import to_cents

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
        c = self.close
        r = self._symbol_return_array(c)
        present = c >= 0
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
        m = dict.get(self, "metrics")
        n = len(dict.get(self, "returns") or [])
        return f"BacktestWeightsResult(periods={n}, final_cash={dict.get(self, 'final_cash')}, metrics={m!r})"

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
