"""Market-making simulator benchmark: market events per second.

The reference package nanobook 0.19.2 has no market-making simulator (no
latency, queue or fee model over market data), so there is nothing of it to
time; the comparison is against a plain-Python event loop doing the least
the simulator does per event (two dict books — exchange and local —, BBO
tracking, the queue position of one resting order, a callback on each BBO
change), run on the same rows.

Data: the Binance BTCUSDT capture of tests/data/feeds/crypto (12,000 lines:
diff depth + trades: 37,868 market events, 75,736 stream rows once split
by order_events into exchange and local copies)
tiled ``--copies`` times with shifted clocks, and the LOBSTER MSFT sample
(order level, 1,099 rows) tiled ``--lobster-copies`` times with shifted
clocks and order ranks.  Strategies:

* ``replay``: a Strategy with no hooks (the loop never returns to Python);
* ``on_book no-op``: a trivial callback at every local BBO change;
* ``timer quote``: every 100 ms cancel and re-send one post-only bid;
* ``MarketMaker``: the bundled inventory-skewed quoting strategy.

Best of ``--repeat`` runs; figures and ratios are printed, nothing is asserted.

**Against hftbacktest 2.4.4** (the first section; skipped when its
virtualenv is missing: ``make .venv/hftbacktest/.installed``): the issue's
stream (Binance USD-M BTCUSDT 2024-08-08, ``tests/data/sim/``) and settings
(2 ms constant entry/response latency, one-lot post-only quotes at the touch
re-checked every 100 ms, maker 2 / taker 5 bps, risk-averse queue).  Ours:
the Python :class:`~nanobook.sim.TouchQuoter`; theirs: the same logic as a
numba function (``benches/peers/hftbacktest_touch.py``, run in its own
virtualenv, numba compile time measured apart).  Set-up = loading the
already-converted stream (our ``.npy``, their ``.npz``; parsing the raw
capture is excluded on both sides) and building the simulator.  Rows/s use
one denominator for both, our 933,676 stream rows, so the ratio is the ratio
of times; the fills are checked equal.

    python benches/bench_sim.py [--copies 30] [--lobster-copies 1000] [--repeat 3]
        [--hftbacktest-python .venv/hftbacktest/bin/python] [--only-hftbacktest]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

import nanobook.sim as S  # noqa: E402
from nanobook.feeds import read_lobster  # noqa: E402

DATA = ROOT / "tests" / "data" / "feeds"


def tile(md: np.ndarray, copies: int) -> np.ndarray:
    span = int(max(md["exch_ts"].max(), md["local_ts"].max()) - md["exch_ts"].min()) + 10**9
    out = np.concatenate([md] * copies)
    off = np.repeat(np.arange(copies, dtype=np.int64) * span, len(md))
    out["exch_ts"] += off
    out["local_ts"] += off
    nrank = int(md["rank"].max()) + 1
    if nrank > 0:
        r = out["rank"]
        shift = np.repeat(np.arange(copies, dtype=np.int64) * nrank, len(md))
        out["rank"] = np.where(r >= 0, r + shift, r)
    return out


class NoopBook(S.Strategy):
    def on_book(self, sim):
        pass


class TimerQuote(S.Strategy):
    timer_interval = 100_000_000

    def __init__(self):
        self.oid = None

    def on_timer(self, sim):
        if self.oid is not None:
            sim.cancel(self.oid)
        b = sim.best_bid
        self.oid = sim.buy(b, 1, post_only=True) if b else None


def python_baseline(md: np.ndarray) -> float:
    """Plain-Python loop over the same rows; returns seconds.

    Dict books with the best price kept incrementally (a full scan only when
    the best level empties), L2 and L3 row kinds, one resting bid whose
    queue position moves with trades and level decreases, one no-op
    callback per BBO change."""
    kind = md["kind"].tolist()
    side = md["side"].tolist()
    price = md["price"].tolist()
    qty = md["qty"].tolist()
    flags = md["flags"].tolist()
    calls = [0]

    def on_book(bid, ask):
        calls[0] += 1

    def update(book, best, s, k, p, q):
        lv = book[s]
        old = lv.get(p, 0)
        new = q if k == 1 else (old + q if k == 3 else max(old - q, 0))
        if new:
            lv[p] = new
            if best[s] == 0 or (p > best[s] if s == 0 else p < best[s]):
                best[s] = p
        elif old:
            del lv[p]
            if p == best[s]:
                best[s] = (max(lv) if s == 0 else min(lv)) if lv else 0
        return old, new

    t0 = time.perf_counter()
    xb, lb = ({}, {}), ({}, {})
    xbest, lbest = [0, 0], [0, 0]
    last = (0, 0)
    order_px, ahead = None, 0
    for k, s, p, q, f in zip(kind, side, price, qty, flags):
        if f & 1:                                # exchange book + our queue
            if k == 2:
                if s == 1 and p == order_px:
                    ahead = max(0, ahead - q)
            else:
                old, new = update(xb, xbest, s, k, p, q)
                if s == 0 and p == order_px:
                    ahead = min(ahead, new)
                if order_px is None and xbest[0]:
                    order_px = xbest[0]
                    ahead = xb[0][order_px]
        if f & 2 and k != 2:                     # local book + decision
            update(lb, lbest, s, k, p, q)
            bbo = (lbest[0], lbest[1])
            if bbo != last:
                last = bbo
                on_book(*bbo)
    return time.perf_counter() - t0


def best(fn, repeat: int) -> float:
    out = float("inf")
    for _ in range(repeat):
        out = min(out, fn())
    return out


def vs_hftbacktest(hbt_python: str, repeat: int) -> None:
    """Side by side with hftbacktest on the issue's stream (see the module docstring)."""
    raw = ROOT / "tests" / "data" / "sim" / "usdm_btcusdt_20240808.gz"
    work = ROOT / ".venv" / "hbtwork"
    work.mkdir(parents=True, exist_ok=True)
    npy = work / "usdm_btcusdt_20240808.nanobook.npy"
    if not npy.exists():
        np.save(npy, S.from_binance(raw, price_decimals=1, qty_decimals=3, market="futures",
                                    convention="hftbacktest"))
    print("\nvs hftbacktest 2.4.4: Binance USD-M BTCUSDT 2024-08-08, touch quotes every 100 ms, "
          f"best of {repeat}")
    p = subprocess.run([hbt_python, str(ROOT / "benches" / "peers" / "hftbacktest_touch.py"), "--raw", str(raw),
                        "--work", str(work), "--repeat", str(repeat)], capture_output=True, text=True)
    if p.returncode != 0:
        print("  hftbacktest run failed:", p.stderr.strip().splitlines()[-1:])
        return
    theirs = json.loads(p.stdout.strip().splitlines()[-1])
    best_setup = best_run = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        md = np.load(npy)
        sim = S.Sim(md, entry_latency=2_000_000, response_latency=2_000_000, maker_fee_bps=2.0,
                    taker_fee_bps=5.0, multiplier=1e-4, queue_model=S.RiskAverse(), record_interval=0)
        t1 = time.perf_counter()
        res = sim.run(S.TouchQuoter(1, timer_interval=100_000_000))
        t2 = time.perf_counter()
        best_setup, best_run = min(best_setup, t1 - t0), min(best_run, t2 - t1)
    n = len(md)
    rows = [("run only", best_run, theirs["run_s"]),
            ("set-up + run", best_setup + best_run, theirs["setup_s"] + theirs["run_s"])]
    print(f"  stream: {n:,} rows (hftbacktest's converted array: {theirs['rows']:,} rows); fills: ours "
          f"{len(res.fills)}, hftbacktest {theirs['fills']} ({'equal count' if len(res.fills) == theirs['fills'] else 'DIFFERENT'})")
    print(f"  {'':14s} {'nanobook.sim (Python strategy)':>32s} {'hftbacktest (numba strategy)':>32s} {'ratio':>7s}")
    for name, ours_s, hbt_s in rows:
        print(f"  {name:14s} {n / ours_s / 1e6:16.2f} M rows/s ({ours_s * 1e3:6.1f} ms) "
              f"{n / hbt_s / 1e6:16.2f} M rows/s ({hbt_s * 1e3:6.1f} ms) {hbt_s / ours_s:6.2f}x")
    print(f"  set-up alone: ours {best_setup * 1e3:.1f} ms, hftbacktest {theirs['setup_s'] * 1e3:.1f} ms; "
          f"hftbacktest's numba compile time (excluded above): {theirs['compile_s']:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=30)
    ap.add_argument("--lobster-copies", type=int, default=1000)
    ap.add_argument("--baseline-rows", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hftbacktest-python",
                    default=os.environ.get("NANOBOOK_HBT_PYTHON", str(ROOT / ".venv" / "hftbacktest" / "bin" / "python")))
    ap.add_argument("--only-hftbacktest", action="store_true")
    a = ap.parse_args()
    if Path(a.hftbacktest_python).exists():
        vs_hftbacktest(a.hftbacktest_python, a.repeat)
    else:
        print(f"hftbacktest comparison skipped: no {a.hftbacktest_python} (make .venv/hftbacktest/.installed)")
    if a.only_hftbacktest:
        return

    btc = S.from_binance(DATA / "crypto" / "spot_btcusdt_20240808.head12000.gz",
                         price_decimals=2, qty_decimals=6)
    msgs, book = read_lobster(DATA / "lobster" / "MSFT_2012-06-21_34200000_37800000_message_50.csv",
                              DATA / "lobster" / "MSFT_2012-06-21_34200000_37800000_orderbook_50.csv.gz")
    datasets = [
        ("Binance BTCUSDT L2", tile(btc, a.copies), 1e-8, 2),
        ("LOBSTER MSFT L3", tile(S.from_lobster(msgs, book), a.lobster_copies), 1e-4, 100),
    ]
    print(f"nanobook.sim benchmark (best of {a.repeat}); reference nanobook 0.19.2 has no simulator")
    for name, md, mult, tick in datasets:
        # a market event is one exchange-side row; a stream split by order_events
        # holds a second (local) copy of it, processed too but not counted
        n = int(((md["flags"] & S.EXCH) != 0).sum())
        print(f"\n{name}: {n:,} market events ({len(md):,} stream rows)")
        base_md = md[: a.baseline_rows]
        tb = best(lambda: python_baseline(base_md), a.repeat)
        py_rate = int(((base_md["flags"] & S.EXCH) != 0).sum()) / tb
        print(f"  {'plain-Python loop (baseline)':34s} {py_rate / 1e6:8.2f} M events/s  "
              f"(first {len(base_md):,} rows)")
        strategies = [
            ("replay (no hooks)", S.Strategy),
            ("on_book no-op", NoopBook),
            ("timer quote (100 ms)", TimerQuote),
            ("MarketMaker", lambda: S.MarketMaker(tick, 1, 10, skew=0.0, tick=tick)),
        ]
        for sname, make in strategies:
            sim = S.Sim(md, entry_latency=S.LogNormalLatency(2_000_000, 0.5, seed=1),
                        response_latency=2_000_000, multiplier=mult, queue_model="power",
                        record_interval=1_000_000_000)
            info = {}

            def go():
                t0 = time.perf_counter()
                r = sim.run(make())
                dt = time.perf_counter() - t0
                info["decisions"], info["fills"] = r.decisions, len(r.fills)
                return dt

            dt = best(go, a.repeat)
            rate = n / dt
            print(f"  {sname:34s} {rate / 1e6:8.2f} M events/s  x{rate / py_rate:6.1f} vs Python  "
                  f"({info['decisions']:,} strategy calls, {info['fills']:,} fills)")


if __name__ == "__main__":
    main()
