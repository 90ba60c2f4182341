"""Purged K-fold and purged walk-forward: no training label overlaps a test
span, the embargo is kept, and nothing else is dropped (exact boundaries)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nanobook.analytics import purged_kfold, purged_walkforward


@st.composite
def label_ends(draw):
    n = draw(st.integers(4, 120))
    steps = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    t1 = np.minimum(np.arange(n) + np.array(steps), n - 1)
    return n, t1


@settings(max_examples=150, deadline=None)
@given(label_ends(), st.integers(2, 6), st.integers(0, 8))
def test_kfold_purges_exactly_the_overlapping_labels(data, k, emb):
    n, t1 = data
    if k > n:
        k = n
    splits = purged_kfold(n, k, t1=t1, embargo=emb)
    tests = np.concatenate([te for _, te in splits])
    np.testing.assert_array_equal(tests, np.arange(n))          # the folds partition the samples
    for tr, te in splits:
        a, b = te[0], te[-1] + 1
        e = t1[a:b].max()
        assert not np.intersect1d(tr, te).size
        for i in range(n):
            if a <= i < b:
                continue
            overlaps = not (t1[i] < a or i > e)                 # label window meets the test span
            embargoed = e < i <= e + emb
            assert (i in set(tr)) == (not overlaps and not embargoed), (i, a, b, e)


@settings(max_examples=150, deadline=None)
@given(label_ends(), st.integers(1, 5), st.integers(0, 6))
def test_walkforward_trains_on_the_purged_past_only(data, k, emb):
    n, t1 = data
    try:
        splits = purged_walkforward(n, k, t1=t1, embargo=emb)
    except ValueError as exc:               # too little data left: said so, by fold or by size
        assert "fold" in str(exc) or "min_train" in str(exc)
        return
    prev_end = None
    for tr, te in splits:
        a = te[0]
        if prev_end is not None:
            assert a == prev_end                                   # contiguous test folds
        prev_end = te[-1] + 1
        assert tr.size and tr.max() < a
        assert (t1[tr] < a - emb).all()                            # the gap: labels end before test - embargo
        np.testing.assert_array_equal(tr, np.flatnonzero(t1 < a - emb))   # and nothing else dropped
    assert prev_end == n


def test_boundaries_of_the_gap():
    # horizon 3, embargo 2, 20 samples, 4 folds of 5: fold [5, 10) covers labels up to 12
    tr, te = purged_kfold(20, 4, horizon=3, embargo=2)[1]
    np.testing.assert_array_equal(te, np.arange(5, 10))
    assert 1 in tr and 2 not in tr          # t1 = 4 < 5 kept; t1 = 5 = test start purged
    assert 14 not in tr and 15 in tr        # 12 + embargo 2 = 14 dropped, 15 kept
    tr, te = purged_walkforward(20, 2, horizon=3, embargo=2, min_train=10)[0]
    np.testing.assert_array_equal(te, np.arange(10, 15))
    np.testing.assert_array_equal(tr, np.arange(0, 5))   # t1 = i + 3 < 10 - 2  <=>  i < 5


def test_rolling_window_keeps_the_last_min_train():
    tr, _ = purged_walkforward(100, 2, horizon=1, embargo=0, min_train=20, expanding=False)[1]
    np.testing.assert_array_equal(tr, np.arange(39, 59))


@pytest.mark.parametrize("kw, msg", [
    (dict(n_samples=10, n_splits=1, horizon=1), "n_splits must be an int >= 2"),
    (dict(n_samples=10, n_splits=11, horizon=1), "n_splits must be <= n_samples=10"),
    (dict(n_samples=10, n_splits=2), "exactly one of t1"),
    (dict(n_samples=10, n_splits=2, horizon=1, t1=np.arange(10)), "exactly one of t1"),
    (dict(n_samples=10, n_splits=2, horizon=-1), "horizon must be an int >= 0, got -1"),
    (dict(n_samples=10, n_splits=2, horizon=1, embargo=-1), "embargo must be an int >= 0, got -1"),
    (dict(n_samples=3, n_splits=2, t1=np.array([0, 0, 2])), r"t1\[1\] = 0 is before its sample 1"),
    (dict(n_samples=3, n_splits=2, t1=np.array([0, 1])), r"t1 must have shape \(3,\)"),
    (dict(n_samples=-1, n_splits=2, horizon=1), "n_samples must be an int >= 0, got -1"),
])
def test_bad_arguments_raise_naming_them(kw, msg):
    with pytest.raises(ValueError, match=msg):
        purged_kfold(**kw)


def test_walkforward_says_when_a_fold_has_no_training_left():
    with pytest.raises(ValueError, match="fold 0 .* no training sample"):
        purged_walkforward(20, 2, horizon=10, embargo=5, min_train=6)
    with pytest.raises(TypeError, match="t1 must be integer"):
        purged_walkforward(4, 1, t1=np.array([0.0, 1, 2, 3]))
