"""Tear sheet of a backtest: the figures a quant keeps, as a PNG and a self-contained HTML page.

:func:`report_data` gathers everything from a result's public views
(``returns``, ``equity_curve``, ``holdings``, ``symbol_returns``,
``metrics``): the equity curve with an optional benchmark overlay, the
underwater curve and the worst drawdowns dated, rolling volatility and
Sharpe, calendar monthly and yearly returns, gross/net exposure, long/short
counts, turnover and costs over time, and :func:`report_metrics`, the
metrics table (the reference's 15 keys unchanged, then dates, turnover,
costs, trades, exposure, win rate over periods with a position and the
benchmark statistics).  :func:`tear_sheet_figure` draws it (matplotlib, the
object API: no pyplot state, no display); :func:`save_report` writes
``<name>.png`` and ``<name>.html`` (figure embedded as base64, numbers
formatted as people read them: percentages, dates, currency).

The calendar grouping is pandas' and the plots are matplotlib's; the
formulas of the new metrics are in :mod:`nanobook.portfolio.metrics`.  Costs
are estimated as ``cost_bps`` on the traded value at the close (``cost_bps``
given, else ``commission_bps + slippage_bps`` of a ``cost_model`` the result
carries); ``costs=`` takes recorded per-period costs instead, e.g.
``costs=res.costs``, the commissions the backtest recorded (exact; the
report does not read them unasked, so its default output is unchanged).
"""
from __future__ import annotations

import base64
import html
import io
import math
import os
from typing import Any, Mapping

import numpy as np

from .metrics import (
    Metrics,
    benchmark_stats,
    calendar_returns,
    compute_metrics,
    drawdown_table,
    exposure_frame,
    rolling_sharpe,
    rolling_volatility,
    traded_weights,
    underwater,
)

__all__ = ["tear_sheet_figure", "save_report", "metrics_table", "report_data", "report_metrics"]


# ----------------------------------------------------------------------------- public views

def _returns(result: Mapping[str, Any]) -> Any:
    import pandas as pd

    r = getattr(result, "returns", None)
    if isinstance(r, pd.Series):
        return r.astype(np.float64)
    return pd.Series(np.asarray(result["returns"], dtype=np.float64), name="returns")


def _returns_only(r: Any) -> Any:
    bad = np.isinf(r.to_numpy(dtype=np.float64))
    if bad.any():
        raise ValueError(f"returns must not contain inf, got {r[bad].iloc[0]!r} at {r.index[bad][0]!r}")
    return r.astype(np.float64)


def _scale(result: Mapping[str, Any]) -> float:
    return float(getattr(result, "scale", 100.0))


def _holdings(result: Mapping[str, Any], index: Any) -> Any:
    import pandas as pd

    h = getattr(result, "holdings", None)
    if isinstance(h, pd.DataFrame):
        return h
    rows = [dict(p) for p in result["holdings"]]
    df = pd.DataFrame(rows, index=index[: len(rows)]).fillna(0.0)
    return df.reindex(sorted(df.columns), axis=1)


def _symbol_returns(result: Mapping[str, Any], holdings: Any) -> Any:
    """Close-to-close returns per period and symbol (DataFrame like ``holdings``)."""
    import pandas as pd

    dense = getattr(result, "_dense", None)
    fast = getattr(dense, "symbol_return_array", None)
    if fast is not None and list(getattr(dense, "symbols", [])) == list(holdings.columns):
        return pd.DataFrame(fast(), index=holdings.index, columns=holdings.columns)
    rows = [dict(p) for p in result["symbol_returns"]]
    df = pd.DataFrame(rows, index=holdings.index[: len(rows)])
    return df.reindex(columns=holdings.columns)


def _benchmark(benchmark: Any, sym_returns: Any, index: Any) -> tuple[Any, str] | None:
    import pandas as pd

    if benchmark is None:
        return None
    if isinstance(benchmark, str):
        if benchmark not in sym_returns.columns:
            raise ValueError(f"benchmark {benchmark!r} is not a symbol of the backtest "
                             f"(symbols: {list(sym_returns.columns)[:10]}...)")
        return sym_returns[benchmark].astype(np.float64), benchmark
    if isinstance(benchmark, pd.DataFrame):
        if benchmark.shape[1] != 1:
            raise ValueError(f"benchmark must be a Series or a one-column DataFrame, got "
                             f"{benchmark.shape[1]} columns")
        benchmark = benchmark.iloc[:, 0]
    if not isinstance(benchmark, pd.Series):
        raise TypeError(f"benchmark must be a symbol (str) or a pandas Series of returns, got "
                        f"{type(benchmark).__name__}")
    b = benchmark.astype(np.float64)
    if np.isinf(b.to_numpy()).any():
        raise ValueError("benchmark must not contain inf")
    common = b.index.intersection(index)
    if len(common) < 2:
        raise ValueError(f"benchmark shares {len(common)} period(s) with the backtest's index; "
                         "give returns indexed like the backtest (e.g. prices.pct_change())")
    return b.reindex(index), str(benchmark.name) if benchmark.name is not None else "benchmark"


# ----------------------------------------------------------------------------- data

def report_data(result: Mapping[str, Any], benchmark: Any = None, rolling_window: int = 63,
                periods_per_year: int = 252, cost_bps: float | None = None, costs: Any = None,
                top_drawdowns: int = 5) -> dict[str, Any]:
    """Every series and table of the tear sheet, as pandas objects.

    Parameters
    ----------
    result : BacktestWeightsResult, the reference's result dict, or a pandas Series of returns
        A bare return series (e.g. from another tool) gets every panel but
        turnover, trades and costs; a period with a non-zero return counts as
        one with a position (quantstats' reading), equity starts at 1.
    benchmark : str or pandas.Series, optional
        A symbol of the backtest (its close-to-close returns) or a Series of
        per-period returns (aligned on the result's index; NaN = no value).
    rolling_window : int
        Window (periods) of the rolling volatility and Sharpe.
    periods_per_year : int
        Annualisation factor.
    cost_bps : float, optional
        Costs as basis points of the traded value (default: the result's
        ``cost_model`` commission + slippage when it carries one).
    costs : pandas.Series or sequence, optional
        Recorded costs per period in currency (overrides ``cost_bps``).
    top_drawdowns : int
        Number of drawdowns listed.

    Raises
    ------
    ValueError
        A result without periods; a bad ``benchmark``, ``cost_bps``, ``costs``,
        ``rolling_window`` or ``periods_per_year`` (the message names it).
    TypeError
        A ``benchmark`` that is neither a symbol nor a Series.

    Returns
    -------
    dict
        ``returns``, ``equity`` (currency, indexed by period), ``initial``
        (initial equity), ``underwater``, ``drawdowns``
        (:func:`~nanobook.portfolio.metrics.drawdown_table`),
        ``rolling_volatility``, ``rolling_sharpe``, ``calendar`` (year x
        month table, None without dates), ``exposure`` (gross, net, long,
        short), ``turnover`` (traded value / equity per period, both sides),
        ``traded`` (weights traded per period and symbol), ``costs``
        (currency per period, None if unknown), ``cost_source``,
        ``benchmark`` (returns Series or None), ``benchmark_name``,
        ``benchmark_equity``, ``metrics`` (:func:`report_metrics`).
    """
    import pandas as pd

    ppy = _periods(periods_per_year)
    window = int(rolling_window)
    if window < 2:
        raise ValueError(f"rolling_window must be an int >= 2, got {rolling_window!r}")
    if isinstance(result, pd.Series):  # a bare return series: no holdings, no trades
        rets = _returns_only(result)
        idx = rets.index
        initial = 1.0
        equity = pd.Series(np.cumprod(1.0 + rets.fillna(0.0).to_numpy()), index=idx, name="equity")
        live = (rets.fillna(0.0) != 0).astype(np.float64)
        expo = pd.DataFrame({"gross": live, "net": live, "long": live.astype(int),
                             "short": 0}, index=idx)
        srets = pd.DataFrame(index=idx)
        traded = None
        turnover = pd.Series(np.nan, index=idx, name="turnover")
        result = {}
    else:
        rets = _returns(result)
        idx = rets.index
        curve = np.asarray(result["equity_curve"], dtype=np.float64) / _scale(result)
        initial = float(curve[0]) if len(curve) else math.nan
        equity = pd.Series(curve[1:], index=idx, name="equity")
        hold = _holdings(result, idx)
        srets = _symbol_returns(result, hold)
        traded = traded_weights(hold, srets, rets) if hold.shape[1] else pd.DataFrame(index=idx)
        turnover = traded.sum(axis=1).rename("turnover") if hold.shape[1] else pd.Series(0.0, index=idx)
        expo = exposure_frame(hold) if hold.shape[1] else pd.DataFrame(
            {"gross": 0.0, "net": 0.0, "long": 0, "short": 0}, index=idx)
    if len(rets) == 0:
        raise ValueError("result has no periods: there is nothing to report")
    cost_series, source = _costs(result, costs, cost_bps, turnover, equity)
    bench = _benchmark(benchmark, srets, idx)
    b, bname = (bench if bench is not None else (None, None))
    bench_eq = None
    if b is not None:
        bench_eq = (initial * np.cumprod(1.0 + b.fillna(0.0))).rename(bname)
    has_dates = isinstance(idx, pd.DatetimeIndex)
    data = {
        "returns": rets,
        "equity": equity,
        "initial": initial,
        "underwater": underwater(rets),
        "drawdowns": drawdown_table(rets, top_drawdowns),
        "rolling_volatility": pd.Series(rolling_volatility(rets.to_numpy(), window, int(ppy)),
                                        index=idx, name="rolling_volatility"),
        "rolling_sharpe": pd.Series(rolling_sharpe(rets.to_numpy(), window, int(ppy)), index=idx,
                                    name="rolling_sharpe"),
        "calendar": calendar_returns(rets) if has_dates and len(rets) else None,
        "exposure": expo,
        "turnover": turnover,
        "traded": traded,
        "costs": cost_series,
        "cost_source": source,
        "benchmark": b,
        "benchmark_name": bname,
        "benchmark_equity": bench_eq,
        "rolling_window": window,
    }
    data["metrics"] = _metrics_from(result, data, ppy)
    return data


def _periods(periods_per_year: Any) -> float:
    p = float(periods_per_year)
    if not (math.isfinite(p) and p > 0):
        raise ValueError(f"periods_per_year must be finite and > 0, got {periods_per_year!r}")
    return p


def _costs(result: Any, costs: Any, cost_bps: Any, turnover: Any, equity: Any) -> tuple[Any, str]:
    import pandas as pd

    if costs is not None:
        c = pd.Series(np.asarray(costs, dtype=np.float64), index=equity.index, name="costs") \
            if not isinstance(costs, pd.Series) else costs.astype(np.float64).reindex(equity.index)
        bad = ~np.isfinite(c.fillna(0.0).to_numpy())
        if bad.any():
            raise ValueError(f"costs must be finite, got {c[bad].iloc[0]!r} at {c.index[bad][0]!r}")
        return c.rename("costs"), "recorded"
    if cost_bps is None:
        cm = getattr(result, "cost_model", None)
        if cm is not None:
            cost_bps = float(cm.commission_bps) + float(cm.slippage_bps)
    if cost_bps is None:
        return None, "not recorded"
    bps = float(cost_bps)
    if not (math.isfinite(bps) and bps >= 0):
        raise ValueError(f"cost_bps must be finite and >= 0, got {cost_bps!r}")
    return (turnover * equity * bps / 1e4).rename("costs"), f"estimated: {bps:g} bps of traded value"


# ----------------------------------------------------------------------------- metrics table

def report_metrics(result: Mapping[str, Any], benchmark: Any = None, periods_per_year: int = 252,
                   cost_bps: float | None = None, costs: Any = None) -> dict[str, Any]:
    """The metrics table of the tear sheet, as an ordered dict.

    First the reference's 15 keys with their values unchanged (the result's
    :class:`Metrics`), then: ``start``, ``end`` (first and last period),
    ``initial_equity``, ``final_equity`` (currency), ``best_period``,
    ``worst_period``, ``exposure`` (fraction of periods with a position),
    ``avg_gross_exposure``, ``avg_net_exposure``, ``win_rate_active`` (winning
    periods / periods with a position), ``num_trades`` (position changes:
    period x symbol), ``turnover`` (annualised, one-sided: mean traded value
    over equity / 2 * P), ``costs`` (total, currency; NaN when unknown) and
    ``costs_pct`` (costs over initial equity); with a benchmark
    ``benchmark_total_return``, ``alpha``, ``beta``, ``correlation``,
    ``tracking_error`` and ``information_ratio``
    (:func:`~nanobook.portfolio.metrics.benchmark_stats`).

    A period "had a position" when the weights held at its start (end of the
    previous period) or at its end are not all zero.
    """
    return report_data(result, benchmark, 63, periods_per_year, cost_bps, costs)["metrics"]


def _metrics_from(result: Any, d: dict[str, Any], ppy: float) -> dict[str, Any]:
    rets = d["returns"]
    m = result.get("metrics") if hasattr(result, "get") else None
    if not isinstance(m, Metrics):
        m = compute_metrics(rets.to_numpy(), ppy)
    out: dict[str, Any] = dict(m.to_dict()) if m is not None else {}
    idx = rets.index
    gross = d["exposure"]["gross"].to_numpy()
    prev = np.concatenate([[0.0], gross[:-1]])
    active = (gross > 0) | (prev > 0)
    r = rets.to_numpy()
    n = len(r)
    out["start"] = idx[0] if n else None
    out["end"] = idx[-1] if n else None
    out["initial_equity"] = d["initial"]
    out["final_equity"] = float(d["equity"].iloc[-1]) if n else d["initial"]
    out["best_period"] = float(np.nanmax(r)) if n else math.nan
    out["worst_period"] = float(np.nanmin(r)) if n else math.nan
    out["exposure"] = float(active.mean()) if n else 0.0
    out["avg_gross_exposure"] = float(gross.mean()) if n else 0.0
    out["avg_net_exposure"] = float(d["exposure"]["net"].mean()) if n else 0.0
    n_active = int(active.sum())
    out["win_rate_active"] = float((r[active] > 0).sum() / n_active) if n_active else 0.0
    traded = d["traded"]
    if traded is None:  # a bare return series
        out["num_trades"] = math.nan
        out["turnover"] = math.nan
    else:
        out["num_trades"] = int((traded.to_numpy() > 0).sum()) if traded.shape[1] else 0
        out["turnover"] = float(d["turnover"].mean() / 2.0 * ppy) if n else 0.0
    costs = d["costs"]
    out["costs"] = float(costs.sum()) if costs is not None else math.nan
    out["costs_pct"] = out["costs"] / d["initial"] if d["initial"] else math.nan
    if d["benchmark"] is not None:
        out.update(benchmark_stats(rets, d["benchmark"], ppy))
    return out


def metrics_table(metrics: Metrics | None) -> str:
    """The metrics as an aligned text table (``"no returns"`` when None)."""
    return "no returns" if metrics is None else metrics.table()


# ----------------------------------------------------------------------------- formatting

_PCT = {"total_return", "cagr", "volatility", "max_drawdown", "cvar_95", "win_rate",
        "best_period", "worst_period", "exposure", "avg_gross_exposure", "avg_net_exposure",
        "win_rate_active", "costs_pct", "benchmark_total_return", "alpha", "tracking_error"}
_MONEY = {"initial_equity", "final_equity", "costs"}
_TIMES = {"turnover"}
_LABELS = {
    "total_return": "Total return", "cagr": "CAGR", "volatility": "Volatility (ann.)",
    "sharpe": "Sharpe", "sortino": "Sortino", "max_drawdown": "Max drawdown",
    "calmar": "Calmar", "num_periods": "Periods", "winning_periods": "Winning periods",
    "losing_periods": "Losing periods", "cvar_95": "CVaR 95 % (per period)",
    "win_rate": "Win rate (all periods)", "profit_factor": "Profit factor",
    "payoff_ratio": "Payoff ratio", "kelly": "Kelly fraction", "start": "Start", "end": "End",
    "initial_equity": "Initial equity", "final_equity": "Final equity",
    "best_period": "Best period", "worst_period": "Worst period",
    "exposure": "Time with a position", "avg_gross_exposure": "Avg gross exposure",
    "avg_net_exposure": "Avg net exposure", "win_rate_active": "Win rate (periods with a position)",
    "num_trades": "Trades (position changes)", "turnover": "Turnover (ann., one-sided)",
    "costs": "Costs paid", "costs_pct": "Costs / initial equity",
    "benchmark_total_return": "Benchmark total return", "alpha": "Alpha (ann.)",
    "beta": "Beta", "correlation": "Correlation", "tracking_error": "Tracking error (ann.)",
    "information_ratio": "Information ratio (ann.)",
}


def _missing(v: Any) -> bool:
    """None, NaN or NaT."""
    return v is None or (not isinstance(v, str) and bool(np.all(v != v)))


def _fmt_date(v: Any) -> str:
    if _missing(v):
        return "—"
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")
    return str(v)


def _fmt_pct(v: float, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v * 100:,.{digits}f} %"


def _fmt_money(v: float, currency: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    sign = "-" if v < 0 else ""
    return f"{sign}{currency}{abs(v):,.2f}"


def format_metric(key: str, v: Any, currency: str = "$") -> str:
    """One metric as people read it: percentages, dates, currency, ratios."""
    if key in ("start", "end") or hasattr(v, "strftime"):
        return _fmt_date(v)
    if key in _MONEY:
        return _fmt_money(v, currency)
    if key in _PCT:
        return _fmt_pct(v)
    if key in _TIMES:
        return "—" if math.isnan(v) else f"{v:.2f}×"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        return f"{v:,.2f}"
    return str(v)


# ----------------------------------------------------------------------------- figure

def _money_formatter(currency: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    def f(x: float, _pos: Any) -> str:
        a = abs(x)
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{'-' if x < 0 else ''}{currency}{a / div:,.{1 if a < 10 * div else 0}f}{suffix}"
        return f"{'-' if x < 0 else ''}{currency}{a:,.0f}"

    return FuncFormatter(f)


def tear_sheet_figure(result: Mapping[str, Any], rolling_window: int = 63, periods_per_year: int = 252,
                      title: str = "", benchmark: Any = None, cost_bps: float | None = None,
                      costs: Any = None, currency: str = "$", data: dict[str, Any] | None = None) -> Any:
    """A matplotlib ``Figure`` with every panel of the tear sheet.

    Panels: equity (currency, log scale, benchmark overlaid at the same
    initial equity); underwater curve with the worst drawdowns shaded and
    numbered; rolling volatility and rolling Sharpe; calendar heatmap of
    monthly returns with the yearly returns beside it (needs a
    DatetimeIndex); gross/net exposure with long/short counts; turnover and
    cumulative costs.  The title is ``title`` and the headline metrics.
    Arguments as :func:`report_data`.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, PercentFormatter

    d = data if data is not None else report_data(result, benchmark, rolling_window,
                                                   periods_per_year, cost_bps, costs)
    m = d["metrics"]
    eq, idx = d["equity"], d["equity"].index
    fig = Figure(figsize=(12, 17), layout="constrained")
    gs = fig.add_gridspec(6, 2, height_ratios=[3.0, 1.7, 1.7, 2.8, 1.8, 1.8])
    head = title or "Backtest"
    if m:
        head += (f"\ntotal return {_fmt_pct(m['total_return'], 1)}   CAGR {_fmt_pct(m['cagr'], 1)}   "
                 f"Sharpe {m['sharpe']:.2f}   max drawdown {_fmt_pct(m['max_drawdown'], 1)}   "
                 f"{_fmt_date(m['start'])} – {_fmt_date(m['end'])}")
    fig.suptitle(head, fontsize=13)

    ax = fig.add_subplot(gs[0, :])
    ax.plot(idx, eq.to_numpy(), color="#1f4e79", lw=1.4, label="strategy")
    if d["benchmark_equity"] is not None:
        ax.plot(idx, d["benchmark_equity"].to_numpy(), color="#7f7f7f", lw=1.1,
                label=f"benchmark: {d['benchmark_name']}")
    if len(eq) and np.all(eq.to_numpy() > 0):
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(_money_formatter(currency))
    ax.set_ylabel("equity")
    ax.set_title("Equity (log scale)", loc="left", fontsize=10)
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3, which="both")

    ax = fig.add_subplot(gs[1, :], sharex=fig.axes[0])
    uw = d["underwater"]
    ax.fill_between(idx, uw.to_numpy(), 0.0, color="#c0392b", alpha=0.55, lw=0)
    for k, row in d["drawdowns"].iterrows():
        end = idx[-1] if _missing(row["recovery"]) else row["recovery"]
        ax.axvspan(row["start"], end, color="#f5b041", alpha=0.18, lw=0)
        ax.annotate(f"{k + 1}", (row["trough"], -row["depth"]), textcoords="offset points",
                    xytext=(0, -9), ha="center", va="center", fontsize=8, color="#7b241c",
                    fontweight="bold")
    if len(uw) and uw.min() < 0:
        ax.set_ylim(bottom=float(uw.min()) * 1.15, top=0.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("drawdown")
    ax.set_title(f"Underwater curve (worst {len(d['drawdowns'])} drawdowns shaded, numbered by depth)",
                 loc="left", fontsize=10)
    ax.grid(alpha=0.3)

    w = d["rolling_window"]
    ax = fig.add_subplot(gs[2, 0], sharex=fig.axes[0])
    ax.plot(idx, d["rolling_volatility"].to_numpy(), color="#6c3483", lw=1.0)
    if m:
        ax.axhline(m["volatility"], color="k", lw=0.7, ls="--", label="full period")
        ax.legend(loc="upper left", fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title(f"Rolling volatility ({w} periods, annualised)", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(gs[2, 1], sharex=fig.axes[0])
    ax.plot(idx, d["rolling_sharpe"].to_numpy(), color="#2e7d32", lw=1.0)
    ax.axhline(0.0, color="k", lw=0.6)
    if m:
        ax.axhline(m["sharpe"], color="k", lw=0.7, ls="--", label="full period")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"Rolling Sharpe ({w} periods, annualised)", loc="left", fontsize=10)
    ax.grid(alpha=0.3)

    _calendar_panels(fig, gs, d)

    ex = d["exposure"]
    ax = fig.add_subplot(gs[4, 0], sharex=fig.axes[0])
    ax.plot(idx, ex["gross"].to_numpy(), color="#1f4e79", lw=1.0, label="gross")
    ax.plot(idx, ex["net"].to_numpy(), color="#d35400", lw=1.0, ls="--", label="net")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Gross and net exposure (of equity)", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(gs[4, 1], sharex=fig.axes[0])
    ax.step(idx, ex["long"].to_numpy(), where="post", color="#2e7d32", lw=1.0, label="long")
    ax.step(idx, ex["short"].to_numpy(), where="post", color="#c0392b", lw=1.0, label="short")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Number of positions", loc="left", fontsize=10)
    ax.grid(alpha=0.3)

    ax = fig.add_subplot(gs[5, :], sharex=fig.axes[0])
    to, label = _binned_turnover(d["turnover"])
    ax.bar(to.index, to.to_numpy(), width=_bar_width(to.index), color="#5d6d7e", label=label)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("traded / equity")
    if d["costs"] is not None:
        ax3 = ax.twinx()
        ax3.plot(idx, d["costs"].fillna(0.0).cumsum().to_numpy(), color="#c0392b", lw=1.4,
                 label=f"cumulative costs ({d['cost_source']})")
        ax3.yaxis.set_major_formatter(_money_formatter(currency))
        ax3.set_ylabel("costs paid")
        ax3.set_ylim(bottom=0)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax3.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
        ax.set_title(f"Turnover and cumulative costs (turnover {m['turnover']:.1f}× a year, "
                     f"one-sided; costs {_fmt_money(m['costs'], currency)})", loc="left", fontsize=10)
    else:
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title("Turnover (costs not recorded: pass cost_bps= or costs=)", loc="left", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    return fig


def _binned_turnover(turnover: Any) -> tuple[Any, str]:
    """Turnover summed per calendar month (dates) or per block of periods, so the
    bars stay readable (and cheap to draw) on long daily series."""
    import pandas as pd

    idx = turnover.index
    if isinstance(idx, pd.DatetimeIndex) and len(idx) > 120:
        g = turnover.groupby(idx.to_period("M")).sum()
        g.index = g.index.to_timestamp(how="start") + pd.Timedelta(days=14)
        return g, "turnover per month (both sides)"
    if len(idx) > 120:
        k = int(math.ceil(len(idx) / 100))
        g = turnover.groupby(np.arange(len(idx)) // k).sum()
        g.index = idx[::k][: len(g)]
        return g, f"turnover per {k} periods (both sides)"
    return turnover, "turnover per period (both sides)"


def _bar_width(idx: Any) -> Any:
    import pandas as pd

    if len(idx) < 2:
        return 0.8
    if isinstance(idx, pd.DatetimeIndex):
        step = np.median(np.diff(idx.to_numpy()).astype("timedelta64[s]").astype(np.float64))
        return step / 86_400.0 * 0.8  # matplotlib dates are in days
    return float(np.median(np.diff(np.asarray(idx, dtype=np.float64)))) * 0.8


def _calendar_panels(fig: Any, gs: Any, d: dict[str, Any]) -> None:
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.ticker import PercentFormatter

    cal = d["calendar"]
    sub = gs[3, :].subgridspec(1, 2, width_ratios=[3.2, 1.0])
    ax = fig.add_subplot(sub[0, 0])
    if cal is None or cal.empty:
        ax.axis("off")
        ax.text(0.5, 0.5, "calendar panels need a DatetimeIndex", ha="center", va="center")
        return
    vals = cal.iloc[:, :12].to_numpy(dtype=np.float64)
    lim = float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 0.01
    lim = max(lim, 1e-4)
    ax.imshow(np.ma.masked_invalid(vals), cmap="RdYlGn", aspect="auto",
              norm=TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim))
    ax.set_xticks(range(12), list(cal.columns[:12]))
    ax.set_yticks(range(len(cal.index)), [str(y) for y in cal.index])
    small = len(cal.index) > 12
    for i in range(vals.shape[0]):
        for j in range(12):
            v = vals[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v * 100:.1f}", ha="center", va="center",
                        fontsize=6 if small else 8, color="k")
    ax.set_title("Monthly returns (%)", loc="left", fontsize=10)
    ax = fig.add_subplot(sub[0, 1])
    yr = cal["Year"].to_numpy(dtype=np.float64)
    colors = ["#2e7d32" if v >= 0 else "#c0392b" for v in yr]
    ax.barh(range(len(yr)), yr, color=colors)
    ax.set_yticks(range(len(yr)), [str(y) for y in cal.index])
    ax.invert_yaxis()
    ax.axvline(0.0, color="k", lw=0.6)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for i, v in enumerate(yr):
        if np.isfinite(v):
            ax.annotate(_fmt_pct(v, 1), (v, i), textcoords="offset points",
                        xytext=(3 if v >= 0 else -3, 0), ha="left" if v >= 0 else "right",
                        va="center", fontsize=8)
    lo, hi = min(0.0, float(np.nanmin(yr))), max(0.0, float(np.nanmax(yr)))
    pad = 0.35 * (hi - lo or 1.0)
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + pad)
    ax.set_title("Yearly returns", loc="left", fontsize=10)
    ax.grid(alpha=0.3, axis="x")


# ----------------------------------------------------------------------------- HTML

def save_report(result: Mapping[str, Any], folder: str | os.PathLike[str], name: str = "tear_sheet",
                rolling_window: int = 63, periods_per_year: int = 252, title: str = "",
                benchmark: Any = None, cost_bps: float | None = None, costs: Any = None,
                currency: str = "$") -> dict[str, str]:
    """Write ``<folder>/<name>.png`` and ``<folder>/<name>.html``; return both paths.

    The HTML page is self-contained (the figure embedded as a base64 PNG, no
    external file or script), titled ``title`` (default ``name``), and lists
    the metrics table, the monthly and yearly returns, the worst drawdowns
    with their dates, the benchmark statistics, the rebalances that were
    skipped and, when the result reports them (``skipped_targets``), the
    targets that could not be executed (date, symbol, wanted weight, reason).  Arguments as :func:`report_data`.  Nothing is written when an
    argument is invalid (the inputs are validated first).
    """
    d = report_data(result, benchmark, rolling_window, periods_per_year, cost_bps, costs)
    heading = title or name
    fig = tear_sheet_figure(result, title=heading, currency=currency, data=d)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    png = buf.getvalue()
    page = _html_page(result, d, heading, png, currency)
    os.makedirs(folder, exist_ok=True)
    png_path = os.path.join(os.fspath(folder), f"{name}.png")
    html_path = os.path.join(os.fspath(folder), f"{name}.html")
    with open(png_path, "wb") as f:
        f.write(png)
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(page)
    return {"png": png_path, "html": html_path}


def _skipped_targets(result: Any) -> Any:
    """The result's ``skipped_targets`` DataFrame (date, symbol, weight, reason), if it has one."""
    import pandas as pd

    try:
        st = getattr(result, "skipped_targets", None)
    except Exception:  # a view that cannot be built is not a reason to lose the report
        return None
    return st if isinstance(st, pd.DataFrame) else None


def _fmt_days(v: float) -> str:
    return "—" if math.isnan(v) else f"{int(v):,}"


def _cell_color(v: float, lim: float) -> str:
    if not np.isfinite(v) or lim <= 0:
        return ""
    a = min(abs(v) / lim, 1.0) * 0.55
    rgb = "46,125,50" if v >= 0 else "192,57,43"
    return f' style="background:rgba({rgb},{a:.2f})"'


def _html_page(result: Any, d: dict[str, Any], heading: str, png: bytes, currency: str) -> str:
    esc = html.escape
    m = d["metrics"]
    rows = "".join(f"<tr><th>{esc(_LABELS.get(k, k))}</th><td>{esc(format_metric(k, v, currency))}</td>"
                   f"<td class=key>{esc(k)}</td></tr>" for k, v in m.items())
    parts = [f"<h1>{esc(heading)}</h1>"]
    if m:
        parts.append(f"<p class=sub>{esc(_fmt_date(m['start']))} – {esc(_fmt_date(m['end']))}, "
                     f"{m['num_periods']:,} periods; {esc(_fmt_money(m['initial_equity'], currency))} "
                     f"→ {esc(_fmt_money(m['final_equity'], currency))}. Costs: {esc(d['cost_source'])}."
                     "</p>")
    parts.append("<h2>Metrics</h2><table class=metrics><tr><th>metric</th><th>value</th>"
                 f"<th>key</th></tr>{rows}</table>")
    parts.append(f'<img alt="tear sheet of {esc(heading)}" src="data:image/png;base64,'
                 f'{base64.b64encode(png).decode()}">')
    cal = d["calendar"]
    if cal is not None and not cal.empty:
        vals = cal.to_numpy(dtype=np.float64)
        lim = float(np.nanmax(np.abs(vals[:, :12]))) if np.isfinite(vals[:, :12]).any() else 0.0
        head = "".join(f"<th>{esc(str(c))}</th>" for c in cal.columns)
        body = "".join(
            f"<tr><th>{y}</th>" + "".join(
                f"<td{_cell_color(v, lim if j < 12 else float(np.nanmax(np.abs(vals[:, 12]))))}>"
                f"{esc(_fmt_pct(v, 1))}</td>" for j, v in enumerate(vals[i])) + "</tr>"
            for i, y in enumerate(cal.index))
        parts.append(f"<h2>Monthly and yearly returns</h2><table class=cal><tr><th>year</th>{head}</tr>"
                     f"{body}</table>")
    dd = d["drawdowns"]
    if len(dd):
        body = "".join(
            f"<tr><td>{k + 1}</td><td>{esc('inception' if _missing(r['peak']) else _fmt_date(r['peak']))}"
            f"</td><td>{esc(_fmt_date(r['start']))}</td><td>{esc(_fmt_date(r['trough']))}</td>"
            f"<td>{esc('not recovered' if _missing(r['recovery']) else _fmt_date(r['recovery']))}</td>"
            f"<td>{esc(_fmt_pct(-r['depth']))}</td><td>{r['periods']:,}</td>"
            f"<td>{_fmt_days(r['days'])}</td></tr>"
            for k, r in dd.iterrows())
        parts.append("<h2>Worst drawdowns</h2><table><tr><th>#</th><th>peak</th><th>start</th>"
                     "<th>trough</th><th>recovery</th><th>depth</th><th>periods under water</th>"
                     f"<th>days</th></tr>{body}</table>")
    if d["benchmark"] is not None:
        keys = ("benchmark_total_return", "alpha", "beta", "correlation", "tracking_error",
                "information_ratio")
        body = "".join(f"<tr><th>{esc(_LABELS[k])}</th><td>{esc(format_metric(k, m[k], currency))}</td></tr>"
                       for k in keys)
        parts.append(f"<h2>Against the benchmark: {esc(str(d['benchmark_name']))}</h2><table>{body}</table>")
    skipped = list(result.get("skipped_rebalances", []) or []) if hasattr(result, "get") else []
    idx = d["returns"].index
    if skipped:
        labels = ", ".join(esc(_fmt_date(idx[i])) if 0 <= i < len(idx) else str(i) for i in skipped[:50])
        more = f" and {len(skipped) - 50} more" if len(skipped) > 50 else ""
        parts.append(f"<h2>Skipped rebalances</h2><p>{len(skipped)} rebalance(s) could not be "
                     f"executed: {labels}{more}.</p>")
    st = _skipped_targets(result)
    if st is not None and len(st):
        shown = st.head(100)
        body = "".join(
            f"<tr><td>{esc(_fmt_date(r.get('date')))}</td><td>{esc(str(r.get('symbol', '')))}</td>"
            f"<td>{esc(_fmt_pct(float(r.get('weight', math.nan))))}</td>"
            f"<td style=\"text-align:left\">{esc(str(r.get('reason', '')))}</td></tr>"
            for r in shown.to_dict("records"))
        by_symbol = ", ".join(f"{esc(str(k))} ({v})" for k, v in st["symbol"].value_counts().head(20).items()) \
            if "symbol" in st.columns else ""
        more = f" (the first {len(shown)} shown)" if len(st) > len(shown) else ""
        parts.append(f"<h2>Targets not executed</h2><p>{len(st):,} target(s) could not be executed"
                     f"{more}; by symbol: {by_symbol}.</p><table><tr><th>date</th><th>symbol</th>"
                     f"<th>wanted weight</th><th>reason</th></tr>{body}</table>")
    style = ("body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;"
             "margin:auto;padding:0 1em;color:#222} table{border-collapse:collapse;margin:0.6em 0 1.4em}"
             " td,th{border:1px solid #d5d8dc;padding:3px 9px;text-align:right;font-variant-numeric:"
             "tabular-nums} th{background:#f4f6f7;text-align:left} td.key{color:#888;font-family:"
             "monospace;font-size:85%} img{max-width:100%} .sub{color:#555}")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(heading)}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(parts)
            + "\n<p class=sub>Written by nanobook.portfolio.report.save_report.</p></body></html>\n")
