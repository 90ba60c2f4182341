"""Monte-Carlo price scenarios (docs/analytics.md, "Monte-Carlo scenarios").

Two models for the terminal price ``P_T`` of a stock:

* ``version="simple"``: geometric Brownian motion,
  ``P_T = S0 * exp((mu - sigma**2 / 2) * h + sigma * sqrt(h) * z)``;
* any other version (default ``"advanced"``): a multi-driver model,
  ``P_T = S0 * exp(total * h)`` with
  ``total = 0.8*gp + 2*marg + 0.6*(clip(mult, 16, 28)/20 - 1) + (macro - |skew|)``
  and ``gp, marg, mult, macro, skew`` normal draws (``skew ~ N(0,
  bear_skew_factor)``).

Random streams.  ``monte_carlo_stock_valuation`` with an integer seed (or
``None`` for fresh entropy) uses the reference's native stream: ChaCha20
keyed from the seed and a 256-layer ziggurat (Cython, ``_mc.pyx``), five draws
per path interleaved for the advanced model, so results equal nanobook 0.19's
bit for bit.  A ``numpy.random.Generator`` or ``random.Random`` seed runs the
pure-Python path with that generator.  ``monte_carlo_stock_valuation_parity``
is the reference's numpy audit oracle (``default_rng(seed)``, batched draws).

Correction: the reference's pure-Python summary reports ``pct_below_bear`` as
``round(1 - prob*100, 1)`` (e.g. ``-99.0``).  ``monte_carlo_stock_valuation``
always reports ``(1 - prob) * 100``; only ``monte_carlo_stock_valuation_parity``
keeps the reference's formula, because it exists to reproduce the audit
oracle's output exactly.
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass

import numpy as np

from ..fmt import display
from ..validate import is_int, is_real

__all__ = [
    "MonteCarloResult", "ValuationParams", "monte_carlo_stock_valuation",
    "monte_carlo_stock_valuation_native", "monte_carlo_stock_valuation_parity",
    "calibrate_from_fundamentals", "compute_annualized_vol",
    "terminal_prices_to_log_return_paths", "summarize_distribution",
]

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1


@dataclass
class ValuationParams:
    """Advanced multi-driver parameters (annualised log-return contributions)."""

    gp_growth_mean: float = 0.16
    gp_growth_sd: float = 0.06
    margin_boost_mean: float = 0.02
    margin_boost_sd: float = 0.03
    multiple_mean: float = 22.0
    multiple_sd: float = 3.5
    macro_shock_mean: float = -0.03
    macro_shock_sd: float = 0.11
    bear_skew_factor: float = 0.04


@dataclass
class MonteCarloResult:
    """Terminal prices of a Monte-Carlo run and their summary.

    ``terminal_prices`` is a numpy array for the native stream and a list for
    the pure-Python paths (as the reference).
    """

    ticker: str
    method: str
    horizon_years: float
    current_price: float
    terminal_prices: object
    summary: dict

    @property
    def median_price(self) -> float:
        return float(self.summary["median_price"])

    @property
    def mean_price(self) -> float:
        return float(self.summary["mean_price"])

    @property
    def implied_median_annual_return(self) -> float:
        return float(self.summary["implied_median_annual_return"])

    @property
    def p10_price(self) -> float:
        return float(self.summary["p10"])

    @property
    def p90_price(self) -> float:
        return float(self.summary["p90"])

    def prob_above(self, level: float) -> float:
        """Fraction of paths strictly above ``level`` (0.0 with no paths)."""
        return _prob_above(list(self.terminal_prices), level)

    def quantile(self, q: float) -> float:
        """Sorted price at index ``int(q*(n-1))`` (clamped; 0.0 with no paths)."""
        prices = sorted(float(p) for p in self.terminal_prices)
        if not prices:
            return 0.0
        return prices[max(0, min(len(prices) - 1, int(q * (len(prices) - 1))))]

    def as_log_returns(self) -> list[float]:
        """``ln(P / S0)`` per path (zeros when ``S0 <= 0``)."""
        if self.current_price <= 0:
            return [0.0] * len(self.terminal_prices)
        return [math.log(p / self.current_price) for p in self.terminal_prices]

    def to_price_paths(self, n_periods: int, *, seed=None, method="linear") -> list[list[float]]:
        """Intra-horizon paths ending at each terminal price
        (see :func:`terminal_prices_to_log_return_paths`)."""
        return terminal_prices_to_log_return_paths(
            list(self.terminal_prices), self.current_price, n_periods, seed=seed, method=method)

    def to_summary_dict(self) -> dict:
        return dict(self.summary)

    def __repr__(self) -> str:
        return (f"MonteCarloResult(ticker={self.ticker!r}, method={self.method!r}, "
                f"n_paths={len(self.terminal_prices)}, median_price={self.median_price})")


# ---------------------------------------------------------------------------
# statistics of a price list
# ---------------------------------------------------------------------------

def _mean(xs) -> float:
    if not xs:
        return 0.0
    s = 0.0
    for x in xs:
        s += x
    return s / len(xs)


def _median(xs) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    n = len(s)
    if n % 2:
        return float(s[n // 2])
    return (s[n // 2 - 1] + s[n // 2]) / 2


def _percentile(xs, q: float) -> float:
    """Linear interpolation at ``q*(n-1)`` (numpy's default)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    n = len(s)
    if q <= 0:
        return float(s[0])
    if q >= 1:
        return float(s[-1])
    pos = q * (n - 1)
    i = int(pos)
    if i + 1 >= n:
        return float(s[-1])
    return float(s[i] + (s[i + 1] - s[i]) * (pos - i))


def _prob_above(xs, level: float) -> float:
    if not xs:
        return 0.0
    return sum(1 for x in xs if x > level) / len(xs)


def _round_half_away(x: float, digits: int) -> float:
    """Rust's ``(x * 10^k).round() / 10^k`` (ties away from zero)."""
    if not math.isfinite(x):
        return x
    k = 10.0 ** digits
    y = x * k
    r = math.floor(y)
    d = y - r
    if d > 0.5 or (d == 0.5 and y > 0):
        r += 1.0
    return r / k


def _summary(ticker, method, prices, current_price, horizon, hurdle_rate, bull_price,
             bear_price, n_paths, *, native: bool, bear_quirk: bool = False) -> dict:
    bull = bull_price if bull_price is not None else current_price * 1.10
    bear = bear_price if bear_price is not None else current_price * 0.81
    med = _median(prices)
    mn = _mean(prices)
    rnd = _round_half_away if native else round
    p_bear = _prob_above(prices, bear)
    below = (1 - p_bear * 100) if bear_quirk else (1.0 - p_bear) * 100.0
    return {
        "ticker": ticker,
        "method": method,
        "n_paths": float(n_paths) if native else n_paths,
        "horizon_years": horizon,
        "median_price": rnd(med, 2),
        "mean_price": rnd(mn, 2),
        "mean_minus_median": rnd(mn - med, 2),
        "pct_above_hurdle": rnd(_prob_above(prices, current_price * (1.0 + hurdle_rate)) * 100, 1),
        "pct_above_bull": rnd(_prob_above(prices, bull) * 100, 1),
        "pct_below_bear": rnd(below, 1),
        "p10": rnd(_percentile(prices, 0.10), 2),
        "p90": rnd(_percentile(prices, 0.90), 2),
        "implied_median_annual_return": rnd((med / current_price) ** (1.0 / horizon) - 1.0, 4),
        "current_price": current_price,
        "hurdle_rate": hurdle_rate,
    }


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------

def _fmt(x) -> str:
    """Rust's ``{}``: floats through :func:`nanobook.fmt.display`, anything else as ``str``."""
    return display(x) if isinstance(x, float) else str(x)


def _validate(current_price, n_paths, horizon, annual_vol, fmt=str):
    if not is_int(n_paths, numpy=True):
        raise TypeError(f"n_paths must be an int, got {type(n_paths).__name__}")
    if not (current_price > 0 and math.isfinite(current_price)):
        raise ValueError(f"current_price must be positive and finite, got {fmt(current_price)}")
    if n_paths < 0:
        raise ValueError(f"n_paths must be >= 0, got {n_paths}")
    if not (horizon > 0 and math.isfinite(horizon)):
        raise ValueError(f"horizon must be positive and finite, got {fmt(horizon)}")
    if not (annual_vol >= 0 and math.isfinite(annual_vol)):
        raise ValueError(f"annual_vol must be non-negative and finite, got {fmt(annual_vol)}")


def _floats(**kw):
    out = {}
    for k, v in kw.items():
        if v is None and k in ("bull_price", "bear_price"):
            out[k] = None
            continue
        if not is_real(v, numpy=True):
            raise TypeError(f"{k} must be a real number, got {type(v).__name__}")
        out[k] = float(v)
    return out


# ---------------------------------------------------------------------------
# native stream
# ---------------------------------------------------------------------------

def monte_carlo_stock_valuation_native(ticker, current_price, *, version="advanced", n_paths=5000,
                                       horizon=1.0, seed=42, expected_annual_return=0.18,
                                       annual_vol=0.38, gp_growth_mean=0.16, gp_growth_sd=0.06,
                                       margin_boost_mean=0.02, margin_boost_sd=0.03,
                                       multiple_mean=22.0, multiple_sd=3.5, macro_shock_mean=-0.03,
                                       macro_shock_sd=0.11, bear_skew_factor=0.04,
                                       hurdle_rate=0.08, bull_price=None, bear_price=None):
    """Monte-Carlo valuation on the reference's native ChaCha20/ziggurat stream.

    ``seed`` is an int in the i64 range (negative allowed) or ``None`` (fresh
    entropy).  Summary values are floats (``n_paths`` too) and are rounded
    half away from zero, as the reference's native path.  ``terminal_prices``
    is a numpy array.

    Raises
    ------
    ValueError
        Invalid price, path count, horizon or volatility; a non-finite
        standard deviation of an advanced-model driver (the reference panics).
    OverflowError
        A seed outside the i64 range.
    """
    from ._mc import ChaCha20Rng

    if not isinstance(ticker, str):
        raise TypeError(f"'{type(ticker).__name__}' object is not an instance of 'str'")
    f = _floats(current_price=current_price, horizon=horizon,
                expected_annual_return=expected_annual_return, annual_vol=annual_vol,
                gp_growth_mean=gp_growth_mean, gp_growth_sd=gp_growth_sd,
                margin_boost_mean=margin_boost_mean, margin_boost_sd=margin_boost_sd,
                multiple_mean=multiple_mean, multiple_sd=multiple_sd,
                macro_shock_mean=macro_shock_mean, macro_shock_sd=macro_shock_sd,
                bear_skew_factor=bear_skew_factor, hurdle_rate=hurdle_rate,
                bull_price=bull_price, bear_price=bear_price)
    _validate(f["current_price"], n_paths, f["horizon"], f["annual_vol"], fmt=_fmt)
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little", signed=True)
    elif not is_int(seed, numpy=True):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    seed = int(seed)
    if seed < _I64_MIN or seed > _I64_MAX:
        raise OverflowError("Python int too large to convert to C long")
    n = int(n_paths)
    s0 = f["current_price"]
    h = f["horizon"]
    rng = ChaCha20Rng(seed)
    if version == "simple":
        method = "Simple GBM"
        mu, vol = f["expected_annual_return"], f["annual_vol"]
        z = rng.normals(n)
        drift = (mu - 0.5 * vol * vol) * h
        sig = vol * math.sqrt(h)
        prices = np.array([s0 * math.exp(drift + sig * x) for x in z], dtype=np.float64)
    else:
        method = "Advanced Multi-Driver"
        sds = {"gp": f["gp_growth_sd"], "marg": f["margin_boost_sd"], "mult": f["multiple_sd"],
               "macro": f["macro_shock_sd"], "bear": f["bear_skew_factor"]}
        if n > 0:
            for name, sd in sds.items():
                if not math.isfinite(sd):
                    raise ValueError(f"{name} normal: BadVariance (standard deviation must be "
                                     f"finite, got {_fmt(sd)})")
        z = rng.normals(5 * n).reshape(n, 5) if n else np.empty((0, 5))
        prices = np.empty(n, dtype=np.float64)
        for i in range(n):
            gp = f["gp_growth_mean"] + sds["gp"] * z[i, 0]
            marg = f["margin_boost_mean"] + sds["marg"] * z[i, 1]
            mult = min(max(f["multiple_mean"] + sds["mult"] * z[i, 2], 16.0), 28.0)
            macro = f["macro_shock_mean"] + sds["macro"] * z[i, 3]
            skew = 0.0 + sds["bear"] * z[i, 4]
            total = 0.8 * gp + 2.0 * marg + 0.6 * (mult / 20.0 - 1.0) + (macro - abs(skew))
            prices[i] = s0 * math.exp(total * h)
    summary = _summary(ticker, method, prices.tolist(), s0, h, f["hurdle_rate"],
                       f["bull_price"], f["bear_price"], n, native=True)
    return MonteCarloResult(ticker=ticker, method=method, horizon_years=h, current_price=s0,
                            terminal_prices=prices, summary=summary)


# ---------------------------------------------------------------------------
# pure-Python paths (numpy Generator or random.Random)
# ---------------------------------------------------------------------------

def _draw(rng, mu: float, sigma: float) -> float:
    """One N(mu, sigma) draw; no draw is consumed when sigma == 0 (reference)."""
    if sigma == 0.0:
        return mu
    if isinstance(rng, random.Random):
        return rng.gauss(mu, sigma)
    return float(rng.normal(mu, sigma))


def _python_prices(version, rng, n, s0, h, f):
    if version == "simple":
        mu, vol = f["expected_annual_return"], f["annual_vol"]
        drift = (mu - 0.5 * vol ** 2) * h
        if isinstance(rng, random.Random):
            if n <= 0:
                raise ValueError("Invalid GBM parameters")
            sig = vol * math.sqrt(h)
            return [s0 * math.exp(drift + sig * _draw(rng, 0.0, 1.0)) for _ in range(n)], \
                "Simple GBM"
        diffusion = vol * np.sqrt(h) * rng.standard_normal(n)
        return (s0 * np.exp(drift + diffusion)).tolist(), "Simple GBM"
    method = "Advanced Multi-Driver"
    if isinstance(rng, random.Random):
        if n <= 0:
            raise ValueError("Invalid price/horizon")
        prices = []
        for _ in range(n):
            gp = _draw(rng, f["gp_growth_mean"], f["gp_growth_sd"])
            marg = _draw(rng, f["margin_boost_mean"], f["margin_boost_sd"])
            mult = max(16.0, min(28.0, _draw(rng, f["multiple_mean"], f["multiple_sd"])))
            shock = _draw(rng, f["macro_shock_mean"], f["macro_shock_sd"]) - abs(
                _draw(rng, 0.0, f["bear_skew_factor"]))
            total = (gp * 0.8) + (marg * 2.0) + ((mult / 20.0 - 1.0) * 0.6) + shock
            prices.append(s0 * math.exp(total * h))
        return prices, method
    gp = rng.normal(f["gp_growth_mean"], f["gp_growth_sd"], n)
    marg = rng.normal(f["margin_boost_mean"], f["margin_boost_sd"], n)
    mult = np.clip(rng.normal(f["multiple_mean"], f["multiple_sd"], n), 16.0, 28.0)
    macro = rng.normal(f["macro_shock_mean"], f["macro_shock_sd"], n)
    skew = rng.normal(0.0, f["bear_skew_factor"], n)
    prices = []
    for i in range(n):
        shock = float(macro[i] - abs(skew[i]))
        total = (float(gp[i]) * 0.8) + (float(marg[i]) * 2.0) + \
            ((float(mult[i]) / 20.0 - 1.0) * 0.6) + shock
        prices.append(s0 * math.exp(total * h))
    return prices, method


def _python_mc(ticker, current_price, version, n_paths, horizon, rng, kw, bear_quirk):
    if not isinstance(ticker, str):
        raise TypeError(f"ticker must be a str, got {type(ticker).__name__}")
    f = _floats(current_price=current_price, horizon=horizon, **kw)
    _validate(f["current_price"], n_paths, f["horizon"], f["annual_vol"])
    prices, method = _python_prices(version, rng, int(n_paths), f["current_price"],
                                    f["horizon"], f)
    summary = _summary(ticker, method, prices, f["current_price"], f["horizon"],
                       f["hurdle_rate"], f["bull_price"], f["bear_price"], int(n_paths),
                       native=False, bear_quirk=bear_quirk)
    return MonteCarloResult(ticker=ticker, method=method, horizon_years=f["horizon"],
                            current_price=f["current_price"], terminal_prices=prices,
                            summary=summary)


def _as_generator(seed):
    if isinstance(seed, (np.random.Generator, random.Random)):
        return seed
    return np.random.default_rng(seed)


def monte_carlo_stock_valuation_parity(ticker, current_price, *, version="advanced",
                                       n_paths=5000, horizon=1.0, seed=42,
                                       expected_annual_return=0.18, annual_vol=0.38,
                                       gp_growth_mean=0.16, gp_growth_sd=0.06,
                                       margin_boost_mean=0.02, margin_boost_sd=0.03,
                                       multiple_mean=22.0, multiple_sd=3.5,
                                       macro_shock_mean=-0.03, macro_shock_sd=0.11,
                                       bear_skew_factor=0.04, hurdle_rate=0.08, bull_price=None,
                                       bear_price=None):
    """The reference's numpy audit oracle, output for output.

    ``seed`` goes to ``numpy.random.default_rng`` (a ``Generator`` or
    ``random.Random`` is used as given); simple GBM draws
    ``standard_normal(n)``, the advanced model five batched ``normal`` calls
    (gp, marg, mult, macro, skew).  The summary keeps the reference's Python
    conventions, including its ``pct_below_bear = round(1 - prob*100, 1)``.
    """
    kw = dict(expected_annual_return=expected_annual_return, annual_vol=annual_vol,
              gp_growth_mean=gp_growth_mean, gp_growth_sd=gp_growth_sd,
              margin_boost_mean=margin_boost_mean, margin_boost_sd=margin_boost_sd,
              multiple_mean=multiple_mean, multiple_sd=multiple_sd,
              macro_shock_mean=macro_shock_mean, macro_shock_sd=macro_shock_sd,
              bear_skew_factor=bear_skew_factor, hurdle_rate=hurdle_rate,
              bull_price=bull_price, bear_price=bear_price)
    return _python_mc(ticker, current_price, version, n_paths, horizon, _as_generator(seed), kw,
                      bear_quirk=True)


def monte_carlo_stock_valuation(ticker, current_price, *, version="advanced", n_paths=5000,
                                horizon=1.0, seed=42, expected_annual_return=0.18,
                                annual_vol=0.38, gp_growth_mean=0.16, gp_growth_sd=0.06,
                                margin_boost_mean=0.02, margin_boost_sd=0.03, multiple_mean=22.0,
                                multiple_sd=3.5, macro_shock_mean=-0.03, macro_shock_sd=0.11,
                                bear_skew_factor=0.04, hurdle_rate=0.08, bull_price=None,
                                bear_price=None):
    """Simulate terminal prices and summarise them.

    Dispatch: environment variable ``MC_AUDIT_MODE=1`` -> the parity oracle;
    an int seed or ``None`` -> the native ChaCha20 stream
    (:func:`monte_carlo_stock_valuation_native`); a ``numpy.random.Generator``
    or ``random.Random`` -> the pure-Python path with that generator (with the
    correct ``pct_below_bear``).

    Summary keys: ``ticker, method, n_paths, horizon_years, median_price,
    mean_price, mean_minus_median, pct_above_hurdle, pct_above_bull,
    pct_below_bear, p10, p90, implied_median_annual_return, current_price,
    hurdle_rate`` (prices to 2 dp, percentages to 1 dp, the implied annual
    return ``(median/S0)**(1/h) - 1`` to 4 dp; bull/bear default to
    ``1.10*S0`` and ``0.81*S0``).
    """
    kw = dict(version=version, n_paths=n_paths, horizon=horizon, seed=seed,
              expected_annual_return=expected_annual_return, annual_vol=annual_vol,
              gp_growth_mean=gp_growth_mean, gp_growth_sd=gp_growth_sd,
              margin_boost_mean=margin_boost_mean, margin_boost_sd=margin_boost_sd,
              multiple_mean=multiple_mean, multiple_sd=multiple_sd,
              macro_shock_mean=macro_shock_mean, macro_shock_sd=macro_shock_sd,
              bear_skew_factor=bear_skew_factor, hurdle_rate=hurdle_rate,
              bull_price=bull_price, bear_price=bear_price)
    if os.environ.get("MC_AUDIT_MODE") == "1":
        return monte_carlo_stock_valuation_parity(ticker, current_price, **kw)
    if seed is None or is_int(seed, numpy=True):
        return monte_carlo_stock_valuation_native(ticker, current_price, **kw)
    if not isinstance(seed, (np.random.Generator, random.Random)):
        raise TypeError("seed must be an int, None, a numpy Generator or a random.Random, "
                        f"got {type(seed).__name__}")
    del kw["version"], kw["n_paths"], kw["horizon"], kw["seed"]
    return _python_mc(ticker, current_price, version, n_paths, horizon, seed, kw,
                      bear_quirk=False)


# ---------------------------------------------------------------------------
# helpers of the reference's scenario module: calibration from fundamentals, annualized vol,
# paths from terminal prices, distribution summaries
# ---------------------------------------------------------------------------

def calibrate_from_fundamentals(ticker, *, current_price, hist_vol=None,
                                expected_annual_return=None, gp_growth=None,
                                margin_expansion=None, fwd_multiple=None, macro_drag=None):
    """Model parameters from fundamentals; missing *or falsy* inputs (None, 0)
    fall back to the defaults, as the reference."""
    return {
        "expected_annual_return": expected_annual_return or 0.15,
        "annual_vol": hist_vol or 0.35,
        "gp_growth_mean": gp_growth or 0.12,
        "margin_boost_mean": margin_expansion or 0.01,
        "multiple_mean": fwd_multiple or 20.0,
        "macro_shock_mean": macro_drag or -0.02,
        "gp_growth_sd": 0.06,
        "margin_boost_sd": 0.03,
        "multiple_sd": 3.0,
        "macro_shock_sd": 0.10,
        "bear_skew_factor": 0.04,
    }


def compute_annualized_vol(returns, periods_per_year=252) -> float:
    """Sample std (ddof 1) of the finite returns times ``sqrt(periods_per_year)``;
    0.30 with fewer than 2 finite values."""
    if hasattr(returns, "drop_nulls"):  # polars Series
        values = [float(x) for x in returns.drop_nulls().to_list()]
    elif hasattr(returns, "__array__"):
        values = [float(x) for x in np.asarray(returns, dtype=float).ravel()]
    else:
        values = [float(x) for x in returns]
    arr = [x for x in values if math.isfinite(x)]
    n = len(arr)
    if n < 2:
        return 0.30
    m = sum(arr) / n
    var = sum((x - m) ** 2 for x in arr) / (n - 1)
    return math.sqrt(var) * (periods_per_year ** 0.5)


def terminal_prices_to_log_return_paths(terminal_prices, current_price, n_periods, *, seed=None,
                                        method="linear") -> list[list[float]]:
    """Price paths (despite the reference's name: prices, not log returns)
    from ``current_price`` to each terminal price.

    ``"linear"`` interpolates geometrically, ``exp(ln S0 + i*(ln P - ln S0)/(n-1))``
    (a flat row when a price is not positive); ``"terminal_only"`` is
    ``[S0]*(n-1) + [P]``.  ``seed`` is accepted for compatibility.

    Raises
    ------
    ValueError
        ``n_periods < 1`` or an unknown ``method``.
    """
    if n_periods < 1:
        raise ValueError("n_periods must be >= 1")
    if method not in ("linear", "terminal_only"):
        raise ValueError(f"method must be 'linear' or 'terminal_only', got {method!r}")
    out = []
    for term in terminal_prices:
        if method == "terminal_only":
            out.append([current_price] * (n_periods - 1) + [term])
        elif current_price <= 0 or term <= 0:
            out.append([current_price] * n_periods)
        else:
            log0 = math.log(current_price)
            step = (math.log(term) - log0) / max(1, n_periods - 1)
            out.append([math.exp(log0 + i * step) for i in range(n_periods)])
    return out


def summarize_distribution(prices, current_price) -> dict:
    """``{"median", "mean", "p05", "p95", "prob_above_current",
    "prob_above_10pct"}`` (empty input: zeros, without ``prob_above_10pct``)."""
    xs = [float(p) for p in prices]
    if not xs:
        return {"median": 0.0, "mean": 0.0, "p05": 0.0, "p95": 0.0, "prob_above_current": 0.0}
    return {
        "median": _median(xs),
        "mean": _mean(xs),
        "p05": _percentile(xs, 0.05),
        "p95": _percentile(xs, 0.95),
        "prob_above_current": _prob_above(xs, current_price),
        "prob_above_10pct": _prob_above(xs, current_price * 1.10),
    }
