"""Argument conversion shared by the analytics functions.

The reference package (nanobook 0.19) converts arguments the way PyO3 does: a
float sequence accepts any non-string sequence of real numbers, a period is an
unsigned integer, and the error messages are fixed.  We reproduce those
messages, and add the numpy/pandas round trip: a list in gives a list out, a
numpy array in gives an array out, a pandas Series in gives a Series (same
index and name) out.

Only numpy is imported at module level; pandas is recognised by duck typing
so that ``import nanobook`` never pulls it in.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ._kernels import list_to_f64

_U64_MAX = (1 << 64) - 1
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1


def _is_pandas_series(x) -> bool:
    t = type(x)
    return t.__name__ == "Series" and t.__module__.startswith("pandas")


def _is_pandas_frame(x) -> bool:
    t = type(x)
    return t.__name__ == "DataFrame" and t.__module__.startswith("pandas")


def _real_type_error(v) -> TypeError:
    return TypeError(f"must be real number, not {type(v).__name__}")


def as_float(v, name: str = "value") -> float:
    """Convert a scalar the way PyO3 converts an ``f64`` argument."""
    if isinstance(v, (float, int, np.floating, np.integer, np.bool_)):
        return float(v)
    if isinstance(v, numbers.Real):
        return float(v)
    raise _real_type_error(v)


def as_uint(v, name: str = "value") -> int:
    """Convert a scalar the way PyO3 converts a ``usize`` argument."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        iv = int(v)
        if iv < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if iv > _U64_MAX:
            raise OverflowError("int too big to convert")
        return iv
    if hasattr(v, "__index__") and not isinstance(v, (float, np.floating)):
        return as_uint(v.__index__(), name)
    raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")


def as_int(v, name: str = "value") -> int:
    """Convert a scalar the way PyO3 converts an ``i64`` argument."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        iv = int(v)
        if iv < _I64_MIN or iv > _I64_MAX:
            raise OverflowError("Python int too large to convert to C long")
        return iv
    raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")


def float_vector(x, name: str = "values") -> np.ndarray:
    """Return a contiguous float64 copy-or-view of a 1-D sequence.

    Accepts lists, tuples, numpy arrays and pandas Series (any sequence that
    is not a ``str``); every element must be a real number.

    Raises
    ------
    TypeError
        With the reference's messages for ``None``, ``str``, ``dict`` and
        non-real elements.
    """
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"{name} must be 1-dimensional, got an array of shape {x.shape}")
        if x.dtype.kind in "fiub":
            return np.ascontiguousarray(x, dtype=np.float64)
        return _convert_elements(list(x))
    if _is_pandas_series(x):
        return float_vector(x.to_numpy(), name)
    if isinstance(x, (list, tuple)):
        if not x:
            return np.empty(0, dtype=np.float64)
        if type(x) is list:
            fast = list_to_f64(x)  # floats and exact ints: one C pass
            if fast is not None:
                return fast
        try:
            arr = np.array(x)
        except (ValueError, TypeError):
            return _convert_elements(x)
        if arr.ndim == 1 and arr.dtype.kind in "fiub":
            return arr.astype(np.float64, copy=False)
        return _convert_elements(x)
    if isinstance(x, str):
        raise TypeError("Can't extract `str` to `Vec`")
    if x is None:
        raise TypeError("'None' is not an instance of 'Sequence'")
    if isinstance(x, dict) or not isinstance(x, Sequence):
        if hasattr(x, "__array__") and not isinstance(x, dict):
            return float_vector(np.asarray(x), name)
        raise TypeError(f"'{type(x).__name__}' object is not an instance of 'Sequence'")
    return _convert_elements(list(x))


def _convert_elements(seq) -> np.ndarray:
    out = np.empty(len(seq), dtype=np.float64)
    for i, v in enumerate(seq):
        out[i] = as_float(v)
    return out


class Shape:
    """Remembers the container type of an input so outputs can match it."""

    __slots__ = ("kind", "index", "name")

    def __init__(self, x):
        if isinstance(x, np.ndarray):
            self.kind = "ndarray"
            self.index = None
            self.name = None
        elif _is_pandas_series(x):
            self.kind = "series"
            self.index = x.index
            self.name = x.name
        else:
            self.kind = "list"
            self.index = None
            self.name = None

    def wrap(self, arr, name=None):
        """Return ``arr`` (an ndarray, or a list a kernel already built) in
        the input's container."""
        if self.kind == "list":
            return arr if type(arr) is list else arr.tolist()
        if self.kind == "ndarray":
            return arr
        import pandas as pd

        return pd.Series(arr, index=self.index, name=self.name if name is None else name)


def frame_columns(x):
    """Return ``(frame, columns)`` if ``x`` is a pandas DataFrame, else ``None``."""
    if _is_pandas_frame(x):
        return x
    return None
