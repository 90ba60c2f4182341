"""Features never look ahead; labels look only ahead; bad input is refused."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nanobook.sim as S
from nanobook.feeds import synthetic_order_flow
from nanobook.signals import FEATURE_NAMES, FeatureConfig, Normalizer, build_dataset, forward_labels, load_stream

_STREAMS = {}


def _stream(seed, mode):
    key = (seed, mode)
    if key not in _STREAMS:
        _STREAMS[key] = S.from_synthetic(synthetic_order_flow(600, seed=seed), mode=mode)
    return _STREAMS[key]


CFG = FeatureConfig(levels=3, vpin_bucket=150.0, vpin_buckets=5)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 3), mode=st.sampled_from(["l2", "l3"]), cut=st.floats(0.2, 0.9),
       scale=st.integers(2, 5), clock=st.sampled_from([None, 700_000_000]))
def test_changing_the_future_leaves_past_features_unchanged(seed, mode, cut, scale, clock):
    md = _stream(seed, mode)
    cfg = FeatureConfig(levels=3, vpin_bucket=150.0, vpin_buckets=5, clock_ns=clock)
    full = build_dataset(md, horizons=(3,), config=cfg)
    t = int(md["local_ts"][int(len(md) * cut)])
    # the future is cut off ...
    head = md[md["local_ts"] < t]
    past = build_dataset(head, horizons=(3,), config=cfg)
    # samples strictly before t (and not after the truncated stream's last
    # event: the simulator stops there, so its timer does too)
    k = min(np.searchsorted(full.ts, t), np.searchsorted(full.ts, head["local_ts"].max(), "right"))
    assert k > 0 and len(past) >= k
    np.testing.assert_array_equal(past.X[:k], full.X[:k])
    np.testing.assert_array_equal(past.ts[:k], full.ts[:k])
    # ... or rewritten (every quantity after t multiplied, trades included)
    alt = md.copy()
    later = alt["local_ts"] >= t
    if mode == "l2":
        alt["qty"][later] *= scale
        changed = build_dataset(alt, horizons=(3,), config=cfg)
        np.testing.assert_array_equal(changed.X[:k], full.X[:k])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=2, max_size=60), st.integers(1, 8),
       st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.data())
def test_labels_depend_only_on_now_and_the_horizon_ahead(steps, k, band, data):
    mid = 100.0 + np.cumsum(steps) / 2.0
    lab = forward_labels(mid, (k,), band)[:, 0]
    n = len(mid)
    for i in range(n):
        if i + k >= n:
            assert lab[i] == -1
        else:
            d = mid[i + k] - mid[i]
            assert lab[i] == (2 if d > band else 0 if d < -band else 1)
    # changing any mid other than mid[i] and mid[i + k] leaves label i alone
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1))
    if j not in (i, i + k):
        m2 = mid.copy()
        m2[j] += data.draw(st.sampled_from([-3.0, 7.5, 100.0]))
        assert forward_labels(m2, (k,), band)[i, 0] == lab[i]


def test_flat_band_boundaries():
    mid = np.array([100.0, 101.0, 99.0, 100.0, 101.0000001])
    # moves: +1, -2, +1, +1.0000001
    lab = forward_labels(mid, (1,), 1.0)[:, 0]
    np.testing.assert_array_equal(lab, [1, 0, 1, 2, -1])   # at the band: flat; just above: up
    np.testing.assert_array_equal(forward_labels(mid, (1,), 0.0)[:, 0], [2, 0, 2, 2, -1])
    assert (forward_labels(mid, (5,))[:, 0] == -1).all()    # horizon = length: no label


def test_dataset_shapes_and_finite_features():
    md = _stream(0, "l3")
    ds = build_dataset(md, horizons=(2, 4), band=0.0, config=CFG)
    assert ds.X.shape == (len(ds), len(FEATURE_NAMES)) and np.isfinite(ds.X).all()
    assert (np.diff(ds.ts) >= 0).all()
    np.testing.assert_array_equal(ds.labels, forward_labels(ds.mid, (2, 4)))
    np.testing.assert_array_equal(ds.t1(), np.minimum(np.arange(len(ds)) + 4, len(ds) - 1))
    # the mid of each sample is the book's: equal to the generator's mid at that time
    assert np.all(ds.X[:, 1] > 0)                           # spread_bps positive: book two-sided


def test_clock_sampling_is_regular():
    md = _stream(1, "l3")
    ds = build_dataset(md, horizons=(2,), config=FeatureConfig(levels=3, clock_ns=500_000_000, vpin_bucket=100.0))
    assert len(np.unique(np.diff(ds.ts))) == 1 and np.diff(ds.ts)[0] == 500_000_000


def test_normalizer_uses_the_rows_it_is_fitted_on():
    X = np.vstack([np.zeros((50, 2)), np.ones((50, 2)) * 1000.0])
    X[:50, 0] = np.arange(50)
    nz = Normalizer.fit(X[:50])
    assert nz.mean[0] == pytest.approx(24.5) and nz.std[1] == 1.0   # constant column: std 1, not 0
    assert (nz(X[50:]) == 10.0).all()                               # clipped at +10


@pytest.mark.parametrize("kw, err, msg", [
    (dict(levels=0), ValueError, "levels must be an int >= 1, got 0"),
    (dict(clock_ns=0), ValueError, "clock_ns must be None or an int >= 1, got 0"),
    (dict(trade_ema=0.0), ValueError, "trade_ema must be a number in"),
    (dict(vol_ema=1.5), ValueError, "vol_ema must be a number in"),
    (dict(vpin_bucket=math.nan), ValueError, "vpin_bucket must be a finite number > 0, got nan"),
    (dict(vpin_buckets=0), ValueError, "vpin_buckets must be an int >= 1, got 0"),
])
def test_bad_feature_config(kw, err, msg):
    with pytest.raises(err, match=msg):
        FeatureConfig(**kw)


def test_bad_labels_and_streams():
    with pytest.raises(ValueError, match="horizons must be a non-empty sequence of ints >= 1"):
        forward_labels([1.0, 2.0], (0,))
    with pytest.raises(ValueError, match=r"mid must be finite, got mid\[1\] = nan"):
        forward_labels([1.0, np.nan], (1,))
    with pytest.raises(ValueError, match="band must be a finite number >= 0, got -1"):
        forward_labels([1.0, 2.0], (1,), -1.0)
    with pytest.raises(TypeError, match="md must be a MD_DTYPE array"):
        build_dataset(np.zeros(3))
    one_sided = _stream(0, "l3")[:1]
    with pytest.raises(ValueError, match="never shows a two-sided book"):
        build_dataset(one_sided, config=CFG)


def test_load_stream_formats(tmp_path):
    with pytest.raises(ValueError, match="format must be one of binance, lobster, itch, mdp3, synthetic"):
        load_stream("csv", "x")
    with pytest.raises(ValueError, match="does not exist"):
        load_stream("binance", tmp_path / "nope.gz")
    with pytest.raises(ValueError, match="needs a data file"):
        load_stream("lobster")
    with pytest.raises(ValueError, match="takes no data file"):
        load_stream("synthetic", "x")
    (tmp_path / "m.pcap").write_bytes(b"")
    with pytest.raises(ValueError, match="is not a readable MDP 3.0 capture"):
        load_stream("mdp3", tmp_path / "m.pcap")
    md, meta = load_stream("synthetic", n_events=300, seed=4)
    assert meta["tick"] == 1 and len(md) > 300


def test_itch_stream_builds_a_dataset():
    from pathlib import Path
    ritch = Path(__file__).resolve().parents[1] / "data" / "feeds" / "itch" / "ex20101224.TEST_ITCH_50.gz"
    md, meta = load_stream("itch", ritch)
    assert meta["source"].endswith("symbol=2") and meta["tick"] == 100     # the most active locate
    ds = build_dataset(md, horizons=(2,), config=CFG)
    assert len(ds) > 5 and np.isfinite(ds.X).all()
    md2, _ = load_stream("itch", ritch, symbol=2)
    np.testing.assert_array_equal(md, md2)


def test_feature_state_refuses_a_malformed_book():
    from nanobook.signals import FeatureState
    fs = FeatureState(CFG)
    with pytest.raises(ValueError, match="depth must have 4 rows"):
        fs.sample(0, np.ones((3, 5), np.int64))
    with pytest.raises(ValueError, match=r"at least one level .* got depth \(4, 0\)"):
        fs.sample(0, np.ones((4, 0), np.int64))
    assert fs.sample(0, np.zeros((4, 5), np.int64)) is None          # empty book: no sample
    x = fs.sample(1, np.array([[99], [5], [101], [5]]))              # any int dtype, one level
    assert x is not None and x[1] == pytest.approx(200.0) and x[3] == 0.0


def _vpin_reference(trades, V, n):
    """Plain VPIN: pour trades into buckets of V (split at the edges), mean of
    |buy - sell| / V over the last n complete buckets."""
    buckets, buy, fill = [], 0.0, 0.0
    for side, q in trades:
        while q > 0:
            take = min(q, V - fill)
            fill += take
            buy += take if side == 0 else 0.0
            q -= take
            if fill >= V:
                buckets.append(abs(2 * buy - V) / V)
                buy = fill = 0.0
    last = buckets[-n:]
    return sum(last) / len(last) if last else 0.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(1, 300)), min_size=1, max_size=30),
       st.integers(1, 40), st.integers(1, 5))
def test_vpin_equals_the_plain_definition(trades, V, n):
    from nanobook.signals import FeatureState
    fs = FeatureState(FeatureConfig(levels=1, vpin_bucket=float(V), vpin_buckets=n))
    for side, q in trades:
        fs.on_trade(side, q)
    x = fs.sample(0, np.array([[99], [5], [101], [5]], np.int64))
    assert x[11] == pytest.approx(_vpin_reference(trades, V, n), abs=1e-12)


@pytest.mark.timeout(20, method="thread")   # a C loop does not see signals
def test_a_huge_trade_against_a_tiny_bucket_does_not_hang():
    from nanobook.signals import FeatureState
    fs = FeatureState(FeatureConfig(levels=1, vpin_bucket=1e-9, vpin_buckets=5))
    fs.on_trade(1, 10 ** 15)
    fs.on_trade(0, 3)
    x = fs.sample(0, np.array([[99], [5], [101], [5]], np.int64))
    assert x[11] == pytest.approx(1.0)
