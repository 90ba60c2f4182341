"""Numbers printed as the reference (nanobook 0.19, written in Rust) prints them.

Messages, reports and risk details that the reference also produces must read
the same, so every layer formats floats with these two functions:

>>> from nanobook.fmt import display, fixed
>>> display(1.0), display(0.1), display(1e-7), display(1e16), display(-0.0)
('1', '0.1', '0.0000001', '10000000000000000', '-0')
>>> fixed(2.5, 2), fixed(float("inf"), 1), fixed(float("nan"), 3)
('2.50', 'inf', 'NaN')
"""
from __future__ import annotations

import math

__all__ = ["display", "fixed"]


def display(x: float) -> str:
    """Rust's ``{}`` for an f64: the shortest repr, never exponent notation,
    integral values without ``.0``; ``NaN``, ``inf``, ``-inf``, ``-0``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e16:
        return str(int(x)) if x != 0 or math.copysign(1.0, x) > 0 else "-0"
    r = repr(x)
    if "e" in r or "E" in r:
        from decimal import Decimal

        return format(Decimal(r), "f")
    return r


def fixed(x: float, digits: int) -> str:
    """Rust's ``{:.N}``: fixed point with ``digits`` decimals; ``NaN``, ``inf``, ``-inf``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format(x, f".{digits}f")
