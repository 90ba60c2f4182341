"""Portfolio optimizers (docs/analytics.md, "Portfolio optimizers"), solved to the true optimum.

The reference runs a fixed budget of projected-gradient (min-variance,
max-Sharpe) or multiplicative (risk parity) steps and stops wherever it is;
its min-variance weights are typically 0.1-0.5 away from the optimum.  We
keep its names, signatures, input rules and return shape (``{symbol:
weight}``, ``{}`` for invalid input, ``{sym: 1.0}`` for one column) and its
problem definitions (sample covariance plus the ridge ``1e-6 * trace / N``),
but solve each problem to optimality:

* a convex program is solved with cvxpy (CLARABEL, tight tolerances, the
  covariance rescaled to unit average variance);
* the solution is then *polished*: the active set cvxpy found is solved
  exactly by linear algebra (KKT system), the KKT conditions are checked,
  and the polished point is kept only if it passes (risk parity: Newton
  steps on Spinu's first-order condition instead).

``inverse_cvar_weights``, ``inverse_cdar_weights`` and ``optimize_hrp`` are
closed-form recipes and follow the reference exactly (HRP with scipy's
single-linkage clustering).

Beyond the reference, :func:`optimize_portfolio` takes one small
constraint vocabulary (:class:`Constraints`): per-asset bounds (shorts when
the lower bound is negative), budget, gross leverage, a target return or
volatility, a turnover limit and a linear turnover penalty against current
weights, for the objectives ``min_variance``, ``max_sharpe``, ``min_cvar``,
``min_cdar`` and ``risk_parity``.

cvxpy and scipy are imported inside the functions.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._convert import as_float

__all__ = [
    "optimize_min_variance", "optimize_max_sharpe", "optimize_risk_parity",
    "inverse_cvar_weights", "inverse_cdar_weights", "optimize_hrp",
    "optimize_portfolio", "Constraints", "OptimizationError",
    "py_optimize_min_variance", "py_optimize_max_sharpe", "py_optimize_risk_parity",
    "py_inverse_cvar_weights", "py_inverse_cdar_weights", "py_optimize_hrp",
]


class OptimizationError(ValueError):
    """The requested portfolio problem is infeasible or the solver failed."""


# ---------------------------------------------------------------------------
# input handling (reference rules)
# ---------------------------------------------------------------------------

def _symbols(symbols) -> list[str]:
    if isinstance(symbols, str) or not isinstance(symbols, (Sequence, np.ndarray)):
        raise TypeError(f"symbols must be a sequence of str, got {type(symbols).__name__}")
    out = []
    for s in symbols:
        if not isinstance(s, str):
            raise TypeError(f"symbols must be a sequence of str, got an element {s!r}")
        if s.strip():
            out.append(s)
    return out


def _matrix(returns_matrix, strict: bool = False) -> np.ndarray | None:
    """T x N float matrix, or None when the reference would return ``{}``
    (``strict``: a non-finite value raises ``ValueError`` instead)."""
    labels = None
    if _is_frame(returns_matrix):
        labels = list(returns_matrix.columns)
        try:
            returns_matrix = returns_matrix.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("returns_matrix must contain real numbers; a DataFrame column "
                            "is not numeric") from None
    if isinstance(returns_matrix, np.ndarray):
        m = returns_matrix.astype(np.float64, copy=False)
        if m.ndim != 2:
            return None
    else:
        if isinstance(returns_matrix, (str, Mapping)) or returns_matrix is None:
            raise TypeError("returns_matrix must be a sequence of rows or a 2-D array, "
                            f"got {type(returns_matrix).__name__}")
        rows = list(returns_matrix)
        if not rows:
            return None
        width = None
        for r in rows:
            if isinstance(r, (str, Mapping)) or not hasattr(r, "__len__"):
                raise TypeError(f"returns_matrix rows must be sequences, got {type(r).__name__}")
            if width is None:
                width = len(r)
            elif len(r) != width:
                return None
        try:
            m = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("returns_matrix must contain real numbers") from None
    if strict and m.size:
        _check_finite(m, labels=labels)
    if m.shape[0] < 2 or m.shape[1] == 0 or not np.all(np.isfinite(m)):
        return None
    return m


def _prepare(returns_matrix, symbols, strict: bool = False):
    """Return ``(R, syms, early)``; ``early`` is the result when not None.

    ``strict`` (the pandas-native public names) raises ``ValueError`` on a
    non-finite value or a symbol count that does not match the columns;
    otherwise (the reference's ``py_*`` names) both give ``{}`` as in 0.19.
    Empty, single-row and ragged matrices give ``{}`` either way (the
    reference's rule, pinned by the conformance corpus).
    """
    if symbols is None and _is_frame(returns_matrix):
        symbols = [str(c) for c in returns_matrix.columns]
    if symbols is None:
        raise TypeError("symbols is required unless returns_matrix is a pandas DataFrame")
    syms = _symbols(symbols)
    m = _matrix(returns_matrix, strict)
    if m is None:
        return None, syms, {}
    if len(syms) != m.shape[1]:
        if strict:
            raise ValueError(f"symbols has {len(syms)} non-blank names but returns_matrix has "
                             f"{m.shape[1]} columns")
        return None, syms, {}
    if m.shape[1] == 1:
        return m, syms, {syms[0]: 1.0}
    return m, syms, None


def _is_frame(x) -> bool:
    return hasattr(x, "columns") and hasattr(x, "to_numpy") and hasattr(x, "index")


def _check_finite(m: np.ndarray, name: str = "returns_matrix", labels=None) -> None:
    """``ValueError`` naming the first NaN/inf cell (row, column) of ``m``."""
    bad = ~np.isfinite(m)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        col = f"column {labels[j]!r}" if labels is not None else f"column {j}"
        raise ValueError(f"{name} must be finite: {int(bad.sum())} NaN/inf value(s), the first "
                         f"{float(m[i, j])!r} at row {i}, {col} (drop or fill them first, e.g. "
                         "df.dropna())")


def _output(weights, returns_matrix, symbols_given):
    """A pandas ``Series`` (index: the columns, name ``"weight"``) when the input
    was a DataFrame, else the reference's ``{symbol: weight}`` dict."""
    if not _is_frame(returns_matrix):
        return weights
    import pandas as pd

    if symbols_given is None:
        labels = list(returns_matrix.columns)
        by_str = dict(zip((str(c) for c in labels), labels))
        index = [by_str[k] for k in weights]
    else:
        index = list(weights)
    return pd.Series(list(weights.values()), index=pd.Index(index, dtype=object), name="weight",
                     dtype=np.float64)


def _check_ridge(ridge) -> float | None:
    """``ridge`` as a finite float >= 0 (or None), else ``ValueError`` naming it."""
    if ridge is None:
        return None
    r = as_float(ridge, "ridge")
    if not (math.isfinite(r) and r >= 0.0):
        raise ValueError(f"ridge must be a finite number >= 0, got {ridge!r}")
    return r


def _covariance(m: np.ndarray, ridge: float | None = None) -> np.ndarray:
    """Sample covariance (ddof 1) plus the reference's ridge on the diagonal."""
    c = np.cov(m, rowvar=False, ddof=1)
    n = c.shape[0]
    if ridge is None:
        tr = float(np.trace(c))
        ridge = 1e-6 * tr / n if (math.isfinite(tr) and tr > 0.0) else 1e-10
    return c + ridge * np.eye(n)


def _as_dict(syms, w) -> dict:
    return {s: float(x) for s, x in zip(syms, w)}


def _clean_simplex(w: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    w = np.where(w > tol, w, 0.0)
    s = w.sum()
    return w / s if s > 0 else np.full(w.shape[0], 1.0 / w.shape[0])


# ---------------------------------------------------------------------------
# cvxpy helpers
# ---------------------------------------------------------------------------

_CLARABEL_TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12,
                   "tol_ktratio": 1e-10, "max_iter": 500}


def _solve(problem) -> None:
    import warnings

    import cvxpy as cp

    with warnings.catch_warnings():
        # "optimal_inaccurate" at 1e-12 tolerances is still far inside what the
        # polishing step needs; the status check below rejects real failures.
        warnings.simplefilter("ignore", UserWarning)
        try:
            problem.solve(solver=cp.CLARABEL, **_CLARABEL_TIGHT)
        except cp.error.SolverError:
            problem.solve(solver=cp.SCS, eps=1e-10, max_iters=200000)
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise OptimizationError(f"portfolio problem is {problem.status}")


def _scaled(c: np.ndarray) -> tuple[np.ndarray, float]:
    s = c.shape[0] / float(np.trace(c))
    return c * s, s


def _psd_wrap(c):
    import cvxpy as cp

    return cp.psd_wrap(0.5 * (c + c.T))


# ---------------------------------------------------------------------------
# exact polishing on an active set
# ---------------------------------------------------------------------------

def _polish_min_variance(c: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Exact long-only min-variance point on the support of ``w0`` (KKT-checked)."""
    n = c.shape[0]
    for tol in (1e-7, 1e-9, 1e-5):
        s = w0 > tol
        if not s.any():
            continue
        cs = c[np.ix_(s, s)]
        try:
            x = np.linalg.solve(cs, np.ones(s.sum()))
        except np.linalg.LinAlgError:
            continue
        ws = x / x.sum()
        if np.any(ws <= 0):
            continue
        w = np.zeros(n)
        w[s] = ws
        g = c @ w
        nu = float(g[s].mean())
        if np.all(g[~s] >= nu * (1 - 1e-9)):
            return w
    return _clean_simplex(w0)


def _polish_max_sharpe(c: np.ndarray, a: np.ndarray, y0: np.ndarray) -> np.ndarray:
    n = c.shape[0]
    scale = y0.max() if y0.max() > 0 else 1.0
    for tol in (1e-7, 1e-9, 1e-5):
        s = y0 > tol * scale
        if not s.any():
            continue
        cs = c[np.ix_(s, s)]
        try:
            x = np.linalg.solve(cs, a[s])
        except np.linalg.LinAlgError:
            continue
        if np.any(x <= 0):
            continue
        y = np.zeros(n)
        y[s] = x / float(a[s] @ x)
        g = c @ y
        lam = 1.0 / float(a[s] @ x)
        if np.all(g[~s] - lam * a[~s] >= -1e-12 * max(1.0, abs(lam))):
            return y / y.sum()
    return _clean_simplex(y0)


def _newton_risk_parity(c: np.ndarray, y: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Newton steps on ``C y = b / y`` (Spinu); returns normalised weights."""
    y = np.maximum(y, 1e-12)
    for _ in range(50):
        f = c @ y - budgets / y
        j = c + np.diag(budgets / (y * y))
        step = np.linalg.solve(j, f)
        t = 1.0
        while np.any(y - t * step <= 0):
            t *= 0.5
        y = y - t * step
        if np.max(np.abs(step)) <= 1e-16 * max(1.0, np.max(np.abs(y))):
            break
    return y / y.sum()


# ---------------------------------------------------------------------------
# reference-compatible optimizers
# ---------------------------------------------------------------------------

def _min_variance_weights(c: np.ndarray) -> np.ndarray:
    import cvxpy as cp

    cs, _ = _scaled(c)
    n = c.shape[0]
    w = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(cp.quad_form(w, _psd_wrap(cs))), [cp.sum(w) == 1, w >= 0])
    _solve(prob)
    return _polish_min_variance(cs, np.asarray(w.value, dtype=float))


def optimize_min_variance(returns_matrix, symbols=None):
    """Long-only minimum-variance weights ``argmin w'Cw, sum w = 1, w >= 0``.

    ``C`` is the sample covariance (ddof 1) plus ``1e-6 * trace(C) / N`` on the
    diagonal.  Solved to optimality (cvxpy, then an exact KKT solve on the
    active set); the reference's 350 projected-gradient steps stop short.

    Returns
    -------
    dict
        ``{symbol: weight}`` in input order, weights >= 0 summing to 1;
        ``{}`` for an invalid matrix (fewer than 2 rows, no column, ragged
        rows, a non-finite value) or a symbol count that does not match the
        columns (blank symbols are dropped first); ``{sym: 1.0}`` for one
        column.
    """
    return _output(_min_variance(returns_matrix, symbols, True), returns_matrix, symbols)


def _min_variance(returns_matrix, symbols, strict):
    m, syms, early = _prepare(returns_matrix, symbols, strict)
    if early is not None:
        return early
    return _as_dict(syms, _min_variance_weights(_covariance(m)))


def _max_sharpe_weights(c: np.ndarray, mu: np.ndarray, rf: float) -> np.ndarray:
    import cvxpy as cp

    a = mu - rf
    if not np.any(a > 0):
        return _min_variance_weights(c)
    cs, k = _scaled(c)
    n = c.shape[0]
    y = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(cp.quad_form(y, _psd_wrap(cs))), [a @ y == 1, y >= 0])
    _solve(prob)
    return _polish_max_sharpe(cs, a, np.asarray(y.value, dtype=float))


def optimize_max_sharpe(returns_matrix, symbols=None, risk_free=0.0):
    """Long-only maximum-Sharpe weights (per-period means, ``risk_free`` per period).

    Solved as ``min y'Cy, (mu - rf)'y = 1, y >= 0`` and ``w = y / sum(y)``;
    when no asset has a positive excess mean, the min-variance weights (as the
    reference).  Same input rules and return shape as
    :func:`optimize_min_variance`.
    """
    return _output(_max_sharpe(returns_matrix, symbols, risk_free, True), returns_matrix, symbols)


def _max_sharpe(returns_matrix, symbols, risk_free, strict):
    rf = as_float(risk_free, "risk_free")
    if strict and not math.isfinite(rf):
        raise ValueError(f"risk_free must be finite, got {rf!r}")
    m, syms, early = _prepare(returns_matrix, symbols, strict)
    if early is not None:
        return early
    return _as_dict(syms, _max_sharpe_weights(_covariance(m), m.mean(axis=0), rf))


def _risk_parity_weights(c: np.ndarray, budgets: np.ndarray | None = None) -> np.ndarray:
    import cvxpy as cp

    n = c.shape[0]
    b = np.full(n, 1.0 / n) if budgets is None else budgets / budgets.sum()
    cs, _ = _scaled(c)
    y = cp.Variable(n, pos=True)
    prob = cp.Problem(cp.Minimize(0.5 * cp.quad_form(y, _psd_wrap(cs)) - b @ cp.log(y)))
    try:
        _solve(prob)
        y0 = np.asarray(y.value, dtype=float)
    except OptimizationError:
        y0 = 1.0 / np.sqrt(np.diag(cs))
    return _newton_risk_parity(cs, y0, b)


def optimize_risk_parity(returns_matrix, symbols=None):
    """Long-only equal-risk-contribution weights: ``w_i (Cw)_i = w'Cw / N``.

    Solved through Spinu's convex program ``min y'Cy/2 - sum(log y)/N`` with
    cvxpy and polished by Newton steps.  Same input rules and return shape as
    :func:`optimize_min_variance`.
    """
    return _output(_risk_parity(returns_matrix, symbols, True), returns_matrix, symbols)


def _risk_parity(returns_matrix, symbols, strict):
    m, syms, early = _prepare(returns_matrix, symbols, strict)
    if early is not None:
        return early
    return _as_dict(syms, _risk_parity_weights(_covariance(m)))


def _tail_count(alpha: float, t: int) -> int:
    """``clamp(ceil((1 - alpha) * T), 1, T)`` in binary floating point."""
    k = math.ceil((1.0 - alpha) * float(t))
    return int(min(max(k, 1), t))


def _inverse_weights(risk: np.ndarray) -> np.ndarray:
    inv = 1.0 / np.maximum(risk, 1e-8)
    return inv / inv.sum()


def _clamp_alpha(alpha) -> float:
    a = as_float(alpha, "alpha")
    if math.isnan(a):
        raise ValueError(f"alpha must be a number in [0.5, 0.999], got {a}")
    return min(max(a, 0.5), 0.999)


def inverse_cvar_weights(returns_matrix, symbols=None, alpha=0.95):
    """Weights proportional to ``1 / CVaR_alpha`` of each asset.

    Per asset: the mean of its ``clamp(ceil((1-alpha)*T), 1, T)`` largest
    losses ``max(-r, 0)``, floored at 1e-8 (``alpha`` clamped to
    ``[0.5, 0.999]``).  Closed form, as the reference.
    """
    return _output(_inverse_cvar(returns_matrix, symbols, alpha, True), returns_matrix, symbols)


def _inverse_cvar(returns_matrix, symbols, alpha, strict):
    a = _clamp_alpha(alpha)
    m, syms, early = _prepare(returns_matrix, symbols, strict)
    if early is not None:
        return early
    k = _tail_count(a, m.shape[0])
    losses = np.maximum(-m, 0.0)
    tail = -np.sort(-losses, axis=0)[:k]
    return _as_dict(syms, _inverse_weights(tail.mean(axis=0)))


def _drawdowns(m: np.ndarray) -> np.ndarray:
    """Drawdown of each asset's compounded curve (growth factors >= 1e-9)."""
    g = np.maximum(1.0 + m, 1e-9)
    eq = np.cumprod(g, axis=0)
    peak = np.maximum.accumulate(np.vstack([np.ones((1, m.shape[1])), eq]), axis=0)[1:]
    return (peak - eq) / peak


def inverse_cdar_weights(returns_matrix, symbols=None, alpha=0.95):
    """Weights proportional to ``1 / CDaR_alpha`` of each asset: the mean of
    the largest ``clamp(ceil((1-alpha)*T), 1, T)`` drawdowns of its
    compounded curve, floored at 1e-8.  Closed form, as the reference."""
    return _output(_inverse_cdar(returns_matrix, symbols, alpha, True), returns_matrix, symbols)


def _inverse_cdar(returns_matrix, symbols, alpha, strict):
    a = _clamp_alpha(alpha)
    m, syms, early = _prepare(returns_matrix, symbols, strict)
    if early is not None:
        return early
    k = _tail_count(a, m.shape[0])
    dd = _drawdowns(m)
    tail = -np.sort(-dd, axis=0)[:k]
    return _as_dict(syms, _inverse_weights(tail.mean(axis=0)))


# ---------------------------------------------------------------------------
# HRP
# ---------------------------------------------------------------------------

def _hrp_order(raw_cov: np.ndarray, linkage: str, is_corr: bool = False) -> list[int]:
    from scipy.cluster.hierarchy import leaves_list
    from scipy.cluster.hierarchy import linkage as _linkage
    from scipy.spatial.distance import squareform

    if is_corr:
        corr = raw_cov.copy()
    else:
        sd = np.sqrt(np.diag(raw_cov))
        den = np.outer(sd, sd)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(den > 1e-12, raw_cov / den, 0.0)
    np.fill_diagonal(corr, 1.0)
    dist = np.sqrt(np.clip(0.5 * (1.0 - corr), 0.0, None))
    np.fill_diagonal(dist, 0.0)
    z = _linkage(squareform(dist, checks=False), method=linkage)
    return [int(i) for i in leaves_list(z)]


def _hrp_bisect(c: np.ndarray, order: list[int], lb: np.ndarray | None = None,
                ub: np.ndarray | None = None) -> np.ndarray:
    """Recursive bisection; with box bounds ``lb <= w <= ub`` the split factor of
    each cluster is clipped to the interval that keeps both halves' total
    weight within the sums of their bounds (so every leaf ends in its box
    whenever ``sum(lb) <= 1 <= sum(ub)``; without bounds: the classic HRP)."""
    w = np.ones(c.shape[0])
    stack = [order]
    while stack:
        items = stack.pop()
        if len(items) < 2:
            continue
        half = len(items) // 2
        left, right = items[:half], items[half:]
        vl = _cluster_var(c, left)
        vr = _cluster_var(c, right)
        alpha = 1.0 - vl / (vl + vr)
        if lb is not None:
            total = w[items[0]]  # every member carries the cluster's weight so far
            lo = max(lb[left].sum() / total, 1.0 - ub[right].sum() / total)
            hi = min(ub[left].sum() / total, 1.0 - lb[right].sum() / total)
            alpha = min(max(alpha, lo), hi)
        w[left] *= alpha
        w[right] *= 1.0 - alpha
        stack.append(left)
        stack.append(right)
    return w / w.sum()


def _cluster_var(c: np.ndarray, idx: list[int]) -> float:
    sub = c[np.ix_(idx, idx)]
    ivp = 1.0 / np.diag(sub)
    ivp /= ivp.sum()
    return float(ivp @ sub @ ivp)


def optimize_hrp(returns_matrix, symbols=None, *, linkage="single", ridge=None, covariance=None,
                 correlation=None):
    """Hierarchical risk parity (Lopez de Prado).

    Correlation from the raw sample covariance, distance
    ``sqrt((1 - rho) / 2)``, scipy's hierarchical clustering (single linkage
    by default, as the reference), leaves in dendrogram order, then recursive
    bisection with inverse-variance cluster weights on the ridged covariance.

    Parameters
    ----------
    linkage : str, keyword-only
        Any scipy linkage method (``"single"``, ``"ward"``, ``"average"`` ...).
    ridge : float, keyword-only
        Diagonal ridge for the bisection covariance; default the reference's
        ``1e-6 * trace / N`` (0 reproduces PyPortfolioOpt / Riskfolio).
    covariance : N x N array, keyword-only
        Use this covariance instead of the sample covariance of
        ``returns_matrix`` (which may then be ``None``), e.g. a pairwise
        covariance of series with different histories.
    correlation : N x N array, keyword-only
        Use this correlation for the clustering distance instead of the one
        implied by the covariance (PyPortfolioOpt uses pandas' pairwise
        ``corr()`` next to its pairwise ``cov()``).
    """
    return _output(_hrp(returns_matrix, symbols, linkage, ridge, covariance, correlation, True),
                   returns_matrix, symbols)


def _hrp(returns_matrix, symbols, linkage, ridge, covariance, correlation, strict,
         lb=None, ub=None):
    ridge = _check_ridge(ridge)
    if covariance is not None:
        if symbols is None and _is_frame(covariance):
            symbols = [str(c) for c in covariance.columns]
        syms = _symbols(symbols)
        raw = np.asarray(covariance, dtype=float)
        n = len(syms)
        if raw.shape != (n, n) or not np.all(np.isfinite(raw)):
            raise ValueError(f"covariance must be a finite {n} x {n} matrix, got shape {raw.shape}")
        if n == 1:
            return {syms[0]: 1.0}
        c = raw + (0.0 if ridge is None else float(ridge)) * np.eye(n)
    else:
        m, syms, early = _prepare(returns_matrix, symbols, strict)
        if early is not None:
            return early
        raw = np.cov(m, rowvar=False, ddof=1)
        c = _covariance(m, ridge)
    if correlation is not None:
        corr = np.asarray(correlation, dtype=float)
        if corr.shape != c.shape or not np.all(np.isfinite(corr)):
            raise ValueError(f"correlation must be a finite {c.shape[0]} x {c.shape[0]} matrix, "
                             f"got shape {corr.shape}")
        order = _hrp_order(corr, linkage, is_corr=True)
    else:
        order = _hrp_order(raw, linkage)
    return _as_dict(syms, _hrp_bisect(c, order, lb, ub))


# ---------------------------------------------------------------------------
# general optimizer with a constraint vocabulary
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Constraints:
    """Constraint vocabulary for :func:`optimize_portfolio`.

    Attributes
    ----------
    min_weight, max_weight : float, sequence or mapping
        Per-asset bounds (a scalar applies to all; a mapping is by symbol).
        A negative ``min_weight`` allows short positions.  Defaults 0 and 1
        (long-only).
    budget : float
        Sum of weights (net exposure), default 1.
    leverage : float, optional
        Gross exposure limit ``sum |w| <= leverage``.
    target_return : float, optional
        Minimum expected return per period ``mu'w >= target_return``.
    target_volatility : float, optional
        Maximum volatility per period ``sqrt(w'Cw) <= target_volatility``.
    current_weights : sequence or mapping, optional
        Weights held now (missing symbols are 0); needed by the two turnover
        options.
    max_turnover : float, optional
        ``sum |w - current| <= max_turnover``.
    turnover_penalty : float
        Adds ``turnover_penalty * sum |w - current|`` to the objective
        (objective units: per-period variance, CVaR or CDaR).
    """

    min_weight: object = 0.0
    max_weight: object = 1.0
    budget: float = 1.0
    leverage: float | None = None
    target_return: float | None = None
    target_volatility: float | None = None
    current_weights: object = None
    max_turnover: float | None = None
    turnover_penalty: float = 0.0

    def __post_init__(self):
        for name in ("budget", "turnover_penalty"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
        if self.turnover_penalty < 0:
            raise ValueError(f"turnover_penalty must be >= 0, got {self.turnover_penalty}")
        for name in ("leverage", "target_volatility", "max_turnover"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.target_return is not None and not math.isfinite(self.target_return):
            raise ValueError(f"target_return must be finite, got {self.target_return!r}")
        if (self.max_turnover is not None or self.turnover_penalty > 0) and \
                self.current_weights is None:
            raise ValueError("current_weights is required with max_turnover or turnover_penalty")

    def vector(self, value, syms, name) -> np.ndarray:
        n = len(syms)
        if isinstance(value, Mapping):
            unknown = set(value) - set(syms)
            if unknown:
                raise ValueError(f"{name} names unknown symbols {sorted(unknown)}")
            default = 0.0 if name == "current_weights" else (0.0 if name == "min_weight" else 1.0)
            v = np.array([float(value.get(s, default)) for s in syms])
        elif np.isscalar(value):
            v = np.full(n, float(value))
        else:
            v = np.asarray(value, dtype=float)
            if v.shape != (n,):
                raise ValueError(f"{name} must have {n} entries, got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite, got {v.tolist()}")
        return v


_OBJECTIVES = ("min_variance", "max_sharpe", "min_cvar", "min_cdar", "risk_parity", "hrp")


def optimize_portfolio(returns_matrix=None, symbols=None, *, objective="min_variance",
                       constraints=None, risk_free=0.0, alpha=0.95, expected_returns=None,
                       covariance=None, ridge=None, budgets=None, linkage="single"):
    """Optimise portfolio weights under a :class:`Constraints` set.

    Parameters
    ----------
    returns_matrix : T x N sequence of rows, 2-D array or DataFrame, optional
        Per-period returns (needed for ``min_cvar``/``min_cdar`` and unless
        ``expected_returns`` and ``covariance`` are both given).
    symbols : sequence of str
        Column names (a DataFrame's columns are used when omitted).
    objective : {"min_variance", "max_sharpe", "min_cvar", "min_cdar", "risk_parity", "hrp"}
        ``min_cvar``: Rockafellar-Uryasev CVaR of the portfolio loss at level
        ``alpha``; ``min_cdar``: conditional drawdown at risk of the
        cumulative (uncompounded) portfolio return (Chekhlov-Uryasev-
        Zabarankin); ``risk_parity``: risk budgets ``budgets`` (equal by
        default, long-only only); ``hrp``: hierarchical risk parity
        (:func:`optimize_hrp`, ``linkage`` clustering) with the box bounds
        ``min_weight``/``max_weight`` (long-only, fully invested): each
        bisection's split is clipped so both halves stay within the sums of
        their members' bounds.
    constraints : Constraints, optional
        Default: long-only, fully invested.
    risk_free : float
        Per-period risk-free rate for ``max_sharpe``.
    alpha : float
        Confidence level for CVaR/CDaR, in (0, 1).
    expected_returns, covariance : optional
        Use these instead of the sample mean and the (ridged) sample
        covariance.
    ridge : float, optional
        Diagonal ridge on the sample covariance; default ``1e-6*trace/N`` (the
        reference's), 0 for the plain sample covariance.
    budgets : sequence of float, optional
        Risk budgets for ``risk_parity``.
    linkage : str
        scipy linkage method for ``hrp`` (default ``"single"``).

    Returns
    -------
    dict or pandas.Series
        ``{symbol: weight}``; a ``Series`` indexed by the columns (name
        ``"weight"``) when ``returns_matrix`` is a DataFrame.

    Raises
    ------
    ValueError
        Unknown objective, bad shapes or values, NaN/inf anywhere in the
        inputs (message names the parameter).
    OptimizationError
        Infeasible constraints or solver failure.
    """
    return _output(_optimize_portfolio(returns_matrix, symbols, objective=objective,
                                       constraints=constraints, risk_free=risk_free, alpha=alpha,
                                       expected_returns=expected_returns, covariance=covariance,
                                       ridge=ridge, budgets=budgets, linkage=linkage),
                   returns_matrix, symbols)


def _optimize_portfolio(returns_matrix, symbols, *, objective, constraints, risk_free, alpha,
                        expected_returns, covariance, ridge, budgets, linkage):
    ridge = _check_ridge(ridge)
    if objective not in _OBJECTIVES:
        raise ValueError(f"objective must be one of {_OBJECTIVES}, got {objective!r}")
    cons = constraints if constraints is not None else Constraints()
    if not isinstance(cons, Constraints):
        raise TypeError(f"constraints must be a Constraints, got {type(cons).__name__}")
    if symbols is None and hasattr(returns_matrix, "columns"):
        symbols = [str(c) for c in returns_matrix.columns]
    if symbols is None:
        raise ValueError("symbols is required")
    syms = _symbols(symbols)
    n = len(syms)
    m = None
    if returns_matrix is not None:
        m = _matrix(returns_matrix, strict=True)
        if m is None:
            raise ValueError("returns_matrix must be a finite T x N matrix with T >= 2 and "
                             "equal-length rows")
        if m.shape[1] != n:
            raise ValueError(f"returns_matrix has {m.shape[1]} columns but {n} symbols")
    if objective in ("min_cvar", "min_cdar") and m is None:
        raise ValueError(f"objective {objective!r} needs returns_matrix")
    a_lvl = as_float(alpha, "alpha")
    if not 0.0 < a_lvl < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {a_lvl}")
    rf = as_float(risk_free, "risk_free")
    if not math.isfinite(rf):
        raise ValueError(f"risk_free must be finite, got {rf!r}")
    if covariance is not None:
        c = np.asarray(covariance, dtype=float)
        if c.shape != (n, n) or not np.all(np.isfinite(c)):
            raise ValueError(f"covariance must be a finite {n} x {n} matrix, got shape {c.shape}")
        c = 0.5 * (c + c.T)
    elif m is not None:
        c = _covariance(m, ridge)
    else:
        raise ValueError("give returns_matrix or covariance")
    if expected_returns is not None:
        mu = cons.vector(expected_returns if not isinstance(expected_returns, Mapping)
                         else [expected_returns[s] for s in syms], syms, "expected_returns")
    elif m is not None:
        mu = m.mean(axis=0)
    else:
        mu = None
    if (objective == "max_sharpe" or cons.target_return is not None) and mu is None:
        raise ValueError("expected_returns (or returns_matrix) is required for "
                         "max_sharpe / target_return")

    lb = cons.vector(cons.min_weight, syms, "min_weight")
    ub = cons.vector(cons.max_weight, syms, "max_weight")
    if np.any(lb > ub):
        raise ValueError(f"min_weight must not exceed max_weight, got {lb.tolist()} > {ub.tolist()}")
    w0 = None if cons.current_weights is None else cons.vector(
        cons.current_weights, syms, "current_weights")

    if objective == "hrp":
        if np.any(lb < 0) or cons.leverage is not None or cons.target_return is not None \
                or cons.max_turnover is not None or cons.turnover_penalty or \
                cons.target_volatility is not None or cons.budget != 1.0:
            raise ValueError("hrp supports only box bounds (min_weight >= 0, max_weight) with a "
                             "fully invested budget of 1")
        if lb.sum() > 1.0 + 1e-12 or ub.sum() < 1.0 - 1e-12:
            raise OptimizationError(f"hrp: bounds are infeasible: sum(min_weight)={lb.sum():g}, "
                                    f"sum(max_weight)={ub.sum():g} must bracket 1")
        if n == 1:
            return {syms[0]: 1.0}
        # clustering on the raw sample covariance, bisection on the ridged one
        # (as optimize_hrp); a given covariance serves both
        raw = c if m is None else np.cov(m, rowvar=False, ddof=1)
        return _as_dict(syms, _hrp_bisect(c, _hrp_order(raw, linkage), lb, ub))

    import cvxpy as cp

    if objective == "risk_parity":
        if np.any(lb < 0) or cons.leverage is not None or cons.target_return is not None \
                or cons.max_turnover is not None or cons.turnover_penalty or \
                cons.target_volatility is not None or cons.budget != 1.0 or np.any(ub < 1.0):
            raise ValueError("risk_parity supports only the default long-only, fully "
                             "invested constraints")
        b = None if budgets is None else np.asarray(budgets, dtype=float)
        if b is not None and (b.shape != (n,) or np.any(b <= 0) or not np.all(np.isfinite(b))):
            raise ValueError(f"budgets must be {n} positive numbers, got {budgets!r}")
        return _as_dict(syms, _risk_parity_weights(c, b))

    cs, k = _scaled(c)
    w = cp.Variable(n)
    kappa = None
    if objective == "max_sharpe":
        # homogenised problem: y = kappa * w, maximise Sharpe via min y'Cy, a'y = 1
        if cons.turnover_penalty or cons.max_turnover is not None or \
                cons.target_volatility is not None:
            raise ValueError("max_sharpe supports bounds, budget, leverage and target_return "
                             "(turnover and target_volatility make it non-homogeneous)")
        if cons.budget <= 0:
            raise ValueError(f"max_sharpe needs a positive budget, got {cons.budget}")
        kappa = cp.Variable(nonneg=True)
        a = mu - rf
        cst = [a @ w == 1, cp.sum(w) == cons.budget * kappa, w >= lb * kappa, w <= ub * kappa]
        if cons.leverage is not None:
            cst.append(cp.norm1(w) <= cons.leverage * kappa)
        if cons.target_return is not None:
            cst.append(mu @ w >= cons.target_return * kappa)
        prob = cp.Problem(cp.Minimize(cp.quad_form(w, _psd_wrap(cs))), cst)
        _solve(prob)
        kv = float(kappa.value)
        if kv <= 0:
            raise OptimizationError("max_sharpe: no portfolio with positive excess return")
        return _as_dict(syms, np.asarray(w.value, dtype=float) / kv)

    cst = [cp.sum(w) == cons.budget, w >= lb, w <= ub]
    if cons.leverage is not None:
        cst.append(cp.norm1(w) <= cons.leverage)
    if cons.target_return is not None:
        cst.append(mu @ w >= cons.target_return)
    if cons.target_volatility is not None:
        cst.append(cp.quad_form(w, _psd_wrap(cs)) <= cons.target_volatility ** 2 * k)
    if cons.max_turnover is not None:
        cst.append(cp.norm1(w - w0) <= cons.max_turnover)
    penalty = 0
    if objective == "min_variance":
        risk = cp.quad_form(w, _psd_wrap(cs))
        if cons.turnover_penalty:
            penalty = cons.turnover_penalty * k * cp.norm1(w - w0)
    else:
        t = m.shape[0]
        zeta = cp.Variable()
        u = cp.Variable(t, nonneg=True)
        scale = 1.0 / ((1.0 - a_lvl) * t)
        if objective == "min_cvar":
            cst.append(u >= -(m @ w) - zeta)
        else:
            cum = cp.cumsum(m @ w)
            hw = cp.Variable(t)  # running high-water mark of the cumulative return
            cst += [hw >= cum, hw[1:] >= hw[:-1], hw >= 0, u >= hw - cum - zeta]
        risk = zeta + scale * cp.sum(u)
        if cons.turnover_penalty:
            penalty = cons.turnover_penalty * cp.norm1(w - w0)
    prob = cp.Problem(cp.Minimize(risk + penalty), cst)
    _solve(prob)
    wv = np.asarray(w.value, dtype=float)
    if objective == "min_variance" and np.all(lb == 0) and np.all(ub >= 1) and \
            cons.budget == 1.0 and len(cst) == 3 and not cons.turnover_penalty:
        wv = _polish_min_variance(cs, wv)
    return _as_dict(syms, wv)


# ---------------------------------------------------------------------------
# the reference's py_* names: its list API and its rules, exactly
# ---------------------------------------------------------------------------

def py_optimize_min_variance(returns_matrix, symbols):
    """The reference's call: :func:`optimize_min_variance` returning a ``dict``,
    ``{}`` (not an error) for a non-finite value or a symbol count mismatch."""
    return _min_variance(returns_matrix, symbols, False)


def py_optimize_max_sharpe(returns_matrix, symbols, risk_free=0.0):
    """The reference's call of :func:`optimize_max_sharpe` (see :func:`py_optimize_min_variance`)."""
    return _max_sharpe(returns_matrix, symbols, risk_free, False)


def py_optimize_risk_parity(returns_matrix, symbols):
    """The reference's call of :func:`optimize_risk_parity` (see :func:`py_optimize_min_variance`)."""
    return _risk_parity(returns_matrix, symbols, False)


def py_inverse_cvar_weights(returns_matrix, symbols, alpha=0.95):
    """The reference's call of :func:`inverse_cvar_weights` (see :func:`py_optimize_min_variance`)."""
    return _inverse_cvar(returns_matrix, symbols, alpha, False)


def py_inverse_cdar_weights(returns_matrix, symbols, alpha=0.95):
    """The reference's call of :func:`inverse_cdar_weights` (see :func:`py_optimize_min_variance`)."""
    return _inverse_cdar(returns_matrix, symbols, alpha, False)


def py_optimize_hrp(returns_matrix, symbols):
    """The reference's call of :func:`optimize_hrp` (see :func:`py_optimize_min_variance`)."""
    return _hrp(returns_matrix, symbols, "single", None, None, None, False)
