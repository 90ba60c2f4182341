"""Number formatting of the risk engine's detail strings, as the reference
(nanobook 0.19, written in Rust) prints them, so the details agree with it."""
from __future__ import annotations

import math


def rust_display(x: float) -> str:
    """Format a float as Rust's ``{}`` does: no exponent, integral values bare."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    from decimal import Decimal

    s = format(Decimal(repr(x)), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("", "-"):
        s += "0"
    return s


def fixed(x: float, digits: int) -> str:
    """Rust ``{:.N}``: fixed point, ``inf``/``-inf``/``NaN`` spelled as Rust does."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format(x, f".{digits}f")
