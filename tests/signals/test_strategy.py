"""SignalMarketMaker: the comparison run is the plain market maker, the
signal computed in the loop is the offline one, and the signal moves quotes."""
import numpy as np
import pytest

import nanobook.sim as S
from nanobook.feeds import synthetic_order_flow
from nanobook.signals import FeatureConfig, SSMStep, build_dataset
from nanobook.signals.models import softmax
from nanobook.signals.strategy import SignalMarketMaker

CFG = FeatureConfig(levels=3, vpin_bucket=300.0)
F = 13


@pytest.fixture(scope="module")
def md():
    return S.from_synthetic(synthetic_order_flow(3000, seed=5))


def _weights(seed=0, bias=None, scale=0.1):
    rng = np.random.default_rng(seed)
    D, Di, N, K, R, H = 8, 16, 4, 3, 2, 2
    g = lambda *s: (scale * rng.normal(size=s)).astype(np.float32)   # noqa: E731
    w = {"mean": np.zeros(F, np.float32), "inv_std": np.ones(F, np.float32), "clip": np.float32(10),
         "W_emb": g(D, F), "b_emb": g(D), "W_in": g(2 * Di, D), "conv_w": g(Di, K), "conv_b": g(Di),
         "W_x": g(R + 2 * N, Di), "W_dt": g(Di, R), "b_dt": g(Di), "A_log": g(Di, N), "D": g(Di),
         "W_out": g(D, Di), "W_head": g(3 * H, D), "b_head": g(3 * H)}
    if bias is not None:
        w["W_head"][:] = 0
        w["b_head"][:] = np.tile(np.asarray(bias, np.float32), H)
    return w


def _sim(md):
    return S.Sim(md, entry_latency=1_000_000, response_latency=1_000_000, max_position=200, record_interval=0)


def test_without_the_signal_it_is_the_plain_market_maker(md):
    a = _sim(md).run(SignalMarketMaker(None, CFG, qty=10, max_position=100, skew=0.05))
    b = _sim(md).run(S.MarketMaker(0.0, 10, 100, skew=0.05))
    assert len(a.orders) > 10
    np.testing.assert_array_equal(a.orders, b.orders)
    np.testing.assert_array_equal(a.fills, b.fills)


def test_the_signal_in_the_loop_is_the_offline_signal(md):
    step = SSMStep(_weights(1))
    mm = SignalMarketMaker(step, CFG, qty=10, max_position=100, signal_std=0.5)
    _sim(md).run(mm)
    ds = build_dataset(md, horizons=(1,), config=CFG)
    step.reset()
    p = softmax(step.run(ds.X))[:, 0]
    np.testing.assert_allclose(mm.signals, (p[:, 2] - p[:, 0]) / 0.5, atol=1e-12)


def test_a_strong_signal_pulls_the_side_it_warns_against(md):
    up = SignalMarketMaker(SSMStep(_weights(bias=[-5, 0, 5])), CFG, qty=10, max_position=100,
                           signal_std=0.1, pull=1.0)
    res = _sim(md).run(up)
    assert len(res.orders) > 0 and (res.orders["side"] == 0).all()     # bids only
    down = SignalMarketMaker(SSMStep(_weights(bias=[5, 0, -5])), CFG, qty=10, max_position=100,
                             signal_std=0.1, pull=1.0)
    res = _sim(md).run(down)
    assert len(res.orders) > 0 and (res.orders["side"] == 1).all()     # asks only


def test_the_signal_shifts_the_quotes_up(md):
    flat = _sim(md).run(SignalMarketMaker(None, CFG, qty=10, max_position=100, half_spread=3))
    up = _sim(md).run(SignalMarketMaker(SSMStep(_weights(bias=[-5, 0, 5])), CFG, qty=10, max_position=100,
                                        half_spread=3, signal_shift=2.0, signal_std=1.0))
    fb = flat.orders[flat.orders["side"] == 0]["price"].mean()
    ub = up.orders[up.orders["side"] == 0]["price"].mean()
    assert ub > fb


def test_no_quote_before_start_ts(md):
    t = int(md["local_ts"][len(md) // 2])
    res = _sim(md).run(SignalMarketMaker(None, CFG, qty=10, max_position=100, start_ts=t))
    assert len(res.orders) > 0 and (res.orders["submit_ts"] >= t).all()


@pytest.mark.parametrize("kw, msg", [
    (dict(signal_std=0.0), "signal_std must be a finite number > 0, got 0.0"),
    (dict(signal_shift=-1.0), "signal_shift must be a finite number >= 0, got -1.0"),
    (dict(pull=0), "pull must be a number > 0"),
    (dict(horizon=5), "horizon must be < the model's 2 horizons, got 5"),
    (dict(start_ts=-1), "start_ts must be an int >= 0, got -1"),
    (dict(qty=0), "qty must be an int >= 1, got 0"),
])
def test_bad_parameters(kw, msg):
    args = dict(qty=10, max_position=100)
    args.update(kw)
    with pytest.raises(ValueError, match=msg):
        SignalMarketMaker(SSMStep(_weights()), CFG, **args)
    with pytest.raises(TypeError, match="config must be a FeatureConfig"):
        SignalMarketMaker(None, {}, qty=1, max_position=1)
