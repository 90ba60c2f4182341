# cython: language_level=3
"""Event loop of the market-making simulator (see ``nanobook/sim/__init__.py``).

Two clocks share one integer nanosecond axis: the exchange processes market
rows in ``exch_ts`` order and our order requests at their arrival times; the
strategy's view (the local book, fills, acks) moves at ``local_ts`` and at
response times.  :meth:`SimCore.advance` runs the merged event loop without
the GIL and returns to Python only at a decision point the strategy asked for.
Everything here is integer ticks and lots except cash and fees (float64
currency, ``price * qty * multiplier``).

The codes below and the record structs are named in Python in
``nanobook/sim/dtypes.py`` (same names); :func:`_layout` returns them for the
test that pins the two together.  Exception contract: the only failure of the
loop is running out of memory, raised as MemoryError (``except -1`` with the
GIL re-taken) by the shared buffer (``nanobook/_buffer.pxd``) and book sides
(``nanobook/_ladder.pxd``).
"""
from libc.stdint cimport int64_t, uint64_t, uint8_t, INT64_MAX
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy
from libc.math cimport log, exp, sqrt, pow, cos, llround, isfinite, NAN, fabs

from nanobook._types cimport price_t, sqty_t, nanos_t
from nanobook._buffer cimport Buf, buf_init, buf_push, buf_free
from nanobook._ladder cimport (
    Ladder, BID_SIGN, ASK_SIGN, lad_init, lad_free, lad_find, lad_get, lad_insert_at,
    lad_compact, lad_tombstones,
)

import numpy as np
cimport numpy as cnp

from nanobook.limits import daily_loss_breached, drawdown_breached
# the records' numpy dtypes, named once for the sim layer (re-exported here)
from nanobook.sim.dtypes import (
    ORDER_FIELDS, ORDER_DTYPE, FILL_DTYPE, RECORD_DTYPE, BBO_DTYPE, RESPONSE_DTYPE, MD_DTYPE,
)
from nanobook.sim.dtypes import ResponseRow as _ResponseRow, StreamScan as _StreamScan

# ------------------------------------------------------------------ codes (nanobook/sim/dtypes.py)

# market row kinds (md["kind"])
cdef enum: DEPTH = 1
cdef enum: TRADE = 2
cdef enum: ADD = 3
cdef enum: CANCEL = 4
cdef enum: EXEC = 5
# row flags (md["flags"])
cdef enum: EXCH = 1
cdef enum: LOCAL = 2
cdef enum: HIDDEN = 4
# sides
cdef enum: BUY = 0
cdef enum: SELL = 1
# decision codes returned by advance()
cdef enum: DECISION_END = 0
cdef enum: DECISION_BOOK = 1
cdef enum: DECISION_TRADE = 2
cdef enum: DECISION_FILL = 3
cdef enum: DECISION_ORDER = 4
cdef enum: DECISION_TIMER = 5
cdef enum: DECISION_PROGRESS = 6
cdef enum: DECISION_PAUSE = 7      # the next event is after ``until`` (several instruments, one clock)
# order flags
cdef enum: ORDER_MARKET = 1
cdef enum: ORDER_IOC = 2
cdef enum: ORDER_POST_ONLY = 4
cdef enum: ORDER_FOK = 8
cdef enum: ORDER_FLATTEN = 16      # kill-switch market order sized at arrival
# order status (exchange truth and local view)
cdef enum: STATUS_PENDING = 0
cdef enum: STATUS_OPEN = 1
cdef enum: STATUS_FILLED = 2
cdef enum: STATUS_CANCELLED = 3
cdef enum: STATUS_REJECTED = 4
# response kinds
cdef enum: RESP_ACK = 1
cdef enum: RESP_FILL = 2
cdef enum: RESP_CANCELLED = 3
cdef enum: RESP_REJECTED = 4
cdef enum: RESP_CANCEL_REJECTED = 5
cdef enum: RESP_MODIFIED = 6
cdef enum: RESP_MODIFY_REJECTED = 7
# request kinds
cdef enum: REQ_NEW = 1
cdef enum: REQ_CANCEL = 2
cdef enum: REQ_MODIFY = 3
# kill-switch rules (names in nanobook/limits.py)
cdef enum: KILL_MAX_POSITION = 1
cdef enum: KILL_DRAWDOWN = 2
cdef enum: KILL_DAILY_LOSS = 3
cdef nanos_t DAY_NS = 86400 * 1000000000LL
# queue models (the ``_kind`` of nanobook/sim/queue.py's classes)
cdef enum: QUEUE_RISK_AVERSE = 0
cdef enum: QUEUE_POWER = 1
cdef enum: QUEUE_LOG = 2
# latency models (the ``_kind`` of nanobook/sim/latency.py's classes)
cdef enum: LATENCY_CONSTANT = 0
cdef enum: LATENCY_SERIES = 1
cdef enum: LATENCY_LOGNORMAL = 2
cdef enum: LATENCY_UNIFORM = 3

# ------------------------------------------------------------------ structs

cdef struct BookSide:
    # One side of a book: the shared sorted ladder (nanobook/_ladder.pxd;
    # +1 bids, best level last) holding the levels outside the dense window,
    # with tombstones (a level emptied in place keeps its slot unless it is
    # the best), plus an optional dense window.
    Ladder sorted
    # dense window (dense != NULL): quantity indexed by price - lo for prices
    # in [lo, hi] (the stream's whole price range, or its central part), best
    # price in the window kept incrementally (0: none)
    sqty_t* dense
    price_t lo, hi, best
    int64_t dense_levels    # live levels in the window (an empty window needs no scan)

cdef packed struct MdRow:
    # one row of nanobook.sim.MD_DTYPE (51 bytes, packed)
    nanos_t exch_ts, local_ts
    price_t price
    sqty_t qty
    uint64_t order_id
    int64_t rank
    uint8_t kind, side, flags

cdef struct LatencyModel:
    # one latency distribution (nanobook/sim/latency.py), sampled in ns
    int kind                # LATENCY_*
    int64_t value           # constant: the delay; uniform: the low end
    double median, sigma    # lognormal
    uint64_t state          # splitmix64 state of the random models
    const int64_t* ts       # series: times (ns) ...
    const int64_t* val      # ... and latencies (ns) there
    int64_t n               # series: points; uniform: high - low + 1

cdef struct SimOrder:
    # one of our orders: a row of ORDER_DTYPE (fields documented there)
    int64_t id, side
    price_t price
    sqty_t qty, leaves
    int64_t flags, status, local_status
    sqty_t local_leaves, ahead, trade_acc
    int64_t join_rank
    nanos_t submit_ts, arrive_ts, ack_ts, done_ts, cancel_ts
    int64_t n_fills
    price_t local_price
    sqty_t ahead0
    nanos_t tick_ts
    int64_t n_modifies
    double fee, notional

cdef struct Request:
    # strategy -> exchange: arrives at ``t`` (exchange clock); ``oi`` the
    # order's slot; a modify's new price and open quantity
    nanos_t t
    int64_t kind, oi
    price_t price
    sqty_t qty

cdef struct Response:
    # exchange -> strategy: a row of RESPONSE_DTYPE (``oi`` the order's slot
    # where the dtype has its id)
    nanos_t t
    int64_t kind, oi
    price_t price
    sqty_t qty
    int64_t maker, fill

cdef struct Fill:
    # a row of FILL_DTYPE
    nanos_t exch_ts, local_ts
    int64_t order_id, side
    price_t price
    sqty_t qty
    int64_t maker
    double fee
    sqty_t position
    double cash, mid

cdef struct Sample:
    # a row of RECORD_DTYPE: the account sampled every record_interval ns
    nanos_t ts
    price_t bid, ask
    double mid
    sqty_t position
    double cash, equity, fees
    sqty_t volume

cdef struct BboChange:
    # a row of BBO_DTYPE
    nanos_t ts
    price_t bid, ask

assert ORDER_DTYPE.itemsize == sizeof(SimOrder)
assert FILL_DTYPE.itemsize == sizeof(Fill)
assert RECORD_DTYPE.itemsize == sizeof(Sample)
assert BBO_DTYPE.itemsize == sizeof(BboChange)
assert RESPONSE_DTYPE.itemsize == sizeof(Response)
assert MD_DTYPE.itemsize == sizeof(MdRow)


def _layout():
    """The codes (enum values) and record layouts (sizes, field offsets) of
    this module, pinned against ``nanobook.sim.dtypes`` by the tests."""
    cdef SimOrder o
    cdef Fill f
    cdef Sample s
    cdef BboChange b
    cdef Response r
    cdef MdRow m
    codes = {
        "DEPTH": DEPTH, "TRADE": TRADE, "ADD": ADD, "CANCEL": CANCEL, "EXEC": EXEC,
        "EXCH": EXCH, "LOCAL": LOCAL, "HIDDEN": HIDDEN, "BUY": BUY, "SELL": SELL,
        "DECISION_END": DECISION_END, "DECISION_BOOK": DECISION_BOOK,
        "DECISION_TRADE": DECISION_TRADE, "DECISION_FILL": DECISION_FILL,
        "DECISION_ORDER": DECISION_ORDER, "DECISION_TIMER": DECISION_TIMER,
        "DECISION_PROGRESS": DECISION_PROGRESS, "DECISION_PAUSE": DECISION_PAUSE,
        "ORDER_MARKET": ORDER_MARKET, "ORDER_IOC": ORDER_IOC, "ORDER_POST_ONLY": ORDER_POST_ONLY,
        "ORDER_FOK": ORDER_FOK, "ORDER_FLATTEN": ORDER_FLATTEN,
        "STATUS_PENDING": STATUS_PENDING, "STATUS_OPEN": STATUS_OPEN,
        "STATUS_FILLED": STATUS_FILLED, "STATUS_CANCELLED": STATUS_CANCELLED,
        "STATUS_REJECTED": STATUS_REJECTED,
        "RESP_ACK": RESP_ACK, "RESP_FILL": RESP_FILL, "RESP_CANCELLED": RESP_CANCELLED,
        "RESP_REJECTED": RESP_REJECTED, "RESP_CANCEL_REJECTED": RESP_CANCEL_REJECTED,
        "RESP_MODIFIED": RESP_MODIFIED, "RESP_MODIFY_REJECTED": RESP_MODIFY_REJECTED,
        "REQ_NEW": REQ_NEW, "REQ_CANCEL": REQ_CANCEL, "REQ_MODIFY": REQ_MODIFY,
        "KILL_MAX_POSITION": KILL_MAX_POSITION, "KILL_DRAWDOWN": KILL_DRAWDOWN,
        "KILL_DAILY_LOSS": KILL_DAILY_LOSS,
        "QUEUE_RISK_AVERSE": QUEUE_RISK_AVERSE, "QUEUE_POWER": QUEUE_POWER, "QUEUE_LOG": QUEUE_LOG,
        "LATENCY_CONSTANT": LATENCY_CONSTANT, "LATENCY_SERIES": LATENCY_SERIES,
        "LATENCY_LOGNORMAL": LATENCY_LOGNORMAL, "LATENCY_UNIFORM": LATENCY_UNIFORM,
    }

    def offsets(size_t base, dict fields):
        return {k: v - base for k, v in fields.items()}

    records = {
        "order": (sizeof(SimOrder), offsets(<size_t>&o, {
            "order_id": <size_t>&o.id, "side": <size_t>&o.side, "price": <size_t>&o.price,
            "qty": <size_t>&o.qty, "leaves": <size_t>&o.leaves, "flags": <size_t>&o.flags,
            "status": <size_t>&o.status, "local_status": <size_t>&o.local_status,
            "local_leaves": <size_t>&o.local_leaves, "ahead": <size_t>&o.ahead,
            "trade_acc": <size_t>&o.trade_acc, "join_rank": <size_t>&o.join_rank,
            "submit_ts": <size_t>&o.submit_ts, "arrive_ts": <size_t>&o.arrive_ts,
            "ack_ts": <size_t>&o.ack_ts, "done_ts": <size_t>&o.done_ts,
            "cancel_ts": <size_t>&o.cancel_ts, "n_fills": <size_t>&o.n_fills,
            "local_price": <size_t>&o.local_price, "ahead0": <size_t>&o.ahead0,
            "tick_ts": <size_t>&o.tick_ts, "n_modifies": <size_t>&o.n_modifies,
            "fee": <size_t>&o.fee, "notional": <size_t>&o.notional})),
        "fill": (sizeof(Fill), offsets(<size_t>&f, {
            "exch_ts": <size_t>&f.exch_ts, "local_ts": <size_t>&f.local_ts,
            "order_id": <size_t>&f.order_id, "side": <size_t>&f.side, "price": <size_t>&f.price,
            "qty": <size_t>&f.qty, "maker": <size_t>&f.maker, "fee": <size_t>&f.fee,
            "position": <size_t>&f.position, "cash": <size_t>&f.cash, "mid": <size_t>&f.mid})),
        "record": (sizeof(Sample), offsets(<size_t>&s, {
            "ts": <size_t>&s.ts, "bid": <size_t>&s.bid, "ask": <size_t>&s.ask,
            "mid": <size_t>&s.mid, "position": <size_t>&s.position, "cash": <size_t>&s.cash,
            "equity": <size_t>&s.equity, "fees": <size_t>&s.fees, "volume": <size_t>&s.volume})),
        "bbo": (sizeof(BboChange), offsets(<size_t>&b, {
            "ts": <size_t>&b.ts, "bid": <size_t>&b.bid, "ask": <size_t>&b.ask})),
        "response": (sizeof(Response), offsets(<size_t>&r, {
            "t": <size_t>&r.t, "kind": <size_t>&r.kind, "order_id": <size_t>&r.oi,
            "price": <size_t>&r.price, "qty": <size_t>&r.qty, "maker": <size_t>&r.maker,
            "fill": <size_t>&r.fill})),
        "md": (sizeof(MdRow), offsets(<size_t>&m, {
            "exch_ts": <size_t>&m.exch_ts, "local_ts": <size_t>&m.local_ts,
            "price": <size_t>&m.price, "qty": <size_t>&m.qty, "order_id": <size_t>&m.order_id,
            "rank": <size_t>&m.rank, "kind": <size_t>&m.kind, "side": <size_t>&m.side,
            "flags": <size_t>&m.flags})),
    }
    return {"codes": codes, "records": records}

# ------------------------------------------------------------------ records out

cnp.import_array()


cdef object buf_array(Buf* b, object dtype):
    """A numpy copy of the records of ``b`` (``dtype`` matches their struct).
    C calls only: no Python code runs, so no other thread can get the GIL
    while a caller holds the core's claim (``ndarray.view`` of a structured
    dtype runs numpy Python code)."""
    cdef cnp.ndarray out = np.empty(b.n, dtype)
    if b.n:
        memcpy(cnp.PyArray_DATA(out), b.data, b.n * b.itemsize)
    return out

# ------------------------------------------------------------------ price levels
# A BookSide is the shared ladder plus the dense window; every function here
# takes and returns plain prices (0: no level).

cdef int side_init(BookSide* s, int64_t sign) except -1:
    s.dense = NULL
    s.lo = 0
    s.hi = -1
    s.best = 0
    s.dense_levels = 0
    lad_init(&s.sorted, sign, 256, False)
    return 0

cdef void side_free(BookSide* s) noexcept nogil:
    lad_free(&s.sorted)
    free(s.dense)
    s.dense = NULL

cdef int side_window(BookSide* s, price_t lo, price_t hi) except -1:
    """Give an empty side a dense window over [lo, hi] (zeroed lazily by calloc)."""
    s.dense = <sqty_t*>calloc(hi - lo + 1, sizeof(sqty_t))
    if s.dense == NULL:
        raise MemoryError("nanobook: out of memory allocating a book window")
    s.lo, s.hi, s.best, s.dense_levels = lo, hi, 0, 0
    return 0

cdef inline price_t window_next(const BookSide* s, price_t price) noexcept nogil:
    """The next live window price worse than ``price`` (which may lie outside
    the window), 0 if none."""
    cdef int64_t i
    if s.sorted.sign == BID_SIGN:
        i = (price - 1 if price - 1 < s.hi else s.hi) - s.lo
        while i >= 0:
            if s.dense[i] != 0:
                return i + s.lo
            i -= 1
    else:
        i = (price + 1 if price + 1 > s.lo else s.lo) - s.lo
        while i <= s.hi - s.lo:
            if s.dense[i] != 0:
                return i + s.lo
            i += 1
    return 0

cdef inline price_t better(const BookSide* s, price_t a, price_t b) noexcept nogil:
    """The better of two prices of this side, 0 meaning none."""
    if a == 0:
        return b
    if b == 0:
        return a
    if s.sorted.sign == BID_SIGN:
        return a if a > b else b
    return a if a < b else b

cdef inline price_t side_after(const BookSide* s, price_t price) noexcept nogil:
    """The next live price worse than ``price`` (a live level), 0 if none: the
    better of the window's and the sorted ladder's candidates."""
    cdef const Ladder* lad = &s.sorted
    cdef int64_t i
    cdef price_t out = 0
    if lad.n:
        i = lad_find(lad, lad.sign * price) - 1
        while i >= 0:
            if lad.qty[i] != 0:
                out = lad.sign * lad.key[i]
                break
            i -= 1
    if s.dense != NULL:
        out = better(s, window_next(s, price), out)
    return out

cdef inline sqty_t side_get(const BookSide* s, price_t price) noexcept nogil:
    """Quantity at ``price`` (0: no level)."""
    if s.dense != NULL and s.lo <= price <= s.hi:
        return s.dense[price - s.lo]
    return lad_get(&s.sorted, price)

cdef int side_insert(Ladder* lad, int64_t i, price_t k, sqty_t q) except -1 nogil:
    """A new level at index ``i`` of the sorted ladder (the only growing step
    of ``side_set``, out of line so the common paths stay call-free)."""
    if lad.n == lad.cap and lad.n >= 1024 and lad_tombstones(lad) * 4 > lad.n:
        # full and a quarter or more of it empty levels: drop them instead of growing
        lad_compact(lad)
        i = lad_find(lad, k)
    lad_insert_at(lad, i, k, q, 0)
    return 0


cdef inline sqty_t side_set(BookSide* s, price_t price, sqty_t q) except -1 nogil:
    """Set the level total (q <= 0 empties it); returns the old total.

    An emptied level keeps its slot (quantity 0, a tombstone) unless it is
    the best, so that a deep level that comes and goes costs a binary search
    and no memmove; trailing tombstones are dropped so the last slot is
    always the best live level."""
    cdef Ladder* lad = &s.sorted
    cdef price_t k
    cdef int64_t i
    cdef sqty_t old
    if q < 0:
        q = 0
    if s.dense != NULL and s.lo <= price <= s.hi:
        i = price - s.lo
        old = s.dense[i]
        s.dense[i] = q
        if old == 0 and q > 0:
            s.dense_levels += 1
        elif old > 0 and q == 0:
            s.dense_levels -= 1
        if q > 0:
            if s.best == 0 or (lad.sign == BID_SIGN and price > s.best) or (lad.sign == ASK_SIGN and price < s.best):
                s.best = price
        elif price == s.best:
            s.best = window_next(s, price) if s.dense_levels > 0 else 0
        return old
    k = lad.sign * price
    i = lad_find(lad, k)
    if i < lad.n and lad.key[i] == k:
        old = lad.qty[i]
        lad.qty[i] = q
        if q == 0 and i == lad.n - 1:
            while lad.n > 0 and lad.qty[lad.n - 1] == 0:
                lad.n -= 1
        return old
    if q == 0:
        return 0
    side_insert(lad, i, k, q)
    return 0

cdef inline price_t side_best(const BookSide* s) noexcept nogil:
    """Best price, or 0 when the side is empty (window and ladder together)."""
    cdef price_t sb = s.sorted.sign * s.sorted.key[s.sorted.n - 1] if s.sorted.n else 0
    if s.dense != NULL:
        return better(s, s.best, sb)
    return sb

# ------------------------------------------------------------------ latency

cdef inline uint64_t splitmix(uint64_t* st) noexcept nogil:
    cdef uint64_t z
    st[0] += 0x9E3779B97F4A7C15ULL
    z = st[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)

cdef inline double unif(uint64_t* st) noexcept nogil:
    # (0, 1]
    return ((splitmix(st) >> 11) + 1) * (1.0 / 9007199254740992.0)

cdef nanos_t lat_sample(LatencyModel* l, nanos_t t) noexcept nogil:
    """One delay (ns) of the model at time ``t``."""
    cdef int64_t lo, hi, mid
    cdef double z, w
    if l.kind == LATENCY_CONSTANT:
        return l.value
    if l.kind == LATENCY_SERIES:
        if t <= l.ts[0]:
            return l.val[0]
        if t >= l.ts[l.n - 1]:
            return l.val[l.n - 1]
        lo = 0
        hi = l.n - 1
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if l.ts[mid] <= t:
                lo = mid
            else:
                hi = mid
        w = <double>(t - l.ts[lo]) / <double>(l.ts[hi] - l.ts[lo])
        return llround(l.val[lo] + w * (l.val[hi] - l.val[lo]))
    if l.kind == LATENCY_UNIFORM:
        # value + an integer uniform in [0, n): n = high - low + 1
        return l.value + <int64_t>(splitmix(&l.state) % <uint64_t>l.n)
    # lognormal: Box-Muller normal
    z = sqrt(-2.0 * log(unif(&l.state))) * cos(6.283185307179586 * unif(&l.state))
    return llround(l.median * exp(l.sigma * z))

cdef int lat_from(LatencyModel* l, object model) except -1:
    """Fill ``l`` from a validated Python latency model (see latency.py)."""
    l.kind = model._kind
    l.value = 0
    l.n = 0
    if l.kind == LATENCY_CONSTANT:
        l.value = model.value
    elif l.kind == LATENCY_SERIES:
        l.n = len(model.ts)
    elif l.kind == LATENCY_UNIFORM:
        l.value = model.low
        l.n = model.high - model.low + 1
        l.state = <uint64_t>model.seed
    else:
        l.median = model.median
        l.sigma = model.sigma
        l.state = <uint64_t>model.seed
    return 0


# ------------------------------------------------------------------ the core

cdef class SimCore:
    """Exchange + local state and the merged event loop.  Not for direct use:
    :class:`nanobook.sim.Sim` validates its inputs and drives it."""

    cdef BookSide exch_book[2]    # the exchange's book [bid, ask] (replayed EXCH rows): our orders match here
    cdef BookSide local_book[2]   # the strategy's delayed view [bid, ask] (LOCAL rows)
    cdef LatencyModel lat_entry   # local send -> matching engine
    cdef LatencyModel lat_resp    # matching engine -> local report
    # the market-data stream, read in place
    cdef const MdRow* rows
    cdef const int64_t* exch_rows     # row numbers of the EXCH rows, in exch_ts order
    cdef const int64_t* local_rows    # row numbers of the LOCAL rows, in local_ts order
    cdef int64_t n_exch_rows, n_local_rows
    cdef int64_t next_exch, next_local    # cursors into exch_rows / local_rows
    cdef object _keep
    # our orders and what the run records (growable buffers, nanobook/_buffer.pxd)
    cdef Buf orders               # SimOrder, by slot (order id - 1)
    cdef Buf reqs                 # Request queue (FIFO; rq_head = next to arrive)
    cdef Buf resps                # Response queue (FIFO; rs_head = next to reach the strategy)
    cdef Buf fills                # Fill
    cdef Buf recs                 # Sample
    cdef Buf bbos                 # BboChange
    cdef Buf live                 # slots of the orders resting at the exchange (int64, unordered)
    cdef int64_t n_live
    cdef int64_t rq_head, rs_head
    cdef nanos_t last_req_t, last_resp_t    # FIFO channels: no request / report overtakes another
    # parameters
    cdef public int queue_model           # QUEUE_* tag of nanobook/sim/queue.py
    cdef public double queue_power        # the exponent of PowerProb
    cdef public double maker_fee, taker_fee   # basis points of notional
    cdef public double order_fee          # currency per order that reaches the exchange
    cdef public double multiplier         # currency per (price unit x quantity unit)
    cdef public double maker_fee_qty, taker_fee_qty, fill_fee   # currency per qty unit / per fill
    cdef public int64_t record_interval   # ns of exchange time between Samples (0: off)
    cdef public int64_t timer_interval    # ns of local time between timer decisions (0: off)
    cdef public bint want_book, want_depth, want_trade, want_fill, want_order, want_timer
    # state (prices in ticks, quantities in qty units, times in ns, money in currency)
    cdef public nanos_t now               # the loop's clock: the time of the last event
    cdef public sqty_t position           # exchange truth
    cdef public sqty_t local_position     # what the strategy knows (fills reported so far)
    cdef public int64_t last_rank         # rank of the last ADD row (L3 queue position)
    cdef public sqty_t volume, local_volume
    cdef public double cash, fees, local_cash, local_fees
    cdef nanos_t next_record, next_timer
    cdef price_t x_bid, x_ask             # exchange best bid / ask (0: empty side)
    cdef price_t l_bid, l_ask             # local best bid / ask last reported to the strategy
    cdef price_t last_mid_x2              # bid + ask of the last two-sided exchange book (0: never)
    cdef public int64_t cur_row           # the md row of the current DECISION_TRADE
    cdef public int64_t cur_resp          # the response of the current DECISION_FILL / _ORDER
    cdef public int64_t n_exch_done, n_local_done     # rows processed on each side
    cdef bint book_dirty                  # local rows applied, the book decision not yet made
    # venue rule: queue fills in whole lots (qty units); nearest or floor
    cdef public sqty_t lot
    cdef public bint round_nearest
    # kill switch (rules of nanobook.limits): off when a limit is < 0
    cdef public bint ks_enabled
    cdef public sqty_t ks_max_position
    cdef public double ks_max_drawdown_pct, ks_max_daily_loss, capital
    cdef public double hwm, day_start     # equity high-water mark; equity at the UTC day's first event
    cdef public int64_t ks_day            # the UTC day (days since the epoch) of day_start
    cdef public nanos_t kill_ts           # exchange time the switch fired (-1: not)
    cdef public int64_t kill_rule         # KILL_* (0: not fired)
    cdef public double kill_equity
    # progress decision points every ``progress_every`` exchange rows (0: off)
    cdef public int64_t progress_every, next_progress
    cdef public nanos_t last_tick_exch    # exch_ts of the last LOCAL row the strategy saw
    cdef public nanos_t until             # advance() pauses before an event later than this
    cdef bint busy                        # a method (advance() without the GIL) is running

    def __cinit__(self):
        side_init(&self.exch_book[0], BID_SIGN)
        side_init(&self.exch_book[1], ASK_SIGN)
        side_init(&self.local_book[0], BID_SIGN)
        side_init(&self.local_book[1], ASK_SIGN)
        buf_init(&self.orders, sizeof(SimOrder))
        buf_init(&self.reqs, sizeof(Request))
        buf_init(&self.resps, sizeof(Response))
        buf_init(&self.fills, sizeof(Fill))
        buf_init(&self.recs, sizeof(Sample))
        buf_init(&self.bbos, sizeof(BboChange))
        buf_init(&self.live, sizeof(int64_t))

    def __dealloc__(self):
        cdef int i
        for i in range(2):
            side_free(&self.exch_book[i])
            side_free(&self.local_book[i])
        buf_free(&self.orders)
        buf_free(&self.reqs)
        buf_free(&self.resps)
        buf_free(&self.fills)
        buf_free(&self.recs)
        buf_free(&self.bbos)
        buf_free(&self.live)

    def setup(self, md, exch_rows, local_rows, params):
        """Bind a validated, C-contiguous MD_DTYPE stream, the row numbers of
        its EXCH and LOCAL rows (``scan_stream``) and the run's parameters
        (a ``nanobook.sim.engine.CoreParams``, read once here); the arrays
        are kept alive here."""
        cdef const uint8_t[::1] raw
        cdef const int64_t[::1] vxi = exch_rows
        cdef const int64_t[::1] vli = local_rows
        cdef const int64_t[::1] ets
        cdef const int64_t[::1] evl
        cdef nanos_t start = params.start
        entry, response = params.entry_latency, params.response_latency
        self._keep = (md, exch_rows, local_rows, entry, response)
        if md.dtype.itemsize != sizeof(MdRow) or not md.flags.c_contiguous:
            raise ValueError("setup needs a C-contiguous MD_DTYPE array")
        if len(md):
            raw = md.view(np.uint8)
            self.rows = <const MdRow*>&raw[0]
        self.n_exch_rows = len(exch_rows)
        self.n_local_rows = len(local_rows)
        if self.n_exch_rows:
            self.exch_rows = &vxi[0]
        if self.n_local_rows:
            self.local_rows = &vli[0]
        lat_from(&self.lat_entry, entry)
        lat_from(&self.lat_resp, response)
        if self.lat_entry.kind == LATENCY_SERIES:
            ets = entry.ts
            evl = entry.values
            self.lat_entry.ts, self.lat_entry.val = &ets[0], &evl[0]
        if self.lat_resp.kind == LATENCY_SERIES:
            ets = response.ts
            evl = response.values
            self.lat_resp.ts, self.lat_resp.val = &ets[0], &evl[0]
        self.queue_model, self.queue_power = params.queue_model, params.queue_power
        self.maker_fee, self.taker_fee = params.maker_fee_bps, params.taker_fee_bps
        self.order_fee = params.order_fee
        self.multiplier = params.multiplier
        self.record_interval, self.timer_interval = params.record_interval, params.timer_interval
        self.now = start
        self.next_record = start + self.record_interval if self.record_interval > 0 else INT64_MAX
        self.next_timer = start + self.timer_interval if self.timer_interval > 0 else INT64_MAX
        self.last_rank = -1
        self.last_req_t = start
        self.last_resp_t = start
        self.cur_row = -1
        self.cur_resp = -1
        self.last_mid_x2 = 0
        self.maker_fee_qty, self.taker_fee_qty = params.maker_fee_per_qty, params.taker_fee_per_qty
        self.fill_fee = params.fee_per_fill
        self.lot, self.round_nearest = params.lot, params.round_nearest
        self.ks_enabled, self.ks_max_position = params.ks_enabled, params.ks_max_position
        self.ks_max_drawdown_pct = params.ks_max_drawdown_pct
        self.ks_max_daily_loss = params.ks_max_daily_loss
        self.capital = params.capital
        self.hwm = NAN
        self.day_start = NAN
        self.ks_day = -1
        self.kill_ts = -1
        self.kill_rule = 0
        self.kill_equity = NAN
        self.progress_every = params.progress_every
        self.next_progress = self.progress_every if self.progress_every > 0 else INT64_MAX
        self.last_tick_exch = -1
        self.until = INT64_MAX

    def use_window(self, price_t lo, price_t hi):
        """Index the four books by price over [lo, hi] (a dense window: O(1)
        level updates); prices outside stay in the sorted ladders.  Before
        the run."""
        self._claim()
        cdef int i
        if lo < 1 or hi < lo:
            raise ValueError(f"window range must satisfy 1 <= lo <= hi, got [{lo}, {hi}]")
        for i in range(2):
            if self.exch_book[i].sorted.n or self.local_book[i].sorted.n or \
                    self.exch_book[i].dense != NULL or self.local_book[i].dense != NULL:
                raise RuntimeError("use_window must be called before the run")
        for i in range(2):
            side_window(&self.exch_book[i], lo, hi)
            side_window(&self.local_book[i], lo, hi)

    cdef inline int _claim(self) except -1:
        """Refuse a call while another thread is inside this core (the loop of
        :meth:`advance` without the GIL, or any method that can let the GIL go
        while it reads or changes the core): every public method checks and
        holds ``busy`` from entry to exit, on every path."""
        if self.busy:
            raise RuntimeError("this simulation is in use in another thread (SimCore is busy); "
                               "a Sim is not shared between threads")
        return 0

    # ---------------------------------------------------------------- helpers

    cdef inline SimOrder* ordp(self, int64_t oi) noexcept nogil:
        return (<SimOrder*>self.orders.data) + oi

    cdef inline sqty_t lots(self, sqty_t q) noexcept nogil:
        """A queue-model fill quantity in whole lots: the nearest multiple of
        ``lot`` (half a lot rounds up) or the multiple below (floor)."""
        if q <= 0:
            return 0
        if self.lot == 1:
            return q
        if self.round_nearest:
            return ((2 * q + self.lot) // (2 * self.lot)) * self.lot
        return (q // self.lot) * self.lot

    cdef inline sqty_t floor_lots(self, sqty_t q) noexcept nogil:
        """Displayed liquidity a taker can take: whole lots only."""
        if q <= 0:
            return 0
        return (q // self.lot) * self.lot

    cdef inline double equity_now(self) noexcept nogil:
        cdef double e = self.capital + self.cash
        if self.position != 0:
            e += <double>self.position * self.mid_now() * self.multiplier
        return e

    cdef int risk_check(self, nanos_t t) except -1 nogil:
        """The kill switch, evaluated after every exchange-side event (market
        row, order arrival).  Rules and comparisons of ``nanobook.limits``:
        ``|position| > max_position``; ``hwm - equity > max_drawdown_pct * hwm``
        (hwm = the equity high-water mark, including this event);
        ``day_start - equity > max_daily_loss`` (day_start = equity at the
        first event of the UTC day).  The first rule that fails fires."""
        cdef double e
        cdef int64_t day, rule = 0
        if self.kill_rule != 0:
            return 0
        e = self.equity_now()
        if e != e:                       # NaN: no two-sided book yet, nothing to value
            return 0
        day = t // DAY_NS
        if day != self.ks_day:
            self.ks_day = day
            self.day_start = e
        if not (self.hwm >= e):
            self.hwm = e
        if self.ks_max_position >= 0 and (self.position > self.ks_max_position or
                                          -self.position > self.ks_max_position):
            rule = KILL_MAX_POSITION
        elif self.ks_max_drawdown_pct >= 0 and self.over(self.hwm - e, self.ks_max_drawdown_pct * self.hwm,
                                                         fabs(self.hwm) + fabs(e), 0, e):
            rule = KILL_DRAWDOWN
        elif self.ks_max_daily_loss >= 0 and self.over(self.day_start - e, self.ks_max_daily_loss,
                                                       fabs(self.day_start) + fabs(e) + self.ks_max_daily_loss, 1, e):
            rule = KILL_DAILY_LOSS
        if rule == 0:
            return 0
        self.kill_rule = rule
        self.kill_ts = t
        self.kill_equity = e
        self.kill_all(t)
        return 0

    cdef bint over(self, double lhs, double rhs, double scale, int which, double e) noexcept nogil:
        """``lhs > rhs`` of a loss rule.  In float64 when the two are clearly
        apart; within rounding of each other, the exact rule of
        ``nanobook.limits`` decides (so a value exactly at its limit passes,
        as in the pre-trade risk engine)."""
        cdef double tol = 1e-12 * scale
        if lhs - rhs > tol:
            return True
        if rhs - lhs > tol:
            return False
        with gil:
            if which == 0:
                return bool(drawdown_breached(self.hwm, e, self.ks_max_drawdown_pct))
            return bool(daily_loss_breached(self.day_start, e, self.ks_max_daily_loss))

    cdef int kill_all(self, nanos_t t) except -1 nogil:
        """Cancel every order not known done and flatten, sent at ``t``."""
        cdef int64_t i
        cdef SimOrder* o
        for i in range(self.orders.n):
            o = self.ordp(i)
            if (o.status == STATUS_PENDING or o.status == STATUS_OPEN) and o.cancel_ts < 0 and not (o.flags & ORDER_MARKET):
                o.cancel_ts = t
                self.push_req(t, REQ_CANCEL, i, 0, 0)
        self.new_order(0, 0, 0, ORDER_MARKET | ORDER_FLATTEN, t)
        return 0

    cdef int push_req(self, nanos_t sent, int64_t kind, int64_t oi, price_t price, sqty_t qty) except -1 nogil:
        """Queue a request sent at ``sent``; it arrives after the entry latency (FIFO)."""
        cdef int64_t t = sent + lat_sample(&self.lat_entry, sent)
        cdef Request* r
        if t < self.last_req_t:
            t = self.last_req_t          # the order-entry channel is FIFO
        self.last_req_t = t
        r = <Request*>buf_push(&self.reqs)
        r.t, r.kind, r.oi, r.price, r.qty = t, kind, oi, price, qty
        return 0

    cdef int64_t new_order(self, int64_t side, price_t price, sqty_t qty, int64_t flags,
                           nanos_t sent) except -1 nogil:
        """A new order sent at ``sent``; returns its slot."""
        cdef SimOrder* o = <SimOrder*>buf_push(&self.orders)
        o.id = self.orders.n
        o.side, o.price, o.qty, o.leaves, o.flags = side, price, qty, qty, flags
        o.status = STATUS_PENDING
        o.local_status = STATUS_PENDING
        o.local_leaves = qty
        o.local_price = price
        o.ahead = 0
        o.ahead0 = -1
        o.trade_acc = 0
        o.join_rank = 0
        o.submit_ts = sent
        o.arrive_ts = -1
        o.ack_ts = -1
        o.done_ts = -1
        o.cancel_ts = -1
        o.n_fills = 0
        o.n_modifies = 0
        o.tick_ts = self.last_tick_exch
        o.fee = 0.0
        o.notional = 0.0
        self.push_req(sent, REQ_NEW, self.orders.n - 1, 0, 0)
        return self.orders.n - 1

    cdef inline double mid_now(self) noexcept nogil:
        """Exchange mid; the last two-sided one while a side is empty; NaN
        before the book was ever two-sided."""
        if self.x_bid == 0 or self.x_ask == 0:
            if self.last_mid_x2 == 0:
                return NAN
            return 0.5 * self.last_mid_x2
        return 0.5 * (self.x_bid + self.x_ask)

    cdef int push_resp(self, nanos_t t_exch, int64_t kind, int64_t oi, price_t price,
                       sqty_t qty, int64_t maker, int64_t fill) except -1 nogil:
        """Queue a report of an exchange event at ``t_exch``; it reaches the
        strategy after the response latency (FIFO)."""
        cdef int64_t t = t_exch + lat_sample(&self.lat_resp, t_exch)
        cdef Response* r
        if t < self.last_resp_t:
            t = self.last_resp_t        # the response channel is FIFO
        self.last_resp_t = t
        r = <Response*>buf_push(&self.resps)
        r.t, r.kind, r.oi, r.price, r.qty, r.maker, r.fill = t, kind, oi, price, qty, maker, fill
        return 0

    cdef void live_remove(self, int64_t oi) noexcept nogil:
        """Take slot ``oi`` out of the resting orders (the last one takes its place)."""
        cdef int64_t* live = <int64_t*>self.live.data
        cdef int64_t j
        for j in range(self.n_live):
            if live[j] == oi:
                live[j] = live[self.n_live - 1]
                self.n_live -= 1
                self.live.n -= 1
                return

    cdef int live_add(self, int64_t oi) except -1 nogil:
        (<int64_t*>buf_push(&self.live))[0] = oi
        self.n_live += 1
        return 0

    cdef int do_fill(self, int64_t oi, price_t price, sqty_t qty, bint maker, nanos_t t) except -1 nogil:
        cdef SimOrder* o = self.ordp(oi)
        cdef double notional = <double>price * <double>qty * self.multiplier
        cdef double fee = notional * (self.maker_fee if maker else self.taker_fee) * 1e-4 \
            + <double>qty * (self.maker_fee_qty if maker else self.taker_fee_qty) + self.fill_fee
        cdef int64_t sgn = 1 if o.side == 0 else -1
        cdef Fill* f
        self.position += sgn * qty
        self.cash -= sgn * notional + fee
        self.fees += fee
        self.volume += qty
        o.leaves -= qty
        o.fee += fee
        o.notional += notional
        o.n_fills += 1
        if o.leaves == 0:
            o.status = STATUS_FILLED
            o.done_ts = t
            self.live_remove(oi)
        f = <Fill*>buf_push(&self.fills)
        f.exch_ts, f.order_id, f.side, f.price, f.qty, f.maker = t, o.id, o.side, price, qty, maker
        f.fee, f.position, f.cash, f.mid = fee, self.position, self.cash, self.mid_now()
        self.push_resp(t, RESP_FILL, oi, price, qty, maker, self.fills.n - 1)
        f.local_ts = self.last_resp_t
        return 0

    cdef inline int track_bbo(self, nanos_t t) except -1 nogil:
        """Note a change of the exchange's best bid / ask at ``t``.  Inline:
        after almost every row nothing changed, and that costs no call (the
        change itself is :meth:`bbo_change`, out of line)."""
        cdef price_t b = side_best(&self.exch_book[0]), a = side_best(&self.exch_book[1])
        if b != self.x_bid or a != self.x_ask:
            self.bbo_change(t, b, a)
        return 0

    cdef int bbo_change(self, nanos_t t, price_t b, price_t a) except -1 nogil:
        """The exchange's best bid / ask became ``b`` / ``a`` at ``t``: keep and record them."""
        cdef BboChange* r
        self.x_bid, self.x_ask = b, a
        if b != 0 and a != 0:
            self.last_mid_x2 = a + b
        r = <BboChange*>buf_push(&self.bbos)
        r.ts, r.bid, r.ask = t, b, a
        return 0

    cdef int record(self, nanos_t t) except -1 nogil:
        cdef Sample* r = <Sample*>buf_push(&self.recs)
        cdef double mid = self.mid_now()
        r.ts, r.bid, r.ask, r.mid = t, self.x_bid, self.x_ask, mid
        r.position, r.cash, r.fees, r.volume = self.position, self.cash, self.fees, self.volume
        r.equity = self.cash + (<double>self.position * mid * self.multiplier if self.position != 0 else 0.0)
        return 0

    # ---------------------------------------------------------------- queue logic

    cdef int fill_through(self, int64_t passive_side, price_t price, nanos_t t, sqty_t cap) except -1 nogil:
        """Orders on ``passive_side`` priced strictly better than ``price`` are
        filled (the aggressor reached ``price`` only after clearing them).
        ``cap`` < 0 fills the whole remaining quantity, else at most ``cap``."""
        cdef int64_t j = 0, oi, q
        cdef SimOrder* o
        while j < self.n_live:
            oi = (<int64_t*>self.live.data)[j]
            o = self.ordp(oi)
            if o.side == passive_side and o.arrive_ts <= t and (
                    (passive_side == 0 and o.price > price) or (passive_side == 1 and o.price < price)):
                q = o.leaves if cap < 0 or cap > o.leaves else self.lots(cap)
                if q > o.leaves:
                    q = o.leaves
                if q > 0:
                    self.do_fill(oi, o.price, q, True, t)
                    if o.leaves == 0:
                        continue        # swapped out of live: same j again
            j += 1
        return 0

    cdef int trade_at(self, int64_t passive_side, price_t price, sqty_t q, int64_t rank,
                       bint l3, nanos_t t) except -1 nogil:
        """A print of ``q`` at ``price`` against resting ``passive_side`` orders."""
        cdef int64_t j = 0, oi, fq
        cdef SimOrder* o
        self.fill_through(passive_side, price, t, -1)
        while j < self.n_live:
            oi = (<int64_t*>self.live.data)[j]
            o = self.ordp(oi)
            if o.side == passive_side and o.price == price:
                if l3 and rank < o.join_rank:
                    # an order ahead of ours executed
                    o.ahead = o.ahead - q if o.ahead > q else 0
                else:
                    if not l3:
                        o.trade_acc += q
                    fq = self.lots(q - o.ahead)
                    o.ahead = o.ahead - q if o.ahead > q else 0
                    if fq > 0:
                        if fq > o.leaves:
                            fq = o.leaves
                        self.do_fill(oi, price, fq, True, t)
                        if o.leaves == 0:
                            continue
            j += 1
        return 0

    cdef int cross_check(self, int64_t side, price_t price, sqty_t q, nanos_t t) except -1 nogil:
        """New liquidity on ``side`` at ``price`` that crosses our resting
        orders on the other side trades with them (at our price)."""
        if q > 0:
            self.fill_through(1 - side, price, t, q)
            self.fill_at_cross(1 - side, price, q, t)
        return 0

    cdef int fill_at_cross(self, int64_t our_side, price_t price, sqty_t q, nanos_t t) except -1 nogil:
        # equal price: a quote at our price on the other side also crosses
        cdef int64_t j = 0, oi, fq
        cdef SimOrder* o
        while j < self.n_live:
            oi = (<int64_t*>self.live.data)[j]
            o = self.ordp(oi)
            if o.side == our_side and o.price == price:
                fq = self.lots(q)
                if fq > o.leaves:
                    fq = o.leaves
                if fq > 0:
                    self.do_fill(oi, price, fq, True, t)
                    if o.leaves == 0:
                        continue
            j += 1
        return 0

    cdef void depth_change(self, int64_t side, price_t price, sqty_t old, sqty_t new) noexcept nogil:
        """L2 level update at a price where we may rest: queue model step."""
        cdef int64_t j, d, a, b
        cdef double fa, fb, pa, x, dd
        cdef SimOrder* o
        for j in range(self.n_live):
            o = self.ordp((<int64_t*>self.live.data)[j])
            if o.side != side or o.price != price:
                continue
            d = old - new - o.trade_acc
            o.trade_acc = 0
            if d > 0 and self.queue_model != QUEUE_RISK_AVERSE and o.ahead > 0:
                a = o.ahead
                b = old - a
                if b < 0:
                    b = 0
                if self.queue_model == QUEUE_POWER:
                    fa = pow(<double>a, self.queue_power)
                    fb = pow(<double>b, self.queue_power)
                else:
                    fa = log(1.0 + a)
                    fb = log(1.0 + b)
                pa = fa / (fa + fb) if fa + fb > 0 else 1.0
                dd = <double>d
                x = dd * pa
                if dd * (1.0 - pa) > b:
                    x += dd * (1.0 - pa) - b
                o.ahead -= llround(x)
                if o.ahead < 0:
                    o.ahead = 0
            if o.ahead > new:
                o.ahead = new

    # ---------------------------------------------------------------- event handlers

    cdef int exch_row(self, int64_t k) except -1 nogil:
        cdef int64_t kind = self.rows[k].kind, s = self.rows[k].side, p = self.rows[k].price, q = self.rows[k].qty
        cdef int64_t t = self.rows[k].exch_ts, old, j, rk
        cdef SimOrder* o
        if s > 1:
            return 0        # only if the stream was changed after validation: never index out of bounds
        if kind == DEPTH:
            old = side_set(&self.exch_book[s], p, q)
            if self.n_live:
                self.depth_change(s, p, old, q)
                if q > old:
                    self.cross_check(s, p, q - old, t)
        elif kind == TRADE:
            if self.n_live:
                if self.rows[k].flags & HIDDEN:
                    self.fill_through(1 - s, p, t, -1)
                else:
                    self.trade_at(1 - s, p, q, 0, False, t)
        elif kind == ADD:
            old = side_get(&self.exch_book[s], p)
            side_set(&self.exch_book[s], p, old + q)
            self.last_rank = self.rows[k].rank
            if self.n_live:
                self.cross_check(s, p, q, t)
        elif kind == CANCEL or kind == EXEC:
            old = side_get(&self.exch_book[s], p)
            side_set(&self.exch_book[s], p, old - q)
            rk = self.rows[k].rank
            if self.n_live:
                if kind == EXEC:
                    self.trade_at(s, p, q, rk, True, t)
                else:
                    for j in range(self.n_live):
                        o = self.ordp((<int64_t*>self.live.data)[j])
                        if o.side == s and o.price == p and rk < o.join_rank:
                            o.ahead = o.ahead - q if o.ahead > q else 0
        self.track_bbo(t)
        return 0

    cdef int local_row(self, int64_t k) except -1 nogil:
        cdef int64_t kind = self.rows[k].kind, s = self.rows[k].side, p = self.rows[k].price, q = self.rows[k].qty
        cdef int64_t old
        if s > 1:
            return 0
        if kind == DEPTH:
            side_set(&self.local_book[s], p, q)
        elif kind == ADD:
            old = side_get(&self.local_book[s], p)
            side_set(&self.local_book[s], p, old + q)
        elif kind == CANCEL or kind == EXEC:
            old = side_get(&self.local_book[s], p)
            side_set(&self.local_book[s], p, old - q)
        return 0

    cdef int sweep(self, int64_t oi, price_t limit, nanos_t t) except -1 nogil:
        """Take visible opposite liquidity up to ``limit`` (0: no limit)."""
        cdef SimOrder* o = self.ordp(oi)
        cdef BookSide* opp = &self.exch_book[1 - o.side]
        cdef int64_t px = side_best(opp), q
        while o.leaves > 0 and px != 0:
            if limit != 0 and ((o.side == 0 and px > limit) or (o.side == 1 and px < limit)):
                break
            q = self.floor_lots(side_get(opp, px))
            if q > o.leaves:
                q = o.leaves
            if q > 0:
                self.do_fill(oi, px, q, False, t)
            px = side_after(opp, px)
        return 0

    cdef int64_t available(self, int64_t side, int64_t limit, int64_t need) noexcept nogil:
        """Whole lots of visible liquidity opposite ``side`` up to ``limit`` (0: any
        price), counted until ``need`` is reached."""
        cdef BookSide* opp = &self.exch_book[1 - side]
        cdef int64_t px = side_best(opp), tot = 0
        while px != 0 and tot < need:
            if limit != 0 and ((side == 0 and px > limit) or (side == 1 and px < limit)):
                break
            tot += self.floor_lots(side_get(opp, px))
            px = side_after(opp, px)
        return tot

    cdef int done(self, int64_t oi, int64_t status, nanos_t t, int64_t kind) except -1 nogil:
        """End an order at the exchange (not live) and report it."""
        cdef SimOrder* o = self.ordp(oi)
        o.status = status
        o.done_ts = t
        self.push_resp(t, kind, oi, 0, o.leaves if kind == RESP_CANCELLED else 0, 0, -1)
        return 0

    cdef void join(self, int64_t oi) noexcept nogil:
        """Rest at the back of the visible queue at the order's price."""
        cdef SimOrder* o = self.ordp(oi)
        o.ahead = side_get(&self.exch_book[o.side], o.price)
        o.ahead0 = o.ahead
        o.join_rank = self.last_rank + 1
        o.trade_acc = 0

    cdef inline bint crosses(self, int64_t side, price_t price) noexcept nogil:
        cdef int64_t best = side_best(&self.exch_book[1 - side])
        return best != 0 and ((side == 0 and price >= best) or (side == 1 and price <= best))

    cdef int exch_request(self, Request* r) except -1 nogil:
        cdef SimOrder* o = self.ordp(r.oi)
        cdef int64_t t = r.t
        cdef bint crossing, keep
        if r.kind == REQ_NEW:
            o.arrive_ts = t
            self.cash -= self.order_fee
            self.fees += self.order_fee
            o.fee += self.order_fee
            if o.flags & ORDER_FLATTEN:
                # the kill switch's market order: the position at arrival
                o.side = 1 if self.position > 0 else 0
                o.qty = self.position if self.position > 0 else -self.position
                o.leaves = o.qty
                o.local_leaves = o.qty
                if o.qty == 0:
                    o.status = STATUS_OPEN
                    self.push_resp(t, RESP_ACK, r.oi, 0, 0, 0, -1)
                    self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
                    return 0
            if o.flags & ORDER_MARKET:
                o.status = STATUS_OPEN
                self.push_resp(t, RESP_ACK, r.oi, 0, 0, 0, -1)
                if (o.flags & ORDER_FOK) and self.available(o.side, 0, o.leaves) < o.leaves:
                    self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
                    return 0
                self.sweep(r.oi, 0, t)
                if o.leaves > 0:
                    self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
                return 0
            crossing = self.crosses(o.side, o.price)
            if crossing and (o.flags & ORDER_POST_ONLY):
                self.done(r.oi, STATUS_REJECTED, t, RESP_REJECTED)
                return 0
            o.status = STATUS_OPEN
            self.push_resp(t, RESP_ACK, r.oi, 0, 0, 0, -1)
            if (o.flags & ORDER_FOK) and (not crossing or self.available(o.side, o.price, o.leaves) < o.leaves):
                self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
                return 0
            if crossing:
                self.sweep(r.oi, o.price, t)
            if o.leaves == 0:
                return 0
            if crossing or (o.flags & ORDER_IOC):
                self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
                return 0
            self.join(r.oi)
            self.live_add(r.oi)
        elif r.kind == REQ_CANCEL:
            if o.status == STATUS_OPEN:
                self.live_remove(r.oi)
                self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
            else:
                self.push_resp(t, RESP_CANCEL_REJECTED, r.oi, 0, 0, 0, -1)
        else:
            # modify: r.price / r.qty are the new price and open quantity
            if o.status != STATUS_OPEN or (o.flags & (ORDER_MARKET | ORDER_IOC | ORDER_FOK)):
                self.push_resp(t, RESP_MODIFY_REJECTED, r.oi, o.price, o.leaves, 0, -1)
                return 0
            crossing = r.price != o.price and self.crosses(o.side, r.price)
            if crossing and (o.flags & ORDER_POST_ONLY):
                # a post-only order is never made to take: the modify is refused, the order stands
                self.push_resp(t, RESP_MODIFY_REJECTED, r.oi, o.price, o.leaves, 0, -1)
                return 0
            # keeps its place only when the price is unchanged and the quantity does not grow
            keep = r.price == o.price and r.qty <= o.leaves
            o.qty += r.qty - o.leaves
            o.leaves = r.qty
            o.price = r.price
            o.n_modifies += 1
            self.push_resp(t, RESP_MODIFIED, r.oi, r.price, r.qty, 0, -1)
            if keep:
                if o.ahead > side_get(&self.exch_book[o.side], o.price):
                    o.ahead = side_get(&self.exch_book[o.side], o.price)
                return 0
            if crossing:
                self.live_remove(r.oi)
                self.sweep(r.oi, o.price, t)
                if o.leaves > 0:
                    self.done(r.oi, STATUS_CANCELLED, t, RESP_CANCELLED)
                return 0
            self.join(r.oi)
        return 0

    cdef void local_response(self, Response* r) noexcept nogil:
        cdef SimOrder* o = self.ordp(r.oi)
        cdef Fill* f
        cdef int64_t sgn
        if r.kind == RESP_ACK:
            if o.local_status == STATUS_PENDING:
                o.local_status = STATUS_OPEN
            o.ack_ts = r.t
        elif r.kind == RESP_FILL:
            f = (<Fill*>self.fills.data) + r.fill
            sgn = 1 if o.side == 0 else -1
            self.local_position += sgn * r.qty
            self.local_cash -= sgn * <double>r.price * <double>r.qty * self.multiplier + f.fee
            self.local_fees += f.fee
            self.local_volume += r.qty
            o.local_leaves -= r.qty
            if o.local_leaves == 0:
                o.local_status = STATUS_FILLED
        elif r.kind == RESP_CANCELLED:
            o.local_status = STATUS_CANCELLED
        elif r.kind == RESP_MODIFIED:
            o.local_leaves = r.qty
            o.local_price = r.price
        elif r.kind == RESP_REJECTED:
            o.local_status = STATUS_REJECTED
            self.local_cash -= self.order_fee
            self.local_fees += self.order_fee
        if r.kind == RESP_ACK:
            self.local_cash -= self.order_fee
            self.local_fees += self.order_fee

    # ---------------------------------------------------------------- Python-facing commands

    def submit(self, int64_t side, price_t price, sqty_t qty, int64_t flags):
        """Queue a new order sent at local time ``now``; returns its id."""
        self._claim()
        self.busy = True
        try:
            return self._submit(side, price, qty, flags)
        finally:
            self.busy = False

    cdef object _submit(self, int64_t side, price_t price, sqty_t qty, int64_t flags):
        self.new_order(side, price, qty, flags, self.now)
        return self.orders.n

    def cancel(self, int64_t order_id):
        """Queue a cancel of ``order_id`` sent at ``now``.  Returns False (and
        sends nothing) when the local view already knows the order is done or
        a cancel is already on its way."""
        self._claim()
        self.busy = True
        try:
            return self._cancel(order_id)
        finally:
            self.busy = False

    cdef object _cancel(self, int64_t order_id):
        cdef SimOrder* o = self.ordp(order_id - 1)
        if o.local_status != STATUS_PENDING and o.local_status != STATUS_OPEN:
            return False
        if o.cancel_ts >= 0:
            return False
        o.cancel_ts = self.now
        self.push_req(self.now, REQ_CANCEL, order_id - 1, 0, 0)
        return True

    def modify(self, int64_t order_id, price_t price, sqty_t qty):
        """Queue a modify (new price, new open quantity) of ``order_id`` sent
        at ``now``, through the same FIFO channel as orders and cancels.
        False (nothing sent) when the local view knows the order is done or a
        cancel is on its way."""
        self._claim()
        self.busy = True
        try:
            return self._modify(order_id, price, qty)
        finally:
            self.busy = False

    cdef object _modify(self, int64_t order_id, price_t price, sqty_t qty):
        cdef SimOrder* o = self.ordp(order_id - 1)
        if o.local_status != STATUS_PENDING and o.local_status != STATUS_OPEN:
            return False
        if o.cancel_ts >= 0:
            return False
        self.push_req(self.now, REQ_MODIFY, order_id - 1, price, qty)
        return True

    # ---------------------------------------------------------------- the loop

    cdef int run(self) except -1 nogil:
        """The merged event loop: process the earliest event (exchange row,
        request arrival, report, local row, timer; ties in that order) until
        a decision point the strategy asked for; returns its DECISION_* code."""
        cdef nanos_t te, tr, tp, tl, tt, t
        cdef int64_t k
        cdef price_t lb0, la0
        cdef Request* rq
        cdef Response* rs
        cdef int code
        while True:
            if self.book_dirty and (self.next_local >= self.n_local_rows or self.rows[self.local_rows[self.next_local]].local_ts > self.now):
                # every local row of this timestamp is applied: one decision per update
                self.book_dirty = False
                lb0 = side_best(&self.local_book[0])
                la0 = side_best(&self.local_book[1])
                if self.want_depth or lb0 != self.l_bid or la0 != self.l_ask:
                    self.l_bid, self.l_ask = lb0, la0
                    return DECISION_BOOK
            te = self.rows[self.exch_rows[self.next_exch]].exch_ts if self.next_exch < self.n_exch_rows else INT64_MAX
            tr = (<Request*>self.reqs.data)[self.rq_head].t if self.rq_head < self.reqs.n else INT64_MAX
            tp = (<Response*>self.resps.data)[self.rs_head].t if self.rs_head < self.resps.n else INT64_MAX
            tl = self.rows[self.local_rows[self.next_local]].local_ts if self.next_local < self.n_local_rows else INT64_MAX
            tt = self.next_timer if (self.next_exch < self.n_exch_rows or self.next_local < self.n_local_rows) else INT64_MAX
            t = te
            if tr < t:
                t = tr
            if tp < t:
                t = tp
            if tl < t:
                t = tl
            if tt < t:
                t = tt
            if t == INT64_MAX:
                if self.record_interval > 0:
                    self.record(self.now)
                return DECISION_END
            if t > self.until:
                return DECISION_PAUSE
            while self.next_record <= t:
                self.record(self.next_record)
                self.next_record += self.record_interval
            if t > self.now:
                self.now = t
            if te == t:
                k = self.exch_rows[self.next_exch]
                self.next_exch += 1
                self.n_exch_done += 1
                self.exch_row(k)
                if self.ks_enabled:
                    self.risk_check(t)
                if self.n_exch_done >= self.next_progress:
                    self.next_progress += self.progress_every
                    return DECISION_PROGRESS
            elif tr == t:
                rq = (<Request*>self.reqs.data) + self.rq_head
                self.rq_head += 1
                self.exch_request(rq)
                if self.ks_enabled:
                    self.risk_check(t)
            elif tp == t:
                rs = (<Response*>self.resps.data) + self.rs_head
                self.rs_head += 1
                self.local_response(rs)
                self.cur_resp = self.rs_head - 1
                if rs.kind == RESP_FILL:
                    if self.want_fill:
                        return DECISION_FILL
                elif self.want_order:
                    return DECISION_ORDER
            elif tl == t:
                k = self.local_rows[self.next_local]
                self.next_local += 1
                self.n_local_done += 1
                self.cur_row = k
                self.last_tick_exch = self.rows[k].exch_ts
                code = self.rows[k].kind
                if code == TRADE or code == EXEC:
                    self.local_row(k)
                    if self.want_trade:
                        return DECISION_TRADE
                else:
                    self.local_row(k)
                    if self.want_book:
                        self.book_dirty = True
            else:
                self.next_timer += self.timer_interval
                if self.want_timer:
                    return DECISION_TIMER

    def peek(self):
        """Time of the next event (market row, request, report or timer); None at the end."""
        self._claim()
        self.busy = True
        try:
            return self._peek()
        finally:
            self.busy = False

    cdef object _peek(self):
        cdef int64_t t = INT64_MAX, x
        if self.book_dirty:
            return self.now
        if self.next_exch < self.n_exch_rows:
            t = self.rows[self.exch_rows[self.next_exch]].exch_ts
        if self.rq_head < self.reqs.n:
            x = (<Request*>self.reqs.data)[self.rq_head].t
            t = x if x < t else t
        if self.rs_head < self.resps.n:
            x = (<Response*>self.resps.data)[self.rs_head].t
            t = x if x < t else t
        if self.next_local < self.n_local_rows:
            x = self.rows[self.local_rows[self.next_local]].local_ts
            t = x if x < t else t
        if (self.next_exch < self.n_exch_rows or self.next_local < self.n_local_rows) and self.next_timer < t:
            t = self.next_timer
        return None if t == INT64_MAX else t

    def advance(self):
        """Run until the next decision point; returns its DECISION_* code
        (DECISION_END at the end).  MemoryError if a buffer cannot grow."""
        cdef int code
        self._claim()
        self.busy = True
        try:
            with nogil:
                code = self.run()
        finally:
            self.busy = False
        return code

    # ---------------------------------------------------------------- queries

    def local_bbo(self):
        """(bid, bid_qty, ask, ask_qty) of the local book; 0 for an empty side."""
        self._claim()
        self.busy = True
        try:
            return self._local_bbo()
        finally:
            self.busy = False

    cdef object _local_bbo(self):
        cdef int64_t b = side_best(&self.local_book[0]), a = side_best(&self.local_book[1])
        return (b, side_get(&self.local_book[0], b) if b else 0, a, side_get(&self.local_book[1], a) if a else 0)

    def local_depth(self, int64_t n):
        """Top ``n`` local levels: int64 array (4, n) bid px, bid qty, ask px, ask qty."""
        self._claim()
        self.busy = True
        try:
            return self._local_depth(n)
        finally:
            self.busy = False

    cdef object _local_depth(self, int64_t n):
        out = np.zeros((4, n), np.int64)
        cdef int64_t[:, ::1] v = out
        cdef int64_t s, px, j
        cdef BookSide* sd
        for s in range(2):
            sd = &self.local_book[s]
            j = 0
            px = side_best(sd)
            while px != 0 and j < n:
                v[2 * s, j] = px
                v[2 * s + 1, j] = side_get(sd, px)
                j += 1
                px = side_after(sd, px)
        return out

    def exch_level(self, int64_t side, price_t price):
        """Visible quantity at a price of the exchange-side book."""
        self._claim()
        self.busy = True
        try:
            return self._exch_level(side, price)
        finally:
            self.busy = False

    cdef object _exch_level(self, int64_t side, price_t price):
        return side_get(&self.exch_book[side], price)

    def order_row(self, int64_t order_id):
        self._claim()
        self.busy = True
        try:
            return self._order_row(order_id)
        finally:
            self.busy = False

    cdef object _order_row(self, int64_t order_id):
        cdef SimOrder* o = self.ordp(order_id - 1)
        return (o.side, o.local_price, o.qty, o.local_leaves, o.local_status, o.cancel_ts)

    def local_open(self):
        """Ids of orders the local view believes pending or open."""
        self._claim()
        self.busy = True
        try:
            return self._local_open()
        finally:
            self.busy = False

    cdef object _local_open(self):
        cdef int64_t i
        cdef SimOrder* o
        out = []
        for i in range(self.orders.n):
            o = self.ordp(i)
            if o.local_status == STATUS_PENDING or o.local_status == STATUS_OPEN:
                out.append(o.id)
        return out

    def response(self, int64_t i):
        """Report ``i`` as a ``nanobook.sim.dtypes.ResponseRow`` (the fields
        of RESPONSE_DTYPE)."""
        self._claim()
        self.busy = True
        try:
            row = self._response(i)
        finally:
            self.busy = False
        return _ResponseRow(*row)      # Python code: after the claim is released

    cdef object _response(self, int64_t i):
        cdef Response* r = (<Response*>self.resps.data) + i
        return (r.t, r.kind, (<SimOrder*>self.orders.data)[r.oi].id, r.price, r.qty, r.maker, r.fill)

    def fill_row(self, int64_t i):
        self._claim()
        self.busy = True
        try:
            return self._fill_row(i)
        finally:
            self.busy = False

    cdef object _fill_row(self, int64_t i):
        cdef Fill* f = (<Fill*>self.fills.data) + i
        return (f.side, f.fee, f.exch_ts)

    def account(self):
        """Exchange truth now: (position, cash, fees, mid, equity excl. capital, n_fills)."""
        self._claim()
        self.busy = True
        try:
            return self._account()
        finally:
            self.busy = False

    cdef object _account(self):
        cdef double mid = self.mid_now()
        return (self.position, self.cash, self.fees, mid,
                self.cash + (<double>self.position * mid * self.multiplier if self.position != 0 else 0.0),
                self.fills.n)

    @property
    def n_orders(self):
        return self.orders.n

    @property
    def data_done(self):
        """True once every market row was processed (no new orders after that)."""
        return self.next_exch >= self.n_exch_rows and self.next_local >= self.n_local_rows

    @property
    def n_live(self):
        return self.n_live

    def orders_array(self):
        self._claim()
        self.busy = True
        try:
            return self._orders_array()
        finally:
            self.busy = False

    cdef object _orders_array(self):
        return buf_array(&self.orders, ORDER_DTYPE)

    def fills_array(self):
        self._claim()
        self.busy = True
        try:
            return self._fills_array()
        finally:
            self.busy = False

    cdef object _fills_array(self):
        return buf_array(&self.fills, FILL_DTYPE)

    def records_array(self):
        self._claim()
        self.busy = True
        try:
            return self._records_array()
        finally:
            self.busy = False

    cdef object _records_array(self):
        return buf_array(&self.recs, RECORD_DTYPE)

    def bbo_array(self):
        self._claim()
        self.busy = True
        try:
            return self._bbo_array()
        finally:
            self.busy = False

    cdef object _bbo_array(self):
        return buf_array(&self.bbos, BBO_DTYPE)

    def responses_array(self):
        self._claim()
        self.busy = True
        try:
            return self._responses_array()
        finally:
            self.busy = False

    cdef object _responses_array(self):
        a = buf_array(&self.resps, RESPONSE_DTYPE)
        if len(a):
            a["order_id"] += 1     # stored as slot index
        return a


def feed_latency(const int64_t[::1] exch_ts, model):
    """``exch_ts + latency`` for every row, FIFO (non-decreasing where
    ``exch_ts`` is); the random model draws one value per row in row order."""
    cdef LatencyModel l
    cdef const int64_t[::1] ets
    cdef const int64_t[::1] evl
    cdef int64_t n = exch_ts.shape[0], i
    out = np.empty(n, np.int64)
    cdef int64_t[::1] v = out
    lat_from(&l, model)
    if l.kind == LATENCY_SERIES:
        ets = model.ts
        evl = model.values
        l.ts, l.val = &ets[0], &evl[0]
    with nogil:
        for i in range(n):
            v[i] = exch_ts[i] + lat_sample(&l, exch_ts[i])
    return out


def scan_stream(md):
    """One pass over a C-contiguous MD_DTYPE stream: the checks of
    ``validate_stream`` and what the loop needs.

    Returns a ``nanobook.sim.dtypes.StreamScan``: ``ok`` False means some
    row breaks a rule (``validate_stream`` then names it); ``exch_rows`` /
    ``local_rows`` index the EXCH / LOCAL rows; the price range covers every
    row; ``t_start`` is the smallest timestamp of either clock.
    """
    cdef int64_t n = len(md), i, nx = 0, nl = 0
    cdef const uint8_t[::1] raw
    cdef const MdRow* r
    cdef const MdRow* row
    cdef int64_t plo = INT64_MAX, phi = 0, tmin = INT64_MAX, emin = INT64_MAX, emax = -INT64_MAX
    cdef int64_t last_e = -INT64_MAX, last_l = -INT64_MAX
    cdef bint ok = True
    xi = np.empty(n, np.int64)
    li = np.empty(n, np.int64)
    cdef int64_t[::1] vx = xi
    cdef int64_t[::1] vl = li
    if md.dtype.itemsize != sizeof(MdRow) or not md.flags.c_contiguous:
        raise ValueError("scan_stream needs a C-contiguous MD_DTYPE array")
    if n == 0:
        return _StreamScan(True, xi, li, 0, -1, 0, None, None)
    raw = md.view(np.uint8)
    r = <const MdRow*>&raw[0]
    with nogil:
        for i in range(n):
            row = r + i
            if row.kind < DEPTH or row.kind > EXEC or row.side > 1 or (row.flags & 3) == 0 \
                    or row.flags > 7 or row.price <= 0 or row.qty < 0 or (row.qty == 0 and row.kind != DEPTH):
                ok = False
                break
            if (row.flags & 3) == 3 and row.local_ts < row.exch_ts:
                ok = False
                break
            if row.flags & EXCH:
                if row.exch_ts < last_e:
                    ok = False
                    break
                last_e = row.exch_ts
                vx[nx] = i
                nx += 1
                if row.exch_ts < emin:
                    emin = row.exch_ts
                if row.exch_ts > emax:
                    emax = row.exch_ts
            if row.flags & LOCAL:
                if row.local_ts < last_l:
                    ok = False
                    break
                last_l = row.local_ts
                vl[nl] = i
                nl += 1
            if row.price < plo:
                plo = row.price
            if row.price > phi:
                phi = row.price
            if row.exch_ts < tmin:
                tmin = row.exch_ts
            if row.local_ts < tmin:
                tmin = row.local_ts
    if not ok:
        return _StreamScan(False, None, None, 0, -1, 0, None, None)
    return _StreamScan(True, xi[:nx].copy() if nx < n else xi, li[:nl].copy() if nl < n else li, plo, phi,
                       tmin, emin if nx else None, emax if nx else None)
