"""Return attribution (``decompose_backtest``) and the reference's tear-sheet dict (``tear_sheet``)."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from .metrics import _as_uint, _drawdown_events, rolling_sharpe

__all__ = [
    "decompose_backtest",
    "py_decompose_backtest",
    "tear_sheet",
    "py_tear_sheet",
]


def _pairs(period: Any, name: str) -> list[tuple[str, float]]:
    out = []
    for item in period:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError(f"{name} entries must be (symbol, value) tuples, got {item!r}")
        out.append((str(item[0]), float(item[1])))
    return out


def decompose_backtest(
    weight_schedule: Sequence[Sequence[tuple[str, float]]],
    return_schedule: Sequence[Sequence[tuple[str, float]]],
) -> dict[str, Any]:
    """Per-period contributions ``w * r`` and position episodes (trades).

    Parameters
    ----------
    weight_schedule, return_schedule : list of lists of (str, float)
        Per period; typically a backtest's ``holdings`` and ``symbol_returns``.

    Returns
    -------
    dict
        ``contributions`` and ``cumulative_contributions`` (per period, sorted
        ``[(sym, value)]`` for every symbol with a weight now or in the previous
        period, or a non-zero contribution) and ``trades``: dicts with
        ``symbol, entry_index, exit_index, entry_weight, exit_weight``, sorted
        by ``(entry_index, symbol)``; a trade still open has ``exit_index=None``.
        Schedules of different lengths give three empty lists.
        Non-finite weights count as 0, non-finite or missing returns as 0.
    """
    if len(weight_schedule) != len(return_schedule):
        return {"contributions": [], "cumulative_contributions": [], "trades": []}
    contributions: list[list[tuple[str, float]]] = []
    cumulative: list[list[tuple[str, float]]] = []
    trades: list[dict[str, Any]] = []
    open_trades: dict[str, dict[str, Any]] = {}
    running: dict[str, float] = {}
    prev_w: dict[str, float] = {}
    last_raw: dict[str, float] = {}
    for t in range(len(weight_schedule)):
        wmap = dict(_pairs(weight_schedule[t], "weight_schedule"))
        rmap = dict(_pairs(return_schedule[t], "return_schedule"))
        syms = sorted(set(wmap) | set(rmap) | set(prev_w), key=lambda s: s.encode("utf-8"))
        crow: list[tuple[str, float]] = []
        cum_row: list[tuple[str, float]] = []
        for sym in syms:
            w = wmap.get(sym, 0.0)
            if not math.isfinite(w):
                w = 0.0
            pw = prev_w.get(sym, 0.0)
            if not math.isfinite(pw):
                pw = 0.0
            if pw == 0.0 and w != 0.0:
                open_trades[sym] = {"symbol": sym, "entry_index": t, "exit_index": None,
                                    "entry_weight": w, "exit_weight": None}
            elif pw != 0.0 and w == 0.0:
                tr = open_trades.pop(sym, None)
                if tr is not None:
                    tr["exit_index"] = t
                    tr["exit_weight"] = pw
                    trades.append(tr)
            r = rmap.get(sym, 0.0)
            if not math.isfinite(r):
                r = 0.0
            c = w * r
            if c != 0.0 or w != 0.0 or pw != 0.0:
                crow.append((sym, c))
                running[sym] = running.get(sym, 0.0) + c
                cum_row.append((sym, running[sym]))
        contributions.append(crow)
        cumulative.append(cum_row)
        prev_w = wmap
        last_raw = wmap
    for sym, tr in open_trades.items():
        tr["exit_weight"] = last_raw.get(sym, tr["entry_weight"])
        trades.append(tr)
    trades.sort(key=lambda d: (d["entry_index"], d["symbol"].encode("utf-8")))
    return {"contributions": contributions, "cumulative_contributions": cumulative, "trades": trades}


def py_decompose_backtest(weight_schedule: Any, return_schedule: Any) -> dict[str, Any]:
    """Alias of :func:`decompose_backtest`."""
    return decompose_backtest(weight_schedule, return_schedule)


def tear_sheet(backtest_result: Mapping[str, Any], rolling_window: int = 63, periods_per_year: int = 252) -> dict[str, Any]:
    """The reference's tear-sheet dict of a ``backtest_weights`` result.

    Returns ``{"monthly_returns": rows of <= 12 compounded 21-period chunks,
    "rolling_sharpe": rolling_sharpe(returns, rolling_window, periods_per_year),
    "trade_analytics": {"trade_count", "open_trade_count", "closed_trade_count"},
    "drawdown_events": drawdown episodes of the equity curve}``.

    Raises
    ------
    ValueError
        ``backtest_result missing <key>`` for ``returns``, ``equity_curve``,
        ``holdings`` or ``symbol_returns``.
    """
    if not isinstance(backtest_result, Mapping):
        raise TypeError(f"backtest_result must be a dict, got {type(backtest_result).__name__}")
    for key in ("returns", "equity_curve", "holdings", "symbol_returns"):
        if key not in backtest_result:
            raise ValueError(f"backtest_result missing {key}")
    window = _as_uint(rolling_window, "rolling_window")
    ppy = _as_uint(periods_per_year, "periods_per_year")
    rets = [float(x) for x in backtest_result["returns"]]
    chunks: list[float] = []
    for start in range(0, len(rets), 21):
        g = 1.0
        for x in rets[start:start + 21]:
            g *= 1.0 + x
        chunks.append(g - 1.0)
    monthly = [chunks[i:i + 12] for i in range(0, len(chunks), 12)]
    d = decompose_backtest(backtest_result["holdings"], backtest_result["symbol_returns"])
    n_open = sum(1 for tr in d["trades"] if tr["exit_index"] is None)
    eq = [float(x) for x in backtest_result["equity_curve"]]
    return {
        "monthly_returns": monthly,
        "rolling_sharpe": rolling_sharpe(rets, window, ppy),
        "trade_analytics": {
            "trade_count": len(d["trades"]),
            "open_trade_count": n_open,
            "closed_trade_count": len(d["trades"]) - n_open,
        },
        "drawdown_events": _drawdown_events(eq, aliases=False),
    }


def py_tear_sheet(backtest_result: Mapping[str, Any], rolling_window: int = 63, periods_per_year: int = 252) -> dict[str, Any]:
    """Alias of :func:`tear_sheet`."""
    return tear_sheet(backtest_result, rolling_window, periods_per_year)
