"""Walk-forward evaluation of a return series (spec §7.6).

The series is cut into ``n_windows`` consecutive windows; each window is split
into a training head (``floor(len(window) * train_pct)`` periods) and a test
tail, and both halves get :class:`nanobook.portfolio.metrics.Metrics`.
"""
from __future__ import annotations

import math

from ._convert import as_float, as_uint, float_vector

__all__ = ["walkforward"]


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
