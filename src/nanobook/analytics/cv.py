"""Cross-validation: walk-forward evaluation of a return series (docs/analytics.md, "Walk-forward")
and purged splits for labelled samples.

:func:`walkforward` cuts the series into ``n_windows`` consecutive windows;
each window is split into a training head (``floor(len(window) *
train_pct)`` periods) and a test tail, and both halves get
:class:`nanobook.portfolio.metrics.Metrics`.

:func:`purged_kfold` and :func:`purged_walkforward` split samples whose
labels look ahead (sample ``i`` uses data up to index ``t1[i]``) with
purging and an embargo (López de Prado, *Advances in Financial Machine
Learning*, 2018, ch. 7): no training sample's label window overlaps the span
a test fold's labels cover, and the samples just after that span are
embargoed.
"""
from __future__ import annotations

import math

import numpy as np

from ..validate import integer
from ._convert import as_float, as_uint, float_vector

__all__ = ["walkforward", "purged_kfold", "purged_walkforward"]


def walkforward(returns, params=None, n_windows=5, train_pct=0.7, periods_per_year=252.0,
                risk_free=0.0):
    """Train/test metrics over consecutive windows.

    Parameters
    ----------
    returns : sequence of float
        Per-period returns.
    params : sequence of float, optional
        Echoed (as floats) into every window's dict under ``"params"``; it
        does not influence the computation.
    n_windows : int
        Number of windows; the last one extends to the end of the series.
    train_pct : float
        Fraction of each window used for training, in ``[0, 1)``.
    periods_per_year, risk_free : float
        Passed to :func:`nanobook.portfolio.metrics.compute_metrics`.

    Returns
    -------
    list of dict
        ``{"train_start", "train_end", "test_start", "test_end",
        "train_metrics", "test_metrics"}`` (+ ``"params"``).  Empty when
        ``returns`` is empty, ``n_windows == 0``, ``train_pct`` is not a finite
        number in ``[0, 1)``, or a window would be shorter than 2 periods.
        Windows whose training part is empty or covers the whole window are
        skipped.
    """
    from ..portfolio.metrics import compute_metrics

    r = float_vector(returns, "returns").tolist()
    echo = None if params is None else float_vector(params, "params").tolist()
    k = as_uint(n_windows, "n_windows")
    pct = as_float(train_pct, "train_pct")
    ppy = as_float(periods_per_year, "periods_per_year")
    rf = as_float(risk_free, "risk_free")
    n = len(r)
    if n == 0 or k == 0 or not math.isfinite(pct) or not (0.0 <= pct < 1.0):
        return []
    size = n // k
    if size < 2:
        return []
    out = []
    for w in range(k):
        start = w * size
        end = n if w == k - 1 else start + size
        length = end - start
        train_len = int(length * pct)
        if train_len == 0 or train_len >= length:
            continue
        mid = start + train_len
        row = {
            "train_start": start,
            "train_end": mid,
            "test_start": mid,
            "test_end": end,
            "train_metrics": compute_metrics(r[start:mid], ppy, rf),
            "test_metrics": compute_metrics(r[mid:end], ppy, rf),
        }
        if echo is not None:
            row["params"] = list(echo)
        out.append(row)
    return out


def _label_ends(n_samples, t1, horizon) -> tuple[int, np.ndarray]:
    integer(n_samples, "n_samples", ge=0, numpy=True)
    n = int(n_samples)
    if (t1 is None) == (horizon is None):
        raise ValueError("give exactly one of t1 (label end index per sample) or horizon")
    if t1 is None:
        integer(horizon, "horizon", ge=0, numpy=True)
        return n, np.minimum(np.arange(n, dtype=np.int64) + int(horizon), max(n - 1, 0))
    a = np.asarray(t1)
    if a.shape != (n,):
        raise ValueError(f"t1 must have shape ({n},), got {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"t1 must be integer indices, got dtype {a.dtype}")
    a = a.astype(np.int64)
    bad = np.flatnonzero(a < np.arange(n))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"t1[{i}] = {int(a[i])} is before its sample {i}: a label cannot end before it starts")
    return n, a


def _check_count(name, v, lo):
    return integer(v, name, ge=lo, numpy=True)


def _purge(n, t1, a, b, embargo, after: bool) -> np.ndarray:
    """Training indices for the test fold ``[a, b)``: samples whose label
    window ``[i, t1[i]]`` ends before ``a - embargo`` (before the fold), or,
    with ``after``, that start after ``max(t1[a:b]) + embargo``."""
    idx = np.arange(n)
    keep = (t1 < a - embargo) if not after else (t1 < a)
    if after:
        span_end = int(t1[a:b].max())
        keep |= idx > span_end + embargo
    keep[a:b] = False
    return idx[keep]


def purged_kfold(n_samples, n_splits=5, *, t1=None, horizon=None, embargo=0):
    """K-fold splits of time-ordered samples with purging and an embargo.

    The samples ``0..n-1`` are cut into ``n_splits`` contiguous test folds
    (sizes differ by at most one).  For a test fold ``[a, b)`` whose labels
    cover the indices ``[a, e]`` with ``e = max(t1[a:b])``, a sample ``i``
    is kept for training only if its label window ``[i, t1[i]]`` does not
    meet ``[a, e]``: ``t1[i] < a`` (purging: before the fold) or
    ``i > e + embargo`` (after the fold, with the ``embargo`` samples just
    after ``e`` dropped because features there still carry information the
    test labels used).

    Parameters
    ----------
    n_samples : int
        Number of samples (rows in time order).
    n_splits : int
        Number of folds, 2 <= n_splits <= n_samples.
    t1 : array of int, optional
        Index of the last sample the label of sample ``i`` looks at
        (``t1[i] >= i``).
    horizon : int, optional
        Instead of ``t1``: labels look ``horizon`` samples ahead,
        ``t1[i] = min(i + horizon, n - 1)``.
    embargo : int
        Samples dropped after each test span (>= 0).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        ``(train_indices, test_indices)`` per fold, both sorted int64.

    Raises
    ------
    ValueError
        Bad counts, both or neither of ``t1``/``horizon``, a ``t1`` that
        ends before its sample.
    """
    n, ends = _label_ends(n_samples, t1, horizon)
    k = _check_count("n_splits", n_splits, 2)
    if k > n:
        raise ValueError(f"n_splits must be <= n_samples={n}, got {k}")
    emb = _check_count("embargo", embargo, 0)
    bounds = np.linspace(0, n, k + 1).round().astype(np.int64)
    return [(_purge(n, ends, int(a), int(b), emb, True), np.arange(a, b, dtype=np.int64))
            for a, b in zip(bounds[:-1], bounds[1:])]


def purged_walkforward(n_samples, n_splits=5, *, t1=None, horizon=None, embargo=0,
                       min_train=None, expanding=True):
    """Walk-forward splits: train on the past only, purged and embargoed.

    The samples after the first ``min_train`` (default ``n // (n_splits +
    1)``) are cut into ``n_splits`` contiguous test folds.  For a test fold
    ``[a, b)`` the training set is the samples ``i < a - embargo`` whose
    label window ends before the fold, ``t1[i] < a - embargo`` (purging);
    with ``expanding=False`` only the last ``min_train`` of them are kept
    (a rolling window).  The embargo here separates the end of training
    from the start of the test, the only side a walk-forward split has.

    Parameters, returns and errors as :func:`purged_kfold`, plus
    ``min_train`` (int >= 1) and ``expanding`` (bool).  A fold left with no
    training sample raises ``ValueError`` naming it.
    """
    n, ends = _label_ends(n_samples, t1, horizon)
    k = _check_count("n_splits", n_splits, 1)
    emb = _check_count("embargo", embargo, 0)
    m = n // (k + 1) if min_train is None else _check_count("min_train", min_train, 1)
    if m + k > n:
        raise ValueError(f"min_train + n_splits must be <= n_samples={n}, got {m} + {k}")
    bounds = (m + np.linspace(0, n - m, k + 1)).round().astype(np.int64)
    out = []
    for f, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        tr = _purge(n, ends, int(a), int(b), emb, False)
        if not expanding:
            tr = tr[-m:]
        if tr.size == 0:
            raise ValueError(f"fold {f} (test [{int(a)}, {int(b)})) has no training sample left after "
                             f"purging with embargo={emb}; lower the embargo or the horizon")
        out.append((tr, np.arange(a, b, dtype=np.int64)))
    return out
