"""The demo: 12-1 month cross-sectional momentum on the bundled S&P 100 panel.

Every month-end the strategy ranks the stocks by their return from 12 months
(252 sessions) ago to 1 month (21 sessions) ago and holds the top ``top``
names in equal weight, rebalanced at the next session's open with
commission and slippage. Days between rebalances are all-NaN weight rows, so
the simulator simply holds. It prints the metrics table and writes the tear
sheet (PNG + HTML) to ``out_dir``.

Run ``python -m nanobook.portfolio.demo`` (``make demo`` calls :func:`main`).
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Sequence

__all__ = ["main", "momentum_weights", "run_demo"]


def momentum_weights(close: Any, top: int = 5, lookback: int = 252, skip: int = 21) -> Any:
    """Month-end 12-1 momentum targets: equal weight on the ``top`` best scores.

    Returns a DataFrame like ``close`` with weights on month-end rows (the
    top names get ``1/top``, others 0) and NaN elsewhere (= hold).
    """
    import numpy as np
    import pandas as pd

    score = close.shift(skip) / close.shift(lookback) - 1.0
    idx = close.index
    month_end = pd.Series(idx, index=idx).groupby(idx.to_period("M")).max()
    w = pd.DataFrame(np.nan, index=idx, columns=close.columns)
    for day in month_end:
        s = score.loc[day].dropna()
        if len(s) < top:
            continue
        best = s.sort_values(ascending=False, kind="mergesort").index[:top]
        row = pd.Series(0.0, index=close.columns)
        row[best] = 1.0 / top
        w.loc[day] = row
    return w


def run_demo(top: int = 5, commission_bps: float = 5.0, slippage_bps: float = 5.0,
             initial_cash: float = 1_000_000.0) -> Any:
    """Run the momentum backtest on the bundled panel; returns the result."""
    from . import CostModel, FillPolicy, backtest_weights
    from ..datasets import load_sp100

    data = load_sp100()
    weights = momentum_weights(data["close"], top=top)
    # the integer convention trades in whole cents: round the adjusted prices
    # ourselves (otherwise backtest_weights rounds them and says so)
    prices = {k: data[k].round(2) for k in ("open", "high", "low", "close")}
    return backtest_weights(
        weights, prices, initial_cash, CostModel(commission_bps, slippage_bps),
        FillPolicy.NextBarOpen, periods_per_year=252.0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    ap = argparse.ArgumentParser(prog="nanobook demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="out", help="output folder for the tear sheet (default ./out/)")
    ap.add_argument("--top", type=int, default=5, help="number of stocks held (default 5)")
    ap.add_argument("--commission-bps", type=float, default=5.0)
    ap.add_argument("--slippage-bps", type=float, default=5.0)
    args = ap.parse_args(argv)
    if args.top < 1:
        ap.error(f"--top must be at least 1, got {args.top}")
    t0 = time.perf_counter()
    res = run_demo(args.top, args.commission_bps, args.slippage_bps)
    dt = time.perf_counter() - t0
    eq = res.equity
    print("12-1 momentum, top %d of 20 S&P 100 stocks, monthly rebalance at next open" % args.top)
    print(f"costs: {args.commission_bps:g} bps commission + {args.slippage_bps:g} bps slippage; "
          f"{eq.index[0]:%Y-%m-%d} .. {eq.index[-1]:%Y-%m-%d}, {len(eq)} sessions")
    print(f"final equity: ${eq.iloc[-1]:,.2f} (from $1,000,000.00)")
    print()
    print(res.metrics.table() if res.metrics is not None else "no returns")
    paths = res.save_report(args.out, "momentum_tear_sheet", title="12-1 momentum on the S&P 100 panel",
                            cost_bps=args.commission_bps + args.slippage_bps)
    print()
    print(f"tear sheet: {paths['png']}  {paths['html']}   (backtest and report in {dt:.2f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
