"""LOB features: formulas checked by explicit loops on real books (RITCH replay)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanobook.feeds.features import (book_depth, book_imbalance, feature_tensor, microprice, mid_price,
                                     order_flow_imbalance, realized_volatility, rolling_sum, spread,
                                     tick_rule, trade_sign_imbalance, vpin)
from nanobook.feeds.itch_book import ItchBook


@pytest.fixture(scope="module")
def snaps(ritch_fixed):
    s = ItchBook(depth=5, record_snapshots=True).replay(ritch_fixed).snapshots
    return s[s["stock_locate"] == 2]  # BOB


def test_top_of_book_features(snaps):
    bp, bq, ap, aq = snaps["bid_px"], snaps["bid_qty"], snaps["ask_px"], snaps["ask_qty"]
    mid, spr, mp = mid_price(bp, ap), spread(bp, ap), microprice(bp, bq, ap, aq)
    for i in range(0, len(snaps), 97):
        b, a, qb, qa = float(bp[i, 0]), float(ap[i, 0]), float(bq[i, 0]), float(aq[i, 0])
        if b > 0 and a > 0:
            assert mid[i] == (a + b) / 2 and spr[i] == a - b
            assert mp[i] == pytest.approx((a * qb + b * qa) / (qb + qa))
        else:
            assert math.isnan(mid[i]) and math.isnan(mp[i])
    assert np.nanmax(spread(bp, ap, relative=True)) < 1


def test_imbalance_and_depth(snaps):
    bq, aq = snaps["bid_qty"], snaps["ask_qty"]
    imb = book_imbalance(bq, aq, levels=3, weights=[1.0, 0.5, 0.25])
    db, da = book_depth(bq, aq, levels=5)
    for i in range(0, len(snaps), 101):
        sb = bq[i, 0] + 0.5 * bq[i, 1] + 0.25 * bq[i, 2]
        sa = aq[i, 0] + 0.5 * aq[i, 1] + 0.25 * aq[i, 2]
        if sb + sa:
            assert imb[i] == pytest.approx((sb - sa) / (sb + sa))
        assert db[i] == bq[i].sum() and da[i] == aq[i].sum()
    assert np.nanmin(imb) >= -1 and np.nanmax(imb) <= 1
    with pytest.raises(ValueError, match="levels must be an int in \\[1, 5\\], got 6"):
        book_imbalance(bq, aq, levels=6)
    with pytest.raises(ValueError, match="weights must have length levels=2"):
        book_imbalance(bq, aq, levels=2, weights=[1.0])


def test_ofi_matches_loop(snaps):
    bp, bq, ap, aq = snaps["bid_px"], snaps["bid_qty"], snaps["ask_px"], snaps["ask_qty"]
    e = order_flow_imbalance(bp, bq, ap, aq, levels=2)
    assert e.shape == (len(snaps), 2) and np.isnan(e[0]).all()
    for n in range(1, len(snaps), 53):
        for m in range(2):
            want = ((bp[n, m] >= bp[n - 1, m]) * bq[n, m] - (bp[n, m] <= bp[n - 1, m]) * bq[n - 1, m]
                    - (ap[n, m] <= ap[n - 1, m]) * aq[n, m] + (ap[n, m] >= ap[n - 1, m]) * aq[n - 1, m])
            assert e[n, m] == want
    w = order_flow_imbalance(bp, bq, ap, aq, window=10)
    e1 = order_flow_imbalance(bp, bq, ap, aq)
    assert np.isnan(w[:10]).all()
    assert w[50] == pytest.approx(e1[41:51].sum())


def test_ofi_textbook_cases():
    # bid queue grows by 5 at the same price: +5; ask price improves with 3 shares: -3
    bp, bq = np.array([100, 100]), np.array([10, 15])
    ap, aq = np.array([102, 102]), np.array([7, 7])
    assert order_flow_imbalance(bp, bq, ap, aq)[1] == 5
    assert order_flow_imbalance(bp, bq, np.array([102, 101]), np.array([7, 3]))[1] == 5 - 3


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60), st.integers(1, 10))
def test_rolling_sum_property(xs, w):
    got = rolling_sum(np.array(xs), w)
    for i in range(len(xs)):
        if i + 1 < w:
            assert math.isnan(got[i])
        else:
            assert got[i] == pytest.approx(sum(xs[i + 1 - w : i + 1]), rel=1e-9, abs=1e-3)


def test_tick_rule_and_sign_imbalance():
    p = np.array([10, 10, 11, 11, 10, 10, 12])
    s = tick_rule(p)
    assert s.tolist() == [0, 0, 1, 1, -1, -1, 1]
    assert trade_sign_imbalance(s, 2).tolist()[1:] == [0.0, 0.5, 1.0, 0.0, -1.0, 0.0]


def test_vpin_tick_classification_by_hand():
    # 4 trades of 5 shares: up, up, down, down -> buckets of 10: [10 buy], [10 sell]
    p = np.array([10.0, 11.0, 12.0, 11.0, 10.0])
    v = np.array([0.0, 5.0, 5.0, 5.0, 5.0])
    out = vpin(p, v, bucket_volume=10, n_buckets=2, classification="tick")
    assert len(out) == 2 and math.isnan(out[0]) and out[1] == pytest.approx(1.0)
    # a trade split across buckets: 15 buy shares then 5 sell -> buckets [10 buy], [5 buy 5 sell]
    out = vpin(np.array([1.0, 2.0, 1.0]), np.array([0.0, 15.0, 5.0]), bucket_volume=10, n_buckets=1,
               classification="tick")
    assert out.tolist() == [1.0, 0.0]


def test_vpin_bulk_on_real_trades(ritch_fixed):
    tr = ItchBook().replay(ritch_fixed).trades
    tr = tr[tr["stock_locate"] == 2]
    out = vpin(tr["price"], tr["shares"], bucket_volume=5000, n_buckets=10)
    assert len(out) == int(tr["shares"].sum() // 5000)
    ok = out[~np.isnan(out)]
    assert len(ok) and (ok >= 0).all() and (ok <= 1).all()
    with pytest.raises(ValueError, match="classification must be"):
        vpin(tr["price"], tr["shares"], bucket_volume=10, classification="lee-ready")
    with pytest.raises(ValueError, match="bucket_volume must be positive"):
        vpin(tr["price"], tr["shares"], bucket_volume=0)


def test_realized_volatility():
    p = np.array([100.0, 101.0, 99.0, 99.0, 102.0])
    rv = realized_volatility(p, 2)
    r = np.diff(np.log(p))
    assert math.isnan(rv[1]) and rv[2] == pytest.approx(math.sqrt(r[0] ** 2 + r[1] ** 2))
    assert realized_volatility(p, 2, annualization=252)[4] == pytest.approx(
        math.sqrt((r[2] ** 2 + r[3] ** 2) * 252 / 2))
    with pytest.raises(ValueError, match="price must be positive"):
        realized_volatility(np.array([1.0, 0.0]), 1)


def test_feature_tensor(snaps):
    f = np.column_stack([mid_price(snaps["bid_px"], snaps["ask_px"]),
                         book_imbalance(snaps["bid_qty"], snaps["ask_qty"])])
    t = feature_tensor(f, 16, step=4)
    assert t.shape == ((len(f) - 16) // 4 + 1, 16, 2)
    np.testing.assert_array_equal(t[3], f[12:28])
    with pytest.raises(ValueError, match="seq_len must be an int"):
        feature_tensor(f, 0)


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        mid_price(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="must be numeric"):
        spread(np.array(["a"]), np.array(["b"]))
