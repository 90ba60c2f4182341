# cython: freethreading_compatible = False
"""The order book: price-time priority matching on integer prices and lots.

Everything that changes the book goes through one ``nogil`` path,
``Exchange.run``, over a fixed-size event record: the Python methods build
one record and call it, ``Exchange.apply`` and ``Exchange.replay`` call it in
a loop over a numpy array.  Python objects (results, trades, snapshots) are
built only when a Python caller asks for them.
"""
cimport cython
from cpython.long cimport PyLong_Check
from libc.math cimport isfinite, round as c_round
from libc.stdint cimport INT64_MAX, INT64_MIN, UINT64_MAX
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memmove, memset

from nanobook._buffer cimport buf_init, buf_push, buf_reserve

import json
import operator
import os
import warnings

import numpy as np
cimport numpy as cnp

from nanobook import dtypes as _dt

cnp.import_array()

cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1
    unsigned long long PyLong_AsUnsignedLongLong(object) except? -1


# -- the event log's byte encoding -------------------------------------------
# One event is a header byte (kind | side << 4 | tif << 5), for trailing
# stops a trail byte, then its fields as LEB128 varints (signed ones
# zigzag-encoded) and doubles as 8 raw bytes.  A submit_limit at a
# six-digit price takes about 6 bytes instead of the 64 of EventRec.

cdef enum:
    EVENT_MAX_BYTES = 64


cdef inline uint8_t* put_u(uint8_t* p, uint64_t v) noexcept nogil:
    while v >= 0x80:
        p[0] = <uint8_t>((v & 0x7F) | 0x80)
        v >>= 7
        p += 1
    p[0] = <uint8_t>v
    return p + 1


cdef inline uint8_t* put_s(uint8_t* p, int64_t v) noexcept nogil:
    return put_u(p, (<uint64_t>v << 1) ^ <uint64_t>(v >> 63))


cdef inline uint8_t* put_f(uint8_t* p, double v) noexcept nogil:
    memcpy(p, &v, 8)
    return p + 8


cdef inline const uint8_t* get_u(const uint8_t* p, uint64_t* v) noexcept nogil:
    cdef uint64_t x = 0
    cdef int shift = 0
    while p[0] & 0x80:
        x |= <uint64_t>(p[0] & 0x7F) << shift
        shift += 7
        p += 1
    v[0] = x | (<uint64_t>p[0] << shift)
    return p + 1


cdef inline const uint8_t* get_s(const uint8_t* p, int64_t* v) noexcept nogil:
    cdef uint64_t u
    p = get_u(p, &u)
    v[0] = <int64_t>(u >> 1) ^ -<int64_t>(u & 1)
    return p


cdef inline const uint8_t* get_f(const uint8_t* p, double* v) noexcept nogil:
    memcpy(v, p, 8)
    return p + 8


cdef int log_event(Buf* b, const EventRec* e) except -1 nogil:
    cdef uint8_t* p
    cdef uint8_t k = e.kind
    buf_reserve(b, EVENT_MAX_BYTES)
    p = <uint8_t*>b.data + b.n
    p[0] = k | (e.side << 4) | (e.tif << 5)
    p += 1
    if k == EV_SUBMIT_LIMIT:
        p = put_s(p, e.price)
        p = put_u(p, e.quantity)
    elif k == EV_SUBMIT_MARKET:
        p = put_u(p, e.quantity)
    elif k == EV_CANCEL:
        p = put_u(p, e.order_id)
    elif k == EV_MODIFY:
        p = put_u(p, e.order_id)
        p = put_s(p, e.price)
        p = put_u(p, e.quantity)
    else:
        if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
            p[0] = e.trail
            p += 1
        p = put_s(p, e.price)
        if k == EV_STOP_LIMIT or k == EV_TRAIL_LIMIT:
            p = put_s(p, e.limit_price)
        p = put_u(p, e.quantity)
        if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
            if e.trail == TRAIL_FIXED:
                p = put_s(p, e.trail_fixed)
            else:
                p = put_f(p, e.trail_value)
                if e.trail == TRAIL_SMA:
                    p = put_u(p, e.period)
    b.n = <size_t>(p - <uint8_t*>b.data)
    return 0


cdef void decode_events(const uint8_t* p, size_t n, EventRec* out) noexcept nogil:
    """Decode ``n`` events written by ``log_event`` (our own bytes only)."""
    cdef size_t i
    cdef EventRec* e
    cdef uint8_t k
    for i in range(n):
        e = &out[i]
        memset(e, 0, sizeof(EventRec))
        k = p[0] & 0x0F
        e.kind = k
        e.side = (p[0] >> 4) & 1
        e.tif = (p[0] >> 5) & 3
        p += 1
        if k == EV_SUBMIT_LIMIT:
            p = get_s(p, &e.price)
            p = get_u(p, &e.quantity)
        elif k == EV_SUBMIT_MARKET:
            p = get_u(p, &e.quantity)
        elif k == EV_CANCEL:
            p = get_u(p, &e.order_id)
        elif k == EV_MODIFY:
            p = get_u(p, &e.order_id)
            p = get_s(p, &e.price)
            p = get_u(p, &e.quantity)
        else:
            if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
                e.trail = p[0]
                p += 1
            p = get_s(p, &e.price)
            if k == EV_STOP_LIMIT or k == EV_TRAIL_LIMIT:
                p = get_s(p, &e.limit_price)
            p = get_u(p, &e.quantity)
            if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
                if e.trail == TRAIL_FIXED:
                    p = get_s(p, &e.trail_fixed)
                else:
                    p = get_f(p, &e.trail_value)
                    if e.trail == TRAIL_SMA:
                        p = get_u(p, &e.period)


cdef int buf_copy(Buf* dst, const Buf* src) except -1:
    dst.itemsize = src.itemsize
    dst.n = src.n
    dst.cap = src.n
    dst.data = NULL
    if src.n:
        dst.data = <char*>malloc(src.n * src.itemsize)
        if dst.data == NULL:
            raise MemoryError()
        memcpy(dst.data, src.data, src.n * src.itemsize)
    return 0


cdef inline u128_t sat_add128(u128_t a, u128_t b) noexcept nogil:
    cdef u128_t s = a + b
    return s if s >= a else <u128_t>0 - 1


cdef inline int64_t sat_add(int64_t a, int64_t b) noexcept nogil:
    if b > 0 and a > INT64_MAX - b:
        return INT64_MAX
    if b < 0 and a < INT64_MIN - b:
        return INT64_MIN
    return a + b


cdef inline int64_t abs_diff(int64_t a, int64_t b) noexcept nogil:
    cdef uint64_t d = <uint64_t>a - <uint64_t>b if a >= b else <uint64_t>b - <uint64_t>a
    return <int64_t>d if d <= <uint64_t>INT64_MAX else INT64_MAX


cdef inline int64_t f64_to_i64(double x) noexcept nogil:
    """Rust ``x as i64``: truncate toward zero, saturate, NaN -> 0."""
    if x != x:
        return 0
    if x >= 9223372036854775807.0:
        return INT64_MAX
    if x <= -9223372036854775808.0:
        return INT64_MIN
    return <int64_t>x


cdef object u128_to_py(u128_t v):
    cdef uint64_t hi = <uint64_t>(v >> 64)
    cdef uint64_t lo = <uint64_t>v
    if hi == 0:
        return lo
    return (<object>hi << 64) | <object>lo


cdef inline uint64_t u128_sat64(u128_t v) noexcept nogil:
    return <uint64_t>v if (v >> 64) == 0 else UINT64_MAX


# ---------------------------------------------------------------------------
# argument validation (messages name the parameter and the value)
# ---------------------------------------------------------------------------

cdef dict _SIDES = {"buy": BUY, "b": BUY, "sell": SELL, "s": SELL}
cdef dict _TIFS = {"gtc": GTC, "ioc": IOC, "fok": FOK}
cdef dict _TRAILS = {"fixed": TRAIL_FIXED, "percentage": TRAIL_PCT, "pct": TRAIL_PCT,
                     "sma_abs_change": TRAIL_SMA, "atr": TRAIL_SMA}


cdef str _describe(object v):
    return f"{v!r} ({type(v).__name__})"


cdef int _flag(object v, str name) except -1:
    """A flag: ``bool`` (or ``numpy.bool_``) only; a truthy string such as
    ``"no"`` is a TypeError, never read as True."""
    if v is True or v is False:
        return v is True
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"{name} must be a bool, got {_describe(v)}")


cdef int _parse_choice(object value, dict table, str name, str invalid) except -1:
    """Case-insensitive lookup of a str option; exact matches skip ``lower()``."""
    cdef object v
    if type(value) is str:
        v = table.get(value)
        if v is not None:
            return v
    elif not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_describe(value)}")
    v = table.get(value.lower())
    if v is None:
        raise ValueError(invalid.format(value))
    return v


cdef inline int _parse_side(object side) except -1:
    return _parse_choice(side, _SIDES, "side", "Invalid side '{}'. Use 'buy' or 'sell'.")


cdef inline int _parse_tif(object tif) except -1:
    return _parse_choice(tif, _TIFS, "tif",
                         "Invalid time_in_force '{}'. Use 'gtc', 'ioc', or 'fok'.")


cdef object _as_int(object v, str name):
    """``v`` as a Python int: ints, bools and numpy integers; never floats."""
    if PyLong_Check(v):
        return v
    if isinstance(v, (float, str, bytes)) or v is None:
        raise TypeError(f"{name} must be an int, got {_describe(v)}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {_describe(v)}") from None


cdef int64_t _to_i64(object v, str name) except? -1:
    cdef int overflow = 0
    cdef long long x
    if not PyLong_Check(v):
        v = _as_int(v, name)
    x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow:
        raise OverflowError(f"{name} must fit in a signed 64-bit integer, got {v}")
    return x


cdef uint64_t _to_u64(object v, str name, str what="non-negative") except? 0:
    """Unsigned 64-bit; negative values raise ValueError saying ``what``."""
    cdef int overflow = 0
    cdef long long x
    if not PyLong_Check(v):
        v = _as_int(v, name)
    x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow == 0:
        if x < 0:
            raise ValueError(f"{name} must be {what}, got {x}")
        return <uint64_t>x
    if overflow < 0:
        raise ValueError(f"{name} must be {what}, got {v}")
    try:
        return PyLong_AsUnsignedLongLong(v)
    except OverflowError:
        raise OverflowError(f"{name} must be less than 2**64, got {v}") from None


cdef inline uint64_t _to_qty(object v, str name) except? 0:
    return _to_u64(v, name, "positive")


cdef inline int _check_positive(uint64_t q, str name) except -1:
    if q == 0:
        raise ValueError(f"{name} must be positive, got 0")
    return 0


cdef double _to_f64(object v, str name) except? -1.0:
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"{name} must be a real number, got {_describe(v)}")
    try:
        return float(v)
    except TypeError:
        raise TypeError(f"{name} must be a real number, got {_describe(v)}") from None


cdef int _parse_trail(EventRec* ev, object trail_type, object trail_value,
                      object atr_period) except -1:
    cdef int t = _parse_choice(trail_type, _TRAILS, "trail_type", "Invalid trail_type '{}'. "
                               "Use 'fixed', 'percentage', or 'sma_abs_change'.")
    cdef double value
    value = _to_f64(trail_value, "trail_value")
    if not isfinite(value):
        raise ValueError(f"trail_value must be finite, got {trail_value!r}")
    ev.trail = <uint8_t>t
    if t == TRAIL_FIXED:
        ev.trail_fixed = f64_to_i64(value)
    else:
        ev.trail_value = value
    if t == TRAIL_SMA:
        if atr_period is None:
            raise ValueError("atr_period is required when trail_type='sma_abs_change' "
                             "(or the deprecated alias 'atr')")
        ev.period = _to_u64(atr_period, "atr_period")
    elif atr_period is not None:
        _to_u64(atr_period, "atr_period")
    return 0


# ---------------------------------------------------------------------------
# Python-facing records and results
# ---------------------------------------------------------------------------

cdef tuple _SIDE_NAMES = ("buy", "sell")
cdef tuple _SIDE_CAMEL = ("Buy", "Sell")
cdef tuple _TIF_NAMES = ("gtc", "ioc", "fok")
cdef tuple _TIF_UPPER = ("GTC", "IOC", "FOK")
cdef tuple _ORDER_STATUS = ("new", "partiallyfilled", "filled", "cancelled")
cdef tuple _SUBMIT_STATUS = ("New", "PartiallyFilled", "Filled", "Cancelled")
cdef tuple _STOP_STATUS = ("pending", "triggered", "cancelled")
cdef tuple _ERRORS = (None, "OrderNotFound", "OrderNotActive")
# public name of the stop submitter of each event kind (thread-claim messages)
cdef dict _STOP_CALLS = {EV_STOP_MARKET: b"submit_stop_market", EV_STOP_LIMIT: b"submit_stop_limit",
                         EV_TRAIL_MARKET: b"submit_trailing_stop_market",
                         EV_TRAIL_LIMIT: b"submit_trailing_stop_limit"}


cdef str _dollars(int64_t cents):
    return f"${cents / 100.0:.2f}"


@cython.freelist(32)
cdef class _Record:
    """Base of the read-only record classes: built by the engine only."""

    def __init__(self, *args, **kwargs):
        raise TypeError(f"cannot create '{type(self).__name__}' instances")


@cython.final
@cython.freelist(64)
cdef class Trade:
    """One fill: ``quantity`` at the resting order's ``price``."""
    cdef readonly uint64_t trade_id
    cdef readonly int64_t price
    cdef readonly uint64_t quantity
    cdef readonly uint64_t aggressor_order_id
    cdef readonly uint64_t passive_order_id
    cdef readonly uint64_t timestamp
    cdef uint8_t _side

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'Trade' instances")

    @property
    def aggressor_side(self):
        return _SIDE_NAMES[self._side]

    @property
    def price_float(self):
        return self.price / 100.0

    def __repr__(self):
        return (f"Trade(id={self.trade_id}, price={_dollars(self.price)}, "
                f"qty={self.quantity}, side='{_SIDE_NAMES[self._side]}')")

    def __reduce__(self):
        return (_make_trade, (self.trade_id, self.price, self.quantity, self._side,
                              self.aggressor_order_id, self.passive_order_id, self.timestamp))


def _make_trade(trade_id, price, quantity, side, aggressor, passive, timestamp):
    cdef TradeRec t
    t.trade_id = trade_id
    t.price = price
    t.quantity = quantity
    t.aggressor_side = side
    t.aggressor_order_id = aggressor
    t.passive_order_id = passive
    t.timestamp = timestamp
    return _trade(&t)


cdef Trade _trade(const TradeRec* t):
    cdef Trade o = Trade.__new__(Trade)
    o.trade_id = t.trade_id
    o.price = t.price
    o.quantity = t.quantity
    o._side = t.aggressor_side
    o.aggressor_order_id = t.aggressor_order_id
    o.passive_order_id = t.passive_order_id
    o.timestamp = t.timestamp
    return o


cdef list _trade_list(const TradeRec* t, size_t n):
    cdef list out = []
    cdef size_t i
    for i in range(n):
        out.append(_trade(&t[i]))
    return out


@cython.freelist(64)
cdef class _HasTrades:
    """Holds a private copy of the trades of one call; builds them lazily."""
    cdef TradeRec* _trades
    cdef size_t _ntrades
    cdef list _trade_objs

    cdef int _take(self, Exchange ex, size_t start, size_t end) except -1:
        cdef size_t n = end - start
        if n == 0:
            return 0
        self._trades = <TradeRec*>malloc(n * sizeof(TradeRec))
        if self._trades == NULL:
            raise MemoryError()
        memcpy(self._trades, ex.trade_log.data + start * sizeof(TradeRec), n * sizeof(TradeRec))
        self._ntrades = n
        return 0

    def __init__(self, *args, **kwargs):
        raise TypeError(f"cannot create '{type(self).__name__}' instances")

    def __dealloc__(self):
        free(self._trades)

    @property
    def trades(self):
        """The trades of this call, in execution order (``list[Trade]``)."""
        if self._trade_objs is None:
            self._trade_objs = _trade_list(self._trades, self._ntrades)
        return self._trade_objs


@cython.final
cdef class SubmitResult(_HasTrades):
    """Outcome of a submission: ``filled + resting + cancelled == quantity``."""
    cdef readonly uint64_t order_id
    cdef readonly uint64_t filled_quantity
    cdef readonly uint64_t resting_quantity
    cdef readonly uint64_t cancelled_quantity
    cdef uint8_t _status

    @property
    def status(self):
        """``"New"``, ``"PartiallyFilled"``, ``"Filled"`` or ``"Cancelled"``."""
        return _SUBMIT_STATUS[self._status]

    def __repr__(self):
        return (f"SubmitResult(order_id={self.order_id}, status='{self.status}', "
                f"filled={self.filled_quantity}, resting={self.resting_quantity}, "
                f"cancelled={self.cancelled_quantity}, trades={self._ntrades})")


cdef SubmitResult _submit_result(Exchange ex, const SubmitOut* s):
    cdef SubmitResult r = SubmitResult.__new__(SubmitResult)
    r.order_id = s.order_id
    r.filled_quantity = s.filled
    r.resting_quantity = s.resting
    r.cancelled_quantity = s.cancelled
    r._status = s.status
    r._take(ex, s.trade_start, s.trade_end)
    return r


@cython.final
cdef class CancelResult(_Record):
    """Outcome of ``cancel``; ``error`` is None, ``"OrderNotFound"`` or ``"OrderNotActive"``."""
    cdef readonly bint success
    cdef readonly uint64_t cancelled_quantity
    cdef int _code

    @property
    def error(self):
        return _ERRORS[self._code]

    def __repr__(self):
        if self.success:
            return f"CancelResult(success=True, cancelled_quantity={self.cancelled_quantity})"
        return f"CancelResult(success=False, error='{self.error}')"


@cython.final
cdef class ModifyResult(_HasTrades):
    """Outcome of ``modify`` (cancel/replace: a new id at the back of the queue)."""
    cdef readonly bint success
    cdef readonly uint64_t old_order_id
    cdef readonly object new_order_id
    cdef readonly uint64_t cancelled_quantity
    cdef int _code

    @property
    def error(self):
        return _ERRORS[self._code]

    def __repr__(self):
        if self.success:
            return (f"ModifyResult(success=True, old={self.old_order_id}, "
                    f"new=Some({self.new_order_id}), trades={self._ntrades})")
        return f"ModifyResult(success=False, error='{self.error}')"


@cython.final
cdef class StopSubmitResult(_Record):
    """Outcome of a stop submission: ``status`` is ``"Pending"`` or ``"Triggered"``."""
    cdef readonly uint64_t order_id
    cdef bint _triggered

    @property
    def status(self):
        return "Triggered" if self._triggered else "Pending"

    def __repr__(self):
        return f"StopSubmitResult(order_id={self.order_id}, status='{self.status}')"


@cython.final
cdef class Order(_Record):
    """Snapshot (a copy) of one order."""
    cdef readonly uint64_t id
    cdef readonly int64_t price
    cdef readonly uint64_t original_quantity
    cdef readonly uint64_t remaining_quantity
    cdef readonly uint64_t filled_quantity
    cdef readonly uint64_t timestamp
    cdef uint8_t _side, _tif, _status

    @property
    def side(self):
        return _SIDE_NAMES[self._side]

    @property
    def status(self):
        """``"new"``, ``"partiallyfilled"``, ``"filled"`` or ``"cancelled"``."""
        return _ORDER_STATUS[self._status]

    @property
    def time_in_force(self):
        return _TIF_NAMES[self._tif]

    @property
    def is_active(self):
        return self._status < ST_FILLED

    def __repr__(self):
        return (f"Order(id={self.id}, side={self.side}, price={self.price}, "
                f"qty={self.filled_quantity}/{self.original_quantity}, status={self.status})")


@cython.final
cdef class LevelSnapshot(_Record):
    """One price level: ``quantity`` is the exact total of its live orders."""
    cdef readonly int64_t price
    cdef readonly object quantity
    cdef readonly uint64_t order_count

    @property
    def price_float(self):
        return self.price / 100.0

    def __repr__(self):
        return f"Level(price={_dollars(self.price)}, qty={self.quantity}, orders={self.order_count})"


ctypedef struct LevelRow:
    price_t price
    u128_t total
    uint64_t count


@cython.final
cdef class BookSnapshot(_Record):
    """Levels of both sides, best first; the methods see only these levels."""
    cdef LevelRow* _rows[2]
    cdef size_t _n[2]
    cdef list _bids, _asks

    def __dealloc__(self):
        free(self._rows[0])
        free(self._rows[1])

    cdef list _side(self, int s):
        cdef size_t i
        cdef LevelSnapshot lv
        cdef list out = self._bids if s == BUY else self._asks
        if out is None:
            out = []
            for i in range(self._n[s]):
                lv = LevelSnapshot.__new__(LevelSnapshot)
                lv.price = self._rows[s][i].price
                lv.quantity = u128_to_py(self._rows[s][i].total)
                lv.order_count = self._rows[s][i].count
                out.append(lv)
            if s == BUY:
                self._bids = out
            else:
                self._asks = out
        return out

    @property
    def bids(self):
        """Bid levels, highest price first (``list[LevelSnapshot]``)."""
        return self._side(BUY)

    @property
    def asks(self):
        """Ask levels, lowest price first (``list[LevelSnapshot]``)."""
        return self._side(SELL)

    def spread(self):
        """``best_ask - best_bid`` or None when a side is empty."""
        if self._n[0] == 0 or self._n[1] == 0:
            return None
        return self._rows[1][0].price - self._rows[0][0].price

    def mid_price(self):
        """``(best_bid + best_ask) / 2`` in cents (float), or None."""
        if self._n[0] == 0 or self._n[1] == 0:
            return None
        return (<double>self._rows[0][0].price + <double>self._rows[1][0].price) / 2.0

    def imbalance(self):
        """``(bid qty - ask qty) / (bid qty + ask qty)`` over the snapshot, or None."""
        cdef double b = 0.0, a = 0.0
        cdef size_t i
        for i in range(self._n[0]):
            b += <double>self._rows[0][i].total
        for i in range(self._n[1]):
            a += <double>self._rows[1][i].total
        if b + a == 0.0:
            return None
        return (b - a) / (b + a)

    def weighted_mid(self):
        """Top-of-book mid weighted by the opposite quantities (cents), or None."""
        cdef double bq, aq
        if self._n[0] == 0 or self._n[1] == 0:
            return None
        bq = <double>self._rows[0][0].total
        aq = <double>self._rows[1][0].total
        if bq + aq == 0.0:
            return None
        return (aq * <double>self._rows[0][0].price + bq * <double>self._rows[1][0].price) / (bq + aq)

    def to_numpy(self):
        """``(bids, asks)`` as arrays of ``nanobook.dtypes.LEVEL_DTYPE``."""
        out = []
        for s in range(2):
            arr = np.empty(self._n[s], dtype=_dt.LEVEL_DTYPE)
            for i in range(self._n[s]):
                arr[i] = (self._rows[s][i].price, u128_sat64(self._rows[s][i].total),
                          self._rows[s][i].count)
            out.append(arr)
        return tuple(out)

    def __repr__(self):
        return f"BookSnapshot(bids={self._n[0]}, asks={self._n[1]})"


# ---------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------

cdef tuple _EVENT_VARIANTS = (None, "SubmitLimit", "SubmitMarket", "Cancel", "Modify",
                              "SubmitStopMarket", "SubmitStopLimit",
                              "SubmitTrailingStopMarket", "SubmitTrailingStopLimit")
cdef dict _VARIANT_KIND = {name: k for k, name in enumerate(_EVENT_VARIANTS) if name}
cdef dict _CAMEL_SIDE = {"Buy": BUY, "Sell": SELL}
cdef dict _UPPER_TIF = {"GTC": GTC, "IOC": IOC, "FOK": FOK}
# fields of each variant, in serde order
cdef tuple _VARIANT_FIELDS = (
    None,
    ("side", "price", "quantity", "time_in_force"),
    ("side", "quantity"),
    ("order_id",),
    ("order_id", "new_price", "new_quantity"),
    ("side", "stop_price", "quantity"),
    ("side", "stop_price", "limit_price", "quantity", "time_in_force"),
    ("side", "stop_price", "quantity", "trail_method"),
    ("side", "stop_price", "limit_price", "quantity", "time_in_force", "trail_method"),
)


cdef object _trail_json(const EventRec* e):
    if e.trail == TRAIL_FIXED:
        return {"Fixed": e.trail_fixed}
    if e.trail == TRAIL_PCT:
        return {"Percentage": e.trail_value}
    return {"SmaAbsChange": {"multiplier": e.trail_value, "period": e.period}}


cdef dict _event_dict(const EventRec* e):
    """The serde (externally tagged) form of one event."""
    cdef int k = e.kind
    if k == EV_SUBMIT_LIMIT:
        body = {"side": _SIDE_CAMEL[e.side], "price": e.price, "quantity": e.quantity,
                "time_in_force": _TIF_UPPER[e.tif]}
    elif k == EV_SUBMIT_MARKET:
        body = {"side": _SIDE_CAMEL[e.side], "quantity": e.quantity}
    elif k == EV_CANCEL:
        body = {"order_id": e.order_id}
    elif k == EV_MODIFY:
        body = {"order_id": e.order_id, "new_price": e.price, "new_quantity": e.quantity}
    elif k == EV_STOP_MARKET:
        body = {"side": _SIDE_CAMEL[e.side], "stop_price": e.price, "quantity": e.quantity}
    elif k == EV_STOP_LIMIT:
        body = {"side": _SIDE_CAMEL[e.side], "stop_price": e.price,
                "limit_price": e.limit_price, "quantity": e.quantity,
                "time_in_force": _TIF_UPPER[e.tif]}
    elif k == EV_TRAIL_MARKET:
        body = {"side": _SIDE_CAMEL[e.side], "stop_price": e.price, "quantity": e.quantity,
                "trail_method": _trail_json(e)}
    else:
        body = {"side": _SIDE_CAMEL[e.side], "stop_price": e.price,
                "limit_price": e.limit_price, "quantity": e.quantity,
                "time_in_force": _TIF_UPPER[e.tif], "trail_method": _trail_json(e)}
    return {_EVENT_VARIANTS[k]: body}


cdef object _json_int(dict body, str field, str where, bint signed):
    v = body[field]
    if type(v) is not int:
        raise ValueError(f"{where}: field '{field}' must be an integer, got {v!r}")
    if signed:
        if not (-(1 << 63) <= v < (1 << 63)):
            raise ValueError(f"{where}: field '{field}' out of the signed 64-bit range: {v}")
    elif not (0 <= v < (1 << 64)):
        raise ValueError(f"{where}: field '{field}' out of the unsigned 64-bit range: {v}")
    return v


cdef int _event_from_dict(EventRec* e, object obj, str where) except -1:
    """Parse the serde form into ``e``; ValueError naming ``where`` and the field."""
    memset(e, 0, sizeof(EventRec))
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError(f"{where}: an event is an object with exactly one variant key, got {obj!r}")
    (variant, body), = obj.items()
    kind = _VARIANT_KIND.get(variant)
    if kind is None:
        raise ValueError(f"{where}: unknown event variant {variant!r}, expected one of "
                         + ", ".join(_EVENT_VARIANTS[1:]))
    if not isinstance(body, dict):
        raise ValueError(f"{where}: {variant} body must be an object, got {body!r}")
    fields = _VARIANT_FIELDS[kind]
    missing = [f for f in fields if f not in body]
    extra = [f for f in body if f not in fields]
    if missing or extra:
        raise ValueError(f"{where}: {variant} needs fields {list(fields)}, "
                         f"missing {missing}, unexpected {extra}")
    e.kind = kind
    if "side" in body:
        s = _CAMEL_SIDE.get(body["side"]) if isinstance(body["side"], str) else None
        if s is None:
            raise ValueError(f"{where}: field 'side' must be 'Buy' or 'Sell', got {body['side']!r}")
        e.side = s
    if "time_in_force" in body:
        t = _UPPER_TIF.get(body["time_in_force"]) if isinstance(body["time_in_force"], str) else None
        if t is None:
            raise ValueError(f"{where}: field 'time_in_force' must be GTC, IOC or FOK, "
                             f"got {body['time_in_force']!r}")
        e.tif = t
    for f in ("price", "new_price", "stop_price"):
        if f in body:
            e.price = _json_int(body, f, where, True)
    if "limit_price" in body:
        e.limit_price = _json_int(body, "limit_price", where, True)
    if "order_id" in body:
        e.order_id = _json_int(body, "order_id", where, False)
    for f in ("quantity", "new_quantity"):
        if f in body:
            e.quantity = _json_int(body, f, where, False)
            if e.quantity == 0:
                raise ValueError(f"{where}: field '{f}' must be positive, got 0")
    if "trail_method" in body:
        tm = body["trail_method"]
        if not isinstance(tm, dict) or len(tm) != 1:
            raise ValueError(f"{where}: trail_method must be one of Fixed, Percentage, "
                             f"SmaAbsChange, got {tm!r}")
        (name, val), = tm.items()
        if name == "Fixed":
            e.trail = TRAIL_FIXED
            e.trail_fixed = _json_int(tm, "Fixed", where, True)
        elif name == "Percentage":
            if type(val) not in (int, float) or not isfinite(val):
                raise ValueError(f"{where}: Percentage must be a finite number, got {val!r}")
            e.trail = TRAIL_PCT
            e.trail_value = val
        elif name == "SmaAbsChange":
            if not isinstance(val, dict) or set(val) != {"multiplier", "period"}:
                raise ValueError(f"{where}: SmaAbsChange needs multiplier and period, got {val!r}")
            m = val["multiplier"]
            if type(m) not in (int, float) or not isfinite(m):
                raise ValueError(f"{where}: multiplier must be a finite number, got {m!r}")
            e.trail = TRAIL_SMA
            e.trail_value = m
            e.period = _json_int(val, "period", where, False)
        else:
            raise ValueError(f"{where}: unknown trail_method {name!r}")
    return 0


cdef int _event_from_text(EventRec* e, str text, str where, str json_where) except -1:
    """``json.loads`` then ``_event_from_dict``: every failure, whatever the
    damage (bad JSON, nesting too deep for the parser, a number no field
    can hold), is a ValueError starting with ``where`` / ``json_where``."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{json_where}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{json_where}: nested too deeply") from None
    try:
        _event_from_dict(e, obj, where)
    except (OverflowError, TypeError) as exc:
        raise ValueError(f"{where}: invalid event: {exc}") from None
    return 0


cdef str _debug_price(int64_t p):
    return f"Price({p})"


@cython.final
@cython.freelist(256)
cdef class Event:
    """One state-changing call, as recorded in the event log.

    ``kind`` is the method name (``"submit_limit"``, ``"cancel"``, ...).
    ``__getstate__`` gives the JSON form, ``Event.from_json`` parses it.
    """
    cdef EventRec rec

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'Event' instances; use Event.from_json or Exchange.events()")

    @property
    def kind(self):
        return _dt.EVENT_KINDS[self.rec.kind]

    def to_dict(self):
        """The serde form: ``{"SubmitLimit": {"side": "Buy", ...}}``."""
        return _event_dict(&self.rec)

    def __getstate__(self):
        return json.dumps(_event_dict(&self.rec), separators=(",", ":"))

    def __setstate__(self, state):
        cdef EventRec e
        if not isinstance(state, str):
            raise TypeError(f"state must be a str, got {_describe(state)}")
        _event_from_text(&e, state, "event", "event JSON")
        self.rec = e

    def __reduce__(self):
        return (_event_from_json, (self.__getstate__(),))

    @staticmethod
    def from_json(text):
        """Parse one event from its JSON form (``Event.__getstate__``)."""
        cdef Event ev = Event.__new__(Event)
        ev.__setstate__(text)
        return ev

    def __eq__(self, other):
        if not isinstance(other, Event):
            return NotImplemented
        return self.to_dict() == (<Event>other).to_dict()

    def __hash__(self):
        return hash(self.__getstate__())

    def __repr__(self):
        cdef EventRec* e = &self.rec
        k = e.kind
        side = _SIDE_CAMEL[e.side]
        if k == EV_SUBMIT_LIMIT:
            return (f"SubmitLimit {{ side: {side}, price: {_debug_price(e.price)}, "
                    f"quantity: {e.quantity}, time_in_force: {_TIF_UPPER[e.tif]} }}")
        if k == EV_SUBMIT_MARKET:
            return f"SubmitMarket {{ side: {side}, quantity: {e.quantity} }}"
        if k == EV_CANCEL:
            return f"Cancel {{ order_id: OrderId({e.order_id}) }}"
        if k == EV_MODIFY:
            return (f"Modify {{ order_id: OrderId({e.order_id}), new_price: "
                    f"{_debug_price(e.price)}, new_quantity: {e.quantity} }}")
        head = f"side: {side}, stop_price: {_debug_price(e.price)}"
        if k in (EV_STOP_LIMIT, EV_TRAIL_LIMIT):
            head += f", limit_price: {_debug_price(e.limit_price)}"
        head += f", quantity: {e.quantity}"
        if k in (EV_STOP_LIMIT, EV_TRAIL_LIMIT):
            head += f", time_in_force: {_TIF_UPPER[e.tif]}"
        if k in (EV_TRAIL_MARKET, EV_TRAIL_LIMIT):
            if e.trail == TRAIL_FIXED:
                tm = f"Fixed({e.trail_fixed})"
            elif e.trail == TRAIL_PCT:
                tm = f"Percentage({e.trail_value!r})"
            else:
                tm = f"SmaAbsChange {{ multiplier: {e.trail_value!r}, period: {e.period} }}"
            head += f", trail_method: {tm}"
        return f"{_EVENT_VARIANTS[k]} {{ {head} }}"


def _event_from_json(text):
    return Event.from_json(text)


cdef Event _event(const EventRec* e):
    cdef Event ev = Event.__new__(Event)
    ev.rec = e[0]
    return ev


cdef object _trades_array(const TradeRec* t, size_t n):
    arr = np.zeros(n, dtype=_dt.TRADE_DTYPE)
    cdef char[::1] view
    if n:
        view = arr.view(np.uint8).reshape(-1)
        memcpy(&view[0], t, n * sizeof(TradeRec))
    return arr


def _layout():
    """Sizes and field offsets of the C records (pinned against nanobook.dtypes)."""
    cdef EventRec e
    cdef TradeRec t
    cdef char* eb = <char*>&e
    cdef char* tb = <char*>&t
    return {
        "event": (sizeof(EventRec), {
            "kind": <char*>&e.kind - eb, "side": <char*>&e.side - eb, "tif": <char*>&e.tif - eb,
            "trail": <char*>&e.trail - eb, "order_id": <char*>&e.order_id - eb,
            "price": <char*>&e.price - eb, "limit_price": <char*>&e.limit_price - eb,
            "quantity": <char*>&e.quantity - eb, "trail_fixed": <char*>&e.trail_fixed - eb,
            "trail_value": <char*>&e.trail_value - eb, "period": <char*>&e.period - eb}),
        "trade": (sizeof(TradeRec), {
            "trade_id": <char*>&t.trade_id - tb, "price": <char*>&t.price - tb,
            "quantity": <char*>&t.quantity - tb, "aggressor_side": <char*>&t.aggressor_side - tb,
            "aggressor_order_id": <char*>&t.aggressor_order_id - tb,
            "passive_order_id": <char*>&t.passive_order_id - tb,
            "timestamp": <char*>&t.timestamp - tb}),
        "order": sizeof(OrderRec),
        "level": sizeof(Level),
    }


# ---------------------------------------------------------------------------
# the book
# ---------------------------------------------------------------------------

cdef inline OrderRec* _at(Exchange ex, oid_t oid) noexcept nogil:
    """Record of an id known to be in the table (queue members)."""
    return &ex.pages[oid >> PAGE_BITS][oid & (PAGE_SIZE - 1)]


cdef class Exchange:
    """A single-instrument limit order book with price-time priority.

    Prices are integer ticks (cents), quantities integer lots.  Orders are
    stored by id (a paged table: O(1) lookup), each price level is an
    intrusive FIFO, and cancels are O(1) tombstones with exact level totals.
    Every state-changing call appends one fixed-size record to the event
    log (``event_log=False`` switches it off); ``Exchange.replay`` rebuilds
    the same state from it.

    Parameters
    ----------
    event_log : bool, default True
        Record every state-changing call.
    """

    def __cinit__(self, event_log=True):
        self.next_id = 1
        self.next_trade_id = 1
        self.next_ts = 1
        self.free_level = -1
        buf_init(&self.trade_log, sizeof(TradeRec))
        buf_init(&self.event_buf, 1)
        self.event_log = _flag(event_log, "event_log")

    def __init__(self, event_log=True):
        pass

    def __dealloc__(self):
        cdef size_t i
        if self.pages != NULL:
            for i in range(self.npages):
                free(self.pages[i])
        free(self.pages)
        free(self.page_live)
        free(self.levels)
        free(self.side_entries[0])
        free(self.side_entries[1])
        free(self.stops)
        free(self.pending)
        free(self.trig)
        free(self.history)
        free(self.trade_log.data)
        free(self.event_buf.data)

    # -- queries (C) ----------------------------------------------------------

    cdef OrderRec* rec(self, oid_t oid) noexcept nogil:
        cdef size_t p = oid >> PAGE_BITS
        cdef OrderRec* r
        if p >= self.npages or self.pages[p] == NULL:
            return NULL
        r = &self.pages[p][oid & (PAGE_SIZE - 1)]
        return r if r.kind != REC_NONE else NULL

    cdef size_t find_level(self, uint8_t side, price_t price, bint* found) noexcept nogil:
        cdef BookEntry* e = self.side_entries[side]
        cdef size_t n = self.side_n[side], lo = 0, hi, mid
        cdef price_t ep
        found[0] = False
        if n == 0:
            return 0
        # most traffic is at or near the touch (the end of the array)
        ep = e[n - 1].price
        if ep == price:
            found[0] = True
            return n - 1
        if (price > ep) if side == BUY else (price < ep):
            return n
        hi = n - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            ep = e[mid].price
            if ep == price:
                found[0] = True
                return mid
            if (ep < price) if side == BUY else (ep > price):
                lo = mid + 1
            else:
                hi = mid
        return lo

    cdef u128_t crossing_quantity(self, uint8_t side, price_t price, qty_t enough) noexcept nogil:
        cdef uint8_t opp = 1 - side
        cdef BookEntry* e = self.side_entries[opp]
        cdef size_t i = self.side_n[opp]
        cdef u128_t total = 0
        while i > 0 and total < enough:
            i -= 1
            if (price < e[i].price) if side == BUY else (price > e[i].price):
                break
            total = sat_add128(total, self.levels[e[i].slot].total)
        return total

    # -- commands (C) ---------------------------------------------------------

    cdef OrderRec* alloc_rec(self, oid_t oid) except NULL nogil:
        cdef size_t p = oid >> PAGE_BITS, cap, i
        cdef OrderRec** pages
        cdef uint32_t* live
        cdef OrderRec* r
        if p >= self.npages:
            cap = self.npages * 2 if self.npages else 16
            while cap <= p:
                cap *= 2
            pages = <OrderRec**>realloc(self.pages, cap * sizeof(OrderRec*))
            if pages == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for the order table")
            self.pages = pages
            live = <uint32_t*>realloc(self.page_live, cap * sizeof(uint32_t))
            if live == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for the order table")
            self.page_live = live
            for i in range(self.npages, cap):
                self.pages[i] = NULL
                self.page_live[i] = 0
            self.npages = cap
        if self.pages[p] == NULL:
            self.pages[p] = <OrderRec*>calloc(PAGE_SIZE, sizeof(OrderRec))
            if self.pages[p] == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for the order table")
        self.page_live[p] += 1
        r = &self.pages[p][oid & (PAGE_SIZE - 1)]
        return r

    cdef slot_t alloc_level(self) except -1 nogil:
        cdef slot_t s
        cdef slot_t cap
        cdef Level* lv
        if self.free_level >= 0:
            s = self.free_level
            self.free_level = self.levels[s].next_free
            return s
        if self.levels_used == self.levels_cap:
            cap = self.levels_cap * 2 if self.levels_cap else 64
            lv = <Level*>realloc(self.levels, cap * sizeof(Level))
            if lv == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for price levels")
            self.levels = lv
            self.levels_cap = cap
        s = self.levels_used
        self.levels_used += 1
        return s

    cdef int rest(self, OrderRec* o, oid_t oid) except -1 nogil:
        cdef uint8_t side = o.side
        cdef bint found
        cdef size_t idx = self.find_level(side, o.price, &found), cap
        cdef slot_t slot
        cdef BookEntry* e
        cdef Level* lv
        if found:
            slot = self.side_entries[side][idx].slot
        else:
            slot = self.alloc_level()
            if self.side_n[side] == self.side_cap[side]:
                cap = self.side_cap[side] * 2 if self.side_cap[side] else 64
                e = <BookEntry*>realloc(self.side_entries[side], cap * sizeof(BookEntry))
                if e == NULL:
                    with gil:
                        raise MemoryError("nanobook: out of memory for price levels")
                self.side_entries[side] = e
                self.side_cap[side] = cap
            e = self.side_entries[side]
            memmove(&e[idx + 1], &e[idx], (self.side_n[side] - idx) * sizeof(BookEntry))
            e[idx].price = o.price
            e[idx].slot = slot
            self.side_n[side] += 1
            lv = &self.levels[slot]
            lv.price = o.price
            lv.total = 0
            lv.head = 0
            lv.tail = 0
            lv.count = 0
            lv.next_free = -1
        lv = &self.levels[slot]
        o.level = slot
        o.next = 0
        if lv.tail:
            _at(self, lv.tail).next = oid
        else:
            lv.head = oid
        lv.tail = oid
        lv.total += o.remaining
        lv.count += 1
        return 0

    cdef void remove_level(self, uint8_t side, price_t price) noexcept nogil:
        cdef bint found
        cdef size_t idx = self.find_level(side, price, &found)
        cdef BookEntry* e = self.side_entries[side]
        cdef slot_t slot
        if not found:
            return
        slot = e[idx].slot
        memmove(&e[idx], &e[idx + 1], (self.side_n[side] - idx - 1) * sizeof(BookEntry))
        self.side_n[side] -= 1
        self.levels[slot].next_free = self.free_level
        self.free_level = slot

    cdef int match(self, OrderRec* o, oid_t oid) except -1 nogil:
        cdef uint8_t opp = 1 - o.side
        cdef BookEntry* e = self.side_entries[opp]
        cdef BookEntry best
        cdef Level* lv
        cdef oid_t pid
        cdef OrderRec* p
        cdef qty_t fill
        cdef TradeRec* t
        while o.remaining and self.side_n[opp]:
            best = e[self.side_n[opp] - 1]
            if (o.price < best.price) if o.side == BUY else (o.price > best.price):
                break
            lv = &self.levels[best.slot]
            pid = lv.head
            while pid and o.remaining:
                p = _at(self, pid)
                if p.status == ST_CANCELLED:        # tombstone: drop it
                    pid = p.next
                    continue
                fill = o.remaining if o.remaining < p.remaining else p.remaining
                t = <TradeRec*>buf_push(&self.trade_log)
                memset(t, 0, sizeof(TradeRec))      # no stray padding bytes in exports
                t.trade_id = self.next_trade_id
                self.next_trade_id += 1
                t.price = lv.price
                t.quantity = fill
                t.aggressor_side = o.side
                t.aggressor_order_id = oid
                t.passive_order_id = pid
                t.timestamp = self.next_ts
                self.next_ts += 1
                o.remaining -= fill
                p.remaining -= fill
                lv.total -= fill
                if p.remaining == 0:
                    p.status = ST_FILLED
                    p.level = -1
                    lv.count -= 1
                    pid = p.next
                else:
                    p.status = ST_PARTIAL
            lv.head = pid
            if pid == 0:
                lv.tail = 0
            if lv.count == 0:
                self.side_n[opp] -= 1
                lv.next_free = self.free_level
                self.free_level = best.slot
        return 0

    cdef int submit(self, uint8_t side, price_t price, qty_t qty, uint8_t tif,
                    SubmitOut* out) except -1 nogil:
        cdef oid_t oid = self.next_id
        cdef ts_t ts = self.next_ts
        cdef OrderRec* o
        self.next_id += 1
        self.next_ts += 1
        out.order_id = oid
        out.filled = 0
        out.resting = 0
        out.cancelled = 0
        out.trade_start = self.trade_log.n
        if tif == FOK and self.crossing_quantity(side, price, qty) < qty:
            out.cancelled = qty             # rejected: nothing stored
            out.status = ST_CANCELLED
            out.trade_end = self.trade_log.n
            return 0
        o = self.alloc_rec(oid)
        o.price = price
        o.original = qty
        o.remaining = qty
        o.timestamp = ts
        o.next = 0
        o.level = -1
        o.kind = REC_ORDER
        o.side = side
        o.tif = tif
        o.status = ST_NEW
        self.match(o, oid)
        out.filled = qty - o.remaining
        if o.remaining == 0:
            o.status = ST_FILLED
        elif tif == GTC:
            o.status = ST_PARTIAL if out.filled else ST_NEW
            out.resting = o.remaining
            self.rest(o, oid)
        else:                               # IOC / FOK remainder: cancelled now
            o.status = ST_CANCELLED
            out.cancelled = o.remaining
        out.status = o.status
        if o.status == ST_CANCELLED and out.filled:
            out.status = ST_PARTIAL
        out.trade_end = self.trade_log.n
        return 0

    cdef int cancel_order(self, oid_t oid, qty_t* cancelled) noexcept nogil:
        cdef OrderRec* r = self.rec(oid)
        cdef StopRec* s
        cdef Level* lv
        cancelled[0] = 0
        if r == NULL:
            return NOT_FOUND
        if r.kind == REC_STOP:
            s = &self.stops[r.next]
            if s.status != STOP_PENDING:
                return NOT_FOUND
            s.status = STOP_CANCELLED
            self.pending_live -= 1
            cancelled[0] = s.quantity
            return OK
        if r.status >= ST_FILLED:
            return NOT_ACTIVE
        lv = &self.levels[r.level]
        lv.total -= r.remaining
        lv.count -= 1
        cancelled[0] = r.remaining          # ``remaining`` keeps the unfilled amount
        r.status = ST_CANCELLED             # stays queued as a tombstone
        r.level = -1
        if lv.count == 0:
            self.remove_level(r.side, r.price)
        return OK

    cdef int modify_order(self, oid_t oid, price_t price, qty_t qty, qty_t* cancelled,
                          SubmitOut* out) except -1 nogil:
        cdef OrderRec* r = self.rec(oid)
        cdef uint8_t side, tif
        cancelled[0] = 0
        if r == NULL or r.kind != REC_ORDER:
            return NOT_FOUND
        if r.status >= ST_FILLED:
            return NOT_ACTIVE
        side = r.side
        tif = r.tif
        self.cancel_order(oid, cancelled)
        self.submit(side, price, qty, tif, out)
        return OK

    cdef int add_stop(self, EventRec* ev, oid_t* oid_out, bint* triggered) except -1 nogil:
        cdef oid_t oid = self.next_id
        cdef OrderRec* r
        cdef StopRec* s
        cdef size_t idx, cap
        cdef StopRec* stops
        cdef size_t* pend
        self.next_id += 1
        if self.nstops == self.stops_cap:
            cap = self.stops_cap * 2 if self.stops_cap else 16
            stops = <StopRec*>realloc(self.stops, cap * sizeof(StopRec))
            if stops == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for stops")
            self.stops = stops
            self.stops_cap = cap
        if self.npending == self.pending_cap:
            cap = self.pending_cap * 2 if self.pending_cap else 16
            pend = <size_t*>realloc(self.pending, cap * sizeof(size_t))
            if pend == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for stops")
            self.pending = pend
            pend = <size_t*>realloc(self.trig, cap * sizeof(size_t))
            if pend == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for stops")
            self.trig = pend
            self.pending_cap = cap
        r = self.alloc_rec(oid)
        memset(r, 0, sizeof(OrderRec))
        r.kind = REC_STOP
        r.level = -1
        idx = self.nstops
        r.next = idx
        self.nstops += 1
        s = &self.stops[idx]
        memset(s, 0, sizeof(StopRec))
        s.id = oid
        s.stop_price = ev.price
        s.limit_price = ev.limit_price
        s.quantity = ev.quantity
        s.timestamp = self.next_ts
        self.next_ts += 1
        s.side = ev.side
        s.tif = ev.tif
        s.status = STOP_PENDING
        s.is_limit = ev.kind == EV_STOP_LIMIT or ev.kind == EV_TRAIL_LIMIT
        s.trail = ev.trail if (ev.kind == EV_TRAIL_MARKET or ev.kind == EV_TRAIL_LIMIT) else TRAIL_NONE
        s.trail_fixed = ev.trail_fixed
        s.trail_value = ev.trail_value
        s.period = ev.period
        self.pending[self.npending] = idx
        self.npending += 1
        self.pending_live += 1
        oid_out[0] = oid
        triggered[0] = False
        if s.trail == TRAIL_NONE and self.has_last and (
                (s.side == BUY and self.last_price >= s.stop_price)
                or (s.side == SELL and self.last_price <= s.stop_price)):
            self.process_stops()
            triggered[0] = self.stops[idx].status == STOP_TRIGGERED
        return 0

    cdef int feed_trailing(self, price_t p) noexcept nogil:
        """One update step of the trailing stops at trade price ``p``."""
        cdef size_t i, k, j, pos
        cdef StopRec* s
        cdef int64_t offset, cand, total
        if self.hist_has_prev:
            if self.history == NULL:
                self.history = <int64_t*>malloc(HISTORY_CAP * sizeof(int64_t))
            if self.history != NULL:
                self.history[self.hist_head] = abs_diff(p, self.hist_prev)
                self.hist_head = (self.hist_head + 1) % HISTORY_CAP
                if self.hist_n < HISTORY_CAP:
                    self.hist_n += 1
        self.hist_prev = p
        self.hist_has_prev = True
        for i in range(self.npending):
            s = &self.stops[self.pending[i]]
            if s.status != STOP_PENDING or s.trail == TRAIL_NONE:
                continue
            if not s.has_watermark:
                s.watermark = p
                s.has_watermark = True
            elif s.side == SELL:
                if p > s.watermark:
                    s.watermark = p
            elif p < s.watermark:
                s.watermark = p
            if s.trail == TRAIL_FIXED:
                offset = s.trail_fixed
            elif s.trail == TRAIL_PCT:
                offset = f64_to_i64(c_round(<double>s.watermark * s.trail_value))
            else:
                offset = 0
                if s.period and self.hist_n:
                    k = s.period if s.period < self.hist_n else self.hist_n
                    total = 0
                    pos = self.hist_head
                    for j in range(k):
                        pos = (pos + HISTORY_CAP - 1) % HISTORY_CAP
                        total = sat_add(total, self.history[pos])
                    offset = f64_to_i64((<double>total / <double>k) * s.trail_value)
            if offset <= 0:
                continue
            if s.side == SELL:
                cand = sat_add(s.watermark, -offset)
                if cand > s.stop_price:
                    s.stop_price = cand
            else:
                cand = sat_add(s.watermark, offset)
                if cand < s.stop_price:
                    s.stop_price = cand
        return 0

    cdef int process_stops(self) except -1 nogil:
        cdef int rounds = 0
        cdef price_t p, last = 0
        cdef size_t i, j, ntrig, k
        cdef StopRec* s
        cdef bint traded
        cdef SubmitOut out
        while rounds < MAX_STOP_ROUNDS:
            rounds += 1
            if not self.has_last:
                return 0
            p = self.last_price
            self.feed_trailing(p)
            ntrig = 0
            j = 0
            for i in range(self.npending):
                s = &self.stops[self.pending[i]]
                if s.status != STOP_PENDING:
                    continue
                if (s.stop_price <= p) if s.side == BUY else (s.stop_price >= p):
                    s.status = STOP_TRIGGERED
                    self.pending_live -= 1
                    self.trig[ntrig] = self.pending[i]
                    ntrig += 1
                else:
                    self.pending[j] = self.pending[i]
                    j += 1
            self.npending = j
            if ntrig == 0:
                return 0
            traded = False
            for k in range(ntrig):
                s = &self.stops[self.trig[k]]
                if s.is_limit:
                    self.submit(s.side, s.limit_price, s.quantity, s.tif, &out)
                else:
                    self.submit(s.side, INT64_MAX if s.side == BUY else INT64_MIN,
                                s.quantity, IOC, &out)
                if out.trade_end > out.trade_start:
                    traded = True
                    last = (<TradeRec*>self.trade_log.data)[out.trade_end - 1].price
            if not traded:
                return 0
            self.last_price = last
        return 0

    cdef int after_trades(self, SubmitOut* out) except -1 nogil:
        if out.trade_end > out.trade_start:
            self.last_price = (<TradeRec*>self.trade_log.data)[out.trade_end - 1].price
            self.has_last = True
            self.process_stops()
        return 0

    cdef int run(self, EventRec* ev, ExecOut* res) except -1 nogil:
        cdef uint8_t k = ev.kind
        if self.event_log:
            log_event(&self.event_buf, ev)
            self.nevents += 1
        if k == EV_SUBMIT_LIMIT:
            self.submit(ev.side, ev.price, ev.quantity, ev.tif, &res.sub)
            self.after_trades(&res.sub)
        elif k == EV_SUBMIT_MARKET:
            self.submit(ev.side, INT64_MAX if ev.side == BUY else INT64_MIN,
                        ev.quantity, IOC, &res.sub)
            self.after_trades(&res.sub)
        elif k == EV_CANCEL:
            res.code = self.cancel_order(ev.order_id, &res.cancelled)
        elif k == EV_MODIFY:
            res.code = self.modify_order(ev.order_id, ev.price, ev.quantity,
                                         &res.cancelled, &res.sub)
            if res.code == OK:
                self.after_trades(&res.sub)
        else:
            self.add_stop(ev, &res.sub.order_id, &res.triggered)
        return 0

    cdef void compact_levels(self) noexcept nogil:
        cdef int side
        cdef size_t i
        cdef Level* lv
        cdef oid_t pid, prev, nxt
        cdef OrderRec* p
        for side in range(2):
            for i in range(self.side_n[side]):
                lv = &self.levels[self.side_entries[side][i].slot]
                pid = lv.head
                prev = 0
                lv.head = 0
                while pid:
                    p = _at(self, pid)
                    nxt = p.next
                    if p.status != ST_CANCELLED:
                        if prev:
                            _at(self, prev).next = pid
                        else:
                            lv.head = pid
                        prev = pid
                    pid = nxt
                if prev:
                    _at(self, prev).next = 0
                lv.tail = prev

    # -- Python API: commands -------------------------------------------------

    cdef inline int _claim(self, const char* call, bint write) except -1:
        """Claim the book for the public method ``call`` (see ``_claim.pxd``:
        reads share, commands exclude) or raise RuntimeError."""
        return claim(&self.guard, "Exchange", call, write)

    cdef inline void _release(self, bint write) noexcept:
        release(&self.guard, write)

    cdef object _submit_call(self, EventRec* ev):
        cdef ExecOut res
        self.run(ev, &res)
        return _submit_result(self, &res.sub)

    cdef object _stop_call(self, EventRec* ev):
        cdef ExecOut res
        cdef StopSubmitResult r = StopSubmitResult.__new__(StopSubmitResult)
        self.run(ev, &res)
        r.order_id = res.sub.order_id
        r._triggered = res.triggered
        return r

    def submit_limit(self, side, price, quantity, tif="gtc"):
        """Submit a limit order; it matches at once and rests per ``tif``.

        Parameters
        ----------
        side : {"buy", "sell", "b", "s"} (case-insensitive)
        price : int
            Limit price in ticks (any signed 64-bit value).
        quantity : int
            Positive lots, below 2**64.
        tif : {"gtc", "ioc", "fok"}
            ``gtc`` rests the remainder, ``ioc`` cancels it, ``fok`` fills
            completely or is rejected without trading.

        Returns
        -------
        SubmitResult

        Raises
        ------
        ValueError
            Unknown side or tif, or a quantity that is not positive.
        TypeError, OverflowError
            Non-integer or out-of-range price or quantity.

        Complexity: O(log L + F) for L levels on the side and F fills.
        """
        cdef EventRec ev
        self._claim(b"submit_limit", True)
        try:
            ev.kind = EV_SUBMIT_LIMIT
            ev.side = _parse_side(side)
            ev.price = _to_i64(price, "price")
            ev.quantity = _to_qty(quantity, "quantity")
            ev.tif = _parse_tif(tif)
            _check_positive(ev.quantity, "quantity")
            ev.trail = TRAIL_NONE
            ev._pad = 0
            ev.order_id = 0
            ev.limit_price = 0
            ev.trail_fixed = 0
            ev.trail_value = 0.0
            ev.period = 0
            return self._submit_call(&ev)
        finally:
            self._release(True)

    def submit_market(self, side, quantity):
        """Submit a market order: an IOC at the most aggressive price.

        Whatever does not fill is cancelled (``get_order`` says
        ``"cancelled"``).  Complexity: O(F) for F fills.
        """
        cdef EventRec ev
        self._claim(b"submit_market", True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = EV_SUBMIT_MARKET
            ev.side = _parse_side(side)
            ev.quantity = _to_qty(quantity, "quantity")
            _check_positive(ev.quantity, "quantity")
            return self._submit_call(&ev)
        finally:
            self._release(True)

    def cancel(self, order_id):
        """Cancel a resting order or a pending stop.  O(1) (a tombstone).

        Unknown ids give ``CancelResult(success=False, error='OrderNotFound')``,
        finished orders ``'OrderNotActive'``; both are recorded as events.
        """
        cdef EventRec ev
        cdef ExecOut res
        cdef CancelResult r = CancelResult.__new__(CancelResult)
        self._claim(b"cancel", True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = EV_CANCEL
            ev.order_id = _to_u64(order_id, "order_id")
            self.run(&ev, &res)
            r.success = res.code == OK
            r.cancelled_quantity = res.cancelled
            r._code = res.code
            return r
        finally:
            self._release(True)

    def modify(self, order_id, new_price, new_quantity):
        """Cancel/replace: the order is cancelled and a new order (new id,
        same side and tif, back of the queue) is submitted.  Its trades set
        the last trade price and trigger stops like any submission.
        """
        cdef EventRec ev
        cdef ExecOut res
        cdef ModifyResult r = ModifyResult.__new__(ModifyResult)
        self._claim(b"modify", True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = EV_MODIFY
            ev.order_id = _to_u64(order_id, "order_id")
            ev.price = _to_i64(new_price, "new_price")
            ev.quantity = _to_qty(new_quantity, "new_quantity")
            _check_positive(ev.quantity, "new_quantity")
            self.run(&ev, &res)
            r.old_order_id = ev.order_id
            r._code = res.code
            r.success = res.code == OK
            if r.success:
                r.new_order_id = res.sub.order_id
                r.cancelled_quantity = res.cancelled
                r._take(self, res.sub.trade_start, res.sub.trade_end)
            return r
        finally:
            self._release(True)

    cdef object _stop(self, uint8_t kind, object side, str stop_name, object stop_price,
                      object limit_price, object quantity, object tif,
                      object trail_type=None, object trail_value=None, object atr_period=None):
        """Validate the arguments of one of the four stop submitters (in the
        reference's order: side, prices, quantity, tif, trail) and submit it."""
        cdef EventRec ev
        self._claim(<bytes>_STOP_CALLS[kind], True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = kind
            ev.side = _parse_side(side)
            ev.price = _to_i64(stop_price, stop_name)
            if limit_price is not None or kind == EV_STOP_LIMIT or kind == EV_TRAIL_LIMIT:
                ev.limit_price = _to_i64(limit_price, "limit_price")
            ev.quantity = _to_qty(quantity, "quantity")
            if tif is not None:
                ev.tif = _parse_tif(tif)
            _check_positive(ev.quantity, "quantity")
            if kind == EV_TRAIL_MARKET or kind == EV_TRAIL_LIMIT:
                _parse_trail(&ev, trail_type, trail_value, atr_period)
            return self._stop_call(&ev)
        finally:
            self._release(True)

    def submit_stop_market(self, side, stop_price, quantity):
        """A stop that sends a market order when the last trade price
        reaches ``stop_price`` (buy: at or above, sell: at or below)."""
        return self._stop(EV_STOP_MARKET, side, "stop_price", stop_price, None, quantity, None)

    def submit_stop_limit(self, side, stop_price, limit_price, quantity, tif="gtc"):
        """A stop that sends a limit order at ``limit_price`` with ``tif``."""
        return self._stop(EV_STOP_LIMIT, side, "stop_price", stop_price, limit_price, quantity, tif)

    def submit_trailing_stop_market(self, side, initial_stop_price, quantity, trail_type,
                                    trail_value, atr_period=None):
        """A stop-market whose stop price trails the last trade price.

        ``trail_type``: ``"fixed"`` (offset in ticks), ``"percentage"`` /
        ``"pct"`` (fraction of the watermark), ``"sma_abs_change"`` (alias
        ``"atr"``: ``trail_value`` times the mean absolute change of the last
        ``atr_period`` trade prices).  The stop only ever tightens.
        """
        return self._stop(EV_TRAIL_MARKET, side, "initial_stop_price", initial_stop_price, None,
                          quantity, None, trail_type, trail_value, atr_period)

    def submit_trailing_stop_limit(self, side, initial_stop_price, limit_price, quantity,
                                   trail_type, trail_value, tif="gtc", atr_period=None):
        """A trailing stop that sends a limit order at ``limit_price``."""
        return self._stop(EV_TRAIL_LIMIT, side, "initial_stop_price", initial_stop_price,
                          limit_price, quantity, tif, trail_type, trail_value, atr_period)

    def compact(self):
        """Unlink cancelled orders (tombstones) from the level queues.

        Has no observable effect on the book; matching skips tombstones
        anyway.  O(resting orders + tombstones).
        """
        self._claim(b"compact", True)
        try:
            self.compact_levels()
        finally:
            self._release(True)

    def clear_trades(self):
        """Empty the trade history (trade ids keep counting)."""
        self._claim(b"clear_trades", True)
        try:
            self.trade_log.n = 0
        finally:
            self._release(True)

    def clear_order_history(self):
        """Forget finished orders (filled/cancelled) and non-pending stops.

        Returns the number of regular orders removed.  Pages of the order
        table with nothing left in them are freed.
        """
        cdef size_t p, i, j = 0
        cdef OrderRec* r
        cdef uint64_t removed = 0
        self._claim(b"clear_order_history", True)
        try:
            self.compact_levels()       # no queue may point at a purged record
            for p in range(self.npages):
                if self.pages[p] == NULL:
                    continue
                for i in range(PAGE_SIZE):
                    r = &self.pages[p][i]
                    if r.kind == REC_ORDER and r.status >= ST_FILLED:
                        r.kind = REC_NONE
                        removed += 1
                        self.page_live[p] -= 1
                    elif r.kind == REC_STOP and self.stops[r.next].status != STOP_PENDING:
                        r.kind = REC_NONE
                        self.page_live[p] -= 1
                if self.page_live[p] == 0 and (p + 1) << PAGE_BITS <= self.next_id:
                    free(self.pages[p])
                    self.pages[p] = NULL
            # keep only pending stops, in submission order
            for i in range(self.nstops):
                if self.stops[i].status == STOP_PENDING:
                    self.stops[j] = self.stops[i]
                    self.rec(self.stops[j].id).next = j
                    self.pending[j] = j
                    j += 1
            self.nstops = j
            self.npending = j
            return removed
        finally:
            self._release(True)

    # -- Python API: queries ---------------------------------------------------

    def best_bid(self):
        """Highest bid price or None.  O(1)."""
        self._claim(b"best_bid", False)
        try:
            if self.side_n[BUY] == 0:
                return None
            return self.side_entries[BUY][self.side_n[BUY] - 1].price
        finally:
            self._release(False)

    def best_ask(self):
        """Lowest ask price or None.  O(1)."""
        self._claim(b"best_ask", False)
        try:
            if self.side_n[SELL] == 0:
                return None
            return self.side_entries[SELL][self.side_n[SELL] - 1].price
        finally:
            self._release(False)

    def best_bid_ask(self):
        """``(best_bid, best_ask)``, each None when its side is empty.  O(1)."""
        self._claim(b"best_bid_ask", False)
        try:
            return (None if self.side_n[BUY] == 0
                    else self.side_entries[BUY][self.side_n[BUY] - 1].price,
                    None if self.side_n[SELL] == 0
                    else self.side_entries[SELL][self.side_n[SELL] - 1].price)
        finally:
            self._release(False)

    def spread(self):
        """``best_ask - best_bid`` or None.  O(1)."""
        self._claim(b"spread", False)
        try:
            if self.side_n[BUY] == 0 or self.side_n[SELL] == 0:
                return None
            return (self.side_entries[SELL][self.side_n[SELL] - 1].price
                    - self.side_entries[BUY][self.side_n[BUY] - 1].price)
        finally:
            self._release(False)

    def last_trade_price(self):
        """Price of the last trade that set it (submissions, modifies, stop
        cascades), or None."""
        self._claim(b"last_trade_price", False)
        try:
            return self.last_price if self.has_last else None
        finally:
            self._release(False)

    def get_order(self, order_id):
        """Snapshot of order ``order_id`` or None (unknown, a stop, a
        rejected FOK, or purged by ``clear_order_history``).  O(1)."""
        cdef oid_t oid = _to_u64(order_id, "order_id")
        cdef OrderRec* r
        cdef Order o
        self._claim(b"get_order", False)
        try:
            r = self.rec(oid)
            if r == NULL or r.kind != REC_ORDER:
                return None
            o = Order.__new__(Order)
            o.id = oid
            o.price = r.price
            o.original_quantity = r.original
            # a cancelled resting (GTC) order reports nothing left; an IOC
            # remainder reports what was cancelled
            o.remaining_quantity = 0 if (r.status == ST_CANCELLED and r.tif == GTC) else r.remaining
            o.filled_quantity = r.original - r.remaining
            o.timestamp = r.timestamp
            o._side = r.side
            o._tif = r.tif
            o._status = r.status
            return o
        finally:
            self._release(False)

    def get_stop_order(self, order_id):
        """The stop ``order_id`` as a dict, or None.

        Keys: ``id, side, stop_price`` (current, trailed), ``limit_price``
        (None for stop-market), ``quantity, status`` (``pending``,
        ``triggered``, ``cancelled``), ``timestamp``.
        """
        cdef oid_t oid = _to_u64(order_id, "order_id")
        cdef OrderRec* r
        cdef StopRec* s
        self._claim(b"get_stop_order", False)
        try:
            r = self.rec(oid)
            if r == NULL or r.kind != REC_STOP:
                return None
            s = &self.stops[r.next]
            return {"id": s.id, "side": _SIDE_NAMES[s.side], "stop_price": s.stop_price,
                    "limit_price": s.limit_price if s.is_limit else None,
                    "quantity": s.quantity, "status": _STOP_STATUS[s.status],
                    "timestamp": s.timestamp}
        finally:
            self._release(False)

    def pending_stop_count(self):
        """Number of pending stops.  O(1)."""
        self._claim(b"pending_stop_count", False)
        try:
            return self.pending_live
        finally:
            self._release(False)

    def trades(self):
        """All trades since creation or the last ``clear_trades`` (``list[Trade]``)."""
        self._claim(b"trades", False)
        try:
            return _trade_list(<TradeRec*>self.trade_log.data, self.trade_log.n)
        finally:
            self._release(False)

    def trades_array(self):
        """The trade history as an array of ``nanobook.dtypes.TRADE_DTYPE`` (a copy)."""
        self._claim(b"trades_array", False)
        try:
            return _trades_array(<TradeRec*>self.trade_log.data, self.trade_log.n)
        finally:
            self._release(False)

    def events(self):
        """The event log as ``list[Event]`` (empty when the log is off)."""
        return events_from_array(self.events_array())

    def events_array(self):
        """The event log as an array of ``nanobook.dtypes.EVENT_DTYPE`` (decoded
        from its compact in-memory form)."""
        cdef unsigned char[::1] raw
        self._claim(b"events_array", False)
        try:
            arr = np.empty(self.nevents, dtype=_dt.EVENT_DTYPE)
            if self.nevents:
                raw = arr.view(np.uint8).reshape(-1)
                with nogil:
                    decode_events(<const uint8_t*>self.event_buf.data, self.nevents,
                                  <EventRec*>&raw[0])
            return arr
        finally:
            self._release(False)

    def event_count(self):
        """Number of recorded events.  O(1)."""
        self._claim(b"event_count", False)
        try:
            return self.nevents
        finally:
            self._release(False)

    cdef object _snapshot(self, size_t levels):
        cdef BookSnapshot snap = BookSnapshot.__new__(BookSnapshot)
        cdef int s
        cdef size_t n, i
        cdef BookEntry* e
        cdef Level* lv
        for s in range(2):
            n = self.side_n[s] if self.side_n[s] < levels else levels
            snap._n[s] = n
            if n == 0:
                continue
            snap._rows[s] = <LevelRow*>malloc(n * sizeof(LevelRow))
            if snap._rows[s] == NULL:
                raise MemoryError()
            e = self.side_entries[s]
            for i in range(n):
                lv = &self.levels[e[self.side_n[s] - 1 - i].slot]
                snap._rows[s][i].price = lv.price
                snap._rows[s][i].total = lv.total
                snap._rows[s][i].count = lv.count
        return snap

    def depth(self, levels=10):
        """``BookSnapshot`` of the best ``levels`` levels of each side.  O(levels)."""
        self._claim(b"depth", False)
        try:
            return self._snapshot(_to_u64(levels, "levels"))
        finally:
            self._release(False)

    def full_book(self):
        """``BookSnapshot`` of every level.  O(L)."""
        self._claim(b"full_book", False)
        try:
            return self._snapshot(<size_t>-1)
        finally:
            self._release(False)

    def __repr__(self):
        bid, ask = self.best_bid_ask()
        return (f"Exchange(bid={'None' if bid is None else _dollars(bid)}, "
                f"ask={'None' if ask is None else _dollars(ask)}, trades={self.trade_log.n})")

    # -- batch, replay, copies -------------------------------------------------

    def apply(self, ops):
        """Run an array of operations through the book in one ``nogil`` loop.

        Parameters
        ----------
        ops : numpy.ndarray of ``nanobook.dtypes.EVENT_DTYPE``
            One record per call, fields as documented on ``EVENT_DTYPE``.
            The whole array is validated first; an invalid row raises
            ``ValueError`` naming its index and field and nothing is applied.

        Returns
        -------
        numpy.ndarray of ``nanobook.dtypes.TRADE_DTYPE``
            The trades printed by these operations (stop cascades included).
        """
        cdef const EventRec* e
        cdef size_t n, i, start
        cdef const unsigned char[::1] raw
        cdef ExecOut res
        # claimed before validation: _validate_ops releases the GIL
        self._claim(b"apply", True)
        try:
            arr = _validate_ops(ops)
            n = arr.shape[0]
            start = self.trade_log.n
            if n:
                raw = arr.view(np.uint8).reshape(-1)
                e = <const EventRec*>&raw[0]
                with nogil:
                    if self.event_log:
                        buf_reserve(&self.event_buf, n * 8)
                    for i in range(n):
                        self.run(<EventRec*>&e[i], &res)
            return _trades_array((<TradeRec*>self.trade_log.data) + start, self.trade_log.n - start)
        finally:
            self._release(True)

    @staticmethod
    def replay(events, event_log=True):
        """A fresh ``Exchange`` with ``events`` re-applied (and re-recorded).

        ``events`` is a list of ``Event`` (as from ``events()``), an array of
        ``EVENT_DTYPE`` (``events_array()``), or the path of a file written by
        ``save_events``.  The result equals the live exchange the events
        came from (trades removed by ``clear_trades`` excepted).
        """
        cdef Exchange ex = Exchange(event_log=event_log)
        ex.apply(as_event_array(events))
        return ex

    def copy(self):
        """An independent deep copy of the book, stops, logs and counters."""
        cdef Exchange c = Exchange(event_log=self.event_log)
        cdef size_t p
        self._claim(b"copy", False)
        try:
            c.npages = self.npages
            if self.npages:
                c.pages = <OrderRec**>calloc(self.npages, sizeof(OrderRec*))
                c.page_live = <uint32_t*>malloc(self.npages * sizeof(uint32_t))
                if c.pages == NULL or c.page_live == NULL:
                    raise MemoryError()
                memcpy(c.page_live, self.page_live, self.npages * sizeof(uint32_t))
                for p in range(self.npages):
                    if self.pages[p] != NULL:
                        c.pages[p] = <OrderRec*>malloc(PAGE_SIZE * sizeof(OrderRec))
                        if c.pages[p] == NULL:
                            raise MemoryError()
                        memcpy(c.pages[p], self.pages[p], PAGE_SIZE * sizeof(OrderRec))
            c.levels = <Level*>_dup(self.levels, self.levels_cap * sizeof(Level))
            c.levels_cap = self.levels_cap
            c.levels_used = self.levels_used
            c.free_level = self.free_level
            for p in range(2):
                c.side_entries[p] = <BookEntry*>_dup(self.side_entries[p],
                                                     self.side_cap[p] * sizeof(BookEntry))
                c.side_n[p] = self.side_n[p]
                c.side_cap[p] = self.side_cap[p]
            c.stops = <StopRec*>_dup(self.stops, self.stops_cap * sizeof(StopRec))
            c.nstops = self.nstops
            c.stops_cap = self.stops_cap
            c.pending = <size_t*>_dup(self.pending, self.pending_cap * sizeof(size_t))
            c.trig = <size_t*>_dup(self.trig, self.pending_cap * sizeof(size_t))
            c.npending = self.npending
            c.pending_cap = self.pending_cap
            c.pending_live = self.pending_live
            c.history = <int64_t*>_dup(self.history, HISTORY_CAP * sizeof(int64_t)
                                       if self.history != NULL else 0)
            c.hist_n = self.hist_n
            c.hist_head = self.hist_head
            c.hist_prev = self.hist_prev
            c.hist_has_prev = self.hist_has_prev
            c.next_id = self.next_id
            c.next_trade_id = self.next_trade_id
            c.next_ts = self.next_ts
            c.last_price = self.last_price
            c.has_last = self.has_last
            free(c.trade_log.data)
            free(c.event_buf.data)
            buf_copy(&c.trade_log, &self.trade_log)
            buf_copy(&c.event_buf, &self.event_buf)
            c.nevents = self.nevents
            return c
        finally:
            self._release(False)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def save_events(self, path):
        """Write the event log to ``path``: JSON Lines when the name ends in
        ``.jsonl`` (one ``Event.__getstate__`` per line), otherwise the
        binary ``.npy`` form of ``events_array()``."""
        save_events(self.events_array(), path)

    # -- invariants ---------------------------------------------------------------

    def _check(self):
        """Verify every book invariant; raise AssertionError naming the first
        broken one.  O(orders + levels).  For tests."""
        cdef int s
        cdef size_t i, live_pending = 0
        cdef Level* lv
        cdef oid_t pid
        cdef OrderRec* r
        cdef u128_t total
        cdef uint64_t count
        self._claim(b"_check", False)
        try:
            for s in range(2):
                for i in range(self.side_n[s]):
                    e = self.side_entries[s][i]
                    if i and not ((self.side_entries[s][i - 1].price < e.price) if s == BUY
                                  else (self.side_entries[s][i - 1].price > e.price)):
                        raise AssertionError(f"side {s}: levels not strictly ordered at {i}")
                    lv = &self.levels[e.slot]
                    if lv.price != e.price:
                        raise AssertionError(f"level price {lv.price} != entry price {e.price}")
                    total = 0
                    count = 0
                    pid = lv.head
                    while pid:
                        r = self.rec(pid)
                        if r == NULL or r.kind != REC_ORDER:
                            raise AssertionError(f"queue at {lv.price} holds unknown id {pid}")
                        if r.status < ST_FILLED:
                            if r.level != e.slot or r.price != lv.price or r.side != s:
                                raise AssertionError(f"order {pid} misfiled at level {lv.price}")
                            if r.remaining == 0:
                                raise AssertionError(f"live order {pid} has nothing left")
                            total += r.remaining
                            count += 1
                        elif r.status != ST_CANCELLED:
                            raise AssertionError(f"filled order {pid} still queued")
                        if r.next == 0 and pid != lv.tail:
                            raise AssertionError(f"level {lv.price}: tail is not the last id")
                        pid = r.next
                    if total != lv.total or count != lv.count:
                        raise AssertionError(
                            f"level {lv.price}: total/count {u128_to_py(lv.total)}/{lv.count} "
                            f"!= live orders {u128_to_py(total)}/{count}")
                    if count == 0:
                        raise AssertionError(f"empty level {lv.price} still listed")
            if self.side_n[0] and self.side_n[1]:
                if self.side_entries[0][self.side_n[0] - 1].price >= \
                        self.side_entries[1][self.side_n[1] - 1].price:
                    raise AssertionError("book is crossed")
            for i in range(self.nstops):
                if self.stops[i].status == STOP_PENDING:
                    live_pending += 1
            if live_pending != self.pending_live:
                raise AssertionError(f"pending stops {live_pending} != counter {self.pending_live}")
            return True
        finally:
            self._release(False)


cdef void* _dup(const void* src, size_t nbytes) except? NULL:
    cdef void* dst
    if src == NULL or nbytes == 0:
        return NULL
    dst = malloc(nbytes)
    if dst == NULL:
        raise MemoryError()
    memcpy(dst, src, nbytes)
    return dst


# ---------------------------------------------------------------------------
# batch input validation and event files
# ---------------------------------------------------------------------------

_STOP_KINDS = (EV_STOP_MARKET, EV_STOP_LIMIT, EV_TRAIL_MARKET, EV_TRAIL_LIMIT)


cdef enum:
    BAD_KIND = 1
    BAD_SIDE = 2
    BAD_TIF = 3
    BAD_QTY = 4
    BAD_TRAIL = 5
    BAD_TRAIL_VALUE = 6

cdef tuple _BAD = (
    None,
    ("kind", "kind must be one of 1..8 (nanobook.dtypes.EVENT_KINDS)"),
    ("side", "side must be 0 (buy) or 1 (sell)"),
    ("tif", "tif must be 0 (gtc), 1 (ioc) or 2 (fok)"),
    ("quantity", "quantity must be positive"),
    ("trail", "trail must be 1 (fixed), 2 (percentage) or 3 (sma_abs_change)"),
    ("trail_value", "trail_value must be finite"),
)


cdef int _bad_event(const EventRec* e) noexcept nogil:
    """0 if ``e`` is a valid operation, else the BAD_* code of its first bad field."""
    cdef uint8_t k = e.kind
    if k < EV_SUBMIT_LIMIT or k > EV_TRAIL_LIMIT:
        return BAD_KIND
    if k != EV_CANCEL and k != EV_MODIFY and e.side > SELL:
        return BAD_SIDE
    if (k == EV_SUBMIT_LIMIT or k == EV_STOP_LIMIT or k == EV_TRAIL_LIMIT) and e.tif > FOK:
        return BAD_TIF
    if k != EV_CANCEL and e.quantity == 0:
        return BAD_QTY
    if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
        if e.trail < TRAIL_FIXED or e.trail > TRAIL_SMA:
            return BAD_TRAIL
        if e.trail != TRAIL_FIXED and not isfinite(e.trail_value):
            return BAD_TRAIL_VALUE
    return 0


def _validate_ops(ops, str name="ops"):
    """A C-contiguous ``EVENT_DTYPE`` array, or ValueError/TypeError naming
    ``name``, the first bad row and field.  One nogil pass."""
    cdef const unsigned char[::1] raw
    cdef const EventRec* e
    cdef size_t i, n
    cdef int code = 0
    if not isinstance(ops, np.ndarray) or ops.dtype != _dt.EVENT_DTYPE or ops.ndim != 1:
        desc = f"{type(ops).__name__}" + (f" of dtype {ops.dtype}" if isinstance(ops, np.ndarray) else "")
        raise TypeError(f"{name} must be a 1-d numpy array of nanobook.dtypes.EVENT_DTYPE, got {desc}")
    ops = np.ascontiguousarray(ops)
    n = ops.shape[0]
    if n == 0:
        return ops
    raw = ops.view(np.uint8).reshape(-1)
    e = <const EventRec*>&raw[0]
    with nogil:
        for i in range(n):
            code = _bad_event(&e[i])
            if code:
                break
    if code:
        field, what = _BAD[code]
        raise ValueError(f"{name}[{i}]: {what}, got {field}={ops[field][i]!r} "
                         f"(kind={int(ops['kind'][i])})")
    return ops


def as_event_array(events):
    """Events as an ``EVENT_DTYPE`` array: from an array, a list of ``Event``,
    or a path to a file written by ``save_events``."""
    cdef size_t i, n
    cdef Event ev
    cdef unsigned char[::1] raw
    if isinstance(events, np.ndarray):
        return events
    if isinstance(events, (str, os.PathLike)):
        return load_events(events)
    if isinstance(events, (dict, bytes)) or not hasattr(events, "__len__"):
        raise TypeError(f"events must be a list of Event, an EVENT_DTYPE array or a path, "
                        f"got {type(events).__name__}")
    n = len(events)
    arr = np.zeros(n, dtype=_dt.EVENT_DTYPE)
    if n:
        raw = arr.view(np.uint8).reshape(-1)
        for i in range(n):
            item = events[i]
            if not isinstance(item, Event):
                raise TypeError(f"events[{i}] must be an Event, got {_describe(item)}")
            ev = <Event>item
            memcpy(&raw[i * sizeof(EventRec)], &ev.rec, sizeof(EventRec))
    return arr


def events_from_array(events):
    """``list[Event]`` from an array of ``EVENT_DTYPE`` (validated as ``apply`` input)."""
    cdef size_t i, n
    cdef const unsigned char[::1] raw
    cdef const EventRec* e
    arr = _validate_ops(events, "events")
    n = arr.shape[0]
    if n == 0:
        return []
    raw = arr.view(np.uint8).reshape(-1)
    e = <const EventRec*>&raw[0]
    return [_event(&e[i]) for i in range(n)]


def save_events(events, path):
    """Write events (list of ``Event`` or ``EVENT_DTYPE`` array) to ``path``.

    ``*.jsonl``: one JSON object per line (the ``Event.__getstate__`` form);
    any other name: numpy's ``.npy`` format of the array.  The events are
    validated as ``Exchange.apply`` input first and the file is written
    whole to a temporary name beside ``path``, then renamed over it: on any
    error (bad events, a failed write) an existing ``path`` is untouched.
    """
    cdef size_t i
    cdef const unsigned char[::1] raw
    cdef EventRec rec
    path = _event_path(path)
    arr = _validate_ops(as_event_array(events), "events")
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        if path.endswith(".jsonl"):
            raw = arr.view(np.uint8).reshape(-1) if arr.shape[0] else None
            with open(tmp, "w", encoding="utf-8") as fh:
                for i in range(arr.shape[0]):
                    memcpy(&rec, &raw[i * sizeof(EventRec)], sizeof(EventRec))
                    fh.write(json.dumps(_event_dict(&rec), separators=(",", ":")))
                    fh.write("\n")
        else:
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


cdef str _event_path(object path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {_describe(path)}")
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else path


def load_events(path):
    """Read a file written by ``save_events`` into an ``EVENT_DTYPE`` array.

    Raises ValueError naming the file and line (JSON Lines) or the problem
    (binary) for any malformed content, whatever the damage (a mutated
    ``.npy`` header, a wrong size, bad UTF-8, JSON nested too deeply, numbers
    out of range); the returned array is validated as ``Exchange.apply``
    input.  A path that cannot be opened raises the ``OSError`` of ``open``
    (``FileNotFoundError``, ...).
    """
    path = _event_path(path)
    arr = _load_jsonl(path) if path.endswith(".jsonl") else _load_npy(path)
    try:
        return _validate_ops(arr)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


cdef object _load_jsonl(str path):
    cdef EventRec rec
    recs = []
    lineno = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{where}: not UTF-8 text: {exc}") from None
            if not line.strip():
                continue
            _event_from_text(&rec, line, where, f"{where}: invalid JSON")
            recs.append((<char*>&rec)[:sizeof(EventRec)])
    return np.frombuffer(b"".join(recs), dtype=_dt.EVENT_DTYPE).copy()


cdef object _load_npy(str path):
    """The ``.npy`` form, header parsed and checked before any data is read:
    the dtype must be ``EVENT_DTYPE``, the shape 1-d and the file exactly as
    long as the header says (no allocation sized by a damaged header)."""
    from numpy.lib import format as npf
    cdef object bad = f"{path}: not a nanobook event file"
    with open(path, "rb") as fh:
        try:
            with warnings.catch_warnings():
                # a damaged header may hold escapes the literal parser warns about
                warnings.simplefilter("ignore")
                version = npf.read_magic(fh)
                if version == (1, 0):
                    shape, _fortran, dtype = npf.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _fortran, dtype = npf.read_array_header_2_0(fh)
                else:
                    raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as exc:
            raise ValueError(f"{bad}: {exc}") from None
        except Exception as exc:
            # numpy's header parser lets tokenize/syntax/type errors through
            raise ValueError(f"{bad}: malformed .npy header "
                             f"({type(exc).__name__}: {exc})") from None
        if dtype != _dt.EVENT_DTYPE or len(shape) != 1:
            raise ValueError(f"{bad} (dtype {dtype}, shape {shape})")
        n = shape[0]
        need = n * _dt.EVENT_DTYPE.itemsize
        have = os.fstat(fh.fileno()).st_size - fh.tell()
        if need != have:
            raise ValueError(f"{bad}: the header says {n} events ({need} bytes), "
                             f"the file holds {have} bytes of data")
        data = fh.read(need)
        if len(data) != need:
            raise ValueError(f"{bad}: the file ended after {len(data)} of {need} data bytes")
    return np.frombuffer(data, dtype=_dt.EVENT_DTYPE).copy()


# ---------------------------------------------------------------------------
# several instruments
# ---------------------------------------------------------------------------

cpdef str check_symbol(object symbol):
    """``symbol`` if it is a str of at most 8 UTF-8 bytes, else raise."""
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, got {_describe(symbol)}")
    if len(symbol.encode("utf-8")) > 8:
        raise ValueError(f"Symbol '{symbol}' exceeds 8 bytes. Use a shorter symbol.")
    return symbol


@cython.final
cdef class MultiExchange:
    """One independent ``Exchange`` per symbol, created on first use.

    Symbols are str of at most 8 UTF-8 bytes.  ``symbols()`` and
    ``best_prices()`` list books in creation order.
    """
    cdef dict _books
    cdef bint _event_log

    def __cinit__(self, event_log=True):
        self._books = {}
        self._event_log = _flag(event_log, "event_log")

    def __init__(self, event_log=True):
        pass

    cdef Exchange _book(self, object symbol):
        cdef Exchange ex = self._books.get(symbol)
        if ex is None:
            # setdefault: a book another thread created meanwhile wins
            ex = self._books.setdefault(check_symbol(symbol), Exchange(event_log=self._event_log))
        return ex

    cdef object _call(self, object symbol, str method, tuple args):
        """``method(*args)`` on ``symbol``'s book.  A new book is registered
        only once the call has succeeded, so bad input creates none; the
        arguments are validated once, by the Exchange."""
        cdef Exchange ex = self._books.get(symbol) if type(symbol) is str else None
        if ex is not None:
            return getattr(ex, method)(*args)
        check_symbol(symbol)
        ex = Exchange(event_log=self._event_log)
        result = getattr(ex, method)(*args)
        if self._books.setdefault(symbol, ex) is not ex:
            # another thread created this book during the call: ours is
            # dropped, so the call must not look as if it had been applied
            raise RuntimeError(f"MultiExchange.{method}() cannot run now: the book of "
                               f"{symbol!r} was created by another thread during the call; "
                               f"nothing was done. Share one MultiExchange between threads "
                               f"only behind a lock")
        return result

    def submit_limit(self, symbol, side, price, quantity, tif="gtc"):
        """``Exchange.submit_limit`` on ``symbol``'s book."""
        return self._call(symbol, "submit_limit", (side, price, quantity, tif))

    def submit_market(self, symbol, side, quantity):
        """``Exchange.submit_market`` on ``symbol``'s book."""
        return self._call(symbol, "submit_market", (side, quantity))

    def cancel(self, symbol, order_id):
        """``Exchange.cancel`` on ``symbol``'s book (created if unknown)."""
        return self._call(symbol, "cancel", (order_id,))

    def modify(self, symbol, order_id, new_price, new_quantity):
        """``Exchange.modify`` on ``symbol``'s book (created if unknown)."""
        return self._call(symbol, "modify", (order_id, new_price, new_quantity))

    def get_or_create(self, symbol):
        """An independent copy of ``symbol``'s book (created if needed).
        Use ``book(symbol)`` for the live book."""
        return self._book(check_symbol(symbol)).copy()

    def book(self, symbol):
        """The live ``Exchange`` of ``symbol`` (created if needed)."""
        return self._book(check_symbol(symbol))

    def get_order(self, symbol, order_id):
        """``Exchange.get_order`` on ``symbol``'s book, or None if there is no such book."""
        ex = self._books.get(check_symbol(symbol))
        return None if ex is None else ex.get_order(order_id)

    def symbols(self):
        """Symbols that have a book, in creation order."""
        return list(self._books)

    def best_prices(self):
        """``[(symbol, best_bid, best_ask), ...]`` in creation order."""
        return [(s, *(<Exchange>ex).best_bid_ask()) for s, ex in self._books.items()]

    def len(self):
        """Number of books."""
        return len(self._books)

    def __len__(self):
        return len(self._books)

    def __contains__(self, symbol):
        return symbol in self._books

    def __repr__(self):
        return f"MultiExchange(symbols={len(self._books)})"
