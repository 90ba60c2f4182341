"""Volatility forecasts (docs/analytics.md, "Volatility").

* :func:`garch_ewma_forecast` is the reference's fixed-parameter GARCH-style
  recursion, reproduced to the last bit.  It is *not* a fitted model.
* :func:`garch_forecast` fits a real GARCH(p, q) by maximum likelihood with the
  ``arch`` package (imported lazily) and returns the forecast together with
  the fitted parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ._convert import as_uint, float_vector

__all__ = ["garch_ewma_forecast", "garch_forecast", "GarchForecast"]


def _lsum(values) -> float:
    s = -0.0
    for v in values:
        s += v
    return s


def _powers(base: float, k: int) -> list[float]:
    """``[1, b, b*b, ...]`` by repeated multiplication (as Rust's ``powi``)."""
    out = []
    w = 1.0
    for _ in range(k):
        out.append(w)
        w *= base
    return out


def _arch_term(alpha, e, t):
    """``sum_i alpha_i * e[t-i]^2`` over the lags available at ``t``."""
    s = 0.0
    for i in range(1, min(len(alpha), t) + 1):
        s += alpha[i - 1] * e[t - i] * e[t - i]
    return s


def _garch_term(beta, h, t):
    s = 0.0
    for j in range(1, min(len(beta), t) + 1):
        s += beta[j - 1] * h[t - j]
    return s


def garch_ewma_forecast(returns, p=1, q=1, mean="zero"):
    """One-step volatility forecast from a fixed-weight GARCH(p, q) recursion.

    ARCH weights are proportional to ``0.8**j`` and sum to 0.08, GARCH weights
    to ``0.85**j`` summing to 0.90, ``omega = max(1 - sum, 1e-6) * v0`` with
    ``v0`` the sample variance of the residuals (floored at 1e-12).  ``p`` and
    ``q`` are clamped to ``[1, 8]`` and to ``len(returns)``.  ``mean`` equal to
    ``"constant"`` or ``"mean"`` (any case) demeans; anything else uses 0.

    Returns
    -------
    float
        Per-period volatility; 0.0 with fewer than 2 returns or any
        non-finite value (as the reference).
    """
    r = float_vector(returns, "returns").tolist()
    p = as_uint(p, "p")
    q = as_uint(q, "q")
    if not isinstance(mean, str):
        raise TypeError(f"'{type(mean).__name__}' object cannot be converted to 'PyString'")
    n = len(r)
    if n < 2:
        return 0.0
    if not all(math.isfinite(x) for x in r):
        return 0.0  # the reference's fallback std is NaN here and it reports 0.0
    p = min(max(p, 1), 8, n)
    q = min(max(q, 1), 8, n)
    mu = _lsum(r) / float(n) if mean.lower() in ("constant", "mean") else 0.0
    e = [x - mu for x in r]
    em = _lsum(e) / float(n)
    v0 = max(_lsum((x - em) * (x - em) for x in e) / float(n - 1), 1e-12)
    aw = _powers(0.8, p)
    asum = _lsum(aw)
    alpha = [w / asum * 0.08 for w in aw]
    bw = _powers(0.85, q)
    bsum = _lsum(bw)
    beta = [w / bsum * 0.90 for w in bw]
    omega = max(1.0 - _lsum(alpha) - _lsum(beta), 1e-6) * v0
    h = [v0] * (n + 1)
    for t in range(1, n + 1):
        h[t] = max(omega + _arch_term(alpha, e, t) + _garch_term(beta, h, t), 1e-12)
    s = omega + _arch_term(alpha, e, n) + _garch_term(beta, h, n + 1)
    return math.sqrt(max(s, 1e-12))


@dataclass(frozen=True)
class GarchForecast:
    """Result of :func:`garch_forecast`.

    Attributes
    ----------
    volatility : list of float
        Forecast conditional standard deviation for steps 1..horizon, in the
        units of the input returns.
    variance : list of float
        The same as variances.
    params : dict
        Fitted parameters by ``arch`` name (``mu``, ``omega``, ``alpha[1]``,
        ``beta[1]``, ``nu`` ...).
    std_errors : dict
        Standard errors of the parameters (classic Hessian-based by default).
    loglikelihood : float
    aic, bic : float
    converged : bool
        Whether the optimiser reported success.
    """

    volatility: list
    variance: list
    params: dict
    std_errors: dict
    loglikelihood: float
    aic: float
    bic: float
    converged: bool
    model: str = field(default="")


_MEANS = {"zero": "Zero", "constant": "Constant", "ar": "AR"}
_DISTS = {"normal": "normal", "gaussian": "normal", "t": "t", "studentst": "t",
          "skewt": "skewt", "skewstudent": "skewt", "ged": "ged"}
_BACKCASTS = ("sample_variance", "exponential")
_COVS = ("classic", "robust")


def _build_model(y, mean, dist, p, o, q, rescale, backcast):
    """An ``arch`` model; with ``backcast="sample_variance"`` the initial
    variance is the mean squared residual *at the current mean parameters*,
    recomputed at every likelihood evaluation and in the forecast (the FCP
    benchmark convention), instead of arch's fixed exponential backcast."""
    import numpy as np
    from arch.univariate import ARX, GARCH, ConstantMean, GeneralizedError, Normal
    from arch.univariate import SkewStudent, StudentsT, ZeroMean

    bases = {"constant": ConstantMean, "zero": ZeroMean, "ar": ARX}
    dists = {"normal": Normal, "t": StudentsT, "skewt": SkewStudent, "ged": GeneralizedError}
    base = bases[mean]
    vol = GARCH(p=p, o=o, q=q)
    if backcast == "sample_variance":
        class _SampleVarianceGARCH(GARCH):
            def backcast(self, resids):
                return float(np.mean(np.asarray(resids) ** 2))

        class _Mean(base):
            def _loglikelihood(self, parameters, sigma2, backcast, var_bounds, individual=False):
                mp, _, _ = self._parse_parameters(parameters)
                r = self.resids(mp)
                return super()._loglikelihood(parameters, sigma2, float(np.mean(r * r)),
                                              var_bounds, individual)

        vol = _SampleVarianceGARCH(p=p, o=o, q=q)
        base = _Mean
    kw = {"lags": 1} if mean == "ar" else {}
    model = base(y, rescale=rescale, **kw)
    model.volatility = vol
    model.distribution = dists[dist]()
    return model


def garch_forecast(returns, p=1, q=1, mean="constant", dist="normal", horizon=1, *,
                   o=0, rescale=False, backcast="sample_variance", cov_type="classic"):
    """Fit a GARCH(p, q) by maximum likelihood (``arch``) and forecast.

    Parameters
    ----------
    returns : sequence of float, numpy array or pandas Series
        Per-period returns, in the units you want the forecast in (the
        published DEM/GBP benchmark uses percent returns).
    p, q : int
        ARCH and GARCH orders (p >= 1, q >= 0).
    mean : {"constant", "zero", "ar"}
        Mean model.
    dist : {"normal", "t", "skewt", "ged"}
        Innovation distribution.
    horizon : int
        Number of steps ahead (>= 1).
    o : int, keyword-only
        Asymmetric (GJR) order; 0 for plain GARCH.
    rescale : bool, keyword-only
        Passed to ``arch``; off by default so parameters stay in input units.
    backcast : {"sample_variance", "exponential"}, keyword-only
        Initial variance for the recursion.  ``"sample_variance"`` (the mean
        squared residual) is the convention of the published benchmarks
        (Fiorentini-Calzolari-Panattoni / McCullough-Renfro) and of rugarch
        and fGarch; ``"exponential"`` is ``arch``'s own default.
    cov_type : {"classic", "robust"}, keyword-only
        Standard errors from the Hessian (classic) or Bollerslev-Wooldridge.

    Returns
    -------
    GarchForecast

    Raises
    ------
    ValueError
        On bad orders, horizon, option names, non-finite returns or fewer than
        ``max(p, q) + 10`` observations.
    """
    p = as_uint(p, "p")
    q = as_uint(q, "q")
    o = as_uint(o, "o")
    horizon = as_uint(horizon, "horizon")
    if p < 1:
        raise ValueError(f"p must be at least 1, got {p}")
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    mkey = str(mean).lower()
    if mkey not in _MEANS:
        raise ValueError(f"mean must be one of {sorted(_MEANS)}, got {mean!r}")
    dkey = str(dist).lower().replace("-", "").replace("_", "").replace("'", "")
    if dkey not in _DISTS:
        raise ValueError(f"dist must be one of normal, t, skewt, ged, got {dist!r}")
    if backcast not in _BACKCASTS:
        raise ValueError(f"backcast must be one of {_BACKCASTS}, got {backcast!r}")
    if cov_type not in _COVS:
        raise ValueError(f"cov_type must be one of {_COVS}, got {cov_type!r}")
    y = float_vector(returns, "returns")
    import numpy as np

    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"returns must be finite, got {float(y[bad])!r} at index {bad}")
    need = max(p, q, o) + 10
    if y.shape[0] < need:
        raise ValueError(f"returns needs at least {need} observations for GARCH({p},{q}), "
                         f"got {y.shape[0]}")

    am = _build_model(y, mkey, _DISTS[dkey], p, o, q, rescale, backcast)
    fit_kw = {"disp": "off", "cov_type": cov_type, "options": {"ftol": 1e-14, "maxiter": 5000}}
    import warnings

    with warnings.catch_warnings():
        # arch warns on optimizer return codes; ``converged`` reports it instead
        warnings.simplefilter("ignore")
        res = am.fit(**fit_kw)
    fc = res.forecast(horizon=horizon, reindex=False)
    var = [float(v) for v in np.asarray(fc.variance)[-1]]
    return GarchForecast(
        volatility=[math.sqrt(v) for v in var],
        variance=var,
        params={k: float(v) for k, v in res.params.items()},
        std_errors={k: float(v) for k, v in res.std_err.items()},
        loglikelihood=float(res.loglikelihood),
        aic=float(res.aic),
        bic=float(res.bic),
        converged=bool(res.convergence_flag == 0),
        model=f"GARCH({p},{q}) o={o} mean={mkey} dist={_DISTS[dkey]}",
    )
