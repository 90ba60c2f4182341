# cython: language_level=3
"""Event loop of the market-making simulator (see ``nanobook/sim/__init__.py``).

Two clocks share one integer nanosecond axis: the exchange processes market
rows in ``exch_ts`` order and our order requests at their arrival times; the
strategy's view (the local book, fills, acks) moves at ``local_ts`` and at
response times.  :meth:`SimCore.advance` runs the merged event loop without
the GIL and returns to Python only at a decision point the strategy asked for.
Everything here is integer ticks and lots except cash and fees (float64
currency, ``price * qty * multiplier``).
"""
from libc.stdint cimport int64_t, uint64_t, uint8_t, INT64_MAX
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memmove, memcpy
from libc.math cimport log, exp, sqrt, pow, cos, llround, isfinite, NAN, fabs

import numpy as np

from nanobook.limits import daily_loss_breached, drawdown_breached

# ------------------------------------------------------------------ constants


# market row kinds
cdef enum: K_DEPTH = 1
cdef enum: K_TRADE = 2
cdef enum: K_ADD = 3
cdef enum: K_CANCEL = 4
cdef enum: K_EXEC = 5
# row flags
cdef enum: F_EXCH = 1
cdef enum: F_LOCAL = 2
cdef enum: F_HIDDEN = 4
# decision codes returned by advance()
cdef enum: D_END = 0
cdef enum: D_BOOK = 1
cdef enum: D_TRADE = 2
cdef enum: D_FILL = 3
cdef enum: D_ORDER = 4
cdef enum: D_TIMER = 5
cdef enum: D_PROGRESS = 6
cdef enum: D_PAUSE = 7         # the next event is after ``until`` (several instruments, one clock)
# order flags
cdef enum: O_MARKET = 1
cdef enum: O_IOC = 2
cdef enum: O_POST_ONLY = 4
cdef enum: O_FOK = 8
cdef enum: O_FLATTEN = 16      # kill-switch market order sized at arrival
# order status (exchange truth and local view)
cdef enum: S_PENDING = 0
cdef enum: S_OPEN = 1
cdef enum: S_FILLED = 2
cdef enum: S_CANCELLED = 3
cdef enum: S_REJECTED = 4
# response kinds
cdef enum: R_ACK = 1
cdef enum: R_FILL = 2
cdef enum: R_CANCELLED = 3
cdef enum: R_REJECTED = 4
cdef enum: R_CANCEL_REJECTED = 5
cdef enum: R_MODIFIED = 6
cdef enum: R_MODIFY_REJECTED = 7
# request kinds
cdef enum: Q_NEW = 1
cdef enum: Q_CANCEL = 2
cdef enum: Q_MODIFY = 3
# kill-switch rules (names in nanobook/limits.py)
cdef enum: KS_MAX_POSITION = 1
cdef enum: KS_DRAWDOWN = 2
cdef enum: KS_DAILY_LOSS = 3
cdef int64_t DAY_NS = 86400 * 1000000000LL
# queue models
cdef enum: QM_RISK_AVERSE = 0
cdef enum: QM_POWER = 1
cdef enum: QM_LOG = 2
# latency models
cdef enum: L_CONST = 0
cdef enum: L_SERIES = 1
cdef enum: L_LOGNORMAL = 2
cdef enum: L_UNIFORM = 3

# ------------------------------------------------------------------ structs

cdef struct Side:
    int64_t* key        # sign * price, sorted descending: the best level is last
    int64_t* qty
    int64_t n
    int64_t cap
    int64_t sign        # +1 asks, -1 bids
    # ladder mode (lq != NULL): quantity indexed by price - lo for prices in
    # [lo, hi] (the stream's whole price range), best price kept incrementally
    int64_t* lq
    int64_t lo, hi, best
    int64_t nlev        # live levels on a ladder side (an empty side needs no scan)

cdef packed struct MdRow:
    # one row of nanobook.sim.MD_DTYPE (51 bytes, packed)
    int64_t exch_ts, local_ts, price, qty
    uint64_t order_id
    int64_t rank
    uint8_t kind, side, flags

cdef struct Lat:
    int kind
    int64_t value       # constant
    double median, sigma
    uint64_t state      # splitmix64 state
    const int64_t* ts   # series
    const int64_t* val
    int64_t n

cdef struct Ord:
    int64_t id, side, price, qty, leaves, flags
    int64_t status, local_status, local_leaves
    int64_t ahead, trade_acc, join_rank
    int64_t submit_ts, arrive_ts, ack_ts, done_ts, cancel_ts
    int64_t n_fills
    int64_t local_price, ahead0, tick_ts, n_modifies
    double fee, notional

cdef struct Req:
    int64_t t, kind, oi, price, qty

cdef struct Resp:
    int64_t t, kind, oi, price, qty, maker, fill

cdef struct Fill:
    int64_t exch_ts, local_ts, order_id, side, price, qty, maker
    double fee
    int64_t position
    double cash, mid

cdef struct Rec:
    int64_t ts, bid, ask
    double mid
    int64_t position
    double cash, equity, fees
    int64_t volume

cdef struct Bbo:
    int64_t ts, bid, ask

cdef struct Buf:
    char* data
    int64_t n, cap, size

ORDER_FIELDS = ["order_id", "side", "price", "qty", "leaves", "flags", "status",
                "local_status", "local_leaves", "ahead", "trade_acc", "join_rank",
                "submit_ts", "arrive_ts", "ack_ts", "done_ts", "cancel_ts", "n_fills",
                "local_price", "ahead0", "tick_ts", "n_modifies"]
ORDER_DTYPE = np.dtype([(f, "i8") for f in ORDER_FIELDS] + [("fee", "f8"), ("notional", "f8")])
FILL_DTYPE = np.dtype([("exch_ts", "i8"), ("local_ts", "i8"), ("order_id", "i8"), ("side", "i8"),
                       ("price", "i8"), ("qty", "i8"), ("maker", "i8"), ("fee", "f8"),
                       ("position", "i8"), ("cash", "f8"), ("mid", "f8")])
RECORD_DTYPE = np.dtype([("ts", "i8"), ("bid", "i8"), ("ask", "i8"), ("mid", "f8"),
                         ("position", "i8"), ("cash", "f8"), ("equity", "f8"), ("fees", "f8"),
                         ("volume", "i8")])
BBO_DTYPE = np.dtype([("ts", "i8"), ("bid", "i8"), ("ask", "i8")])
RESPONSE_DTYPE = np.dtype([("t", "i8"), ("kind", "i8"), ("order_id", "i8"), ("price", "i8"),
                           ("qty", "i8"), ("maker", "i8"), ("fill", "i8")])
assert ORDER_DTYPE.itemsize == sizeof(Ord)
assert FILL_DTYPE.itemsize == sizeof(Fill)
assert RECORD_DTYPE.itemsize == sizeof(Rec)
assert BBO_DTYPE.itemsize == sizeof(Bbo)
assert RESPONSE_DTYPE.itemsize == sizeof(Resp)

# ------------------------------------------------------------------ growable buffers

cdef int buf_init(Buf* b, int64_t size) except -1:
    b.size = size
    b.cap = 64
    b.n = 0
    b.data = <char*>malloc(b.cap * size)
    if b.data == NULL:
        raise MemoryError()
    return 0

cdef char* buf_push(Buf* b) noexcept nogil:
    cdef char* d
    if b.n == b.cap:
        d = <char*>realloc(b.data, 2 * b.cap * b.size)
        if d == NULL:
            return NULL
        b.data = d
        b.cap *= 2
    b.n += 1
    return b.data + (b.n - 1) * b.size

cdef object buf_array(Buf* b, object dtype):
    out = np.empty(b.n, dtype)
    cdef char[::1] view
    if b.n:
        view = out.view(np.int8).reshape(-1)
        memcpy(&view[0], b.data, b.n * b.size)
    return out

# ------------------------------------------------------------------ price levels

cdef int side_init(Side* s, int64_t sign) except -1:
    s.lq = NULL
    s.lo = 0
    s.hi = -1
    s.best = 0
    s.nlev = 0
    s.cap = 256
    s.n = 0
    s.sign = sign
    s.key = <int64_t*>malloc(s.cap * sizeof(int64_t))
    s.qty = <int64_t*>malloc(s.cap * sizeof(int64_t))
    if s.key == NULL or s.qty == NULL:
        raise MemoryError()
    return 0

cdef void side_free(Side* s) noexcept nogil:
    free(s.key)
    free(s.qty)
    free(s.lq)
    s.key = NULL
    s.qty = NULL
    s.lq = NULL

cdef int side_ladder(Side* s, int64_t lo, int64_t hi) except -1:
    """Switch an empty side to a price ladder over [lo, hi] (zeroed lazily by calloc)."""
    s.lq = <int64_t*>calloc(hi - lo + 1, sizeof(int64_t))
    if s.lq == NULL:
        raise MemoryError()
    s.lo, s.hi, s.best, s.nlev = lo, hi, 0, 0
    return 0

cdef inline int64_t ladder_next(const Side* s, int64_t price) noexcept nogil:
    """The next live ladder price worse than ``price`` (which may lie outside
    the ladder), 0 if none."""
    cdef int64_t i
    if s.sign < 0:
        i = (price - 1 if price - 1 < s.hi else s.hi) - s.lo
        while i >= 0:
            if s.lq[i] != 0:
                return i + s.lo
            i -= 1
    else:
        i = (price + 1 if price + 1 > s.lo else s.lo) - s.lo
        while i <= s.hi - s.lo:
            if s.lq[i] != 0:
                return i + s.lo
            i += 1
    return 0

cdef inline int64_t better(const Side* s, int64_t a, int64_t b) noexcept nogil:
    """The better of two prices of this side, 0 meaning none."""
    if a == 0:
        return b
    if b == 0:
        return a
    if s.sign < 0:
        return a if a > b else b
    return a if a < b else b

cdef inline int64_t side_after(const Side* s, int64_t price) noexcept nogil:
    """The next live price worse than ``price`` (a live level), 0 if none: the
    better of the ladder's and the sorted overflow's candidates."""
    cdef int64_t i, out = 0
    if s.n:
        i = side_pos(s, s.sign * price) - 1
        while i >= 0:
            if s.qty[i] != 0:
                out = s.sign * s.key[i]
                break
            i -= 1
    if s.lq != NULL:
        out = better(s, ladder_next(s, price), out)
    return out

cdef inline int64_t side_pos(const Side* s, int64_t k) noexcept nogil:
    """First index whose key is <= k (keys descending), in [0, n]."""
    cdef int64_t lo = 0, hi = s.n, mid
    # fast path: at or near the touch
    if s.n == 0 or s.key[s.n - 1] > k:
        return s.n
    while lo < hi:
        mid = (lo + hi) >> 1
        if s.key[mid] > k:
            lo = mid + 1
        else:
            hi = mid
    return lo

cdef inline int64_t side_get(const Side* s, int64_t price) noexcept nogil:
    if s.lq != NULL and s.lo <= price <= s.hi:
        return s.lq[price - s.lo]
    cdef int64_t k = s.sign * price
    cdef int64_t i = side_pos(s, k)
    if i < s.n and s.key[i] == k:
        return s.qty[i]
    return 0

cdef int64_t side_set(Side* s, int64_t price, int64_t q) noexcept nogil:
    """Set the level total (q <= 0 empties it); returns the old total, or -1 on OOM.

    An emptied level keeps its slot (quantity 0, a tombstone) unless it is
    the best, so that a deep level that comes and goes costs a binary search
    and no memmove; trailing tombstones are dropped so the last slot is
    always the best live level."""
    cdef int64_t k, i, old, cap
    cdef int64_t* a
    if q < 0:
        q = 0
    if s.lq != NULL and s.lo <= price <= s.hi:
        i = price - s.lo
        old = s.lq[i]
        s.lq[i] = q
        if old == 0 and q > 0:
            s.nlev += 1
        elif old > 0 and q == 0:
            s.nlev -= 1
        if q > 0:
            if s.best == 0 or (s.sign < 0 and price > s.best) or (s.sign > 0 and price < s.best):
                s.best = price
        elif price == s.best:
            s.best = ladder_next(s, price) if s.nlev > 0 else 0
        return old
    k = s.sign * price
    i = side_pos(s, k)
    if i < s.n and s.key[i] == k:
        old = s.qty[i]
        s.qty[i] = q
        if q == 0 and i == s.n - 1:
            while s.n > 0 and s.qty[s.n - 1] == 0:
                s.n -= 1
        return old
    if q == 0:
        return 0
    if s.n == s.cap:
        if s.n >= 1024 and side_tombs(s) * 4 > s.n:
            side_compact(s)
            i = side_pos(s, k)
        else:
            cap = 2 * s.cap
            a = <int64_t*>realloc(s.key, cap * sizeof(int64_t))
            if a == NULL:
                return -1
            s.key = a
            a = <int64_t*>realloc(s.qty, cap * sizeof(int64_t))
            if a == NULL:
                return -1
            s.qty = a
            s.cap = cap
    memmove(&s.key[i + 1], &s.key[i], (s.n - i) * sizeof(int64_t))
    memmove(&s.qty[i + 1], &s.qty[i], (s.n - i) * sizeof(int64_t))
    s.key[i] = k
    s.qty[i] = q
    s.n += 1
    return 0

cdef void side_compact(Side* s) noexcept nogil:
    """Drop the tombstones (called when the array is full and a quarter or
    more of it is empty levels)."""
    cdef int64_t i, j = 0
    for i in range(s.n):
        if s.qty[i] != 0:
            s.key[j] = s.key[i]
            s.qty[j] = s.qty[i]
            j += 1
    s.n = j

cdef int64_t side_tombs(const Side* s) noexcept nogil:
    cdef int64_t i, z = 0
    for i in range(s.n):
        if s.qty[i] == 0:
            z += 1
    return z

cdef inline int64_t side_best(const Side* s) noexcept nogil:
    """Best price, or 0 when the side is empty (ladder and overflow together)."""
    cdef int64_t sb = s.sign * s.key[s.n - 1] if s.n else 0
    if s.lq != NULL:
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

cdef int64_t lat_sample(Lat* l, int64_t t) noexcept nogil:
    cdef int64_t lo, hi, mid
    cdef double z, w
    if l.kind == L_CONST:
        return l.value
    if l.kind == L_SERIES:
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
    if l.kind == L_UNIFORM:
        # value + an integer uniform in [0, n): n = high - low + 1
        return l.value + <int64_t>(splitmix(&l.state) % <uint64_t>l.n)
    # lognormal: Box-Muller normal
    z = sqrt(-2.0 * log(unif(&l.state))) * cos(6.283185307179586 * unif(&l.state))
    return llround(l.median * exp(l.sigma * z))

cdef int lat_from(Lat* l, object model) except -1:
    """Fill ``l`` from a validated Python latency model (see latency.py)."""
    l.kind = model._kind
    l.value = 0
    l.n = 0
    if l.kind == L_CONST:
        l.value = model.value
    elif l.kind == L_SERIES:
        l.n = len(model.ts)
    elif l.kind == L_UNIFORM:
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

    cdef Side xb[2]           # exchange book (replayed market data)
    cdef Side lb[2]           # local book (what the strategy sees)
    cdef Lat lat_entry, lat_resp
    # market data columns
    cdef const MdRow* rows          # the stream, read in place
    cdef const int64_t* xi
    cdef const int64_t* li
    cdef int64_t nx, nl, ix, il
    cdef object _keep
    # our orders
    cdef Buf orders, reqs, resps, fills, recs, bbos
    cdef int64_t* live
    cdef int64_t n_live, cap_live
    cdef int64_t rq_head, rs_head, last_req_t, last_resp_t
    # parameters
    cdef public int queue_model
    cdef public double queue_power
    cdef public double maker_fee, taker_fee, order_fee, multiplier
    cdef public double maker_fee_qty, taker_fee_qty, fill_fee   # currency per qty unit / per fill
    cdef public int64_t record_interval, timer_interval
    cdef public bint want_book, want_depth, want_trade, want_fill, want_order, want_timer
    # state
    cdef public int64_t now, position, local_position, last_rank, volume, local_volume
    cdef public double cash, fees, local_cash, local_fees
    cdef int64_t next_record, next_timer, x_bid, x_ask, l_bid, l_ask, last_mid2
    cdef public int64_t cur_row, cur_resp
    cdef public int64_t n_exch_done, n_local_done
    cdef bint started, oom, book_dirty
    # venue rule: queue fills in whole lots (qty units); nearest or floor
    cdef public int64_t lot
    cdef public bint round_nearest
    # kill switch (rules of nanobook.limits): off when a limit is < 0
    cdef public bint ks_enabled
    cdef public int64_t ks_max_position
    cdef public double ks_max_drawdown_pct, ks_max_daily_loss, capital
    cdef public double hwm, day_start
    cdef public int64_t ks_day, kill_ts, kill_rule
    cdef public double kill_equity
    # progress decision points every ``progress_every`` exchange rows (0: off)
    cdef public int64_t progress_every, next_progress
    cdef public int64_t last_tick_exch
    cdef public int64_t until       # advance() pauses before an event later than this
    cdef bint busy              # advance() is running without the GIL

    def __cinit__(self):
        side_init(&self.xb[0], -1)
        side_init(&self.xb[1], 1)
        side_init(&self.lb[0], -1)
        side_init(&self.lb[1], 1)
        buf_init(&self.orders, sizeof(Ord))
        buf_init(&self.reqs, sizeof(Req))
        buf_init(&self.resps, sizeof(Resp))
        buf_init(&self.fills, sizeof(Fill))
        buf_init(&self.recs, sizeof(Rec))
        buf_init(&self.bbos, sizeof(Bbo))
        self.cap_live = 16
        self.live = <int64_t*>malloc(self.cap_live * sizeof(int64_t))
        if self.live == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef int i
        for i in range(2):
            side_free(&self.xb[i])
            side_free(&self.lb[i])
        free(self.orders.data)
        free(self.reqs.data)
        free(self.resps.data)
        free(self.fills.data)
        free(self.recs.data)
        free(self.bbos.data)
        free(self.live)

    def setup(self, cols, xi, li, entry, response, int queue_model, double queue_power,
              double maker_fee, double taker_fee, double order_fee, double multiplier,
              int64_t record_interval, int64_t timer_interval, int64_t start):
        """Bind a validated, C-contiguous MD_DTYPE stream and the parameters
        (arrays are kept alive here)."""
        cdef const uint8_t[::1] raw
        cdef const int64_t[::1] vxi = xi
        cdef const int64_t[::1] vli = li
        cdef const int64_t[::1] ets
        cdef const int64_t[::1] evl
        self._keep = (cols, xi, li, entry, response)
        if cols.dtype.itemsize != sizeof(MdRow) or not cols.flags.c_contiguous:
            raise ValueError("setup needs a C-contiguous MD_DTYPE array")
        if len(cols):
            raw = cols.view(np.uint8)
            self.rows = <const MdRow*>&raw[0]
        self.nx = len(xi)
        self.nl = len(li)
        if self.nx:
            self.xi = &vxi[0]
        if self.nl:
            self.li = &vli[0]
        lat_from(&self.lat_entry, entry)
        lat_from(&self.lat_resp, response)
        if self.lat_entry.kind == L_SERIES:
            ets = entry.ts
            evl = entry.values
            self.lat_entry.ts, self.lat_entry.val = &ets[0], &evl[0]
        if self.lat_resp.kind == L_SERIES:
            ets = response.ts
            evl = response.values
            self.lat_resp.ts, self.lat_resp.val = &ets[0], &evl[0]
        self.queue_model, self.queue_power = queue_model, queue_power
        self.maker_fee, self.taker_fee, self.order_fee = maker_fee, taker_fee, order_fee
        self.multiplier = multiplier
        self.record_interval, self.timer_interval = record_interval, timer_interval
        self.now = start
        self.next_record = start + record_interval if record_interval > 0 else INT64_MAX
        self.next_timer = start + timer_interval if timer_interval > 0 else INT64_MAX
        self.last_rank = -1
        self.last_req_t = start
        self.last_resp_t = start
        self.cur_row = -1
        self.cur_resp = -1
        self.last_mid2 = 0
        self.lot = 1
        self.round_nearest = True
        self.ks_enabled = False
        self.ks_max_position = -1
        self.ks_max_drawdown_pct = -1.0
        self.ks_max_daily_loss = -1.0
        self.capital = 0.0
        self.hwm = NAN
        self.day_start = NAN
        self.ks_day = -1
        self.kill_ts = -1
        self.kill_rule = 0
        self.kill_equity = NAN
        self.progress_every = 0
        self.next_progress = INT64_MAX
        self.last_tick_exch = -1
        self.until = INT64_MAX

    def use_ladder(self, int64_t lo, int64_t hi):
        """Index the four books by price over [lo, hi] (O(1) level updates);
        prices outside stay in the sorted arrays.  Before the run."""
        self._claim()
        cdef int i
        if lo < 1 or hi < lo:
            raise ValueError(f"ladder range must satisfy 1 <= lo <= hi, got [{lo}, {hi}]")
        for i in range(2):
            if self.xb[i].n or self.lb[i].n or self.xb[i].lq != NULL or self.lb[i].lq != NULL:
                raise RuntimeError("use_ladder must be called before the run")
        for i in range(2):
            side_ladder(&self.xb[i], lo, hi)
            side_ladder(&self.lb[i], lo, hi)

    def configure(self, int64_t lot, bint round_nearest, bint ks_enabled, int64_t ks_max_position,
                  double ks_max_drawdown_pct, double ks_max_daily_loss, double capital,
                  int64_t progress_every):
        """Venue lot, kill-switch limits (< 0: off) and progress step, after :meth:`setup`."""
        self._claim()
        self.lot, self.round_nearest = lot, round_nearest
        self.ks_enabled, self.ks_max_position = ks_enabled, ks_max_position
        self.ks_max_drawdown_pct, self.ks_max_daily_loss = ks_max_drawdown_pct, ks_max_daily_loss
        self.capital = capital
        self.progress_every = progress_every
        self.next_progress = progress_every if progress_every > 0 else INT64_MAX

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

    cdef inline Ord* ordp(self, int64_t oi) noexcept nogil:
        return (<Ord*>self.orders.data) + oi

    cdef inline int64_t lots(self, int64_t q) noexcept nogil:
        """A queue-model fill quantity in whole lots: the nearest multiple of
        ``lot`` (half a lot rounds up) or the multiple below (floor)."""
        if q <= 0:
            return 0
        if self.lot == 1:
            return q
        if self.round_nearest:
            return ((2 * q + self.lot) // (2 * self.lot)) * self.lot
        return (q // self.lot) * self.lot

    cdef inline int64_t floor_lots(self, int64_t q) noexcept nogil:
        """Displayed liquidity a taker can take: whole lots only."""
        if q <= 0:
            return 0
        return (q // self.lot) * self.lot

    cdef inline double equity_now(self) noexcept nogil:
        cdef double e = self.capital + self.cash
        if self.position != 0:
            e += <double>self.position * self.mid_now() * self.multiplier
        return e

    cdef void risk_check(self, int64_t t) noexcept nogil:
        """The kill switch, evaluated after every exchange-side event (market
        row, order arrival).  Rules and comparisons of ``nanobook.limits``:
        ``|position| > max_position``; ``hwm - equity > max_drawdown_pct * hwm``
        (hwm = the equity high-water mark, including this event);
        ``day_start - equity > max_daily_loss`` (day_start = equity at the
        first event of the UTC day).  The first rule that fails fires."""
        cdef double e
        cdef int64_t day, rule = 0
        if self.kill_rule != 0:
            return
        e = self.equity_now()
        if e != e:                       # NaN: no two-sided book yet, nothing to value
            return
        day = t // DAY_NS
        if day != self.ks_day:
            self.ks_day = day
            self.day_start = e
        if not (self.hwm >= e):
            self.hwm = e
        if self.ks_max_position >= 0 and (self.position > self.ks_max_position or
                                          -self.position > self.ks_max_position):
            rule = KS_MAX_POSITION
        elif self.ks_max_drawdown_pct >= 0 and self.over(self.hwm - e, self.ks_max_drawdown_pct * self.hwm,
                                                         fabs(self.hwm) + fabs(e), 0, e):
            rule = KS_DRAWDOWN
        elif self.ks_max_daily_loss >= 0 and self.over(self.day_start - e, self.ks_max_daily_loss,
                                                       fabs(self.day_start) + fabs(e) + self.ks_max_daily_loss, 1, e):
            rule = KS_DAILY_LOSS
        if rule == 0:
            return
        self.kill_rule = rule
        self.kill_ts = t
        self.kill_equity = e
        self.kill_all(t)

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

    cdef void kill_all(self, int64_t t) noexcept nogil:
        """Cancel every order not known done and flatten, sent at ``t``."""
        cdef int64_t i
        cdef Ord* o
        for i in range(self.orders.n):
            o = self.ordp(i)
            if (o.status == S_PENDING or o.status == S_OPEN) and o.cancel_ts < 0 and not (o.flags & O_MARKET):
                o.cancel_ts = t
                if self.push_req(t, Q_CANCEL, i, 0, 0) < 0:
                    return
        self.new_order(0, 0, 0, O_MARKET | O_FLATTEN, t)

    cdef int push_req(self, int64_t sent, int64_t kind, int64_t oi, int64_t price, int64_t qty) noexcept nogil:
        """Queue a request sent at ``sent``; it arrives after the entry latency (FIFO)."""
        cdef int64_t t = sent + lat_sample(&self.lat_entry, sent)
        cdef Req* r
        if t < self.last_req_t:
            t = self.last_req_t          # the order-entry channel is FIFO
        self.last_req_t = t
        r = <Req*>buf_push(&self.reqs)
        if r == NULL:
            self.oom = True
            return -1
        r.t, r.kind, r.oi, r.price, r.qty = t, kind, oi, price, qty
        return 0

    cdef int64_t new_order(self, int64_t side, int64_t price, int64_t qty, int64_t flags,
                           int64_t sent) noexcept nogil:
        """A new order sent at ``sent``; returns its slot, or -1 when out of memory."""
        cdef Ord* o = <Ord*>buf_push(&self.orders)
        if o == NULL:
            self.oom = True
            return -1
        o.id = self.orders.n
        o.side, o.price, o.qty, o.leaves, o.flags = side, price, qty, qty, flags
        o.status = S_PENDING
        o.local_status = S_PENDING
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
        if self.push_req(sent, Q_NEW, self.orders.n - 1, 0, 0) < 0:
            return -1
        return self.orders.n - 1

    cdef inline double mid_now(self) noexcept nogil:
        """Exchange mid; the last two-sided one while a side is empty; NaN
        before the book was ever two-sided."""
        if self.x_bid == 0 or self.x_ask == 0:
            if self.last_mid2 == 0:
                return NAN
            return 0.5 * self.last_mid2
        return 0.5 * (self.x_bid + self.x_ask)

    cdef int push_resp(self, int64_t t_exch, int64_t kind, int64_t oi, int64_t price,
                       int64_t qty, int64_t maker, int64_t fill) noexcept nogil:
        cdef int64_t t = t_exch + lat_sample(&self.lat_resp, t_exch)
        cdef Resp* r
        if t < self.last_resp_t:
            t = self.last_resp_t        # the response channel is FIFO
        self.last_resp_t = t
        r = <Resp*>buf_push(&self.resps)
        if r == NULL:
            self.oom = True
            return -1
        r.t, r.kind, r.oi, r.price, r.qty, r.maker, r.fill = t, kind, oi, price, qty, maker, fill
        return 0

    cdef void live_remove(self, int64_t oi) noexcept nogil:
        cdef int64_t j
        for j in range(self.n_live):
            if self.live[j] == oi:
                self.live[j] = self.live[self.n_live - 1]
                self.n_live -= 1
                return

    cdef int live_add(self, int64_t oi) noexcept nogil:
        cdef int64_t* a
        if self.n_live == self.cap_live:
            a = <int64_t*>realloc(self.live, 2 * self.cap_live * sizeof(int64_t))
            if a == NULL:
                self.oom = True
                return -1
            self.live = a
            self.cap_live *= 2
        self.live[self.n_live] = oi
        self.n_live += 1
        return 0

    cdef void do_fill(self, int64_t oi, int64_t price, int64_t qty, bint maker, int64_t t) noexcept nogil:
        cdef Ord* o = self.ordp(oi)
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
            o.status = S_FILLED
            o.done_ts = t
            self.live_remove(oi)
        f = <Fill*>buf_push(&self.fills)
        if f == NULL:
            self.oom = True
            return
        f.exch_ts, f.order_id, f.side, f.price, f.qty, f.maker = t, o.id, o.side, price, qty, maker
        f.fee, f.position, f.cash, f.mid = fee, self.position, self.cash, self.mid_now()
        self.push_resp(t, R_FILL, oi, price, qty, maker, self.fills.n - 1)
        f.local_ts = self.last_resp_t

    cdef void track_bbo(self, int64_t t) noexcept nogil:
        cdef int64_t b = side_best(&self.xb[0]), a = side_best(&self.xb[1])
        cdef Bbo* r
        if b != self.x_bid or a != self.x_ask:
            self.x_bid, self.x_ask = b, a
            if b != 0 and a != 0:
                self.last_mid2 = a + b
            r = <Bbo*>buf_push(&self.bbos)
            if r == NULL:
                self.oom = True
                return
            r.ts, r.bid, r.ask = t, b, a

    cdef void record(self, int64_t t) noexcept nogil:
        cdef Rec* r = <Rec*>buf_push(&self.recs)
        cdef double mid = self.mid_now()
        if r == NULL:
            self.oom = True
            return
        r.ts, r.bid, r.ask, r.mid = t, self.x_bid, self.x_ask, mid
        r.position, r.cash, r.fees, r.volume = self.position, self.cash, self.fees, self.volume
        r.equity = self.cash + (<double>self.position * mid * self.multiplier if self.position != 0 else 0.0)

    # ---------------------------------------------------------------- queue logic

    cdef void fill_through(self, int64_t passive_side, int64_t price, int64_t t, int64_t cap) noexcept nogil:
        """Orders on ``passive_side`` priced strictly better than ``price`` are
        filled (the aggressor reached ``price`` only after clearing them).
        ``cap`` < 0 fills the whole remaining quantity, else at most ``cap``."""
        cdef int64_t j = 0, oi, q
        cdef Ord* o
        while j < self.n_live:
            oi = self.live[j]
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

    cdef void trade_at(self, int64_t passive_side, int64_t price, int64_t q, int64_t rank,
                       bint l3, int64_t t) noexcept nogil:
        """A print of ``q`` at ``price`` against resting ``passive_side`` orders."""
        cdef int64_t j = 0, oi, fq
        cdef Ord* o
        self.fill_through(passive_side, price, t, -1)
        while j < self.n_live:
            oi = self.live[j]
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

    cdef void cross_check(self, int64_t side, int64_t price, int64_t q, int64_t t) noexcept nogil:
        """New liquidity on ``side`` at ``price`` that crosses our resting
        orders on the other side trades with them (at our price)."""
        if q > 0:
            self.fill_through(1 - side, price, t, q)
            self.fill_at_cross(1 - side, price, q, t)

    cdef void fill_at_cross(self, int64_t our_side, int64_t price, int64_t q, int64_t t) noexcept nogil:
        # equal price: a quote at our price on the other side also crosses
        cdef int64_t j = 0, oi, fq
        cdef Ord* o
        while j < self.n_live:
            oi = self.live[j]
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

    cdef void depth_change(self, int64_t side, int64_t price, int64_t old, int64_t new) noexcept nogil:
        """L2 level update at a price where we may rest: queue model step."""
        cdef int64_t j, d, a, b
        cdef double fa, fb, pa, x, dd
        cdef Ord* o
        for j in range(self.n_live):
            o = self.ordp(self.live[j])
            if o.side != side or o.price != price:
                continue
            d = old - new - o.trade_acc
            o.trade_acc = 0
            if d > 0 and self.queue_model != QM_RISK_AVERSE and o.ahead > 0:
                a = o.ahead
                b = old - a
                if b < 0:
                    b = 0
                if self.queue_model == QM_POWER:
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

    cdef void exch_row(self, int64_t k) noexcept nogil:
        cdef int64_t kind = self.rows[k].kind, s = self.rows[k].side, p = self.rows[k].price, q = self.rows[k].qty
        cdef int64_t t = self.rows[k].exch_ts, old, j, rk
        cdef Ord* o
        if s > 1:
            return          # only if the stream was changed after validation: never index out of bounds
        if kind == K_DEPTH:
            old = side_set(&self.xb[s], p, q)
            if old < 0:
                self.oom = True
                return
            if self.n_live:
                self.depth_change(s, p, old, q)
                if q > old:
                    self.cross_check(s, p, q - old, t)
        elif kind == K_TRADE:
            if self.n_live:
                if self.rows[k].flags & F_HIDDEN:
                    self.fill_through(1 - s, p, t, -1)
                else:
                    self.trade_at(1 - s, p, q, 0, False, t)
        elif kind == K_ADD:
            old = side_get(&self.xb[s], p)
            if side_set(&self.xb[s], p, old + q) < 0:
                self.oom = True
                return
            self.last_rank = self.rows[k].rank
            if self.n_live:
                self.cross_check(s, p, q, t)
        elif kind == K_CANCEL or kind == K_EXEC:
            old = side_get(&self.xb[s], p)
            side_set(&self.xb[s], p, old - q)
            rk = self.rows[k].rank
            if self.n_live:
                if kind == K_EXEC:
                    self.trade_at(s, p, q, rk, True, t)
                else:
                    for j in range(self.n_live):
                        o = self.ordp(self.live[j])
                        if o.side == s and o.price == p and rk < o.join_rank:
                            o.ahead = o.ahead - q if o.ahead > q else 0
        self.track_bbo(t)

    cdef void local_row(self, int64_t k) noexcept nogil:
        cdef int64_t kind = self.rows[k].kind, s = self.rows[k].side, p = self.rows[k].price, q = self.rows[k].qty
        cdef int64_t old
        if s > 1:
            return
        if kind == K_DEPTH:
            side_set(&self.lb[s], p, q)
        elif kind == K_ADD:
            old = side_get(&self.lb[s], p)
            side_set(&self.lb[s], p, old + q)
        elif kind == K_CANCEL or kind == K_EXEC:
            old = side_get(&self.lb[s], p)
            side_set(&self.lb[s], p, old - q)

    cdef void sweep(self, int64_t oi, int64_t limit, int64_t t) noexcept nogil:
        """Take visible opposite liquidity up to ``limit`` (0: no limit)."""
        cdef Ord* o = self.ordp(oi)
        cdef Side* opp = &self.xb[1 - o.side]
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

    cdef int64_t available(self, int64_t side, int64_t limit, int64_t need) noexcept nogil:
        """Whole lots of visible liquidity opposite ``side`` up to ``limit`` (0: any
        price), counted until ``need`` is reached."""
        cdef Side* opp = &self.xb[1 - side]
        cdef int64_t px = side_best(opp), tot = 0
        while px != 0 and tot < need:
            if limit != 0 and ((side == 0 and px > limit) or (side == 1 and px < limit)):
                break
            tot += self.floor_lots(side_get(opp, px))
            px = side_after(opp, px)
        return tot

    cdef void done(self, int64_t oi, int64_t status, int64_t t, int64_t kind) noexcept nogil:
        """End an order at the exchange (not live) and report it."""
        cdef Ord* o = self.ordp(oi)
        o.status = status
        o.done_ts = t
        self.push_resp(t, kind, oi, 0, o.leaves if kind == R_CANCELLED else 0, 0, -1)

    cdef void join(self, int64_t oi) noexcept nogil:
        """Rest at the back of the visible queue at the order's price."""
        cdef Ord* o = self.ordp(oi)
        o.ahead = side_get(&self.xb[o.side], o.price)
        o.ahead0 = o.ahead
        o.join_rank = self.last_rank + 1
        o.trade_acc = 0

    cdef inline bint crosses(self, int64_t side, int64_t price) noexcept nogil:
        cdef int64_t best = side_best(&self.xb[1 - side])
        return best != 0 and ((side == 0 and price >= best) or (side == 1 and price <= best))

    cdef void exch_request(self, Req* r) noexcept nogil:
        cdef Ord* o = self.ordp(r.oi)
        cdef int64_t t = r.t
        cdef bint crossing, keep
        if r.kind == Q_NEW:
            o.arrive_ts = t
            self.cash -= self.order_fee
            self.fees += self.order_fee
            o.fee += self.order_fee
            if o.flags & O_FLATTEN:
                # the kill switch's market order: the position at arrival
                o.side = 1 if self.position > 0 else 0
                o.qty = self.position if self.position > 0 else -self.position
                o.leaves = o.qty
                o.local_leaves = o.qty
                if o.qty == 0:
                    o.status = S_OPEN
                    self.push_resp(t, R_ACK, r.oi, 0, 0, 0, -1)
                    self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
                    return
            if o.flags & O_MARKET:
                o.status = S_OPEN
                self.push_resp(t, R_ACK, r.oi, 0, 0, 0, -1)
                if (o.flags & O_FOK) and self.available(o.side, 0, o.leaves) < o.leaves:
                    self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
                    return
                self.sweep(r.oi, 0, t)
                if o.leaves > 0:
                    self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
                return
            crossing = self.crosses(o.side, o.price)
            if crossing and (o.flags & O_POST_ONLY):
                self.done(r.oi, S_REJECTED, t, R_REJECTED)
                return
            o.status = S_OPEN
            self.push_resp(t, R_ACK, r.oi, 0, 0, 0, -1)
            if (o.flags & O_FOK) and (not crossing or self.available(o.side, o.price, o.leaves) < o.leaves):
                self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
                return
            if crossing:
                self.sweep(r.oi, o.price, t)
            if o.leaves == 0:
                return
            if crossing or (o.flags & O_IOC):
                self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
                return
            self.join(r.oi)
            self.live_add(r.oi)
        elif r.kind == Q_CANCEL:
            if o.status == S_OPEN:
                self.live_remove(r.oi)
                self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
            else:
                self.push_resp(t, R_CANCEL_REJECTED, r.oi, 0, 0, 0, -1)
        else:
            # modify: r.price / r.qty are the new price and open quantity
            if o.status != S_OPEN or (o.flags & (O_MARKET | O_IOC | O_FOK)):
                self.push_resp(t, R_MODIFY_REJECTED, r.oi, o.price, o.leaves, 0, -1)
                return
            crossing = r.price != o.price and self.crosses(o.side, r.price)
            if crossing and (o.flags & O_POST_ONLY):
                # a post-only order is never made to take: the modify is refused, the order stands
                self.push_resp(t, R_MODIFY_REJECTED, r.oi, o.price, o.leaves, 0, -1)
                return
            # keeps its place only when the price is unchanged and the quantity does not grow
            keep = r.price == o.price and r.qty <= o.leaves
            o.qty += r.qty - o.leaves
            o.leaves = r.qty
            o.price = r.price
            o.n_modifies += 1
            self.push_resp(t, R_MODIFIED, r.oi, r.price, r.qty, 0, -1)
            if keep:
                if o.ahead > side_get(&self.xb[o.side], o.price):
                    o.ahead = side_get(&self.xb[o.side], o.price)
                return
            if crossing:
                self.live_remove(r.oi)
                self.sweep(r.oi, o.price, t)
                if o.leaves > 0:
                    self.done(r.oi, S_CANCELLED, t, R_CANCELLED)
                return
            self.join(r.oi)

    cdef void local_response(self, Resp* r) noexcept nogil:
        cdef Ord* o = self.ordp(r.oi)
        cdef Fill* f
        cdef int64_t sgn
        if r.kind == R_ACK:
            if o.local_status == S_PENDING:
                o.local_status = S_OPEN
            o.ack_ts = r.t
        elif r.kind == R_FILL:
            f = (<Fill*>self.fills.data) + r.fill
            sgn = 1 if o.side == 0 else -1
            self.local_position += sgn * r.qty
            self.local_cash -= sgn * <double>r.price * <double>r.qty * self.multiplier + f.fee
            self.local_fees += f.fee
            self.local_volume += r.qty
            o.local_leaves -= r.qty
            if o.local_leaves == 0:
                o.local_status = S_FILLED
        elif r.kind == R_CANCELLED:
            o.local_status = S_CANCELLED
        elif r.kind == R_MODIFIED:
            o.local_leaves = r.qty
            o.local_price = r.price
        elif r.kind == R_REJECTED:
            o.local_status = S_REJECTED
            self.local_cash -= self.order_fee
            self.local_fees += self.order_fee
        if r.kind == R_ACK:
            self.local_cash -= self.order_fee
            self.local_fees += self.order_fee

    # ---------------------------------------------------------------- Python-facing commands

    def submit(self, int64_t side, int64_t price, int64_t qty, int64_t flags):
        """Queue a new order sent at local time ``now``; returns its id."""
        self._claim()
        self.busy = True
        try:
            return self._submit(side, price, qty, flags)
        finally:
            self.busy = False

    cdef object _submit(self, int64_t side, int64_t price, int64_t qty, int64_t flags):
        if self.new_order(side, price, qty, flags, self.now) < 0:
            raise MemoryError("simulator buffers could not grow")
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
        cdef Ord* o = self.ordp(order_id - 1)
        if o.local_status != S_PENDING and o.local_status != S_OPEN:
            return False
        if o.cancel_ts >= 0:
            return False
        o.cancel_ts = self.now
        if self.push_req(self.now, Q_CANCEL, order_id - 1, 0, 0) < 0:
            raise MemoryError("simulator buffers could not grow")
        return True

    def modify(self, int64_t order_id, int64_t price, int64_t qty):
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

    cdef object _modify(self, int64_t order_id, int64_t price, int64_t qty):
        cdef Ord* o = self.ordp(order_id - 1)
        if o.local_status != S_PENDING and o.local_status != S_OPEN:
            return False
        if o.cancel_ts >= 0:
            return False
        if self.push_req(self.now, Q_MODIFY, order_id - 1, price, qty) < 0:
            raise MemoryError("simulator buffers could not grow")
        return True

    # ---------------------------------------------------------------- the loop

    cdef int run(self) noexcept nogil:
        cdef int64_t te, tr, tp, tl, tt, t, k
        cdef int64_t lb0, la0
        cdef Req* rq
        cdef Resp* rs
        cdef int code
        while True:
            if self.oom:
                return -1
            if self.book_dirty and (self.il >= self.nl or self.rows[self.li[self.il]].local_ts > self.now):
                # every local row of this timestamp is applied: one decision per update
                self.book_dirty = False
                lb0 = side_best(&self.lb[0])
                la0 = side_best(&self.lb[1])
                if self.want_depth or lb0 != self.l_bid or la0 != self.l_ask:
                    self.l_bid, self.l_ask = lb0, la0
                    return D_BOOK
            te = self.rows[self.xi[self.ix]].exch_ts if self.ix < self.nx else INT64_MAX
            tr = (<Req*>self.reqs.data)[self.rq_head].t if self.rq_head < self.reqs.n else INT64_MAX
            tp = (<Resp*>self.resps.data)[self.rs_head].t if self.rs_head < self.resps.n else INT64_MAX
            tl = self.rows[self.li[self.il]].local_ts if self.il < self.nl else INT64_MAX
            tt = self.next_timer if (self.ix < self.nx or self.il < self.nl) else INT64_MAX
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
                return D_END
            if t > self.until:
                return D_PAUSE
            while self.next_record <= t:
                self.record(self.next_record)
                self.next_record += self.record_interval
            if t > self.now:
                self.now = t
            if te == t:
                k = self.xi[self.ix]
                self.ix += 1
                self.n_exch_done += 1
                self.exch_row(k)
                if self.ks_enabled:
                    self.risk_check(t)
                if self.n_exch_done >= self.next_progress:
                    self.next_progress += self.progress_every
                    return D_PROGRESS
            elif tr == t:
                rq = (<Req*>self.reqs.data) + self.rq_head
                self.rq_head += 1
                self.exch_request(rq)
                if self.ks_enabled:
                    self.risk_check(t)
            elif tp == t:
                rs = (<Resp*>self.resps.data) + self.rs_head
                self.rs_head += 1
                self.local_response(rs)
                self.cur_resp = self.rs_head - 1
                if rs.kind == R_FILL:
                    if self.want_fill:
                        return D_FILL
                elif self.want_order:
                    return D_ORDER
            elif tl == t:
                k = self.li[self.il]
                self.il += 1
                self.n_local_done += 1
                self.cur_row = k
                self.last_tick_exch = self.rows[k].exch_ts
                code = self.rows[k].kind
                if code == K_TRADE or code == K_EXEC:
                    self.local_row(k)
                    if self.want_trade:
                        return D_TRADE
                else:
                    self.local_row(k)
                    if self.want_book:
                        self.book_dirty = True
            else:
                self.next_timer += self.timer_interval
                if self.want_timer:
                    return D_TIMER

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
        if self.ix < self.nx:
            t = self.rows[self.xi[self.ix]].exch_ts
        if self.rq_head < self.reqs.n:
            x = (<Req*>self.reqs.data)[self.rq_head].t
            t = x if x < t else t
        if self.rs_head < self.resps.n:
            x = (<Resp*>self.resps.data)[self.rs_head].t
            t = x if x < t else t
        if self.il < self.nl:
            x = self.rows[self.li[self.il]].local_ts
            t = x if x < t else t
        if (self.ix < self.nx or self.il < self.nl) and self.next_timer < t:
            t = self.next_timer
        return None if t == INT64_MAX else t

    def advance(self):
        """Run until the next decision point; returns its code (0 at the end)."""
        cdef int code
        self._claim()
        self.busy = True
        with nogil:
            code = self.run()
        self.busy = False
        if code < 0:
            raise MemoryError("simulator buffers could not grow")
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
        cdef int64_t b = side_best(&self.lb[0]), a = side_best(&self.lb[1])
        return (b, side_get(&self.lb[0], b) if b else 0, a, side_get(&self.lb[1], a) if a else 0)

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
        cdef Side* sd
        for s in range(2):
            sd = &self.lb[s]
            j = 0
            px = side_best(sd)
            while px != 0 and j < n:
                v[2 * s, j] = px
                v[2 * s + 1, j] = side_get(sd, px)
                j += 1
                px = side_after(sd, px)
        return out

    def exch_level(self, int64_t side, int64_t price):
        """Visible quantity at a price of the exchange-side book."""
        self._claim()
        self.busy = True
        try:
            return self._exch_level(side, price)
        finally:
            self.busy = False

    cdef object _exch_level(self, int64_t side, int64_t price):
        return side_get(&self.xb[side], price)

    def order_row(self, int64_t order_id):
        self._claim()
        self.busy = True
        try:
            return self._order_row(order_id)
        finally:
            self.busy = False

    cdef object _order_row(self, int64_t order_id):
        cdef Ord* o = self.ordp(order_id - 1)
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
        cdef Ord* o
        out = []
        for i in range(self.orders.n):
            o = self.ordp(i)
            if o.local_status == S_PENDING or o.local_status == S_OPEN:
                out.append(o.id)
        return out

    def response(self, int64_t i):
        self._claim()
        self.busy = True
        try:
            return self._response(i)
        finally:
            self.busy = False

    cdef object _response(self, int64_t i):
        cdef Resp* r = (<Resp*>self.resps.data) + i
        return (r.t, r.kind, (<Ord*>self.orders.data)[r.oi].id, r.price, r.qty, r.maker, r.fill)

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
        return self.ix >= self.nx and self.il >= self.nl

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
    cdef Lat l
    cdef const int64_t[::1] ets
    cdef const int64_t[::1] evl
    cdef int64_t n = exch_ts.shape[0], i
    out = np.empty(n, np.int64)
    cdef int64_t[::1] v = out
    lat_from(&l, model)
    if l.kind == L_SERIES:
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

    Returns ``(ok, xi, li, price_lo, price_hi, t_start, first_exch, last_exch)``:
    ``ok`` False means some row breaks a rule (``validate_stream`` then
    names it); ``xi`` / ``li`` index the EXCH / LOCAL rows; the price range
    covers every row; ``t_start`` is the smallest timestamp of either clock.
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
        return True, xi, li, 0, -1, 0, None, None
    raw = md.view(np.uint8)
    r = <const MdRow*>&raw[0]
    with nogil:
        for i in range(n):
            row = r + i
            if row.kind < K_DEPTH or row.kind > K_EXEC or row.side > 1 or (row.flags & 3) == 0 \
                    or row.flags > 7 or row.price <= 0 or row.qty < 0 or (row.qty == 0 and row.kind != K_DEPTH):
                ok = False
                break
            if (row.flags & 3) == 3 and row.local_ts < row.exch_ts:
                ok = False
                break
            if row.flags & F_EXCH:
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
            if row.flags & F_LOCAL:
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
        return False, None, None, 0, -1, 0, None, None
    return (True, xi[:nx].copy() if nx < n else xi, li[:nl].copy() if nl < n else li, plo, phi, tmin,
            emin if nx else None, emax if nx else None)
