"""nanobook.fmt: numbers printed as the reference (Rust) prints them, used by
every layer's messages (portfolio, risk, analytics)."""
from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, strategies as st

from nanobook.fmt import display, fixed


@pytest.mark.parametrize("x, text", [
    (0.0, "0"), (-0.0, "-0"), (1.0, "1"), (-3.0, "-3"), (0.1, "0.1"), (2.5, "2.5"),
    (1e-7, "0.0000001"), (-2.5e-10, "-0.00000000025"),
    (1e16 - 2, "9999999999999998"),   # last integral value below the repr switch
    (1e16, "10000000000000000"),      # at it: repr is '1e+16', still no exponent
    (1.5e16, "15000000000000000"),
    (0.30000000000000004, "0.30000000000000004"),
    (math.nan, "NaN"), (math.inf, "inf"), (-math.inf, "-inf"),
])
def test_display_is_rusts_braces(x, text):
    assert display(x) == text


@given(st.integers(0, 2**64 - 1))
def test_display_round_trips_every_float_without_an_exponent(bits):
    x = struct.unpack("<d", struct.pack("<Q", bits))[0]
    s = display(x)
    assert "e" not in s and "E" not in s
    if math.isnan(x):
        assert s == "NaN"
    else:
        y = float(s)
        assert y == x and math.copysign(1.0, y) == math.copysign(1.0, x)
        assert not s.endswith(".0")


@pytest.mark.parametrize("x, digits, text", [
    (2.5, 2, "2.50"), (2.0, 0, "2"), (-1.26, 1, "-1.3"), (1e20, 1, "100000000000000000000.0"),
    (math.nan, 3, "NaN"), (math.inf, 1, "inf"), (-math.inf, 0, "-inf"),
])
def test_fixed_is_rusts_fixed_point(x, digits, text):
    assert fixed(x, digits) == text
