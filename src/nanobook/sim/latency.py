"""Latency models: one distribution of one delay, in integer nanoseconds.

A simulation takes three of them: ``entry_latency`` (local send -> the order
or cancel reaches the matching engine), ``response_latency`` (an event at the
matching engine -> its ack/fill/cancel report reaches the strategy) and
``feed_latency`` (a market-data event at the exchange -> the strategy sees
it).  An ``int`` anywhere a model is expected means :class:`ConstantLatency`.

The set of models is closed: each class is a tag (``_kind``, a LATENCY_*
code of ``nanobook/sim/dtypes.py``) plus its parameters, which the compiled
event loop copies into a C struct and samples without the GIL for every
order, cancel and report; a Python ``sample()`` method would take the GIL on
that path.  A new distribution is a new tag and a new branch of
``lat_sample`` in ``nanobook/sim/_core.pyx``, not a subclass.
"""
from __future__ import annotations

import math

import numpy as np

from ..validate import integer, is_int, real
from .dtypes import LATENCY_CONSTANT, LATENCY_LOGNORMAL, LATENCY_SERIES, LATENCY_UNIFORM

__all__ = ["ConstantLatency", "SeriesLatency", "LogNormalLatency", "UniformLatency", "as_latency"]


class ConstantLatency:
    """The same delay every time.

    Parameters
    ----------
    value : int
        Nanoseconds, >= 0.
    """

    _kind = LATENCY_CONSTANT

    def __init__(self, value: int) -> None:
        integer(value, "value", ge=0, numpy=True, expect="an int >= 0 (nanoseconds)")
        self.value = int(value)

    def __repr__(self) -> str:
        return f"ConstantLatency({self.value})"

    def max_ns(self) -> float:
        """The largest delay this model can give."""
        return self.value


class SeriesLatency:
    """A recorded latency series, linearly interpolated in time.

    ``latency(t)`` is the straight line between the two recorded points
    around ``t`` (rounded to the nanosecond), the first value before the
    series and the last value after it — the usual way of replaying measured
    order round trips (half of each as entry and response latency).

    Parameters
    ----------
    ts : array of int
        Times (ns, same clock as the market data), strictly increasing.
    values : array of int
        Latency at each time (ns, >= 0).
    """

    _kind = LATENCY_SERIES

    def __init__(self, ts, values) -> None:
        t = np.asarray(ts)
        v = np.asarray(values)
        if t.ndim != 1 or len(t) == 0:
            raise ValueError(f"ts must be a non-empty 1-d array, got shape {t.shape}")
        if v.shape != t.shape:
            raise ValueError(f"values must have the shape of ts {t.shape}, got {v.shape}")
        for name, a in (("ts", t), ("values", v)):
            if a.dtype.kind == "f":
                if not np.isfinite(a).all():
                    i = int(np.flatnonzero(~np.isfinite(a))[0])
                    raise ValueError(f"{name} must be finite, got {float(a[i])} at index {i}")
                if (a != np.round(a)).any():
                    i = int(np.flatnonzero(a != np.round(a))[0])
                    raise ValueError(f"{name} must hold whole nanoseconds, got {float(a[i])} at index {i}")
            elif a.dtype.kind not in "iu":
                raise ValueError(f"{name} must be an integer array, got dtype {a.dtype}")
        t = t.astype(np.int64)
        v = v.astype(np.int64)
        if len(t) > 1 and (np.diff(t) <= 0).any():
            i = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
            raise ValueError(f"ts must be strictly increasing, got {t[i - 1]} then {t[i]} at index {i}")
        if (v < 0).any():
            i = int(np.flatnonzero(v < 0)[0])
            raise ValueError(f"values must be >= 0, got {v[i]} at index {i}")
        self.ts = np.ascontiguousarray(t)
        self.values = np.ascontiguousarray(v)

    def __repr__(self) -> str:
        return f"SeriesLatency(<{len(self.ts)} points>)"

    def max_ns(self) -> float:
        """The largest delay this model can give (interpolation stays between points)."""
        return int(self.values.max())


class LogNormalLatency:
    """Seeded random delays ``median * exp(sigma * Z)``, Z standard normal.

    Network round trips are right-skewed with a hard floor; the log-normal is
    the customary fit.  Draws come from a splitmix64 generator seeded with
    ``seed`` (Box-Muller for Z), so a seed gives the same run everywhere.

    Parameters
    ----------
    median : int
        Median delay (ns, > 0).
    sigma : float
        Log-scale standard deviation (>= 0; 0 is a constant).
    seed : int
        Seed in [0, 2**64).
    """

    _kind = LATENCY_LOGNORMAL

    def __init__(self, median: int, sigma: float = 0.5, seed: int = 0) -> None:
        integer(median, "median", gt=0, numpy=True, expect="an int > 0 (nanoseconds)")
        real(sigma, "sigma", ge=0, finite=True)
        integer(seed, "seed", ge=0, lt=2**64, numpy=True, expect="an int in [0, 2**64)")
        self.median = float(median)
        self.sigma = float(sigma)
        self.seed = int(seed)

    def __repr__(self) -> str:
        return f"LogNormalLatency({int(self.median)}, sigma={self.sigma}, seed={self.seed})"

    def max_ns(self) -> float:
        """The largest delay this model can give: Box-Muller on 53-bit uniforms
        gives ``|Z| <= sqrt(-2 ln 2**-53) = 8.58``."""
        return self.median * math.exp(self.sigma * 8.58)


class UniformLatency:
    """Seeded random delays, an integer drawn uniformly in ``[low, high]``
    (both included) — a base latency with a symmetric jitter,
    ``UniformLatency(L - j, L + j)``.  Draws come from a splitmix64 stream
    seeded with ``seed`` (the modulo bias is below 2**-40 for any range
    under 2**24 ns).

    Parameters
    ----------
    low, high : int
        Bounds in ns, ``0 <= low <= high``.
    seed : int
        Seed in [0, 2**64).
    """

    _kind = LATENCY_UNIFORM

    def __init__(self, low: int, high: int, seed: int = 0) -> None:
        for name, v in (("low", low), ("high", high)):
            integer(v, name, ge=0, numpy=True, expect="an int >= 0 (nanoseconds)")
        if high < low:
            raise ValueError(f"high must be >= low, got low={low!r}, high={high!r}")
        integer(seed, "seed", ge=0, lt=2**64, numpy=True, expect="an int in [0, 2**64)")
        self.low, self.high, self.seed = int(low), int(high), int(seed)

    def __repr__(self) -> str:
        return f"UniformLatency({self.low}, {self.high}, seed={self.seed})"

    def max_ns(self) -> float:
        """The largest delay this model can give."""
        return self.high


def as_latency(x, name: str):
    """A latency model from a model or an int (constant); ``name`` is used in errors."""
    if isinstance(x, (ConstantLatency, SeriesLatency, LogNormalLatency, UniformLatency)):
        return x
    if not is_int(x, numpy=True):
        raise TypeError(f"{name} must be an int (ns) or a latency model, got {x!r}")
    if x < 0:
        raise ValueError(f"{name} must be >= 0 nanoseconds, got {x}")
    return ConstantLatency(int(x))
