"""Models of the signal: the selective SSM (torch, trained lazily) and the
honest baselines it must beat, with the two scores the reports use.

Every model returns class probabilities ``(n, H, 3)`` (down, flat, up) per
horizon.  Decisions for the balanced accuracy are ``argmax(p / prior)``
with ``prior`` the training-window class frequencies (the Bayes decision
under balanced costs), the same rule for every model, so a model that only
reproduces the prior scores exactly chance (1/3 with three classes present).
"""
from __future__ import annotations

import math

import numpy as np

from ..validate import integer, real
from .dataset import Dataset, forward_labels

__all__ = [
    "log_loss", "balanced_accuracy", "class_prior", "MajorityBaseline", "LogisticBaseline",
    "PersistenceBaseline", "SSMConfig", "train_ssm", "softmax",
]

_EPS = 1e-15


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _valid(y, p):
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    if p.shape != y.shape + (3,):
        raise ValueError(f"probabilities must have shape {y.shape + (3,)}, got {p.shape}")
    return y, p, y >= 0


def log_loss(y, p) -> float:
    """Mean ``-log p[y]`` over labelled samples (``y >= 0``); NaN if none."""
    y, p, ok = _valid(y, p)
    if not ok.any():
        return math.nan
    py = np.take_along_axis(p[ok], y[ok][:, None].astype(np.int64), axis=-1)[:, 0]
    return float(-np.log(np.clip(py, _EPS, 1.0)).mean())


def balanced_accuracy(y, p, prior=None) -> float:
    """Mean per-class recall over the classes present in ``y`` of the
    decisions ``argmax(p / prior)`` (``prior`` default uniform); NaN if no label."""
    y, p, ok = _valid(y, p)
    if not ok.any():
        return math.nan
    w = np.ones(3) if prior is None else 1.0 / np.maximum(np.asarray(prior, dtype=np.float64), _EPS)
    pred = np.argmax(p[ok] * w, axis=-1)
    yy = y[ok]
    return float(np.mean([np.mean(pred[yy == c] == c) for c in range(3) if (yy == c).any()]))


def class_prior(y) -> np.ndarray:
    """Class frequencies of labelled samples with add-one smoothing."""
    y = np.asarray(y)
    return (np.bincount(y[y >= 0].astype(np.int64), minlength=3)[:3] + 1.0) / ((y >= 0).sum() + 3.0)


class MajorityBaseline:
    """The training prior for every sample (its decision: the majority class)."""

    name = "majority"

    def fit(self, ds: Dataset, train) -> "MajorityBaseline":
        self.prior = np.stack([class_prior(ds.labels[train, j]) for j in range(len(ds.horizons))])
        return self

    def predict(self, ds: Dataset, idx) -> np.ndarray:
        return np.broadcast_to(self.prior, (len(idx),) + self.prior.shape).copy()


class PersistenceBaseline:
    """The last move persists: for horizon ``k`` the class of the past move
    ``mid[i] - mid[i - k]`` (flat for ``i < k``), turned into probabilities
    by the training frequencies of each label given that class (add-one)."""

    name = "persistence"

    def _past(self, ds: Dataset) -> np.ndarray:
        fwd = forward_labels(ds.mid[::-1], ds.horizons, ds.band)[::-1]   # class of mid[i-k] - mid[i]
        past = np.where(fwd >= 0, 2 - fwd, 1)                             # flip: mid[i] - mid[i-k]
        return past.astype(np.int64)

    def fit(self, ds: Dataset, train) -> "PersistenceBaseline":
        past = self._past(ds)[train]
        y = ds.labels[train]
        H = len(ds.horizons)
        self.table = np.ones((H, 3, 3))
        for j in range(H):
            ok = y[:, j] >= 0
            np.add.at(self.table[j], (past[ok, j], y[ok, j].astype(np.int64)), 1.0)
        self.table /= self.table.sum(axis=-1, keepdims=True)
        return self

    def predict(self, ds: Dataset, idx) -> np.ndarray:
        past = self._past(ds)[idx]
        return np.stack([self.table[j][past[:, j]] for j in range(len(ds.horizons))], axis=1)


class LogisticBaseline:
    """Multinomial logistic regression per horizon on the same normalised
    features (the features at ``i`` only, no history), L2 penalty
    ``l2 * ||W||^2 / 2`` per sample, fitted by L-BFGS (scipy)."""

    name = "logistic"

    def __init__(self, l2: float = 1e-3) -> None:
        self.l2 = float(l2)

    def fit(self, ds: Dataset, train) -> "LogisticBaseline":
        from scipy.optimize import minimize

        from .dataset import Normalizer

        self.norm = Normalizer.fit(ds.X[train])
        Z = self.norm(ds.X[train])
        n, F = Z.shape
        Zb = np.hstack([Z, np.ones((n, 1))])
        self.coef = []
        for j in range(len(ds.horizons)):
            y = ds.labels[train, j]
            ok = y >= 0
            A, yy = Zb[ok], y[ok].astype(np.int64)
            Y = np.eye(3)[yy]
            m = max(len(yy), 1)

            def f(w, A=A, Y=Y, m=m):
                W = w.reshape(F + 1, 3)
                P = softmax(A @ W)
                loss = -np.sum(Y * np.log(np.clip(P, _EPS, 1))) / m + 0.5 * self.l2 * np.sum(W[:-1] ** 2)
                G = A.T @ (P - Y) / m
                G[:-1] += self.l2 * W[:-1]
                return loss, G.ravel()

            res = minimize(f, np.zeros((F + 1) * 3), jac=True, method="L-BFGS-B",
                           options={"maxiter": 500})
            self.coef.append(res.x.reshape(F + 1, 3))
        return self

    def predict(self, ds: Dataset, idx) -> np.ndarray:
        Z = self.norm(ds.X[idx])
        Zb = np.hstack([Z, np.ones((len(Z), 1))])
        return np.stack([softmax(Zb @ W) for W in self.coef], axis=1)


class SSMConfig:
    """Size and training schedule of the selective SSM (see ``docs/signals.md``);
    keyword arguments only."""

    def __init__(self, *, d_model: int = 32, d_state: int = 8, expand: int = 2, d_conv: int = 4,
                 dt_rank: int = 4, epochs: int = 20, chunk: int = 32, batch: int = 16,
                 lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0, val_frac: float = 0.2) -> None:
        for name, v, lo in (("d_model", d_model, 1), ("d_state", d_state, 1), ("expand", expand, 1),
                            ("d_conv", d_conv, 1), ("dt_rank", dt_rank, 1), ("epochs", epochs, 1),
                            ("chunk", chunk, 1), ("batch", batch, 1)):
            integer(v, name, ge=lo)
        for name, v in (("lr", lr), ("weight_decay", weight_decay)):
            real(v, name, ge=0, finite=True)
        self.d_model, self.d_state, self.expand, self.d_conv, self.dt_rank = d_model, d_state, expand, d_conv, dt_rank
        self.epochs, self.chunk, self.batch, self.lr, self.weight_decay = epochs, chunk, batch, lr, weight_decay
        real(val_frac, "val_frac", ge=0, lt=1)
        self.seed, self.val_frac = seed, float(val_frac)

    def to_dict(self) -> dict:
        return dict(vars(self))


def train_ssm(ds: Dataset, train, config: SSMConfig | None = None, *, progress: bool = True,
              desc: str = "ssm"):
    """Train the SSM on the contiguous training rows ``train`` of ``ds``
    (normaliser fitted on those rows only).  Needs torch (the ``ml`` extra).

    With ``config.val_frac > 0`` the last part of ``train`` is a validation
    tail (the fitting rows are purged so that none of their labels reaches
    it) and the epoch with the lowest validation log loss is kept (early
    stopping; the validation rows are run by the streaming step from the
    first sample, as in use).

    Returns the torch module (:class:`nanobook.signals._torch_ssm.SelectiveSSM`).
    """
    try:
        from ._torch_ssm import train_ssm as _train
    except ImportError as exc:   # pragma: no cover - depends on the install
        raise ImportError("training the SSM needs torch: pip install 'nanobook[ml]' "
                          "(pip install torch==2.13.0 for the CPU build)") from exc
    from .dataset import Normalizer

    train = np.asarray(train, dtype=np.int64)
    if train.size == 0:
        raise ValueError("train must select at least one sample")
    if not (np.diff(train) == 1).all():
        raise ValueError("train must be one contiguous run of samples (the SSM learns from sequences)")
    cfg = config or SSMConfig()
    c = cfg.to_dict()
    val_frac = c.pop("val_frac")
    fit, val = train, train[:0]
    if val_frac > 0:
        v0 = int(train[0]) + int(round(len(train) * (1 - val_frac)))
        fit = train[train + max(ds.horizons) < v0]
        val = train[train >= v0]
        if len(fit) < 2 * cfg.chunk or len(val) == 0:
            fit, val = train, train[:0]          # too short to hold out a validation tail
    norm = Normalizer.fit(ds.X[fit])
    val_loss = None
    if len(val):
        from ._step import SSMStep

        def val_loss(model):
            step = SSMStep(model.step_weights())
            p = softmax(step.run(ds.X[: int(val[-1]) + 1])[val])
            return np.nanmean([log_loss(ds.labels[val, j], p[:, j]) for j in range(len(ds.horizons))])
    return _train(ds.X[fit], ds.labels[fit], norm.mean, norm.std, progress=progress, desc=desc,
                  val_loss=val_loss, **c)
