"""Performance metrics over a series of per-period returns, and drawdown tools.

Every formula reproduces nanobook 0.19 (the formulas are in
``docs/portfolio.md``, "Metrics") bit for bit: sums and products run strictly left to right in input order (never
pairwise or compensated summation), so the same inputs give the same doubles
as the reference.

The functions take any sequence of floats (list, tuple, numpy array, pandas
Series); they return plain Python objects (``Metrics``, ``list``, ``dict``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable, Sequence

import numpy as np

from ..fmt import fixed

__all__ = [
    "Metrics",
    "compute_metrics",
    "py_compute_metrics",
    "drawdown_series",
    "py_drawdown_series",
    "rolling_max_drawdown",
    "py_rolling_max_drawdown",
    "rolling_sharpe",
    "rolling_volatility",
    "py_rolling_sharpe",
    "py_rolling_volatility",
    "calendar_returns",
    "yearly_returns",
    "underwater",
    "drawdown_table",
    "benchmark_stats",
    "exposure_frame",
    "traded_weights",
]

_INF = math.inf


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """Summary statistics of a return series (``docs/portfolio.md``, "Metrics").

    All fields are floats except ``num_periods``, ``winning_periods`` and
    ``losing_periods`` (ints). Build one with :func:`compute_metrics`
    (the constructor takes its 15 fields by keyword only).
    """

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    calmar: float
    num_periods: int
    winning_periods: int
    losing_periods: int
    cvar_95: float
    win_rate: float
    profit_factor: float
    payoff_ratio: float
    kelly: float

    def __repr__(self) -> str:
        return (
            f"Metrics(total_return={fixed(self.total_return * 100.0, 2)}%, "
            f"sharpe={fixed(self.sharpe, 2)}, "
            f"max_drawdown={fixed(self.max_drawdown * 100.0, 2)}%, "
            f"win_rate={fixed(self.win_rate * 100.0, 1)}%)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The 15 fields as a plain ``dict`` (field order as declared)."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of the 15 fields in declaration order."""
        return tuple(f.name for f in fields(cls))

    def table(self) -> str:
        """A two-column, human-readable table of all fields."""
        pct = {"total_return", "cagr", "volatility", "max_drawdown", "cvar_95", "win_rate"}
        lines = []
        for name in self.field_names():
            v = getattr(self, name)
            if isinstance(v, int):
                s = str(v)
            elif name in pct:
                s = fixed(v * 100.0, 2) + " %"
            else:
                s = fixed(v, 3)
            lines.append(f"{name:<16} {s:>12}")
        return "\n".join(lines)


def _as_float_list(values: Iterable[float], name: str) -> list[float]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of numbers, got str")
    if isinstance(values, dict):
        raise TypeError(f"{name} must be a sequence of numbers, got dict")
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False).ravel().tolist()
    try:
        return [float(v) for v in values]
    except TypeError:
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}") from None


def compute_metrics(
    returns: Sequence[float], periods_per_year: float = 252.0, risk_free: float = 0.0
) -> Metrics | None:
    """Compute :class:`Metrics` over per-period ``returns``.

    Parameters
    ----------
    returns : sequence of float
        Simple returns, one per period, in time order.
    periods_per_year : float, default 252.0
        Annualisation factor ``P``; must be finite and > 0, else ``None`` is
        returned (as the reference does).
    risk_free : float, default 0.0
        Risk-free rate **per period**.

    Returns
    -------
    Metrics or None
        ``None`` when ``returns`` is empty or ``periods_per_year`` invalid.

    Notes
    -----
    With ``n`` returns (sums left to right):
    ``total_return = prod(1 + r) - 1``; ``cagr = (1 + total_return)**(P/n) - 1``
    (``-1`` after a total loss); ``volatility = std(r, ddof=1) * sqrt(P)``;
    ``sharpe = (mean - rf) * sqrt(P) / std`` (0 if std is 0);
    ``sortino = (mean - rf) * sqrt(P) / sqrt(sum(min(r - rf, 0)**2) / n)``;
    ``max_drawdown`` on the compounded curve starting at 1;
    ``calmar = cagr / max_drawdown``; ``cvar_95`` the mean of the
    ``ceil(5 % m)`` worst finite returns; ``profit_factor``,
    ``payoff_ratio``, ``kelly`` as ``docs/portfolio.md`` ("Metrics") defines them. Cost O(n log n).
    """
    r = _as_float_list(returns, "returns")
    ppy = float(periods_per_year)
    rf = float(risk_free)
    n = len(r)
    if n == 0 or not (math.isfinite(ppy) and ppy > 0.0):
        return None

    growth = 1.0
    for x in r:
        growth *= 1.0 + x
    total_return = growth - 1.0

    years = n / ppy
    if total_return > -1.0:
        cagr = (1.0 + total_return) ** (1.0 / years) - 1.0
    elif total_return <= -1.0:
        cagr = -1.0
    else:  # NaN total return: the reference reports 0.0
        cagr = 0.0

    s = 0.0
    for x in r:
        s += x
    mean = s / n
    if n > 1:
        acc = 0.0
        for x in r:
            d = x - mean
            acc += d * d
        var = acc / (n - 1)
    else:
        var = 0.0
    std = math.sqrt(var) if var >= 0.0 or math.isnan(var) else math.nan
    sqrt_p = math.sqrt(ppy)
    volatility = std * sqrt_p
    sharpe = (mean - rf) * sqrt_p / std if volatility > 0.0 else 0.0

    dacc = 0.0
    for x in r:
        e = x - rf
        if e < 0.0:
            dacc += e * e
    downside = math.sqrt(dacc / n)
    sortino = (mean - rf) * sqrt_p / downside if downside > 0.0 else 0.0

    value = 1.0
    peak = 1.0
    max_dd = 0.0
    for x in r:
        value *= 1.0 + x
        if value > peak:
            peak = value
        dd = (peak - value) / peak
        if dd > max_dd:
            max_dd = dd
    calmar = cagr / max_dd if max_dd > 0.0 else 0.0

    wins = 0
    losses = 0
    pos_sum = -0.0
    neg_sum = -0.0
    for x in r:
        if x > 0.0:
            wins += 1
            pos_sum += x
        elif x < 0.0:
            losses += 1
            neg_sum += x

    finite = sorted(x for x in r if math.isfinite(x))
    m = len(finite)
    if m:
        k = min(max(math.ceil(0.05 * m), 1), m)
        t = 0.0
        for x in finite[:k]:
            t += x
        cvar = t / k
    else:
        cvar = 0.0

    win_rate = wins / n
    if neg_sum != 0.0 or losses:
        profit_factor = pos_sum / abs(neg_sum) if neg_sum != 0.0 else (_INF if pos_sum > 0.0 else 0.0)
    else:
        profit_factor = _INF if pos_sum > 0.0 else 0.0
    mean_win = pos_sum / wins if wins else 0.0
    mean_loss = neg_sum / losses if losses else 0.0
    if losses and mean_loss != 0.0:
        payoff = mean_win / abs(mean_loss)
    elif mean_win > 0.0:
        payoff = _INF
    else:
        payoff = 0.0
    if math.isfinite(payoff) and payoff > 0.0:
        kelly = win_rate - (1.0 - win_rate) / payoff
    else:
        kelly = 0.0

    return Metrics(
        total_return=total_return,
        cagr=cagr,
        volatility=volatility,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_dd,
        calmar=calmar,
        num_periods=n,
        winning_periods=wins,
        losing_periods=losses,
        cvar_95=cvar,
        win_rate=win_rate,
        profit_factor=profit_factor,
        payoff_ratio=payoff,
        kelly=kelly,
    )


def py_compute_metrics(
    returns: Sequence[float], periods_per_year: float = 252.0, risk_free: float = 0.0
) -> Metrics | None:
    """Alias of :func:`compute_metrics` (the reference's name)."""
    return compute_metrics(returns, periods_per_year, risk_free)


# --------------------------------------------------------------------------- drawdowns


def _drawdown_events(eq: list[float], aliases: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not eq:
        return out
    peak = eq[0]
    peak_i = 0
    open_ev: dict[str, Any] | None = None

    def emit(ev: dict[str, Any], recovery: int | None, end: int) -> None:
        under = end - ev["start"]
        rec: dict[str, Any] = {"drawdown_pct": ev["depth"], "underwater_periods": under}
        if aliases:
            rec["underwater_days"] = under
        rec["peak_index"] = ev["peak"]
        if aliases:
            rec["peak_date"] = ev["peak"]
        rec["trough_index"] = ev["trough"]
        if aliases:
            rec["trough_date"] = ev["trough"]
        rec["recovery_index"] = recovery
        if aliases:
            rec["recovery_date"] = recovery
        out.append(rec)

    for i in range(1, len(eq)):
        v = eq[i]
        if v >= peak:
            if open_ev is not None:
                emit(open_ev, i, i)
                open_ev = None
            peak = v
            peak_i = i
        elif peak > 0.0:
            dd = (peak - v) / peak
            if open_ev is None:
                open_ev = {"start": i, "peak": peak_i, "trough": i, "depth": dd}
            elif dd > open_ev["depth"]:
                open_ev["trough"] = i
                open_ev["depth"] = dd
    if open_ev is not None:
        emit(open_ev, None, len(eq))
    return out


def drawdown_series(equity: Sequence[float]) -> list[dict[str, Any]]:
    """Drawdown episodes of an equity curve (a peak, the trough below it, the recovery).

    Each episode is a dict with keys ``drawdown_pct, underwater_periods,
    underwater_days, peak_index, peak_date, trough_index, trough_date,
    recovery_index, recovery_date`` (the ``*_days``/``*_date`` keys are
    aliases of the period counts/indices). An episode still open at the end
    has ``recovery_index=None``. Cost O(n).
    """
    return _drawdown_events(_as_float_list(equity, "equity"), aliases=True)


def py_drawdown_series(equity: Sequence[float]) -> list[dict[str, Any]]:
    """Alias of :func:`drawdown_series`."""
    return drawdown_series(equity)


def rolling_max_drawdown(equity: Sequence[float], window: int) -> list[float]:
    """Maximum drawdown inside each trailing window of ``window`` points.

    Returns a list as long as ``equity``; the first ``window - 1`` entries
    (all entries if ``window == 0`` or the series is shorter) are NaN.
    Cost O(n * window).
    """
    eq = _as_float_list(equity, "equity")
    w = _as_uint(window, "window")
    n = len(eq)
    out = [math.nan] * n
    if w == 0 or n < w:
        return out
    for end in range(w - 1, n):
        start = end - w + 1
        peak = eq[start]
        worst = 0.0
        for j in range(start + 1, end + 1):
            v = eq[j]
            if v > peak:
                peak = v
            if peak > 0.0:
                dd = (peak - v) / peak
                if dd > worst:
                    worst = dd
        out[end] = worst
    return out


def py_rolling_max_drawdown(equity: Sequence[float], window: int) -> list[float]:
    """Alias of :func:`rolling_max_drawdown`."""
    return rolling_max_drawdown(equity, window)


def _as_uint(x: Any, name: str) -> int:
    if isinstance(x, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    try:
        v = int(x.__index__())
    except AttributeError:
        raise TypeError(f"{name} must be an integer, got {type(x).__name__}") from None
    if v < 0:
        raise OverflowError("can't convert negative int to unsigned")
    return v


def _rolling_mean_std(r: list[float], w: int, i: int) -> tuple[float, float]:
    n = 0
    mean = 0.0
    m2 = 0.0
    for j in range(i - w + 1, i + 1):
        x = r[j]
        n += 1
        d = x - mean
        mean += d / n
        m2 += d * (x - mean)
    var = m2 / (w - 1)
    # Rust's f64::max(NaN, 0.0) is 0.0: a NaN window has std 0.
    std = math.sqrt(var if var > 0.0 else 0.0)
    return mean, std


def rolling_sharpe(returns: Sequence[float], window: int, periods_per_year: int = 252) -> list[float]:
    """Rolling Sharpe ratio ``mean * sqrt(P) / std`` (ddof 1, no risk-free).

    NaN for the first ``window - 1`` entries (all NaN if ``window < 2`` or the
    series is shorter than ``window``); 0.0 where the window's std is 0.
    Mean and variance use Welford's recurrence per window, as the reference.
    """
    r = _as_float_list(returns, "returns")
    w = _as_uint(window, "window")
    p = _as_uint(periods_per_year, "periods_per_year")
    n = len(r)
    out = [math.nan] * n
    if w < 2 or n < w:
        return out
    sp = math.sqrt(p)
    for i in range(w - 1, n):
        mean, std = _rolling_mean_std(r, w, i)
        out[i] = mean * sp / std if std != 0.0 else 0.0
    return out


def rolling_volatility(returns: Sequence[float], window: int, periods_per_year: int = 252) -> list[float]:
    """Rolling annualised volatility ``std * sqrt(P)`` (ddof 1), see :func:`rolling_sharpe`."""
    r = _as_float_list(returns, "returns")
    w = _as_uint(window, "window")
    p = _as_uint(periods_per_year, "periods_per_year")
    n = len(r)
    out = [math.nan] * n
    if w < 2 or n < w:
        return out
    sp = math.sqrt(p)
    for i in range(w - 1, n):
        _, std = _rolling_mean_std(r, w, i)
        out[i] = std * sp
    return out


def py_rolling_sharpe(returns: Sequence[float], window: int, periods_per_year: int = 252) -> list[float]:
    """Alias of :func:`rolling_sharpe`."""
    return rolling_sharpe(returns, window, periods_per_year)


def py_rolling_volatility(returns: Sequence[float], window: int, periods_per_year: int = 252) -> list[float]:
    """Alias of :func:`rolling_volatility`."""
    return rolling_volatility(returns, window, periods_per_year)


# --------------------------------------------------------------------------- report metrics
#
# Beyond the reference: the calendar, drawdown, benchmark and exposure figures
# of a tear sheet.  They take pandas objects (returns as a Series, holdings as
# a DataFrame, both indexed by period) and import pandas when called.  The
# conventions are stated per function; tests/portfolio/test_report.py checks
# them against quantstats 0.0.86 (tests/data/portfolio/quantstats_reference.json).

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _returns_series(returns: Any, name: str = "returns") -> Any:
    import pandas as pd

    if isinstance(returns, pd.DataFrame):
        if returns.shape[1] != 1:
            raise ValueError(f"{name} must be one column, got {returns.shape[1]} columns")
        returns = returns.iloc[:, 0]
    if not isinstance(returns, pd.Series):
        returns = pd.Series(_as_float_list(returns, name))
    s = returns.astype(np.float64)
    bad = np.isinf(s.to_numpy())
    if bad.any():
        raise ValueError(f"{name} must not contain inf, got {s[bad].iloc[0]!r} at {s.index[bad][0]!r}")
    return s


def _has_dates(s: Any) -> bool:
    import pandas as pd

    return isinstance(s.index, pd.DatetimeIndex)


def calendar_returns(returns: Any) -> Any:
    """Compounded returns per calendar month, as a year x month table.

    Parameters
    ----------
    returns : pandas.Series with a DatetimeIndex
        Simple per-period returns.

    Returns
    -------
    pandas.DataFrame
        Index: the years; columns ``Jan`` .. ``Dec`` then ``Year``. A month
        is ``prod(1 + r) - 1`` over its periods (NaN where the series has no
        period in that month); ``Year`` compounds the whole calendar year.
        The same numbers as quantstats' ``monthly_returns`` (``EOY`` there).

    Raises
    ------
    ValueError
        If the index is not a DatetimeIndex or a return is inf.
    """
    import pandas as pd

    s = _returns_series(returns)
    if not _has_dates(s):
        raise ValueError(f"returns must have a DatetimeIndex for calendar returns, got "
                         f"{type(s.index).__name__}")
    g = 1.0 + s.fillna(0.0)
    monthly = g.groupby([s.index.year, s.index.month]).prod() - 1.0
    table = monthly.unstack(level=1).reindex(columns=range(1, 13))
    table.columns = list(_MONTHS)
    table.index = pd.Index(table.index, name="year")
    table["Year"] = yearly_returns(s).to_numpy()
    return table


def yearly_returns(returns: Any) -> Any:
    """Compounded return of each calendar year (a Series indexed by year)."""
    import pandas as pd

    s = _returns_series(returns)
    if not _has_dates(s):
        raise ValueError(f"returns must have a DatetimeIndex for yearly returns, got "
                         f"{type(s.index).__name__}")
    out = (1.0 + s.fillna(0.0)).groupby(s.index.year).prod() - 1.0
    out.index = pd.Index(out.index, name="year")
    return out.rename("return")


def underwater(returns: Any) -> Any:
    """Drawdown of the compounded curve below its running peak (<= 0), per period.

    The curve starts at 1 before the first period, as in :func:`compute_metrics`
    (so ``-underwater(r).min() == compute_metrics(r).max_drawdown``).
    """
    s = _returns_series(returns)
    wealth = np.cumprod(1.0 + s.fillna(0.0).to_numpy())
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    return s.__class__(wealth / peak - 1.0, index=s.index, name="drawdown")


def drawdown_table(returns: Any, top: int = 5) -> Any:
    """The ``top`` worst drawdowns of the compounded curve, dated, deepest first.

    Returns
    -------
    pandas.DataFrame
        One row per episode with columns ``peak`` (last period at the high
        before the fall; missing — NaT/None — when the peak is the initial
        capital),
        ``start`` (first period under water), ``trough`` (deepest period),
        ``end`` (last period under water), ``recovery`` (first period back at
        the high; missing while still under water), ``depth`` (fraction,
        > 0), ``periods`` (periods under water, ``start`` .. ``end``) and
        ``days`` (calendar days ``start`` .. ``end`` inclusive, as quantstats
        counts them; NaN without dates).  Labels are the index values.
    """
    import pandas as pd

    s = _returns_series(returns)
    n_top = _as_uint(top, "top")
    r = s.fillna(0.0).to_numpy()
    eq = [1.0] + np.cumprod(1.0 + r).tolist()
    idx = list(s.index)
    rows = []
    for ev in _drawdown_events(eq, aliases=False):
        peak = ev["peak_index"]
        first = peak + 1
        rec = ev["recovery_index"]
        last = (rec - 1) if rec is not None else len(eq) - 1
        start, end = idx[first - 1], idx[last - 1]
        days = float((end - start).days + 1) if _has_dates(s) else math.nan
        rows.append({
            "peak": idx[peak - 1] if peak > 0 else None,
            "start": start,
            "trough": idx[ev["trough_index"] - 1],
            "end": end,
            "recovery": idx[rec - 1] if rec is not None else None,
            "depth": ev["drawdown_pct"],
            "periods": last - first + 1,
            "days": days,
        })
    rows.sort(key=lambda e: -e["depth"])
    cols = ["peak", "start", "trough", "end", "recovery", "depth", "periods", "days"]
    return pd.DataFrame(rows[:n_top], columns=cols)


def benchmark_stats(returns: Any, benchmark: Any, periods_per_year: float = 252.0) -> dict[str, float]:
    """Alpha, beta and tracking of ``returns`` against ``benchmark`` returns.

    Both are aligned on their common index; periods where either is NaN are
    dropped.  With ``P = periods_per_year``, sample moments (ddof 1):
    ``beta = cov(r, b) / var(b)``; ``alpha = (mean(r) - beta * mean(b)) * P``
    (annualised, as quantstats' ``greeks``); ``correlation``;
    ``tracking_error = std(r - b) * sqrt(P)``; ``information_ratio =
    mean(r - b) / std(r - b) * sqrt(P)`` (annualised; quantstats reports it
    per period, i.e. without the ``sqrt(P)``); ``benchmark_total_return``.

    Raises
    ------
    ValueError
        Fewer than 2 common periods, or a constant benchmark (beta undefined).
    """
    r = _returns_series(returns)
    b = _returns_series(benchmark, "benchmark")
    ppy = float(periods_per_year)
    if not (math.isfinite(ppy) and ppy > 0):
        raise ValueError(f"periods_per_year must be finite and > 0, got {periods_per_year!r}")
    both = r.to_frame("r").join(b.rename("b"), how="inner").dropna()
    if len(both) < 2:
        raise ValueError(f"benchmark shares {len(both)} period(s) with returns; need at least 2 "
                         "(align it on the same index)")
    x = both["r"].to_numpy()
    y = both["b"].to_numpy()
    var_b = float(np.var(y, ddof=1))
    if not (var_b > 0.0 and np.ptp(y) > 0.0):
        raise ValueError("benchmark returns are constant: beta is undefined")
    cov = float(np.cov(x, y, ddof=1)[0, 1])
    beta = cov / var_b
    active = x - y
    te = float(np.std(active, ddof=1))
    sd_x = float(np.std(x, ddof=1))
    return {
        "alpha": (float(x.mean()) - beta * float(y.mean())) * ppy,
        "beta": beta,
        "correlation": cov / (sd_x * math.sqrt(var_b)) if sd_x > 0 else math.nan,
        "tracking_error": te * math.sqrt(ppy),
        "information_ratio": float(active.mean()) / te * math.sqrt(ppy) if te > 0 else math.nan,
        "benchmark_total_return": float(np.prod(1.0 + y) - 1.0),
    }


def exposure_frame(holdings: Any) -> Any:
    """Per period: ``gross`` (sum of |w|), ``net`` (sum of w), ``long`` and
    ``short`` (number of names held long / short) from a weights DataFrame
    (0 or NaN = not held)."""
    import pandas as pd

    w = holdings.fillna(0.0).to_numpy(dtype=np.float64)
    return pd.DataFrame({
        "gross": np.abs(w).sum(axis=1),
        "net": w.sum(axis=1),
        "long": (w > 0).sum(axis=1),
        "short": (w < 0).sum(axis=1),
    }, index=holdings.index)


def traded_weights(holdings: Any, symbol_returns: Any, returns: Any = None) -> Any:
    """Weight traded per period and symbol: ``|w_t - drift(w_{t-1})|``.

    ``drift(w_{t-1})_i = w_{t-1,i} (1 + r_{t,i}) / (1 + R_t)`` is the value of
    the positions held before period ``t``'s trades, at its close, over the
    equity at its close (``R_t``: the portfolio's return ``returns``; without
    it, the no-trade return ``sum_j w_{t-1,j} r_{t,j}``, cash earning 0).
    With weights ``w = q * close / equity`` this is exactly
    ``|q_t - q_{t-1}| * close_t / equity_t``: the traded value at the close
    over equity (costs and fill prices included in ``R_t``), and exactly 0 in
    a period without trades.  The first period trades ``|w_0|`` (from cash).
    NaN returns count as 0.  Returns a DataFrame like ``holdings``.
    """
    import pandas as pd

    w = holdings.fillna(0.0).to_numpy(dtype=np.float64)
    r = symbol_returns.reindex(index=holdings.index, columns=holdings.columns)
    r = r.fillna(0.0).to_numpy(dtype=np.float64)
    prev = np.vstack([np.zeros((1, w.shape[1])), w[:-1]])
    grown = prev * (1.0 + r)
    if returns is None:
        denom = 1.0 + (prev * r).sum(axis=1, keepdims=True)
    else:
        rp = np.asarray(returns, dtype=np.float64).reshape(-1, 1)
        if rp.shape[0] != w.shape[0]:
            raise ValueError(f"returns has {rp.shape[0]} periods, holdings {w.shape[0]}")
        denom = 1.0 + np.nan_to_num(rp, nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        drift = np.where(denom > 0, grown / denom, 0.0)
    out = np.abs(w - drift)
    out[out < 1e-12] = 0.0  # rounding of the drift, not a trade
    return pd.DataFrame(out, index=holdings.index, columns=holdings.columns)
