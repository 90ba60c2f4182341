"""nanobook.validate: each check at, just below and just above its limits;
bool refused where an int is expected; NaN and inf; numpy scalars accepted
where the inline checks it replaced accepted them (the old inline expressions
are written out below as the oracle); and the symbol limit pinned between the
Python check and the compiled book, the portfolio and the risk engine."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nanobook
from nanobook import validate as V
from nanobook.validate import (
    SYMBOL_MAX_BYTES, as_bool, as_float, as_i64, as_price, as_sequence, as_side, as_str,
    as_symbol, as_tuple, as_u64, as_weight, integer, is_int, is_real, real, symbol,
)

NAN, INF = float("nan"), float("inf")


class Boom(ValueError):
    pass


# --------------------------------------------------------------------------- predicates

@pytest.mark.parametrize("v,plain,with_numpy", [
    (0, True, True), (-5, True, True), (2**70, True, True),
    (True, False, False), (False, False, False), (np.bool_(True), False, False),
    (np.int64(3), False, True), (np.uint8(3), False, True), (np.int32(-1), False, True),
    (1.0, False, False), (np.float64(1.0), False, False), (NAN, False, False),
    ("1", False, False), (None, False, False), (Decimal(1), False, False),
    (Fraction(1), False, False), (1j, False, False),
])
def test_is_int(v, plain, with_numpy):
    assert is_int(v) is plain
    assert is_int(v, numpy=True) is with_numpy


@pytest.mark.parametrize("v,plain,with_numpy", [
    (0, True, True), (1.5, True, True), (NAN, True, True), (INF, True, True),
    (np.float64(1.5), True, True),              # a subclass of float: accepted as before
    (np.float32(1.5), False, True), (np.int64(2), False, True),
    (True, False, False), (np.bool_(False), False, False),
    ("1.5", False, False), (None, False, False), (Decimal("1.5"), False, False),
    (Fraction(1, 2), False, False), (1j, False, False),
])
def test_is_real(v, plain, with_numpy):
    assert is_real(v) is plain
    assert is_real(v, numpy=True) is with_numpy


# --------------------------------------------------------------------------- integer

@pytest.mark.parametrize("kw,v,ok", [
    (dict(ge=1), 0, False), (dict(ge=1), 1, True), (dict(ge=1), 2, True),
    (dict(gt=0), -1, False), (dict(gt=0), 0, False), (dict(gt=0), 1, True),
    (dict(le=18), 17, True), (dict(le=18), 18, True), (dict(le=18), 19, False),
    (dict(lt=2**64), 2**64 - 1, True), (dict(lt=2**64), 2**64, False), (dict(lt=2**64), 2**64 + 1, False),
    (dict(ge=0, le=18), -1, False), (dict(ge=0, le=18), 0, True), (dict(ge=0, le=18), 18, True),
    (dict(ge=0, le=18), 19, False),
])
def test_integer_at_below_and_above_each_bound(kw, v, ok):
    if ok:
        assert integer(v, "x", **kw) == v
    else:
        with pytest.raises(ValueError, match=rf"^x must be an int .*, got {v}$"):
            integer(v, "x", **kw)


@pytest.mark.parametrize("kw,words", [
    ({}, "an int"), (dict(ge=1), "an int >= 1"), (dict(gt=0), "an int > 0"),
    (dict(le=5), "an int <= 5"), (dict(lt=5), "an int < 5"),
    (dict(ge=1, le=100), "an int in [1, 100]"), (dict(ge=0, lt=8), "an int in [0, 8)"),
    (dict(gt=0, le=1), "an int in (0, 1]"), (dict(gt=0, lt=9), "an int in (0, 9)"),
])
def test_integer_message_names_parameter_bounds_and_value(kw, words):
    with pytest.raises(ValueError) as e:
        integer("7", "depth", **kw)
    assert str(e.value) == f"depth must be {words}, got '7'"


def test_integer_refuses_bool_and_floats_and_converts_numpy():
    for v in (True, False, np.bool_(True), 1.0, np.float64(2.0), NAN, INF, None, "3"):
        with pytest.raises(ValueError, match="n must be an int"):
            integer(v, "n", numpy=True)
    with pytest.raises(ValueError, match=r"^n must be an int >= 0, got "):
        integer(np.int64(3), "n", ge=0)         # numpy scalars only where asked for
    out = integer(np.int64(3), "n", ge=0, numpy=True)
    assert out == 3 and type(out) is int


def test_integer_expect_and_error_keep_a_callers_wording_and_type():
    with pytest.raises(Boom) as e:
        integer(0, "qty", gt=0, expect="a positive int <= 2**53", error=Boom)
    assert str(e.value) == "qty must be a positive int <= 2**53, got 0"
    with pytest.raises(TypeError, match=r"^seed must be an int, got 1.5$"):
        integer(1.5, "seed", error=TypeError)


# --------------------------------------------------------------------------- real

@pytest.mark.parametrize("kw,v,ok", [
    (dict(ge=0), -1e-300, False), (dict(ge=0), 0.0, True), (dict(ge=0), 1e-300, True),
    (dict(gt=0), 0, False), (dict(gt=0), 5e-324, True), (dict(gt=0), -5e-324, False),
    (dict(gt=0, le=1), 1, True), (dict(gt=0, le=1), math.nextafter(1, 2), False),
    (dict(gt=0, le=1), math.nextafter(1, 0), True),
    (dict(ge=0, lt=1), 0, True), (dict(ge=0, lt=1), 1, False), (dict(ge=0, lt=1), math.nextafter(1, 0), True),
])
def test_real_at_below_and_above_each_bound(kw, v, ok):
    if ok:
        assert real(v, "x", **kw) == v
    else:
        with pytest.raises(ValueError, match=r"^x must be a number"):
            real(v, "x", **kw)


def test_real_nan_fails_every_bound_and_inf_fails_finite():
    for kw in (dict(ge=0), dict(gt=0), dict(le=1), dict(lt=1), dict(finite=True)):
        with pytest.raises(ValueError, match="got nan"):
            real(NAN, "x", **kw)
    with pytest.raises(ValueError, match=r"^x must be a finite number > 0, got inf$"):
        real(INF, "x", gt=0, finite=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number, got -inf$"):
        real(-INF, "x", finite=True)
    assert real(INF, "pull", gt=0) == INF            # "inf: never" stays allowed where it was
    assert math.isnan(real(NAN, "x"))                # no bound, not finite: a type check only


def test_real_refuses_bool_and_accepts_numpy_only_where_asked():
    for v in (True, np.bool_(False), "1", None, Decimal(1), 1j):
        with pytest.raises(ValueError, match="x must be a number"):
            real(v, "x", numpy=True)
    with pytest.raises(ValueError, match="x must be a number"):
        real(np.float32(0.5), "x")
    out = real(np.float32(0.5), "x", numpy=True)
    assert out == 0.5 and type(out) is float
    assert type(real(3, "x")) is float


@pytest.mark.parametrize("kw,words", [
    (dict(ge=0, finite=True), "a finite number >= 0"), (dict(gt=0, finite=True), "a finite number > 0"),
    (dict(gt=0, le=1), "a number in (0, 1]"), (dict(ge=0, lt=1), "a number in [0, 1)"),
    (dict(gt=0.5, lt=2), "a number in (0.5, 2)"), (dict(finite=True), "a finite number"),
])
def test_real_message(kw, words):
    with pytest.raises(ValueError) as e:
        real(None, "band", **kw)
    assert str(e.value) == f"band must be {words}, got None"


# --------------------------------------------------------------------------- the old inline checks are the oracle

values = st.one_of(
    st.integers(-2**70, 2**70), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-2**63, 2**63 - 1).map(np.int64), st.floats(width=32).map(np.float32),
    st.booleans().map(np.bool_), st.none(), st.text(max_size=3),
)
bound = st.one_of(st.none(), st.integers(-5, 5))


@given(values, bound, bound)
def test_integer_accepts_exactly_what_the_inline_check_accepted(v, lo, hi):
    for numpy, types in ((False, (int,)), (True, (int, np.integer))):
        old_ok = not (isinstance(v, bool) or not isinstance(v, types)
                      or (lo is not None and v < lo) or (hi is not None and v > hi))
        try:
            out = integer(v, "v", ge=lo, le=hi, numpy=numpy)
        except ValueError as e:
            assert not old_ok and str(e).startswith("v must be an int") and str(e).endswith(f"got {v!r}")
        else:
            assert old_ok and out == v and type(out) is int


@given(values, st.one_of(st.none(), st.floats(-5, 5)), st.booleans())
def test_real_accepts_exactly_what_the_inline_check_accepted(v, lo, finite):
    for numpy, types in ((False, (int, float)), (True, (int, float, np.integer, np.floating))):
        old_ok = not (isinstance(v, bool) or not isinstance(v, types)
                      or (finite and not math.isfinite(v)) or (lo is not None and not v > lo))
        try:
            out = real(v, "v", gt=lo, finite=finite, numpy=numpy)
        except ValueError as e:
            assert not old_ok and str(e).endswith(f"got {v!r}")
        else:
            # the value converted as the old code did (float(v)): an int past 2**53 rounds
            assert old_ok and (out == float(v) or (math.isnan(out) and math.isnan(v))) and type(out) is float


# --------------------------------------------------------------------------- symbols

SYMBOLS = [
    ("ABCDEFGH", True),            # 8 bytes: at the limit
    ("ABCDEFG", True),             # 7
    ("ABCDEFGHI", False),          # 9
    ("ÉÉÉÉ", True),                # 4 characters, 8 bytes
    ("ÉÉÉÉA", False),              # 5 characters, 9 bytes
    ("€€A", True),                 # 3 + 3 + 1 = 7 bytes
    ("€€AB", True),                # 3 + 3 + 2 = 8 bytes
    ("€€ABC", False),              # 9 bytes
    ("", True),
]


def test_symbol_limit_is_eight_bytes_everywhere():
    assert SYMBOL_MAX_BYTES == 8
    # the engine names its limit in dtypes (issue 16): one number for both
    assert getattr(nanobook.dtypes, "SYMBOL_MAX_BYTES", SYMBOL_MAX_BYTES) == SYMBOL_MAX_BYTES


def _engine_symbol(s):
    m = nanobook.MultiExchange()
    m.submit_limit(s, "buy", 100, 1)
    assert m.symbols() == [s]


def _portfolio_symbol(s):
    assert nanobook.Portfolio(1_000_000, nanobook.CostModel.zero()).total_equity([(s, 100)]) == 1_000_000


def _risk_symbol(s):
    from nanobook_risk import RiskEngine

    RiskEngine().check_order(s, "buy", 1, 100, 10**8, [])


CHECKS = {
    "validate.symbol": symbol, "validate.as_symbol": lambda s: as_symbol(s, "symbol"),
    "engine.check_symbol": nanobook._engine.check_symbol, "MultiExchange": _engine_symbol,
    "Portfolio": _portfolio_symbol, "RiskEngine": _risk_symbol,
}


@pytest.mark.parametrize("where", sorted(CHECKS))
@pytest.mark.parametrize("s,ok", SYMBOLS)
def test_symbol_python_and_engine_agree(where, s, ok):
    assert (len(s.encode("utf-8")) <= 8) is ok
    if ok:
        CHECKS[where](s)
    else:
        with pytest.raises(ValueError) as e:
            CHECKS[where](s)
        assert str(e.value) == f"Symbol '{s}' exceeds 8 bytes. Use a shorter symbol."


@pytest.mark.parametrize("v", [None, 5, b"AAPL", ["A"], 1.5])
def test_symbol_type_errors(v):
    with pytest.raises(TypeError) as e:
        symbol(v)
    # the same words as the compiled book's check
    with pytest.raises(TypeError) as e2:
        nanobook._engine.check_symbol(v)
    assert str(e.value) == str(e2.value) == f"symbol must be a str, got {v!r} ({type(v).__name__})"
    with pytest.raises(TypeError, match=r"^symbol must be a str, got"):
        nanobook.portfolio.portfolio.check_symbol(v)
    with pytest.raises(TypeError, match=r"is not an instance of 'str' \(sym\)$"):   # the reference's words
        as_symbol(v, "sym")


# --------------------------------------------------------------------------- reference conversions

def test_as_u64_bounds():
    assert as_u64(0, "q") == 0 and as_u64(V.U64_MAX, "q") == V.U64_MAX
    assert as_u64(np.uint64(V.U64_MAX), "q") == V.U64_MAX
    assert as_u64(True, "q") == 1                     # PyO3 reads a bool as 1
    with pytest.raises(OverflowError, match=r"^can't convert negative int to unsigned \(q=-1\)$"):
        as_u64(-1, "q")
    with pytest.raises(OverflowError, match=rf"^int too big to convert \(q={V.U64_MAX + 1}\)$"):
        as_u64(V.U64_MAX + 1, "q")
    for v in (1.0, NAN, "1", None):
        with pytest.raises(TypeError, match=r"cannot be interpreted as an integer \(q="):
            as_u64(v, "q")


def test_as_i64_bounds():
    for v in (V.I64_MIN, V.I64_MAX, np.int64(-1)):
        assert as_i64(v, "p") == v
    for v in (V.I64_MIN - 1, V.I64_MAX + 1):
        with pytest.raises(OverflowError, match=rf"^Python int too large to convert to C long \(p={v}\)$"):
            as_i64(v, "p")


def test_as_price_is_positive():
    assert as_price(1, "price") == 1
    for v in (0, -1):
        with pytest.raises(ValueError, match=rf"^price must be positive, got {v}$"):
            as_price(v, "price")


def test_as_float_and_as_weight():
    assert as_float(True, "x") == 1.0 and as_float(np.float32(0.5), "x") == 0.5
    assert math.isnan(as_float(NAN, "x"))
    with pytest.raises(TypeError, match=r"^must be real number, not str \(x='1'\)$"):
        as_float("1", "x")
    assert as_weight(-1.5, "w") == -1.5
    for v in (NAN, INF, -INF):
        with pytest.raises(ValueError, match="w must be finite"):
            as_weight(v, "w")


def test_as_bool_as_str_as_side():
    assert as_bool(True, "f") is True and as_bool(False, "f") is False
    # numpy's bool passes as the engine's flags accept it (under numpy 2 its
    # type is named 'bool', which a check by type name had refused)
    assert as_bool(np.True_, "f") is True and as_bool(np.False_, "f") is False
    for v in (1, 0, np.int64(1), "true", None):
        with pytest.raises(TypeError, match=r"is not an instance of 'bool' \(f="):
            as_bool(v, "f")
    assert as_str("x", "s") == "x"
    for raw, side in (("buy", "buy"), ("B", "buy"), ("Sell", "sell"), ("s", "sell")):
        assert as_side(raw) == side
    with pytest.raises(ValueError, match=r"^Invalid side 'bid'. Use 'buy' or 'sell'.$"):
        as_side("bid")
    with pytest.raises(TypeError, match=r"is not an instance of 'str' \(side\)"):
        as_side(0)


def test_as_sequence_and_as_tuple():
    assert as_sequence((1, 2), "s") == [1, 2] and as_sequence(np.arange(2), "s") == [0, 1]
    for v, msg in ((None, "'None' is not an instance of 'Sequence'"), ("ab", "Can't extract `str` to `Vec`"),
                   ({"a": 1}, "'dict' object is not an instance of 'Sequence'"),
                   ({1}, "'set' object is not an instance of 'Sequence'")):
        with pytest.raises(TypeError, match=msg):
            as_sequence(v, "s")
    assert as_tuple((1, 2), 2, "t") == (1, 2)
    with pytest.raises(TypeError, match="'list' object is not an instance of 'tuple'"):
        as_tuple([1, 2], 2, "t")
    for v in ((1,), (1, 2, 3)):
        with pytest.raises(ValueError, match=rf"expected tuple of length 2, but got tuple of length {len(v)} \(t\)"):
            as_tuple(v, 2, "t")
