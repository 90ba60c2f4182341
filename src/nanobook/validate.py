"""Argument validation for every layer: one vocabulary for "what is an int".

Small functions that each check one thing, name the parameter and the value
in the message, and return the converted value (in the spirit of
NautilusTrader's ``Condition``).  Every Python entry point of nanobook and of
the packages above it (risk, brokers, rebalancer) validates its arguments
with these; the compiled
order book keeps its own checks on the hot path, pinned to the same limits by
the tests.

Two families:

* **House checks** -- :func:`is_int`, :func:`is_real` (predicates),
  :func:`integer`, :func:`real`, :func:`symbol`.  A ``bool`` is never a
  number here (``True`` is not a quantity), NaN never passes a bound, and the
  message reads ``"<name> must be <expected>, got <value!r>"``; ``expect``
  replaces the generated ``<expected>`` words when a caller states its unit or
  limit differently, and ``error`` keeps the exception type a caller has
  always raised (``ValueError`` by default).
* **Reference conversions** -- ``as_u64``, ``as_i64``, ``as_price``,
  ``as_float``, ``as_weight``, ``as_bool``, ``as_str``, ``as_symbol``,
  ``as_side``, ``as_sequence``, ``as_tuple``.  They reproduce the wording of
  the reference package (nanobook 0.19, whose arguments are converted by
  PyO3), so code that matches on those messages keeps working, and append
  ``(name=value)`` where the reference names no parameter.  Unlike the house
  checks they accept a ``bool`` where the reference does (PyO3 reads ``True``
  as 1).  Used by the risk engine and the brokers.

See ``docs/validate.md``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "SYMBOL_MAX_BYTES", "I64_MIN", "I64_MAX", "U64_MAX",
    "is_int", "is_real", "integer", "real", "symbol",
    "as_u64", "as_i64", "as_price", "as_float", "as_weight", "as_bool", "as_str",
    "as_symbol", "as_side", "as_sequence", "as_tuple",
]

#: Longest symbol, in UTF-8 bytes (the order book stores symbols in 8 bytes).
SYMBOL_MAX_BYTES = 8
I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1

_INT = (int,)
_INT_NP = (int, np.integer)
_REAL = (int, float)
_REAL_NP = (int, float, np.integer, np.floating)


# --------------------------------------------------------------------------- house checks


def is_int(v: Any, *, numpy: bool = False) -> bool:
    """True for an ``int`` that is not a ``bool`` (and for a numpy integer
    scalar when ``numpy``)."""
    return not isinstance(v, bool) and isinstance(v, _INT_NP if numpy else _INT)


def is_real(v: Any, *, numpy: bool = False) -> bool:
    """True for an ``int`` or ``float`` that is not a ``bool`` (and for numpy
    integer and floating scalars when ``numpy``; ``numpy.float64`` is a
    ``float`` either way)."""
    return not isinstance(v, bool) and isinstance(v, _REAL_NP if numpy else _REAL)


def _bounds(ge, gt, le, lt) -> str:
    """The bound words of a message: ``>= 1``, ``in [0, 18]``, ``in (0, 1]``."""
    lo, lo_sym = (ge, "[") if ge is not None else (gt, "(")
    hi, hi_sym = (le, "]") if le is not None else (lt, ")")
    if lo is not None and hi is not None:
        return f" in {lo_sym}{lo}, {hi}{hi_sym}"
    if lo is not None:
        return f" {'>=' if ge is not None else '>'} {lo}"
    if hi is not None:
        return f" {'<=' if le is not None else '<'} {hi}"
    return ""


def integer(v: Any, name: str, *, ge=None, gt=None, le=None, lt=None, numpy: bool = False,
            expect: str | None = None, error: type[Exception] = ValueError) -> int:
    """``v`` as an ``int``: an ``int`` that is not a ``bool`` (a numpy integer
    too when ``numpy``) within the given bounds (``ge``: >=, ``gt``: >,
    ``le``: <=, ``lt``: <).

    Raises ``error`` (``ValueError`` unless told) with
    ``"<name> must be <expect>, got <v!r>"``; ``expect`` defaults to
    ``"an int"`` followed by the bounds (``an int >= 1``, ``an int in [1, 100]``).
    """
    # written out (no helper calls): Sim.submit checks its price and quantity here
    if ((type(v) is int or (not isinstance(v, bool) and isinstance(v, _INT_NP if numpy else _INT)))
            and (ge is None or v >= ge) and (gt is None or v > gt) and (le is None or v <= le)
            and (lt is None or v < lt)):
        return int(v)
    raise error(f"{name} must be {expect or 'an int' + _bounds(ge, gt, le, lt)}, got {v!r}")


def real(v: Any, name: str, *, ge=None, gt=None, le=None, lt=None, finite: bool = False,
         numpy: bool = False, expect: str | None = None,
         error: type[Exception] = ValueError) -> float:
    """``v`` as a ``float``: an ``int`` or ``float`` that is not a ``bool``
    (numpy scalars too when ``numpy``) within the given bounds, and not
    infinite when ``finite``.  NaN fails every bound (each is written
    ``v >= ge``, never ``not v < ge``) and ``finite``.

    Raises ``error`` (``ValueError`` unless told) with
    ``"<name> must be <expect>, got <v!r>"``; ``expect`` defaults to
    ``"a number"`` or ``"a finite number"`` followed by the bounds
    (``a finite number >= 0``, ``a number in (0, 1]``).
    """
    if ((type(v) is float or type(v) is int
         or (not isinstance(v, bool) and isinstance(v, _REAL_NP if numpy else _REAL)))
            and (ge is None or v >= ge) and (gt is None or v > gt) and (le is None or v <= le)
            and (lt is None or v < lt) and (not finite or math.isfinite(v))):
        return float(v)
    words = ("a finite number" if finite else "a number") + _bounds(ge, gt, le, lt)
    raise error(f"{name} must be {expect or words}, got {v!r}")


def _too_long(s: str) -> str:
    return f"Symbol '{s}' exceeds {SYMBOL_MAX_BYTES} bytes. Use a shorter symbol."


def symbol(v: Any, name: str = "symbol") -> str:
    """``v`` if it is a ``str`` of at most :data:`SYMBOL_MAX_BYTES` UTF-8
    bytes: ``TypeError`` for another type, ``ValueError`` (the reference's
    wording, ``Symbol '...' exceeds 8 bytes. Use a shorter symbol.``) when too
    long.  The compiled book's check (``nanobook.Exchange``,
    ``MultiExchange``) says the same."""
    if not isinstance(v, str):
        raise TypeError(f"{name} must be a str, got {v!r} ({type(v).__name__})")
    if len(v.encode("utf-8")) > SYMBOL_MAX_BYTES:
        raise ValueError(_too_long(v))
    return v


# --------------------------------------------------------------------------- reference conversions


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
    """Accept only a real boolean: a ``bool`` or a ``numpy.bool_`` (as the
    engine's flags do; an int, even 0 or 1, is refused)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"'{type(v).__name__}' object is not an instance of 'bool' ({name}={v!r})")


def as_str(v, name: str) -> str:
    """``v`` if it is a ``str``, else the reference's ``TypeError``."""
    if not isinstance(v, str):
        raise TypeError(f"'{v!r}' is not an instance of 'str' ({name})")
    return v


def as_symbol(v, name: str = "symbol") -> str:
    """A symbol, with the reference's ``TypeError`` wording for a non-str
    (:func:`symbol` otherwise: at most :data:`SYMBOL_MAX_BYTES` UTF-8 bytes)."""
    s = as_str(v, name)
    if len(s.encode("utf-8")) > SYMBOL_MAX_BYTES:
        raise ValueError(_too_long(s))
    return s


def as_side(v, name: str = "side") -> str:
    """``'buy'``/``'b'``/``'sell'``/``'s'`` in any case -> ``'buy'`` or ``'sell'``."""
    s = as_str(v, name)
    side = _SIDES.get(s.lower())
    if side is None:
        raise ValueError(f"Invalid side '{s}'. Use 'buy' or 'sell'.")
    return side


def as_sequence(v, name: str) -> list:
    """A list of the items of a sequence or array (not a ``str``, ``dict`` or ``None``)."""
    if v is None:
        raise TypeError(f"'None' is not an instance of 'Sequence' ({name})")
    if isinstance(v, str):
        raise TypeError(f"Can't extract `str` to `Vec` ({name})")
    if isinstance(v, (dict,)) or not (isinstance(v, Sequence) or hasattr(v, "__array__")):
        raise TypeError(f"'{type(v).__name__}' object is not an instance of 'Sequence' ({name})")
    return list(v)


def as_tuple(v, n: int, name: str) -> tuple:
    """``v`` if it is a tuple of length ``n``."""
    if not isinstance(v, tuple):
        raise TypeError(f"'{type(v).__name__}' object is not an instance of 'tuple' ({name})")
    if len(v) != n:
        raise ValueError(f"expected tuple of length {n}, but got tuple of length {len(v)} ({name})")
    return v
