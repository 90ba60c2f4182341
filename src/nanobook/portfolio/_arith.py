"""Integer and float helpers reproducing the reference's Rust arithmetic
(``docs/portfolio.md``, "Units and arithmetic").

* integer division of signed values truncates toward zero;
* float -> int conversion truncates toward zero and saturates at the i64 range
  (NaN -> 0);
* ``round`` is half away from zero;
* 128-bit intermediates are exact here (Python ints) and clamped to i64.
"""
from __future__ import annotations

import math

I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)
MICRO = 1_000_000


def clamp(x: int) -> int:
    """Saturate a Python int to the i64 range."""
    if x > I64_MAX:
        return I64_MAX
    if x < I64_MIN:
        return I64_MIN
    return x


def tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero (Rust ``/`` on signed ints)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def f2i(x: float) -> int:
    """Rust ``x as i64``: truncation toward zero, saturating, NaN -> 0."""
    if x != x:
        return 0
    if x >= 9.223372036854775807e18:
        return I64_MAX
    if x <= -9.223372036854775808e18:
        return I64_MIN
    return int(x)


def round_half_away(x: float) -> float:
    """Rust ``f64::round``: nearest integer, halves away from zero."""
    if not math.isfinite(x):
        return x
    t = float(math.trunc(x))
    if abs(x - t) >= 0.5:  # x - t is exact for doubles
        t += math.copysign(1.0, x)
    return t


def mul_div_trunc(q: int, p: int) -> int:
    """``trunc(q * p / 1e6)`` in exact arithmetic, clamped to i64."""
    return clamp(tdiv(q * p, MICRO))


def sat_add(a: int, b: int) -> int:
    return clamp(a + b)


def sat_sub(a: int, b: int) -> int:
    return clamp(a - b)
