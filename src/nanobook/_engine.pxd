# Header of the Cython order book.  Structs first, then the Exchange class
# with its state and every cdef method, grouped as queries and commands.
# Exception contract: ``noexcept nogil`` for accessors and arithmetic that
# cannot fail; ``except -1 nogil`` where memory is allocated (the only
# failure inside the book is running out of memory).
cimport cython

from nanobook._buffer cimport Buf
from nanobook._claim cimport Claim, claim, release
from nanobook._types cimport (
    int32_t, int64_t, uint8_t, uint32_t, uint64_t,
    oid_t, price_t, qty_t, slot_t, ts_t, u128_t,
)

# -- codes (the same values are named in nanobook/dtypes.py, with the names
# of each code; tests/engine/test_layout.py pins the two together) ----------
cdef enum:
    BUY = 0
    SELL = 1
    GTC = 0
    IOC = 1
    FOK = 2
    # order status
    ST_NEW = 0
    ST_PARTIAL = 1
    ST_FILLED = 2
    ST_CANCELLED = 3
    # stop status
    STOP_PENDING = 0
    STOP_TRIGGERED = 1
    STOP_CANCELLED = 2
    # record kinds in the id table
    REC_NONE = 0
    REC_ORDER = 1
    REC_STOP = 2
    # event kinds
    EV_SUBMIT_LIMIT = 1
    EV_SUBMIT_MARKET = 2
    EV_CANCEL = 3
    EV_MODIFY = 4
    EV_STOP_MARKET = 5
    EV_STOP_LIMIT = 6
    EV_TRAIL_MARKET = 7
    EV_TRAIL_LIMIT = 8
    # trail methods
    TRAIL_NONE = 0
    TRAIL_FIXED = 1
    TRAIL_PCT = 2
    TRAIL_SMA = 3
    # id table pages
    PAGE_BITS = 12
    PAGE_SIZE = 4096
    # trailing-stop change history
    HISTORY_CAP = 10000
    MAX_STOP_ROUNDS = 100
    # cancel / modify outcomes
    OK = 0
    NOT_FOUND = 1
    NOT_ACTIVE = 2


# One order, stored in the id table at its id (48 bytes).  A regular order
# is linked into its level's FIFO through ``next`` while it rests; a stop's
# record holds the index of its StopRec in ``next``.  ``remaining`` is the
# unfilled quantity, also after a cancel, so filled = original - remaining.
ctypedef struct OrderRec:
    price_t price       # limit price in ticks
    qty_t original      # lots submitted
    qty_t remaining     # lots not filled
    ts_t timestamp      # the book's logical clock at arrival (next_ts)
    oid_t next          # next order id in the level queue (0: end) / stop index
    slot_t level        # level slot while resting, -1 otherwise
    uint8_t kind        # REC_*
    uint8_t side
    uint8_t tif
    uint8_t status      # ST_*


# One price level: an intrusive FIFO of order ids.  Cancelled orders stay
# in the queue as tombstones until matching passes them or compact() runs;
# ``total`` and ``count`` cover live orders only, so they are always exact.
ctypedef struct Level:
    price_t price
    u128_t total            # lots of the live orders
    oid_t head              # first id of the FIFO (0: empty)
    oid_t tail              # last id of the FIFO (0: empty)
    uint32_t count          # live orders
    slot_t next_free        # next slot of the pool's free list while unused


# A side of the book: levels sorted worst to best, so the touch is the
# last entry and the common operations (match at the touch, rest near it)
# work at the end of the array.
ctypedef struct BookEntry:
    price_t price
    slot_t slot


ctypedef struct StopRec:
    oid_t id
    price_t stop_price      # current (trailed) stop price
    price_t limit_price     # price of the limit order sent on trigger (is_limit)
    qty_t quantity
    ts_t timestamp          # the book's logical clock at submission
    price_t watermark       # best trade price seen since submission (trailing)
    int64_t trail_fixed     # TRAIL_FIXED offset in ticks
    double trail_value      # fraction (percentage) or multiplier (sma)
    uint64_t period         # TRAIL_SMA: number of recent price changes averaged
    uint8_t side
    uint8_t tif
    uint8_t status          # STOP_*
    uint8_t is_limit
    uint8_t trail           # TRAIL_*
    uint8_t has_watermark   # watermark is set (a trade has printed since)


# Layouts of these two match nanobook.dtypes.EVENT_DTYPE / TRADE_DTYPE.
ctypedef struct EventRec:
    uint8_t kind
    uint8_t side
    uint8_t tif
    uint8_t trail
    uint32_t _pad
    oid_t order_id
    price_t price
    price_t limit_price
    qty_t quantity
    int64_t trail_fixed
    double trail_value
    uint64_t period


ctypedef struct TradeRec:
    uint64_t trade_id
    price_t price
    qty_t quantity
    uint8_t aggressor_side
    uint8_t _pad[7]
    oid_t aggressor_order_id
    oid_t passive_order_id
    ts_t timestamp          # the book's logical clock when the trade printed


# What one submission did, for the Python wrapper to report.
ctypedef struct SubmitOut:
    oid_t order_id
    qty_t filled
    qty_t resting
    qty_t cancelled
    size_t trade_start      # trades of this call: self.trades[trade_start:trade_end]
    size_t trade_end
    uint8_t status          # ST_* as reported in SubmitResult (not the stored one)


# What one event did (the union of the outcomes of every kind).
ctypedef struct ExecOut:
    SubmitOut sub           # submit_* and the replacement order of modify
    qty_t cancelled         # cancel / modify
    int code                # cancel / modify: OK, NOT_FOUND, NOT_ACTIVE
    bint triggered          # stop submits: triggered at submission


@cython.final
cdef class Exchange:
    # id table: pages of OrderRec indexed by id
    cdef OrderRec** pages
    cdef uint32_t* page_live     # records present per page (freed at 0 when purged)
    cdef size_t npages
    # levels
    cdef Level* levels
    cdef slot_t levels_cap
    cdef slot_t levels_used       # high-water mark of the pool
    cdef slot_t free_level        # head of the free list (-1: empty)
    cdef BookEntry* side_entries[2]   # per side (BUY, SELL): levels, worst to best
    cdef size_t side_n[2]             # entries in use
    cdef size_t side_cap[2]           # entries allocated
    # stops
    cdef StopRec* stops           # every stop not purged, submission order
    cdef size_t nstops
    cdef size_t stops_cap
    cdef size_t* pending          # indices into stops, submission order
    cdef size_t npending          # entries of ``pending``
    cdef size_t pending_cap       # capacity of ``pending`` and ``trig``
    cdef size_t pending_live      # pending stops (entries of ``pending`` may be stale)
    cdef size_t* trig             # scratch: stops triggered in one round
    cdef int64_t* history         # ring of |p - previous p| for trailing stops
    cdef size_t hist_n            # changes in the ring (at most HISTORY_CAP)
    cdef size_t hist_head         # next slot of the ring to write
    cdef price_t hist_prev        # the trade price the last change was taken from
    cdef bint hist_has_prev       # hist_prev is set
    # counters and last trade
    cdef oid_t next_id            # id of the next order or stop
    cdef uint64_t next_trade_id
    cdef ts_t next_ts             # the logical clock: +1 per order, stop and trade
    cdef price_t last_price       # last trade price (stop triggers read it)
    cdef bint has_last            # last_price is set
    # logs
    cdef Buf trade_log            # TradeRec
    cdef Buf event_buf            # the event log, varint-encoded (see log_event)
    cdef size_t nevents
    cdef readonly bint event_log
    cdef Claim guard              # thread claim of every public method (_claim.pxd)

    # -- queries --------------------------------------------------------
    # Record of ``oid`` or NULL.
    cdef OrderRec* rec(self, oid_t oid) noexcept nogil
    # Total resting quantity on ``side`` at prices an order at ``price`` crosses.
    cdef u128_t crossing_quantity(self, uint8_t side, price_t price, qty_t enough) noexcept nogil
    # Index of the level at ``price`` in ``side`` or the insertion point (found=0).
    cdef size_t find_level(self, uint8_t side, price_t price, bint* found) noexcept nogil

    # -- commands (all return -1 only when memory runs out) ---------------
    cdef OrderRec* alloc_rec(self, oid_t oid) except NULL nogil
    cdef slot_t alloc_level(self) except -1 nogil
    cdef int submit(self, uint8_t side, price_t price, qty_t qty, uint8_t tif, SubmitOut* out) except -1 nogil
    cdef int match(self, OrderRec* o, oid_t oid) except -1 nogil
    cdef int rest(self, OrderRec* o, oid_t oid) except -1 nogil
    cdef void remove_level(self, uint8_t side, price_t price) noexcept nogil
    cdef int cancel_order(self, oid_t oid, qty_t* cancelled) noexcept nogil
    cdef int modify_order(self, oid_t oid, price_t price, qty_t qty, qty_t* cancelled, SubmitOut* out) except -1 nogil
    cdef int add_stop(self, EventRec* ev, oid_t* oid, bint* triggered) except -1 nogil
    cdef int after_trades(self, SubmitOut* out) except -1 nogil
    cdef int process_stops(self) except -1 nogil
    cdef int feed_trailing(self, price_t p) noexcept nogil
    # Record ``ev`` in the event log (if on) and carry it out: the one path
    # of live calls, Exchange.apply and Exchange.replay.
    cdef int run(self, EventRec* ev, ExecOut* res) except -1 nogil
    cdef void compact_levels(self) noexcept nogil

    # -- Python result builders ---------------------------------------------
    # Claim the book for the public method ``call`` (a command when
    # ``write``: exclusive; a query: shared with other queries) or raise
    # RuntimeError naming both calls; every public method releases it on
    # every exit path.  Each method spells ``_claim; try: ... finally:
    # _release`` itself on purpose: a context manager (``with
    # self._claimed(...)``) costs two Python-level calls, measured at 38 ->
    # 141 ns for a trivial query (best_bid_ask is ~50 ns).
    cdef int _claim(self, const char* call, bint write) except -1
    cdef void _release(self, bint write) noexcept
    cdef object _submit_call(self, EventRec* ev)
    cdef object _stop_call(self, EventRec* ev)
    # Validate and submit one of the four stop kinds; ``trail`` is the
    # ``(trail_type, trail_value, atr_period)`` of the trailing ones.
    cdef object _stop(self, uint8_t kind, object side, str stop_name, object stop_price,
                      object limit_price, object quantity, object tif, tuple trail=*)
    cdef object _snapshot(self, size_t levels)
