"""Argument conversion shared by the risk engine and the brokers.

The messages reproduce the reference package's (PyO3) wording so callers that
match on it keep working; where the reference names no parameter we append
``(name=value)`` so the caller can see which argument was wrong.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1

_SIDES = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell"}


def _index(v, name: str) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if hasattr(v, "__index__") and not isinstance(v, (float, str)):
        try:
            return int(v.__index__())
        except TypeError:
            pass
    raise TypeError(
        f"'{type(v).__name__}' object cannot be interpreted as an integer ({name}={v!r})"
    )


def as_u64(v, name: str) -> int:
    """Convert to an unsigned 64-bit integer (quantities, ids)."""
    x = _index(v, name)
    if x < 0:
        raise OverflowError(f"can't convert negative int to unsigned ({name}={x})")
    if x > U64_MAX:
        raise OverflowError(f"int too big to convert ({name}={x})")
    return x


def as_i64(v, name: str) -> int:
    """Convert to a signed 64-bit integer (prices, cash, cents)."""
    x = _index(v, name)
    if x < I64_MIN or x > I64_MAX:
        raise OverflowError(f"Python int too large to convert to C long ({name}={x})")
    return x


def as_price(v, name: str) -> int:
    """A price in cents: a signed 64-bit integer that is positive.  Zero and
    negative prices are invalid input everywhere in risk (a notional, a
    position value or a collar computed from them means nothing)."""
    x = as_i64(v, name)
    if x <= 0:
        raise ValueError(f"{name} must be positive, got {x}")
    return x


def as_weight(v, name: str) -> float:
    """A target weight: a finite real number (NaN is not 0 %, inf is no weight)."""
    x = as_float(v, name)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def as_float(v, name: str) -> float:
    """Convert to float (accepts int, bool, numpy floats)."""
    if isinstance(v, (numbers.Real,)) and not isinstance(v, complex):
        return float(v)
    raise TypeError(f"must be real number, not {type(v).__name__} ({name}={v!r})")


def as_bool(v, name: str) -> bool:
    """Accept only a real boolean (``bool`` or ``numpy.bool_``)."""
    if isinstance(v, bool):
        return v
    if type(v).__name__ == "bool_":
        return bool(v)
    raise TypeError(f"'{type(v).__name__}' object is not an instance of 'bool' ({name}={v!r})")


def as_str(v, name: str) -> str:
    if not isinstance(v, str):
        raise TypeError(f"'{v!r}' is not an instance of 'str' ({name})")
    return v


def as_symbol(v, name: str = "symbol") -> str:
    """A symbol: any ``str`` whose UTF-8 encoding is at most 8 bytes."""
    s = as_str(v, name)
    if len(s.encode("utf-8")) > 8:
        raise ValueError(f"Symbol '{s}' exceeds 8 bytes. Use a shorter symbol.")
    return s


def as_side(v, name: str = "side") -> str:
    """``'buy'``/``'b'``/``'sell'``/``'s'`` in any case -> ``'buy'`` or ``'sell'``."""
    s = as_str(v, name)
    side = _SIDES.get(s.lower())
    if side is None:
        raise ValueError(f"Invalid side '{s}'. Use 'buy' or 'sell'.")
    return side


def as_sequence(v, name: str) -> Sequence:
    if v is None:
        raise TypeError(f"'None' is not an instance of 'Sequence' ({name})")
    if isinstance(v, str):
        raise TypeError(f"Can't extract `str` to `Vec` ({name})")
    if isinstance(v, (dict,)) or not (isinstance(v, Sequence) or hasattr(v, "__array__")):
        raise TypeError(f"'{type(v).__name__}' object is not an instance of 'Sequence' ({name})")
    return list(v)


def as_tuple(v, n: int, name: str) -> tuple:
    if not isinstance(v, tuple):
        raise TypeError(f"'{type(v).__name__}' object is not an instance of 'tuple' ({name})")
    if len(v) != n:
        raise ValueError(f"expected tuple of length {n}, but got tuple of length {len(v)} ({name})")
    return v


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
