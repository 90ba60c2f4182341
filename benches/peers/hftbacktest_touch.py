"""The yardstick side of benches/bench_sim.py: hftbacktest 2.4.4 running the
touch-quoting strategy of the issue on the Binance USD-M BTCUSDT capture.

Runs ONLY in the hftbacktest virtualenv (``make .venv/hftbacktest/.installed``);
nothing of it is imported by nanobook.  Settings (the issue's): constant
2 ms entry and response latency, one-lot (0.001 BTC) post-only (GTX) quotes
at the best bid and ask re-checked every 100 ms (an order away from the
touch is cancelled and a new one sent), maker 2 bps / taker 5 bps of traded
value, risk-averse queue model, no-partial-fill exchange, tick 0.1, lot 0.001.

    python hftbacktest_touch.py --raw FILE.gz --work DIR [--repeat 3] [--record OUT.json]
        [--queue risk_averse|power2]

Prints one JSON object: the numba compile time (apart), the best set-up
time (np.load of the converted data + building the backtester) and run
time, and, with ``--record``, writes every fill (the order's exchange time of
the fill, side, price, quantity), the final position, balance and fee.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from numba import njit

from hftbacktest import BUY, FILLED, GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest

TICK, LOT = 0.1, 0.001
CANCELED_REQ = 4          # Order.req while a cancel is in flight


@njit
def touch(hbt, out):
    """One quote per side at the touch every 100 ms; fills copied into ``out``."""
    n = 0
    next_id = 1
    bid_id = 0
    ask_id = 0
    while hbt.elapse(100_000_000) == 0:
        orders = hbt.orders(0)
        values = orders.values()
        while values.has_next():
            o = values.get()
            if o.status == FILLED and n < out.shape[0]:
                out[n, 0] = o.exch_timestamp
                out[n, 1] = 0 if o.side == BUY else 1
                out[n, 2] = o.exec_price_tick
                out[n, 3] = round(o.exec_qty / LOT)
                out[n, 4] = o.order_id
                out[n, 5] = o.local_timestamp
                n += 1
        hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        b = depth.best_bid_tick
        a = depth.best_ask_tick
        if b <= 0 or a <= 0 or a >= 2**62 or b <= -2**62:
            continue
        orders = hbt.orders(0)
        for side in range(2):
            oid = bid_id if side == 0 else ask_id
            target = b if side == 0 else a
            if oid != 0:
                if orders.__contains__(oid):
                    o = orders.get(oid)
                    if o.req == CANCELED_REQ or o.price_tick == target:
                        continue
                    hbt.cancel(0, oid, False)
                oid = 0
            oid = next_id
            next_id += 1
            if side == 0:
                hbt.submit_buy_order(0, oid, target * TICK, LOT, GTX, LIMIT, False)
                bid_id = oid
            else:
                hbt.submit_sell_order(0, oid, target * TICK, LOT, GTX, LIMIT, False)
                ask_id = oid
    return n


def build(data, queue="risk_averse"):
    asset = BacktestAsset().data([data]).linear_asset(1.0).constant_latency(2_000_000, 2_000_000)
    asset = asset.risk_adverse_queue_model() if queue == "risk_averse" else asset.power_prob_queue_model(2.0)
    asset = asset.no_partial_fill_exchange().trading_value_fee_model(0.0002, 0.0005).tick_size(TICK).lot_size(LOT)
    return HashMapMarketDepthBacktest([asset])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--record")
    ap.add_argument("--queue", choices=("risk_averse", "power2"), default="risk_averse",
                    help="risk-averse (the issue's) or power-probability queue, n = 2")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    npz = work / "usdm_btcusdt_20240808.npz"
    if not npz.exists():
        from hftbacktest.data.utils import binancefutures
        binancefutures.convert(a.raw, output_filename=str(npz), combined_stream=True)
    data = np.load(npz)["data"]
    # numba compile time, apart: the first call on a small slice compiles
    t0 = time.perf_counter()
    hbt = build(data[:20_000])
    touch(hbt, np.zeros((10_000, 6), np.int64))
    hbt.close()
    compile_s = time.perf_counter() - t0
    best_setup = best_run = float("inf")
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        data = np.load(npz)["data"]
        hbt = build(data, a.queue)
        t1 = time.perf_counter()
        out = np.zeros((100_000, 6), np.int64)
        n = touch(hbt, out)
        t2 = time.perf_counter()
        sv = hbt.state_values(0)
        position, balance, fee = sv.position, sv.balance, sv.fee
        hbt.close()
        best_setup, best_run = min(best_setup, t1 - t0), min(best_run, t2 - t1)
    res = {"queue": a.queue, "compile_s": compile_s, "setup_s": best_setup, "run_s": best_run, "rows": int(len(data)),
           "fills": int(n), "position": position, "balance": balance, "fee": fee}
    print(json.dumps(res))
    if a.record:
        f = out[:n]
        rec = {"source": "hftbacktest 2.4.4, benches/peers/hftbacktest_touch.py", **res,
               "fills_exch_ts": f[:, 0].tolist(), "fills_side": f[:, 1].tolist(),
               "fills_price_tick": f[:, 2].tolist(), "fills_lots": f[:, 3].tolist(),
               "fills_order_id": f[:, 4].tolist(), "fills_local_ts": f[:, 5].tolist()}
        Path(a.record).write_text(json.dumps(rec))


if __name__ == "__main__":
    main()
