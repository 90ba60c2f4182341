"""Statistics on returns and factor scores (docs/analytics.md, "Statistics").

``spearman``, ``quintile_spread``, ``deflated_sharpe``, ``realized_vol`` and
``time_series_split`` reproduce nanobook 0.19 to the last bit: sums run left
to right, the special functions are the reference's own approximations
(Lanczos log-gamma, a Lentz continued fraction for the incomplete beta,
Acklam's inverse normal, the Abramowitz-Stegun 7.1.26 erf).  The scalar
loops are small (n values, not n^2), so plain Python keeps them exact and
readable; numpy inputs are accepted everywhere a list is.
"""
from __future__ import annotations

import math


from ._convert import as_float, as_uint, float_vector

__all__ = [
    "spearman", "quintile_spread", "deflated_sharpe", "realized_vol", "time_series_split",
]

_NAN = float("nan")


def _lsum(values) -> float:
    """Left-to-right float sum starting at -0.0 (Rust's ``Iterator::sum``)."""
    s = -0.0
    for v in values:
        s += v
    return s


# ---------------------------------------------------------------------------
# Spearman
# ---------------------------------------------------------------------------

def _rank_average(values: list[float]) -> list[float]:
    n = len(values)
    order = sorted(range(n), key=values.__getitem__)  # stable, like Rust sort_by
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i + 1
        while j < n and values[order[j]] == values[order[i]]:
            j += 1
        avg = (i + 1 + j) / 2.0
        for k in range(i, j):
            ranks[order[k]] = avg
        i = j
    return ranks


def _pearson(x: list[float], y: list[float]) -> float:
    n = float(len(x))
    mx = _lsum(x) / n
    my = _lsum(y) / n
    cov = vx = vy = 0.0
    for a, b in zip(x, y):
        dx = a - mx
        dy = b - my
        cov += dx * dy
        vx += dx * dx
        vy += dy * dy
    if vx == 0.0 or vy == 0.0:
        return _NAN
    return cov / math.sqrt(vx * vy)


_LANCZOS = (
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
)


def _ln_gamma(x: float) -> float:
    if x < 0.5:
        return math.log(math.pi) - math.log(math.sin(math.pi * x)) - _ln_gamma(1.0 - x)
    x -= 1.0
    s = _LANCZOS[0]
    for i in range(1, 9):
        s += _LANCZOS[i] / (x + float(i - 1) + 1.0)
    t = x + 7.5
    return 0.5 * math.log(2.0 * math.pi) + (math.log(t) * (x + 0.5)) - t + math.log(s)


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-30
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 201):
        em = float(m)
        m2 = 2.0 * em
        aa = em * (b - em) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        h *= d * c
        aa = -(a + em) * (qab + em) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        de = d * c
        h *= de
        if abs(de - 1.0) <= 3e-14:
            return h
    return h


def _inc_beta_cf(x: float, a: float, b: float) -> float:
    ln_beta = _ln_gamma(a) + _ln_gamma(b) - _ln_gamma(a + b)
    front = math.exp(math.log(x) * a + math.log(1.0 - x) * b - ln_beta) / a
    return front * _betacf(a, b, x)


def _inc_beta(x: float, a: float, b: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _inc_beta_cf(1.0 - x, b, a)
    return _inc_beta_cf(x, a, b)


def spearman(x, y):
    """Spearman rank correlation and its two-sided p-value ``(rho, p)``.

    Average ranks for ties; Pearson correlation of the ranks, clamped to
    [-1, 1]; p from Student's t with ``n - 2`` degrees of freedom.  Returns
    ``(nan, nan)`` when the lengths differ, ``n < 3``, any value is NaN or a
    rank vector is constant; ``(rho, 0.0)`` for a perfect correlation.
    """
    xs = float_vector(x, "x").tolist()
    ys = float_vector(y, "y").tolist()
    n = len(xs)
    if n != len(ys) or n < 3:
        return (_NAN, _NAN)
    if any(v != v for v in xs) or any(v != v for v in ys):
        return (_NAN, _NAN)
    r = _pearson(_rank_average(xs), _rank_average(ys))
    if r != r:
        return (_NAN, _NAN)
    r = min(max(r, -1.0), 1.0)
    if abs(abs(r) - 1.0) < 1e-15:
        return (r, 0.0)
    df = float(n) - 2.0
    t = r * math.sqrt(df / (1.0 - r * r))
    xb = df / (df + t * t)
    p = 2.0 * (0.5 * _inc_beta(xb, df / 2.0, 0.5))
    return (r, p)


def quintile_spread(scores, returns, n_quantiles=5):
    """Mean return of the top ``n // n_quantiles`` scores minus the mean of
    the bottom group (stable sort by score).  NaN when the lengths differ,
    ``n < n_quantiles``, ``n_quantiles == 0`` or any value is NaN."""
    q = as_uint(n_quantiles, "n_quantiles")
    s = float_vector(scores, "scores").tolist()
    r = float_vector(returns, "returns").tolist()
    n = len(s)
    if n != len(r) or n < q or q == 0:
        return _NAN
    if any(v != v for v in s) or any(v != v for v in r):
        return _NAN
    g = n // q
    if g == 0:
        return _NAN
    order = sorted(range(n), key=s.__getitem__)
    bottom = _lsum(r[i] for i in order[:g]) / float(g)
    top = _lsum(r[i] for i in order[n - g:]) / float(g)
    return top - bottom


# ---------------------------------------------------------------------------
# Deflated Sharpe ratio
# ---------------------------------------------------------------------------

_EULER_GAMMA = 0.5772156649015329
_EPS = 2.220446049250313e-16

_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)


def _norm_ppf(p: float) -> float:
    """Acklam's rational approximation of the standard normal quantile."""
    plow = 0.02425
    if p < plow:
        q = math.sqrt(-2.0 * math.log(p))
        return ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
                / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    if p > 1.0 - plow:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return -((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
                 / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    q = p - 0.5
    r = q * q
    return ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))


def _erf(x: float) -> float:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)."""
    sign = -1.0 if x < 0.0 else 1.0
    x = abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * math.exp(-x * x)
    return sign * y


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def deflated_sharpe(sharpe, n_trials, skewness, kurtosis):
    """Deflated Sharpe ratio (Bailey & Lopez de Prado) as a probability.

    ``n_trials == 0`` -> NaN; ``n_trials == 1`` -> ``sharpe`` unchanged; NaN
    for non-finite inputs, negative ``sharpe`` or ``kurtosis <= 0``.
    Otherwise ``Phi((SR - se*E) / se)`` with ``se = sqrt(v/(N-1))``,
    ``v = 1 - skew*SR + (kurt-1)/4 * SR^2`` and ``E`` the expected maximum of
    ``N`` standard normal draws.
    """
    sr = as_float(sharpe, "sharpe")
    n = as_uint(n_trials, "n_trials")
    sk = as_float(skewness, "skewness")
    ku = as_float(kurtosis, "kurtosis")
    if n == 0:
        return _NAN
    if n == 1:
        return sr
    if not (math.isfinite(sr) and math.isfinite(sk) and math.isfinite(ku)):
        return _NAN
    if sr < 0.0 or ku <= 0.0:
        return _NAN
    v = 1.0 - sk * sr + 0.25 * (ku - 1.0) * sr * sr
    if not v > 0.0:
        return _NAN
    nf = float(n)
    se = math.sqrt(v / (nf - 1.0))
    p1 = min(max(1.0 - 1.0 / nf, _EPS), 1.0 - _EPS)
    p2 = min(max(1.0 - 1.0 / (nf * math.e), _EPS), 1.0 - _EPS)
    e_max = (1.0 - _EULER_GAMMA) * _norm_ppf(p1) + _EULER_GAMMA * _norm_ppf(p2)
    return _norm_cdf((sr - se * e_max) / se)


# ---------------------------------------------------------------------------
# Realized volatility
# ---------------------------------------------------------------------------

_METHODS = {
    "close_to_close": "cc", "close": "cc", "cc": "cc",
    "parkinson": "parkinson",
    "garman_klass": "gk", "garman-klass": "gk", "gk": "gk",
    "yang_zhang": "yz", "yang-zhang": "yz", "yz": "yz",
}


def _sample_var(xs: list[float]) -> float:
    n = len(xs)
    m = _lsum(xs) / float(n)
    return _lsum((v - m) * (v - m) for v in xs) / float(n - 1)


def realized_vol(open, high, low, close, method="close_to_close"):  # noqa: A002 - reference name
    """Per-period (not annualised) volatility from OHLC bars.

    Methods (exact spellings): ``close_to_close|close|cc``, ``parkinson``,
    ``garman_klass|garman-klass|gk``, ``yang_zhang|yang-zhang|yz``.  NaN when
    the four lengths differ, there are fewer than 2 bars (3 for Yang-Zhang)
    or any price is non-finite or <= 0.

    Raises
    ------
    ValueError
        ``unknown realized_vol method: <m>`` for any other method name.
    TypeError
        When ``method`` is not a string.
    """
    if not isinstance(method, str):
        raise TypeError(f"'{type(method).__name__}' object cannot be converted to 'PyString'")
    kind = _METHODS.get(method)
    if kind is None:
        raise ValueError(f"unknown realized_vol method: {method}")
    o = float_vector(open, "open").tolist()
    h = float_vector(high, "high").tolist()
    lo = float_vector(low, "low").tolist()
    c = float_vector(close, "close").tolist()
    n = len(c)
    if not (len(o) == len(h) == len(lo) == n) or n < 2:
        return _NAN
    for arr in (o, h, lo, c):
        for v in arr:
            if not (math.isfinite(v) and v > 0.0):
                return _NAN
    ln = math.log
    if kind == "cc":
        r = [ln(c[i] / c[i - 1]) for i in range(1, n)]
        if len(r) < 2:
            return 0.0 if len(r) == 1 else _NAN
        return math.sqrt(_sample_var(r))
    if kind == "parkinson":
        s = _lsum(ln(h[i] / lo[i]) ** 2 for i in range(n))
        return math.sqrt(s / (4.0 * float(n) * math.log(2.0)))
    if kind == "gk":
        k = 2.0 * math.log(2.0) - 1.0
        s = _lsum(0.5 * ln(h[i] / lo[i]) ** 2 - k * ln(c[i] / o[i]) ** 2 for i in range(n))
        return math.sqrt(max(s / float(n), 0.0))
    # Yang-Zhang
    if n < 3:
        return _NAN
    m = n - 1
    ov = [ln(o[i] / c[i - 1]) for i in range(1, n)]
    cv = [ln(c[i] / o[i]) for i in range(1, n)]
    rs = [ln(h[i] / o[i]) * ln(h[i] / c[i]) + ln(lo[i] / o[i]) * ln(lo[i] / c[i])
          for i in range(1, n)]
    k = 0.34 / (1.34 + (m + 1.0) / (m - 1.0))
    var = _sample_var(ov) + k * _sample_var(cv) + (1.0 - k) * (_lsum(rs) / float(m))
    return math.sqrt(max(var, 0.0))


# ---------------------------------------------------------------------------
# Cross-validation splits
# ---------------------------------------------------------------------------

def time_series_split(n_samples, n_splits=5):
    """Expanding-window splits ``[(train_idx, test_idx), ...]`` (sklearn's
    ``TimeSeriesSplit`` layout); empty when ``n_splits < 2``,
    ``n_samples < 2`` or ``n_samples // (n_splits + 1) == 0``."""
    n = as_uint(n_samples, "n_samples")
    k = as_uint(n_splits, "n_splits")
    if k < 2 or n < 2:
        return []
    size = n // (k + 1)
    if size == 0:
        return []
    out = []
    for i in range(k):
        start = n - k * size + i * size
        out.append((list(range(start)), list(range(start, start + size))))
    return out
