"""Check that our float execution conventions reproduce their peers' equity curves.

* ``convention="fractional"`` against cvxportfolio (``MarketSimulator`` with
  ``FixedWeights``, fractional trades, ``TransactionCost(a=...)``, zero cash
  return);
* ``convention="cash_limited"`` against vectorbt (``Portfolio.from_orders``
  with ``size_type="targetpercent"``, ``cash_sharing=True``,
  ``call_seq="auto"``: sells first).

Inputs are the bundled S&P 100 panel (20 stocks x 1849 days), with two
weight schedules: monthly 12-1 momentum (top 5, all-NaN rows = hold between
month ends) and daily random long-only weights summing to 1. Everything
trades at the close of the signal bar (``SignalBarClose``). Prices are the
panel's closes rounded to the cent (our input conversion), so every side sees
the very same numbers.

The product never imports the peers: this script runs *ours* with the current
interpreter and each peer with ``--peer-python`` (default
``$NANOBOOK_PEER_PYTHON`` or ``.venv/peers/bin/python``, a virtualenv with ``pip install vectorbt
cvxportfolio``) in a subprocess; data goes through ``.npz`` files.

Usage::

    python benches/peers/check_conventions.py [--peer-python PATH]
    python benches/peers/check_conventions.py --record tests/data/portfolio/peer_conventions.json

Prints, per case, the maximum relative difference between the two equity
curves (and at the final period); exits 1 if any exceeds ``--tol``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CASH = 1_000_000.0

# (name, weights, convention, peer, commission_bps, slippage_bps)
CASES = [
    ("momentum", "fractional", "cvxportfolio", 10.0, 0.0),
    ("momentum", "fractional", "cvxportfolio", 0.0, 10.0),
    ("random", "fractional", "cvxportfolio", 10.0, 0.0),
    ("random", "fractional", "cvxportfolio", 0.0, 10.0),
    ("momentum", "cash_limited", "vectorbt", 10.0, 5.0),
    ("random", "cash_limited", "vectorbt", 10.0, 5.0),
    ("random", "cash_limited", "vectorbt", 50.0, 20.0),
]


# ----------------------------------------------------------------------------- inputs (ours)

def make_inputs(folder: str) -> dict[str, str]:
    from nanobook.datasets import load_sp100
    from nanobook.portfolio.demo import momentum_weights

    close = load_sp100("close")
    prices = np.round(close.to_numpy() * 100.0) / 100.0  # whole cents, as our conversion sees them
    dates = np.array(close.index.strftime("%Y-%m-%d").tolist(), dtype="U10")
    syms = np.array([str(c) for c in close.columns], dtype="U8")
    out = {}
    mom = momentum_weights(close, top=5).to_numpy()
    rng = np.random.default_rng(1)
    rnd = rng.random(prices.shape)
    rnd /= rnd.sum(axis=1, keepdims=True)
    for name, w in (("momentum", mom), ("random", rnd)):
        path = os.path.join(folder, f"{name}.npz")
        np.savez(path, prices=prices, w=w, dates=dates, syms=syms)
        out[name] = path
    return out


def run_ours(path: str, convention: str, c_bps: float, s_bps: float) -> np.ndarray:
    import pandas as pd

    from nanobook.portfolio import CostModel, backtest_weights

    d = np.load(path)
    idx = pd.to_datetime(d["dates"])
    syms = [str(s) for s in d["syms"]]
    W = pd.DataFrame(d["w"], index=idx, columns=syms)
    P = pd.DataFrame(d["prices"], index=idx, columns=syms)
    r = backtest_weights(W, P, CASH, CostModel(c_bps, s_bps), convention=convention)
    return np.asarray(r["equity_curve"][1:], dtype=np.float64) / 100.0


# ----------------------------------------------------------------------------- peers (peer venv)

def run_cvxportfolio(path: str, c_bps: float, s_bps: float) -> dict:
    """Equity after each period's trades and costs, valued at that period's close.

    cvxportfolio works in dollar holdings: at time t it trades
    ``u = w_t * v_t - h_t`` (``v_t`` the pre-trade value), debits the cost
    model from cash, then grows every position by the period's return
    (close[t+1] / close[t] - 1). So ``sum(h_plus_t) - cost_t`` is the equity
    at the close of t after trading, which is our ``equity_curve[t + 1]``.
    """
    import cvxportfolio as cvx
    import pandas as pd

    d = np.load(path)
    idx = pd.to_datetime(d["dates"])
    syms = [str(s) for s in d["syms"]]
    prices = pd.DataFrame(d["prices"], index=idx, columns=syms)
    rets = (prices.shift(-1) / prices - 1.0).iloc[:-1]  # return realised over period t
    rets["USDOLLAR"] = 0.0  # cash earns nothing (our convention has no interest)
    W = pd.DataFrame(d["w"], index=idx, columns=syms)
    active = ~W.isna().all(axis=1)
    W = W[active].fillna(0.0)  # NaN in an active row = close it; missing dates = hold (FixedWeights)
    W["USDOLLAR"] = 1.0 - W.sum(axis=1)  # recomputed by the simulator anyway
    W = W.loc[W.index < rets.index[-1] + pd.Timedelta(days=1)]
    # Our slippage moves the execution price by s; with commission 0 that is
    # exactly cvxportfolio's linear cost a * |trade value| with a = s.
    a = (c_bps + s_bps) / 10000.0
    sim = cvx.MarketSimulator(
        returns=rets, prices=prices.iloc[:-1], costs=[cvx.TransactionCost(a=a, b=None)],
        round_trades=False, min_history=pd.Timedelta(0), cash_key="USDOLLAR",
    )
    t0 = time.perf_counter()
    res = sim.backtest(cvx.FixedWeights(W), start_time=idx[0], end_time=idx[-1], initial_value=CASH)
    elapsed = time.perf_counter() - t0
    # the last row of h is the final (pre-trade) portfolio, with no trade
    hp = res.h_plus.iloc[:-1]
    cost = res.costs["TransactionCost"].reindex(hp.index)
    eq = hp.sum(axis=1) - cost
    return {"dates": [str(x.date()) for x in eq.index], "equity": eq.to_numpy().tolist(), "seconds": elapsed,
            "version": cvx.__version__}


def run_vectorbt(path: str, c_bps: float, s_bps: float) -> dict:
    import pandas as pd
    import vectorbt as vbt

    d = np.load(path)
    idx = pd.to_datetime(d["dates"])
    syms = [str(s) for s in d["syms"]]
    prices = pd.DataFrame(d["prices"], index=idx, columns=syms)
    W = pd.DataFrame(d["w"], index=idx, columns=syms)
    active = ~W.isna().all(axis=1)
    W[active] = W[active].fillna(0.0)  # NaN in an active row = close it; all-NaN row = no order
    t0 = time.perf_counter()
    pf = vbt.Portfolio.from_orders(
        prices, size=W, size_type="targetpercent", group_by=True, cash_sharing=True, call_seq="auto",
        fees=c_bps / 10000.0, slippage=s_bps / 10000.0, init_cash=CASH, freq="1D",
    )
    eq = pf.value()
    elapsed = time.perf_counter() - t0
    return {"dates": [str(x.date()) for x in eq.index], "equity": eq.to_numpy().tolist(), "seconds": elapsed,
            "version": vbt.__version__}


def spawn_peer(python: str, peer: str, path: str, c_bps: float, s_bps: float) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out_path = path + f".{peer}.{c_bps:g}.{s_bps:g}.json"
    cmd = [python, os.path.abspath(__file__), "--peer", peer, "--path", path, "--out", out_path,
           "--c", str(c_bps), "--s", str(s_bps)]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(path), env=env, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"{peer} failed:\n{p.stderr[-3000:]}")
    with open(out_path) as f:
        return json.load(f)


def record(path: str, python: str) -> None:
    """Record a small case (first 120 sessions, 8 stocks, random weights with
    NaN targets and hold rows) with the peers' equity curves, for the test
    suite (``tests/portfolio/test_conventions.py``), which runs without them."""
    from nanobook.datasets import load_sp100

    close = load_sp100("close").iloc[:120, :8]
    prices = np.round(close.to_numpy() * 100.0) / 100.0
    rng = np.random.default_rng(7)
    w = rng.random(prices.shape)
    w[rng.random(prices.shape) < 0.2] = np.nan  # no target = close the position
    w /= np.nansum(w, axis=1, keepdims=True)
    w *= 1.0 + 0.05 * rng.standard_normal((len(w), 1))  # some rows ask for slightly more than the cash
    w[rng.random(len(w)) < 0.3] = np.nan  # all-NaN rows: hold
    dates = np.array(close.index.strftime("%Y-%m-%d").tolist(), dtype="U10")
    syms = np.array([str(c) for c in close.columns], dtype="U8")
    out = {"source": "first 120 sessions x 8 stocks of the bundled S&P 100 panel; random weights (seed 7)",
           "symbols": syms.tolist(), "dates": dates.tolist(), "prices": prices.tolist(),
           "weights": [[None if np.isnan(x) else float(x) for x in row] for row in w],
           "initial_cash": CASH, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "small.npz")
        np.savez(npz, prices=prices, w=w, dates=dates, syms=syms)
        for peer, conv, c_bps, s_bps in (("cvxportfolio", "fractional", 20.0, 0.0),
                                         ("cvxportfolio", "fractional", 0.0, 10.0),
                                         ("vectorbt", "cash_limited", 20.0, 10.0),
                                         ("vectorbt", "cash_limited", 80.0, 30.0)):
            res = spawn_peer(python, peer, npz, c_bps, s_bps)
            out["runs"].append({"peer": f"{peer} {res['version']}", "convention": conv, "commission_bps": c_bps,
                                "slippage_bps": s_bps, "equity": res["equity"]})
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer-python", default=os.environ.get("NANOBOOK_PEER_PYTHON", ".venv/peers/bin/python"))
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--peer", choices=["cvxportfolio", "vectorbt"])
    ap.add_argument("--path")
    ap.add_argument("--out")
    ap.add_argument("--c", type=float)
    ap.add_argument("--s", type=float)
    ap.add_argument("--record", metavar="JSON", help="write the small recorded case for the tests and exit")
    args = ap.parse_args()
    if not os.path.exists(args.peer_python):
        print(f"peer interpreter {args.peer_python} not found; make it with:\n"
              f"  make peers",
              file=sys.stderr)
        return 2
    if args.record:
        record(args.record, args.peer_python)
        return 0
    if args.peer:
        fn = run_cvxportfolio if args.peer == "cvxportfolio" else run_vectorbt
        with open(args.out, "w") as f:
            json.dump(fn(args.path, args.c, args.s), f)
        return 0

    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_inputs(tmp)
        print(f"S&P 100 panel, SignalBarClose, initial cash {CASH:,.0f}; peers from {args.peer_python}")
        hdr = (f"{'weights':<9} {'convention':<13} {'peer':<22} {'comm':>5} {'slip':>5} {'periods':>7} "
               f"{'max rel diff':>13} {'final rel diff':>14} {'final equity':>14}")
        print(hdr)
        print("-" * len(hdr))
        for name, conv, peer, c_bps, s_bps in CASES:
            ours = run_ours(paths[name], conv, c_bps, s_bps)
            res = spawn_peer(args.peer_python, peer, paths[name], c_bps, s_bps)
            theirs = np.asarray(res["equity"], dtype=np.float64)
            n = len(theirs)  # cvxportfolio trades until the second-to-last date (it needs the next return)
            a = ours[:n]
            rel = np.abs(a - theirs) / np.abs(theirs)
            mx, fin = float(rel.max()), float(rel[-1])
            worst = max(worst, mx)
            print(f"{name:<9} {conv:<13} {peer + ' ' + res['version']:<22} {c_bps:5g} {s_bps:5g} {n:7d} "
                  f"{mx:13.2e} {fin:14.2e} {a[-1]:14.2f}")
            sys.stdout.flush()
    print(f"max relative difference over all cases: {worst:.2e} (tolerance {args.tol:g})")
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
