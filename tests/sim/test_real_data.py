"""Real data: the adapters rebuild the venues' books, and a simple market
maker runs on LOBSTER (MSFT, order level) and Binance (BTCUSDT diff depth)
with sane results."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import nanobook.sim as S
from nanobook.feeds import ItchBook, read_itch, read_lobster, replay_binance, synthetic_order_flow

DATA = Path(__file__).resolve().parents[1] / "data" / "feeds"
LOB = DATA / "lobster"
MSG = LOB / "MSFT_2012-06-21_34200000_37800000_message_50.csv"
BOOK = LOB / "MSFT_2012-06-21_34200000_37800000_orderbook_50.csv.gz"
BTC = DATA / "crypto" / "spot_btcusdt_20240808.head12000.gz"
ITCH = DATA / "itch" / "ex20101224.TEST_ITCH_50.gz"


@pytest.fixture(scope="module")
def lobster():
    return read_lobster(MSG, BOOK)


@pytest.fixture(scope="module")
def btc():
    return S.from_binance(BTC, price_decimals=2, qty_decimals=6)


def bbo_at(res, ts):
    i = np.searchsorted(res.bbo["ts"], ts, side="right") - 1
    return res.bbo["bid"][i], res.bbo["ask"][i]


def check_sane(res, max_pos, md):
    f, o = res.fills, res.orders
    assert (np.abs(f["position"]) <= max_pos).all()
    arrive = o["arrive_ts"][f["order_id"] - 1]
    assert (f["exch_ts"] >= arrive).all() and (arrive >= o["submit_ts"][f["order_id"] - 1]).all()
    assert (f["local_ts"] >= f["exch_ts"]).all()
    lo, hi = md["price"].min(), md["price"].max()
    assert ((f["price"] >= lo) & (f["price"] <= hi)).all()
    r = res.records
    assert np.allclose(r["equity"], r["cash"] + r["position"] * r["mid"] * res.multiplier)
    assert math.isfinite(res.pnl)
    # a passive buy never fills above the exchange ask of that moment, a sell never below the bid
    b, a = bbo_at(res, f["exch_ts"] - 1)
    buys = f["side"] == 0
    assert (f["price"][buys] <= np.where(a[buys] > 0, a[buys], 1 << 62)).all()
    assert (f["price"][~buys] >= b[~buys]).all()


@pytest.mark.parametrize("mode", ["l3", "l2"])
def test_lobster_stream_rebuilds_the_lobster_book(lobster, mode):
    msgs, book = lobster
    md = S.from_lobster(msgs, book, mode=mode)
    res = S.Sim(md, record_interval=0).run(S.Strategy())
    ts = np.round(msgs["time"] * 1e9).astype(np.int64)
    last = np.r_[ts[1:] != ts[:-1], True]            # last message of each timestamp
    b, a = bbo_at(res, ts[last])
    assert (b == book[last][:, 0, 2]).all() and (a == book[last][:, 0, 0]).all()


@pytest.mark.parametrize("mode, qm", [("l3", "risk_averse"), ("l2", "risk_averse"), ("l2", "power")])
def test_market_maker_on_lobster(lobster, mode, qm):
    msgs, book = lobster
    md = S.from_lobster(msgs, book, mode=mode)
    sim = S.Sim(md, entry_latency=S.LogNormalLatency(200_000, 0.5, seed=1), response_latency=200_000,
                maker_fee_bps=-0.2, taker_fee_bps=0.3, multiplier=1e-4, max_position=300,
                queue_model=qm, record_interval=100_000_000)
    res = sim.run(S.MarketMaker(0, 100, 300, skew=0.5, tick=100))
    check_sane(res, 300, md)
    assert res.summary()["n_orders"] > 5
    assert (res.fills["maker"] == 1).all()
    again = sim.run(S.MarketMaker(0, 100, 300, skew=0.5, tick=100))
    assert again.fills.tobytes() == res.fills.tobytes()


def test_lobster_l3_queue_is_no_worse_informed_than_risk_averse_l2(lobster):
    """A static bid at the touch: the exact L3 queue can only be ahead of (or
    equal to) the risk-averse L2 estimate, which ignores cancels ahead."""
    msgs, book = lobster
    bid = int(book[0, 0, 2])

    class Static(S.Strategy):
        def on_start(self, sim):
            sim.buy(bid, 100)
            sim.sell(int(book[0, 0, 0]), 100)

    fills = {}
    for mode in ("l3", "l2"):
        res = S.Sim(S.from_lobster(msgs, book, mode=mode), entry_latency=1, record_interval=0).run(Static())
        fills[mode] = res.fills
    for t in np.unique(np.r_[fills["l3"]["exch_ts"], fills["l2"]["exch_ts"]]):
        for side in (0, 1):
            c3 = fills["l3"]["qty"][(fills["l3"]["exch_ts"] <= t) & (fills["l3"]["side"] == side)].sum()
            c2 = fills["l2"]["qty"][(fills["l2"]["exch_ts"] <= t) & (fills["l2"]["side"] == side)].sum()
            assert c3 >= c2


def test_binance_stream_rebuilds_the_book(btc):
    rep = replay_binance(BTC, price_decimals=2, qty_decimals=6)
    res = S.Sim(btc, record_interval=0).run(S.Strategy())
    assert (res.bbo["bid"][-1], res.bbo["ask"][-1]) == (rep.depth["bid_px"][-1], rep.depth["ask_px"][-1])
    import gzip
    with gzip.open(BTC, "rt") as fh:
        snap_ts = next(int(ln.split(" ", 1)[0]) for ln in fh if "lastUpdateId" in ln)
    after = int((rep.trades["local_ts"] > snap_ts).sum())
    assert 0 < after < len(rep.trades)
    assert (btc["kind"] == S.TRADE).sum() == 2 * after        # exchange copy + local copy


def test_market_maker_on_binance(btc):
    sim = S.Sim(btc, entry_latency=S.LogNormalLatency(5_000_000, 0.3, seed=7),
                response_latency=S.LogNormalLatency(5_000_000, 0.3, seed=8),
                maker_fee_bps=-0.5, taker_fee_bps=2.0, multiplier=1e-8, max_position=100_000,
                queue_model=S.PowerProb(2), record_interval=1_000_000_000)
    res = sim.run(S.MarketMaker(2, 10_000, 50_000, skew=0.0001))
    check_sane(res, 100_000, btc)
    s = res.summary()
    assert s["n_fills"] > 10 and s["maker_share"] == 1.0
    assert s["fees"] < 0                                  # maker rebates only
    assert 0 < s["fill_ratio"] < 1
    assert s["decisions"] < len(btc)
    for h in ("1ms", "100ms", "1s"):
        assert math.isfinite(s[f"markout_{h}"])


@pytest.mark.parametrize("mode", ["l3", "l2"])
def test_itch_stream_rebuilds_the_itch_book(mode):
    msgs = read_itch(ITCH, lenient=True)
    ib = ItchBook(lenient=True, record_trades=False).replay(ITCH)
    for sym in msgs.symbols().values():
        md = S.from_itch(msgs, sym, mode=mode)
        res = S.Sim(md, record_interval=0).run(S.Strategy())
        b, _, a, _ = ib.bbo(sym)
        assert (res.bbo["bid"][-1], res.bbo["ask"][-1]) == (b, a)


def test_synthetic_l3_and_l2_streams_agree_on_the_book():
    ev = synthetic_order_flow(5000, seed=5)
    r3 = S.Sim(S.from_synthetic(ev, mode="l3"), record_interval=0).run(S.Strategy())
    r2 = S.Sim(S.from_synthetic(ev, mode="l2"), record_interval=0).run(S.Strategy())
    m3 = np.where((r3.bbo["bid"] > 0) & (r3.bbo["ask"] > 0), 0.5 * (r3.bbo["bid"] + r3.bbo["ask"]), np.nan)
    assert np.array_equal(r3.bbo, r2.bbo)
    # the generator's own mid after each event
    t = np.round(ev["time"] * 1e9).astype(np.int64)
    i = np.searchsorted(r3.bbo["ts"], t, side="right") - 1
    ok = np.isfinite(ev["mid"]) & np.r_[t[1:] != t[:-1], True]
    assert np.array_equal(m3[i][ok], ev["mid"][ok])


def test_binance_lot_venue_books_whole_lots_only(btc):
    """The issue's case: quantities in 1e-6 BTC on a 0.001 BTC lot venue.  Without the
    lot rule some queue fills are fractions of a lot; with it every fill is whole lots."""
    kw = dict(entry_latency=2_000_000, response_latency=2_000_000, multiplier=1e-8,
              queue_model=S.PowerProb(2), record_interval=0)
    mm = lambda: S.MarketMaker(2, 1000, 20_000, skew=0.0001)     # noqa: E731
    free = S.Sim(btc, **kw).run(mm())
    assert (free.fills["qty"] % 1000 != 0).any()
    lots = S.Sim(btc, lot_size=1000, **kw).run(mm())
    assert len(lots.fills) > 10 and (lots.fills["qty"] % 1000 == 0).all()
    assert lots.position % 1000 == 0


def test_kill_switch_on_real_data_fires_once_and_flattens(btc):
    res = S.Sim(btc, entry_latency=2_000_000, response_latency=2_000_000, multiplier=1e-8,
                record_interval=0, initial_capital=100.0,
                kill_switch={"max_drawdown_pct": 0.0001}).run(S.MarketMaker(2, 10_000, 100_000, skew=0.0001))
    k = res.kill
    assert k is not None and k["rule"] == "drawdown"
    assert k["high_water_mark"] - k["equity"] > 0.0001 * k["high_water_mark"]
    assert int(btc["exch_ts"].min()) <= k["exch_ts"] <= int(btc["exch_ts"].max())
    after = res.orders[res.orders["submit_ts"] > k["exch_ts"]]
    assert len(after) == 0                                 # nothing sent after the kill's own orders
    flat = res.orders[(res.orders["flags"] & 16) != 0]
    assert len(flat) == 1 and flat["submit_ts"][0] == k["exch_ts"]
    live = res.orders[(res.orders["status"] <= 1) & (res.orders["flags"] & 1 == 0)]
    assert len(live) == 0                                  # every quote cancelled or done
