"""Done-when of issue 14: on the issue's stream and settings the simulator's
fills equal hftbacktest 2.4.4's, fill for fill (recorded once, see
tests/data/sim/PROVENANCE.md), with the same final position, cash and fees."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import nanobook.sim as S

DATA = Path(__file__).resolve().parents[1] / "data" / "sim"


@pytest.fixture(scope="module")
def md():
    return S.from_binance(DATA / "usdm_btcusdt_20240808.gz", price_decimals=1, qty_decimals=3, market="futures",
                          convention="hftbacktest")


@pytest.fixture(scope="module")
def runs(md):
    rec = json.loads((DATA / "hftbacktest_touch_fills.json").read_text())
    sim = S.Sim(md, entry_latency=2_000_000, response_latency=2_000_000, maker_fee_bps=2.0, taker_fee_bps=5.0,
                multiplier=1e-4, queue_model=S.RiskAverse(), tick_size=1, lot_size=1, record_interval=0)
    return rec, md, sim.run(S.TouchQuoter(1, timer_interval=100_000_000))


def test_the_stream_is_the_issues(runs):
    _, md, _ = runs
    assert len(md) == 933_676       # 466,838 events, each an exchange and a local row


def test_fills_equal_hftbacktest_fill_for_fill(runs):
    rec, _, res = runs
    f = res.fills
    ours = sorted(zip(f["exch_ts"].tolist(), f["side"].tolist(), f["price"].tolist(), f["qty"].tolist()))
    # hftbacktest lists a wake's fills in hash-map order: compare as sorted lists
    theirs = sorted(zip(rec["fills_exch_ts"], rec["fills_side"], rec["fills_price_tick"], rec["fills_lots"]))
    assert len(ours) == rec["fills"] == 529
    assert ours == theirs
    assert (f["maker"] == 1).all()


def test_final_account_equals_hftbacktest(runs):
    rec, _, res = runs
    assert res.position * 1e-3 == pytest.approx(rec["position"], abs=1e-9)
    assert res.fees == pytest.approx(rec["fee"], abs=1e-6)
    # hftbacktest's balance leaves the fees out; our cash includes them
    assert res.cash + res.fees == pytest.approx(rec["balance"], abs=1e-6)


def test_power_probability_queue_differs_only_in_one_fill_time(md):
    """With PowerProb(2) against hftbacktest's power_prob_queue_model(2.0): the same 565 fills
    (side, price, quantity), the same final position, cash and fees; one fill comes one
    millisecond later here, because this model keeps the estimated queue in whole quantity
    units (each cancel estimate rounded) where hftbacktest keeps a float and rounds only the
    fill (docs/sim.md, section 13).  A change of either model shows here."""
    rec = json.loads((DATA / "hftbacktest_touch_power2_fills.json").read_text())
    res = S.Sim(md, entry_latency=2_000_000, response_latency=2_000_000, maker_fee_bps=2.0, taker_fee_bps=5.0,
                multiplier=1e-4, queue_model=S.PowerProb(2.0), record_interval=0).run(
        S.TouchQuoter(1, timer_interval=100_000_000))
    f = res.fills
    ours = sorted(zip(f["exch_ts"].tolist(), f["side"].tolist(), f["price"].tolist(), f["qty"].tolist()))
    theirs = sorted(zip(rec["fills_exch_ts"], rec["fills_side"], rec["fills_price_tick"], rec["fills_lots"]))
    assert len(ours) == len(theirs) == 565
    assert sorted(x[1:] for x in ours) == sorted(x[1:] for x in theirs)
    diff = [(a, b) for a, b in zip(ours, theirs) if a != b]
    assert len(diff) == 1 and diff[0][0][0] - diff[0][1][0] == 1_000_000
    assert res.position * 1e-3 == pytest.approx(rec["position"], abs=1e-9)
    assert res.fees == pytest.approx(rec["fee"], abs=1e-6)
    assert res.cash + res.fees == pytest.approx(rec["balance"], abs=1e-6)
