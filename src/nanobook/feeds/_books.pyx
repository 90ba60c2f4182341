# cython: language_level=3
"""Book replicas keyed by the venue's own order reference.

* ``Ladder`` (``nanobook/_ladder.pxd``, shared with the simulator): the
  price levels of one side, a sorted array of (key, qty, count) with the best
  level last (key = price for bids, -price for asks), so the touch, where
  almost all activity is, costs a short memmove.
* ``OrderMap``: open-addressing hash (linear probing, backward-shift delete,
  16-byte slots, power-of-two size) from a 64-bit order reference to an
  entry (book, side, price, qty) in a slab reused last-freed-first.  The
  ITCH replay prefetches the slot of the message 16 ahead, sizes the table
  once per buffer, and allocates it as transparent huge pages.
* ``ItchBookCore``: replays ITCH 5.0 bytes into one book per stock locate.
* ``L2Book`` / ``OrderBook``: the same structures driven from Python for
  price-level (MDP3 MBP, Binance, Kraken) and order-level (LOBSTER) feeds.
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memcpy, memset

from nanobook._types cimport price_t, sqty_t, ts_t
from nanobook._buffer cimport Buf, buf_init, buf_push, buf_free
from nanobook._ladder cimport (
    Ladder, BID_SIGN, ASK_SIGN, lad_init, lad_free, lad_find, lad_get, lad_price, lad_levels,
    lad_insert_at, lad_remove_at, lad_keep_best,
)
from nanobook._claim cimport Claim, claim, release

import numpy as np
cimport numpy as cnp

cnp.import_array()

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    static inline uint16_t bk_be16(const uint8_t* p) { return (uint16_t)(((uint16_t)p[0] << 8) | p[1]); }
    static inline uint32_t bk_be32(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
    static inline uint64_t bk_be64(const uint8_t* p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }
    static inline uint64_t bk_be48(const uint8_t* p) { return ((uint64_t)bk_be16(p) << 32) | bk_be32(p + 2); }
    """
    uint16_t bk_be16(const uint8_t* p) noexcept nogil
    uint32_t bk_be32(const uint8_t* p) noexcept nogil
    uint64_t bk_be64(const uint8_t* p) noexcept nogil
    uint64_t bk_be48(const uint8_t* p) noexcept nogil

cdef extern from *:
    """
    #include <stdlib.h>
    #include <sys/mman.h>
    /* Zeroed table of nbytes.  Large tables are 2 MiB aligned and advised as
       transparent huge pages: a random probe into tens of MB then costs no
       page fault per 4 KiB page and far fewer TLB misses. */
    static void* bk_table_alloc(size_t nbytes) {
        void* p = NULL;
        if (nbytes < ((size_t)2 << 20)) return calloc(1, nbytes);
        if (posix_memalign(&p, (size_t)2 << 20, nbytes) != 0) return NULL;
    #ifdef MADV_HUGEPAGE
        madvise(p, nbytes, MADV_HUGEPAGE);
    #endif
        memset(p, 0, nbytes);
        return p;
    }
    #define bk_prefetch(p) __builtin_prefetch((const void*)(p), 1, 3)
    """
    void bk_prefetch(const void* p) noexcept nogil
    void* bk_table_alloc(size_t nbytes) noexcept nogil

# ------------------------------------------------------------------ one side
# A side is a shared Ladder (nanobook/_ladder.pxd) with order counts; the feed
# books drop a level as soon as its quantity or count reaches 0.

cdef inline int side_init(Ladder* s, int64_t sign) except -1 nogil:
    return lad_init(s, sign, 16, True)


cdef int side_add(Ladder* s, price_t price, sqty_t dq, int64_t dc) except -1 nogil:
    """Add (dq, dc) to the level at price; drop the level when its count hits 0."""
    cdef price_t k = s.sign * price
    cdef int64_t i = lad_find(s, k)
    if i < s.n and s.key[i] == k:
        s.qty[i] += dq
        s.cnt[i] += dc
        if s.cnt[i] <= 0 or s.qty[i] <= 0:
            lad_remove_at(s, i)
    elif dq > 0:
        lad_insert_at(s, i, k, dq, dc)
    return 0


cdef int side_set(Ladder* s, price_t price, sqty_t q, int64_t c) except -1 nogil:
    """Set the level at price to q (removing it when q <= 0)."""
    cdef price_t k = s.sign * price
    cdef int64_t i = lad_find(s, k)
    if i < s.n and s.key[i] == k:
        if q <= 0:
            lad_remove_at(s, i)
        else:
            s.qty[i] = q
            s.cnt[i] = c
    elif q > 0:
        lad_insert_at(s, i, k, q, c)
    return 0

# ------------------------------------------------------------------ order map

cdef struct Order:
    uint64_t ref      # the venue's order reference
    price_t price
    sqty_t qty        # open quantity; next free entry while on the free list
    uint32_t book
    uint8_t side      # 0 bid, 1 ask
    uint8_t used      # live


cdef struct Slot:
    uint64_t ref
    uint32_t idx      # 1 + index of the order in the slab; 0 = empty slot
    uint32_t _pad


cdef struct OrderMap:
    # Hash index: 16-byte slots, open addressing with linear probing and
    # backward-shift deletion, power-of-two size, load <= 1/2.  The orders
    # themselves live in a slab reused last-freed-first, so a new order
    # usually lands in a cache line that was just freed, and the index
    # (the part probed at random) is half the size it would be with the
    # orders inline.
    Slot* slots
    uint64_t mask
    int64_t n
    Order* slab
    int64_t slab_n
    int64_t slab_cap
    int64_t free_head


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    x ^= x >> 33
    x *= 0xff51afd7ed558ccdULL
    x ^= x >> 33
    x *= 0xc4ceb9fe1a85ec53ULL
    x ^= x >> 33
    return x


cdef int om_init(OrderMap* m, uint64_t cap) except -1 nogil:
    cdef uint64_t c = 1024
    while c < cap:
        c <<= 1
    m.slots = <Slot*>bk_table_alloc(c * sizeof(Slot))
    m.slab = <Order*>malloc(1024 * sizeof(Order))
    if m.slots == NULL or m.slab == NULL:
        with gil:
            raise MemoryError()
    m.mask = c - 1
    m.n = 0
    m.slab_n = 0
    m.slab_cap = 1024
    m.free_head = -1
    return 0


cdef void om_free(OrderMap* m) noexcept nogil:
    free(m.slots)
    free(m.slab)
    m.slots = NULL
    m.slab = NULL


cdef inline Order* om_find(const OrderMap* m, uint64_t ref) noexcept nogil:
    cdef uint64_t i = mix64(ref) & m.mask
    while m.slots[i].idx:
        if m.slots[i].ref == ref:
            return &m.slab[m.slots[i].idx - 1]
        i = (i + 1) & m.mask
    return NULL


cdef int om_resize(OrderMap* m, uint64_t newcap) except -1 nogil:
    """Rehash into newcap slots (a power of two larger than the current one)."""
    cdef Slot* old = m.slots
    cdef uint64_t oldcap = m.mask + 1, i, j
    m.slots = <Slot*>bk_table_alloc(newcap * sizeof(Slot))
    if m.slots == NULL:
        m.slots = old
        with gil:
            raise MemoryError()
    m.mask = newcap - 1
    for i in range(oldcap):
        if old[i].idx:
            j = mix64(old[i].ref) & m.mask
            while m.slots[j].idx:
                j = (j + 1) & m.mask
            m.slots[j] = old[i]
    free(old)
    return 0


cdef inline int om_grow(OrderMap* m) except -1 nogil:
    return om_resize(m, (m.mask + 1) * 2)


cdef int om_reserve(OrderMap* m, int64_t need) except -1 nogil:
    """Size the index once for ``need`` live orders (load <= 1/2), instead of
    doubling (and rehashing everything) several times on the way."""
    cdef uint64_t c = m.mask + 1
    while need * 2 > <int64_t>c:
        c <<= 1
    if c > m.mask + 1:
        om_resize(m, c)
    return 0


cdef Order* om_insert(OrderMap* m, uint64_t ref) except NULL nogil:
    """Order for ref (the existing one if present).  Invalidates earlier
    Order pointers when the slab grows."""
    if (m.n + 1) * 2 > <int64_t>(m.mask + 1):
        om_grow(m)
    cdef uint64_t i = mix64(ref) & m.mask
    cdef int64_t e, cap
    cdef Order* a
    while m.slots[i].idx:
        if m.slots[i].ref == ref:
            return &m.slab[m.slots[i].idx - 1]
        i = (i + 1) & m.mask
    if m.free_head >= 0:
        e = m.free_head
        m.free_head = m.slab[e].qty
    else:
        if m.slab_n == m.slab_cap:
            if m.slab_cap >= <int64_t>0x7FFFFFFF:
                with gil:
                    raise MemoryError("more than 2**31 live orders")
            cap = m.slab_cap * 2
            a = <Order*>realloc(m.slab, cap * sizeof(Order))
            if a == NULL:
                with gil:
                    raise MemoryError()
            m.slab = a
            m.slab_cap = cap
        e = m.slab_n
        m.slab_n += 1
    m.slots[i].ref = ref
    m.slots[i].idx = <uint32_t>(e + 1)
    m.slab[e].ref = ref
    m.slab[e].used = 1
    m.n += 1
    return &m.slab[e]


cdef void om_erase(OrderMap* m, Order* o) noexcept nogil:
    """Remove o: free its slab entry, and empty its index slot, shifting later
    entries of the probe run back (no tombstones)."""
    cdef uint32_t e1 = <uint32_t>(o - m.slab) + 1
    cdef uint64_t i = mix64(o.ref) & m.mask
    cdef uint64_t j, k
    while m.slots[i].idx != e1:
        i = (i + 1) & m.mask
    o.used = 0
    o.qty = m.free_head
    m.free_head = e1 - 1
    m.slots[i].idx = 0
    m.n -= 1
    j = i
    while True:
        j = (j + 1) & m.mask
        if not m.slots[j].idx:
            return
        k = mix64(m.slots[j].ref) & m.mask
        # move j to i if its home k is not cyclically within (i, j]
        if (j > i and (k <= i or k > j)) or (j < i and (k <= i and k > j)):
            m.slots[i] = m.slots[j]
            m.slots[j].idx = 0
            i = j

# ------------------------------------------------------------------ records out

cdef object buf_array(Buf* b, object dtype):
    """A numpy copy of the records of ``b`` (``dtype`` matches their layout);
    C calls only (``ndarray.ctypes`` is numpy Python code)."""
    cdef cnp.ndarray a = np.empty(b.n, dtype=dtype)
    if b.n:
        memcpy(cnp.PyArray_DATA(a), b.data, b.n * b.itemsize)
    return a

# ------------------------------------------------------------------ ITCH book

TRADE_DTYPE = np.dtype([
    ("index", "u8"), ("timestamp", "u8"), ("match_number", "u8"), ("price", "i8"),
    ("shares", "i8"), ("stock_locate", "u2"), ("kind", "S1"), ("side", "S1"),
    ("printable", "S1"),
], align=True)

cdef packed struct TradeRec:
    # one row of TRADE_DTYPE
    uint64_t index          # message number in the stream
    ts_t timestamp          # ITCH timestamp: ns since midnight
    uint64_t match_number
    price_t price           # raw ITCH price (1e-4 dollars)
    sqty_t shares
    uint16_t stock_locate
    char kind
    char side
    char printable
    uint8_t _pad[3]

assert TRADE_DTYPE.itemsize == sizeof(TradeRec)

DEF MAXBOOKS = 65536
DEF PF_AHEAD = 16
# feed() reserves order-map room for the adds of its buffer, up to this many
# orders (a 64 MiB table); past it the table doubles as it fills
DEF RESERVE_MAX = 1 << 20

# ITCH framing status codes
DEF IB_OK = 0
DEF IB_ZERO = 1
DEF IB_SHORT = 2
DEF IB_TRUNC = 3

cdef inline Ladder* _pick(Ladder* bid, Ladder* ask, int side) except NULL:
    """The side named by ``side`` (0 bid, 1 ask); anything else is a ValueError
    (it was silently read as the ask side)."""
    if side == 0:
        return bid
    if side == 1:
        return ask
    raise ValueError(f"side must be 0 (bid) or 1 (ask), got {side}")


cdef inline int _non_negative(int64_t v, str name) except -1:
    if v < 0:
        raise ValueError(f"{name} must be non-negative, got {v}")
    return 0


cdef int _check_loc(int loc) except -1:
    if loc < 0 or loc >= MAXBOOKS:
        raise ValueError(f"stock_locate must be in [0, 65535], got {loc}")
    return 0


cdef class ItchBookCore:
    """Order-level replica of every ITCH stock, fed raw BinaryFILE bytes.

    Prices are raw ITCH integers (1e-4 dollars); quantities are shares.
    """
    cdef Ladder* bids[MAXBOOKS]        # per stock locate, NULL until its first order
    cdef Ladder* asks[MAXBOOKS]
    cdef uint8_t wanted[MAXBOOKS]
    cdef char symbol[MAXBOOKS][8]
    cdef char state[MAXBOOKS]
    cdef OrderMap orders
    cdef Buf trades                    # TradeRec
    cdef Buf snaps                     # snapshot records of snap_size bytes
    cdef readonly int64_t depth        # levels per side of a snapshot record (fixes its size: never reassigned)
    cdef readonly bint record_trades   # keep trade prints (E, C, P, Q messages) for trades_array()
    cdef readonly bint record_snapshots    # one snapshot record per book change
    cdef readonly bint lenient         # a zero message length is taken from the message type
    cdef bint all_wanted
    cdef int64_t n_messages
    cdef int64_t unknown_refs
    cdef int64_t offset
    cdef set _want_syms
    cdef int64_t snap_size
    cdef bytes tail                    # an incomplete last message, kept for the next feed
    cdef Claim guard                   # thread claim of every public method (_claim.pxd)

    def __cinit__(self):
        memset(self.bids, 0, sizeof(self.bids))
        memset(self.asks, 0, sizeof(self.asks))
        memset(self.wanted, 0, sizeof(self.wanted))
        memset(self.symbol, 0, sizeof(self.symbol))
        memset(self.state, 0, sizeof(self.state))
        om_init(&self.orders, 1 << 16)
        buf_init(&self.trades, sizeof(TradeRec))
        buf_init(&self.snaps, 8)

    def __init__(self, int64_t depth=1, symbols=None, bint record_trades=True,
                 bint record_snapshots=False, bint lenient=False):
        if self.snap_size:
            raise RuntimeError("ItchBook: __init__ may run only once")
        if depth < 1:
            raise ValueError(f"depth must be positive, got {depth}")
        self.tail = b""
        self.depth = depth
        self.record_trades = record_trades
        self.record_snapshots = record_snapshots
        self.lenient = lenient
        self.all_wanted = symbols is None
        self._want_syms = set() if symbols is None else {s.encode().ljust(8) for s in symbols}
        if self.all_wanted:
            memset(self.wanted, 1, sizeof(self.wanted))
        # snapshot record: index, timestamp, locate(+pad) then 4*depth int64
        self.snap_size = 24 + 32 * depth
        buf_init(&self.snaps, self.snap_size)
        self.n_messages = 0
        self.unknown_refs = 0
        self.offset = 0

    def __dealloc__(self):
        cdef int i
        for i in range(MAXBOOKS):
            if self.bids[i] != NULL:
                lad_free(self.bids[i])
                free(self.bids[i])
            if self.asks[i] != NULL:
                lad_free(self.asks[i])
                free(self.asks[i])
        om_free(&self.orders)
        buf_free(&self.trades)
        buf_free(&self.snaps)

    cdef int _ensure(self, uint16_t loc) except -1 nogil:
        if self.bids[loc] == NULL:
            self.bids[loc] = <Ladder*>malloc(sizeof(Ladder))
            self.asks[loc] = <Ladder*>malloc(sizeof(Ladder))
            if self.bids[loc] == NULL or self.asks[loc] == NULL:
                with gil:
                    raise MemoryError()
            side_init(self.bids[loc], BID_SIGN)
            side_init(self.asks[loc], ASK_SIGN)
        return 0

    cdef int _trade(self, uint64_t idx, ts_t ts, uint64_t match, price_t px, sqty_t sh,
                    uint16_t loc, char kind, char side, char printable) except -1 nogil:
        if not self.record_trades:
            return 0
        cdef TradeRec* t = <TradeRec*>buf_push(&self.trades)
        t.index = idx
        t.timestamp = ts
        t.match_number = match
        t.price = px
        t.shares = sh
        t.stock_locate = loc
        t.kind = kind
        t.side = side
        t.printable = printable
        return 0

    cdef int _snap(self, uint64_t idx, ts_t ts, uint16_t loc) except -1 nogil:
        cdef uint8_t* r = <uint8_t*>buf_push(&self.snaps)
        cdef int64_t* v = <int64_t*>(r + 24)
        cdef int64_t d = self.depth
        (<uint64_t*>r)[0] = idx
        (<uint64_t*>r)[1] = ts
        (<uint64_t*>r)[2] = loc
        lad_levels(self.bids[loc], d, v, v + d, NULL)
        lad_levels(self.asks[loc], d, v + 2 * d, v + 3 * d, NULL)
        return 0

    cdef inline int64_t _prefetch(self, const uint8_t* buf, int64_t n, int64_t p) noexcept nogil:
        """Prefetch the map slot(s) of the message at p; return the next message's offset."""
        cdef int64_t L
        cdef uint8_t t
        if p + 3 > n:
            return n
        L = bk_be16(buf + p)
        t = buf[p + 2]
        if L == 0:
            L = _wire_len(t)
            if L == 0:
                return n
        if p + 2 + L > n:
            return n
        if (t == 65 or t == 70 or t == 69 or t == 67 or t == 88 or t == 68 or t == 85) and L >= 19:
            bk_prefetch(&self.orders.slots[mix64(bk_be64(buf + p + 13)) & self.orders.mask])
            if t == 85 and L >= 27:
                bk_prefetch(&self.orders.slots[mix64(bk_be64(buf + p + 21)) & self.orders.mask])
        return p + 2 + L

    cdef int64_t _run(self, const uint8_t* buf, int64_t n, bint final, int64_t* err) except -2 nogil:
        """Apply every complete message in buf; return bytes consumed."""
        cdef int64_t pos = 0, L, q
        cdef uint8_t t
        cdef const uint8_t* m
        cdef uint16_t loc
        cdef uint64_t ts, ref, idx
        cdef Order* o
        cdef Order* o2
        cdef Ladder* sd
        cdef price_t px
        cdef sqty_t sh
        cdef int64_t need
        cdef uint8_t side
        cdef bint changed
        # Look-ahead cursor: PF_AHEAD messages in front of pos, it prefetches the
        # order-map slot of each order reference it passes, so the cache miss of
        # a lookup in a table of tens of MB overlaps the work on earlier messages.
        cdef int64_t pf = pos, k
        for k in range(PF_AHEAD):
            pf = self._prefetch(buf, n, pf)
        while pos + 2 <= n:
            if pf < pos:
                pf = pos
            pf = self._prefetch(buf, n, pf)
            L = bk_be16(buf + pos)
            if L == 0:
                if not self.lenient or pos + 3 > n:
                    if not self.lenient:
                        err[0] = IB_ZERO
                        err[1] = pos
                        return pos
                    break
                t = buf[pos + 2]
                L = _wire_len(t)
                if L == 0:
                    err[0] = IB_ZERO
                    err[1] = pos
                    return pos
            if pos + 2 + L > n:
                break
            m = buf + pos + 2
            t = m[0]
            need = _itch_len(t)
            idx = self.n_messages
            self.n_messages += 1
            pos += 2 + L
            if need == 0:
                continue     # types the book does not use are skipped
            if L < need:
                err[0] = IB_SHORT
                err[1] = pos - 2 - L
                err[2] = t
                err[3] = L
                err[4] = need
                return pos - 2 - L
            loc = bk_be16(m + 1)
            ts = bk_be48(m + 5)
            changed = False
            if t == 82:      # R stock directory
                memcpy(self.symbol[loc], m + 11, 8)
                if not self.all_wanted:
                    with gil:
                        self.wanted[loc] = (bytes(m[11:19]) in self._want_syms)
                continue
            if t == 72:      # H trading action
                self.state[loc] = m[19]
                continue
            if not self.wanted[loc]:
                continue
            if t == 65 or t == 70:   # A / F add
                ref = bk_be64(m + 11)
                side = 0 if m[19] == 66 else 1
                sh = bk_be32(m + 20)
                px = bk_be32(m + 32)
                self._ensure(loc)
                o = om_insert(&self.orders, ref)
                o.price = px
                o.qty = sh
                o.book = loc
                o.side = side
                side_add(self.bids[loc] if side == 0 else self.asks[loc], px, sh, 1)
                changed = True
            elif t == 69 or t == 67 or t == 88 or t == 68:   # E C X D
                ref = bk_be64(m + 11)
                o = om_find(&self.orders, ref)
                if o == NULL:
                    self.unknown_refs += 1
                    if t == 67 and m[31] == 89:
                        self._trade(idx, ts, bk_be64(m + 23), bk_be32(m + 32), bk_be32(m + 19),
                                    loc, 67, 32, 89)
                    continue
                loc = o.book
                sd = self.bids[loc] if o.side == 0 else self.asks[loc]
                if t == 68:
                    q = o.qty
                else:
                    q = bk_be32(m + 19)
                    if q > o.qty:
                        q = o.qty
                if t == 69:
                    self._trade(idx, ts, bk_be64(m + 23), o.price, q, loc, 69,
                                66 if o.side == 0 else 83, 89)
                elif t == 67:
                    self._trade(idx, ts, bk_be64(m + 23), bk_be32(m + 32), q, loc, 67,
                                66 if o.side == 0 else 83, m[31])
                o.qty -= q
                if o.qty <= 0:
                    side_add(sd, o.price, -q, -1)
                    om_erase(&self.orders, o)
                else:
                    side_add(sd, o.price, -q, 0)
                changed = True
            elif t == 85:    # U replace
                ref = bk_be64(m + 11)
                o = om_find(&self.orders, ref)
                if o == NULL:
                    self.unknown_refs += 1
                    continue
                loc = o.book
                side = o.side
                sd = self.bids[loc] if side == 0 else self.asks[loc]
                side_add(sd, o.price, -o.qty, -1)
                om_erase(&self.orders, o)
                px = bk_be32(m + 31)
                sh = bk_be32(m + 27)
                o2 = om_insert(&self.orders, bk_be64(m + 19))
                o2.price = px
                o2.qty = sh
                o2.book = loc
                o2.side = side
                side_add(sd, px, sh, 1)
                changed = True
            elif t == 80:    # P non-displayed trade
                self._trade(idx, ts, bk_be64(m + 36), bk_be32(m + 32), bk_be32(m + 20), loc,
                            80, m[19], 89)
            elif t == 81:    # Q cross trade
                self._trade(idx, ts, bk_be64(m + 31), bk_be32(m + 27), <int64_t>bk_be64(m + 11),
                            loc, 81, 32, 89)
            if changed and self.record_snapshots:
                self._snap(idx, ts, loc)
        return pos

    def feed(self, data, bint final=False):
        """Apply the complete messages of the kept tail followed by ``data``;
        keep an incomplete last message for the next call.  Returns the bytes
        consumed.  Claims the book (a feed on another thread meanwhile, or
        any query, raises RuntimeError) and releases the GIL while it runs.
        """
        claim(&self.guard, "ItchBook", b"feed", True)
        try:
            buf = self.tail + bytes(data) if self.tail else data
            used = self._feed(buf, final)
            self.tail = bytes(memoryview(buf)[used:])
            return used
        finally:
            release(&self.guard, True)

    cdef int64_t _feed(self, buf, bint final) except -1:
        cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
        cdef int64_t n = mv.shape[0]
        cdef int64_t err[5]
        cdef int64_t used = 0
        memset(err, 0, sizeof(err))
        if n:
            with nogil:
                om_reserve(&self.orders, min(self.orders.n + _count_adds(&mv[0], n),
                                             RESERVE_MAX))
                used = self._run(&mv[0], n, final, err)
        if err[0]:
            from ._errors import FeedFormatError
            off = self.offset + err[1]
            self.offset += used
            if err[0] == IB_ZERO:
                raise FeedFormatError("ITCH message length is 0; pass lenient=True to take "
                                      "each length from the message type", off)
            raise FeedFormatError("ITCH %r message has length %d, the specification says %d"
                                  % (chr(err[2]), err[3], err[4]), off)
        self.offset += used
        return used

    def close(self):
        """End of the stream: drop the kept tail; return ``(its length, offset)``."""
        claim(&self.guard, "ItchBook", b"close", True)
        try:
            n = len(self.tail)
            self.tail = b""
            return n, self.offset
        finally:
            release(&self.guard, True)

    # ---------------------------------------------------------------- queries
    # Each claims the book for reading (queries share it; a feed excludes
    # them) and runs its body, a cdef method, under the claim.

    def counters(self):
        """``(n_messages, unknown_refs, offset)``."""
        claim(&self.guard, "ItchBook", b"counters", False)
        try:
            return self.n_messages, self.unknown_refs, self.offset
        finally:
            release(&self.guard, False)

    def trades_array(self):
        claim(&self.guard, "ItchBook", b"trades_array", False)
        try:
            return self._trades_array()
        finally:
            release(&self.guard, False)

    cdef object _trades_array(self):
        return buf_array(&self.trades, TRADE_DTYPE)

    def snapshots_array(self):
        claim(&self.guard, "ItchBook", b"snapshots_array", False)
        try:
            return self._snapshots_array()
        finally:
            release(&self.guard, False)

    cdef object _snapshots_array(self):
        d = self.depth
        dt = np.dtype([("index", "u8"), ("timestamp", "u8"), ("stock_locate", "u8"),
                       ("bid_px", "i8", (d,)), ("bid_qty", "i8", (d,)),
                       ("ask_px", "i8", (d,)), ("ask_qty", "i8", (d,))])
        assert dt.itemsize == self.snap_size
        return buf_array(&self.snaps, dt)

    def levels(self, int loc, int64_t depth):
        """(bid_px, bid_qty, bid_count, ask_px, ask_qty, ask_count) of book loc."""
        claim(&self.guard, "ItchBook", b"levels", False)
        try:
            return self._levels(loc, depth)
        finally:
            release(&self.guard, False)

    cdef object _levels(self, int loc, int64_t depth):
        _check_loc(loc)
        _non_negative(depth, "depth")
        out = np.zeros((6, depth), np.int64)
        cdef int64_t[:, ::1] v = out
        if self.bids[loc] != NULL and depth > 0:
            lad_levels(self.bids[loc], depth, &v[0, 0], &v[1, 0], &v[2, 0])
            lad_levels(self.asks[loc], depth, &v[3, 0], &v[4, 0], &v[5, 0])
        return out

    def n_levels(self, int loc):
        claim(&self.guard, "ItchBook", b"n_levels", False)
        try:
            return self._n_levels(loc)
        finally:
            release(&self.guard, False)

    cdef object _n_levels(self, int loc):
        _check_loc(loc)
        if self.bids[loc] == NULL:
            return (0, 0)
        return (self.bids[loc].n, self.asks[loc].n)

    def symbols(self):
        claim(&self.guard, "ItchBook", b"symbols", False)
        try:
            return self._symbols()
        finally:
            release(&self.guard, False)

    cdef object _symbols(self):
        cdef int i
        return {i: bytes(self.symbol[i][:8]).decode("ascii", "replace").rstrip()
                for i in range(MAXBOOKS) if self.symbol[i][0] != 0}

    def trading_state(self, int loc):
        claim(&self.guard, "ItchBook", b"trading_state", False)
        try:
            return self._trading_state(loc)
        finally:
            release(&self.guard, False)

    cdef object _trading_state(self, int loc):
        _check_loc(loc)
        cdef char c = self.state[loc]
        return chr(c) if c else None

    def n_orders(self):
        claim(&self.guard, "ItchBook", b"n_orders", False)
        try:
            return self._n_orders()
        finally:
            release(&self.guard, False)

    cdef object _n_orders(self):
        return self.orders.n

    def orders_array(self):
        """Every live order: (ref, stock_locate, side, price, shares), by ref."""
        claim(&self.guard, "ItchBook", b"orders_array", False)
        try:
            return self._orders_array()
        finally:
            release(&self.guard, False)

    cdef object _orders_array(self):
        dt = np.dtype([("ref", "u8"), ("stock_locate", "u2"), ("side", "u1"),
                       ("price", "i8"), ("shares", "i8")])
        a = np.empty(self.orders.n, dt)
        cdef uint64_t i
        cdef int64_t k = 0
        refs = np.empty(self.orders.n, np.uint64)
        loc = np.empty(self.orders.n, np.uint16)
        sd = np.empty(self.orders.n, np.uint8)
        px = np.empty(self.orders.n, np.int64)
        q = np.empty(self.orders.n, np.int64)
        cdef uint64_t[::1] vr = refs
        cdef uint16_t[::1] vl = loc
        cdef uint8_t[::1] vs = sd
        cdef int64_t[::1] vp = px
        cdef int64_t[::1] vq = q
        cdef Order* sl = self.orders.slab
        for i in range(<uint64_t>self.orders.slab_n):
            if sl[i].used:
                vr[k] = sl[i].ref
                vl[k] = sl[i].book
                vs[k] = sl[i].side
                vp[k] = sl[i].price
                vq[k] = sl[i].qty
                k += 1
        a["ref"], a["stock_locate"], a["side"], a["price"], a["shares"] = refs, loc, sd, px, q
        a.sort(order="ref")
        return a

    def check(self):
        """Invariant check: level totals and counts equal the sums of live orders,
        no empty level, keys strictly increasing.  Raises AssertionError."""
        claim(&self.guard, "ItchBook", b"check", False)
        try:
            return self._check()
        finally:
            release(&self.guard, False)

    cdef object _check(self):
        per = {}
        for ref, loc, sd, px, q in self._orders_array().tolist():
            key = (loc, sd, px)
            a = per.setdefault(key, [0, 0])
            a[0] += q
            a[1] += 1
            assert q > 0, f"order {ref} has non-positive shares {q}"
        seen = {}
        cdef int loc_i
        cdef Ladder* s
        cdef int64_t j
        for loc_i in range(MAXBOOKS):
            if self.bids[loc_i] == NULL:
                continue
            for sdi in range(2):
                s = self.bids[loc_i] if sdi == 0 else self.asks[loc_i]
                for j in range(s.n):
                    if j:
                        assert s.key[j] > s.key[j - 1], "levels not sorted"
                    seen[(loc_i, sdi, lad_price(s, j))] = [s.qty[j], s.cnt[j]]
        assert seen == per, "level totals differ from live orders"
        return True


cdef int64_t _WIRE[256]
memset(_WIRE, 0, sizeof(_WIRE))
for _t, _n in {"S": 12, "R": 39, "H": 25, "Y": 20, "L": 26, "V": 35, "W": 12, "K": 28, "J": 35,
               "h": 21, "A": 36, "F": 40, "E": 31, "C": 36, "X": 23, "D": 19, "U": 35, "P": 44,
               "Q": 40, "B": 19, "I": 50, "N": 20, "O": 48}.items():
    _WIRE[ord(_t)] = _n


cdef inline int64_t _wire_len(uint8_t t) noexcept nogil:
    return _WIRE[t]


cdef int64_t _count_adds(const uint8_t* buf, int64_t n) noexcept nogil:
    """Number of A/F messages framed in buf (stops at a zero length or a
    partial message): the most orders this buffer can add."""
    cdef int64_t pos = 0, L, c = 0
    cdef uint8_t t
    while pos + 3 <= n:
        L = bk_be16(buf + pos)
        if L == 0 or pos + 2 + L > n:
            break
        t = buf[pos + 2]
        c += (t == 65) | (t == 70)
        pos += 2 + L
    return c


cdef inline int64_t _itch_len(uint8_t t) noexcept nogil:
    # lengths of the message types the book reads (others: 0 = skip)
    if t == 65: return 36
    if t == 70: return 40
    if t == 69: return 31
    if t == 67: return 36
    if t == 88: return 23
    if t == 68: return 19
    if t == 85: return 35
    if t == 80: return 44
    if t == 81: return 40
    if t == 82: return 39
    if t == 72: return 25
    return 0


# ------------------------------------------------------------------ generic books


cdef class L2Book:
    """Price-level book (integer prices and quantities) for level-2 feeds.

    ``set`` replaces the quantity at a price (0 removes the level) as in
    Binance/Kraken/MDP3-MBP updates; ``add`` changes it by a delta.
    """
    cdef Ladder bid
    cdef Ladder ask

    def __cinit__(self):
        side_init(&self.bid, BID_SIGN)
        side_init(&self.ask, ASK_SIGN)

    def __dealloc__(self):
        lad_free(&self.bid)
        lad_free(&self.ask)

    cpdef void set(self, int side, int64_t price, int64_t qty, int64_t count=0) except *:
        side_set(_pick(&self.bid, &self.ask, side), price, qty, count)

    cpdef int64_t add(self, int side, int64_t price, int64_t dqty) except? -1:
        """Change the quantity at price by dqty (creating or removing the level);
        returns the new quantity (0 when the level is gone)."""
        cdef Ladder* s = _pick(&self.bid, &self.ask, side)
        cdef price_t k = s.sign * price
        cdef int64_t i = lad_find(s, k)
        if i < s.n and s.key[i] == k:
            s.qty[i] += dqty
            if s.qty[i] <= 0:
                lad_remove_at(s, i)
                return 0
            return s.qty[i]
        if dqty > 0:
            lad_insert_at(s, i, k, dqty, 0)
            return dqty
        return 0

    def truncate(self, int64_t depth):
        """Keep only the best ``depth`` levels of each side."""
        _non_negative(depth, "depth")       # a negative depth made n negative (a hang)
        lad_keep_best(&self.bid, depth)
        lad_keep_best(&self.ask, depth)

    def clear(self):
        self.bid.n = 0
        self.ask.n = 0

    def apply(self, const uint8_t[::1] side, const int64_t[::1] price, const int64_t[::1] qty):
        """Set many levels at once (side 0 bid / 1 ask; qty 0 deletes).  The
        three arrays must have one length and every side be 0 or 1; they are
        checked before anything is set."""
        cdef Py_ssize_t i, n = side.shape[0]
        if price.shape[0] != n or qty.shape[0] != n:
            raise ValueError(f"side, price and qty must have the same length, got "
                             f"{n}, {price.shape[0]}, {qty.shape[0]}")
        for i in range(n):
            if side[i] > 1:
                raise ValueError(f"side[{i}] must be 0 (bid) or 1 (ask), got {side[i]}")
        for i in range(n):
            side_set(&self.bid if side[i] == 0 else &self.ask, price[i], qty[i], 0)

    cpdef tuple bbo(self):
        """(bid_px, bid_qty, ask_px, ask_qty); an empty side gives (0, 0)."""
        cdef price_t bp = 0, ap = 0
        cdef sqty_t bq = 0, aq = 0
        if self.bid.n:
            bp = lad_price(&self.bid, self.bid.n - 1)
            bq = self.bid.qty[self.bid.n - 1]
        if self.ask.n:
            ap = lad_price(&self.ask, self.ask.n - 1)
            aq = self.ask.qty[self.ask.n - 1]
        return (bp, bq, ap, aq)

    def levels(self, int64_t depth):
        """Array (4, depth): bid_px, bid_qty, ask_px, ask_qty, best first."""
        _non_negative(depth, "depth")
        out = np.zeros((4, depth), np.int64)
        cdef int64_t[:, ::1] v = out
        if depth > 0:
            lad_levels(&self.bid, depth, &v[0, 0], &v[1, 0], NULL)
            lad_levels(&self.ask, depth, &v[2, 0], &v[3, 0], NULL)
        return out

    def n_levels(self):
        return (self.bid.n, self.ask.n)

    def get(self, int side, int64_t price):
        """Quantity at price on side (0 if no level)."""
        return lad_get(_pick(&self.bid, &self.ask, side), price)


cdef class OrderBook:
    """Order-level book keyed by the venue's order id (LOBSTER, generic feeds)."""
    cdef Ladder bid
    cdef Ladder ask
    cdef OrderMap orders

    def __cinit__(self):
        side_init(&self.bid, BID_SIGN)
        side_init(&self.ask, ASK_SIGN)
        om_init(&self.orders, 1024)

    def __dealloc__(self):
        lad_free(&self.bid)
        lad_free(&self.ask)
        om_free(&self.orders)

    cpdef bint add(self, uint64_t ref, int side, int64_t price, int64_t qty) except *:
        """Add a resting order; False (nothing changed) if ref is live already."""
        cdef Ladder* s = _pick(&self.bid, &self.ask, side)
        if qty <= 0:
            raise ValueError(f"qty must be positive, got {qty}")
        if om_find(&self.orders, ref) != NULL:
            return False
        cdef Order* o = om_insert(&self.orders, ref)
        o.price = price
        o.qty = qty
        o.side = side
        o.book = 0
        side_add(s, price, qty, 1)
        return True

    cpdef int64_t reduce(self, uint64_t ref, int64_t qty) except -1:
        """Take up to qty off an order (deleting it at 0); return the amount
        taken, 0 for an unknown ref.  qty < 0 deletes the whole order."""
        cdef Order* o = om_find(&self.orders, ref)
        if o == NULL:
            return 0
        cdef Ladder* s = &self.bid if o.side == 0 else &self.ask
        if qty < 0 or qty > o.qty:
            qty = o.qty
        o.qty -= qty
        if o.qty <= 0:
            side_add(s, o.price, -qty, -1)
            om_erase(&self.orders, o)
        else:
            side_add(s, o.price, -qty, 0)
        return qty

    def order(self, uint64_t ref):
        """(side, price, qty) of a live order, or None."""
        cdef Order* o = om_find(&self.orders, ref)
        if o == NULL:
            return None
        return (o.side, o.price, o.qty)

    cpdef void add_level(self, int side, int64_t price, int64_t qty) except *:
        """Add anonymous quantity at a level (a snapshot's initial depth)."""
        cdef Ladder* s = _pick(&self.bid, &self.ask, side)
        if qty <= 0:
            raise ValueError(f"qty must be positive, got {qty}")
        side_add(s, price, qty, 1)

    def __len__(self):
        return self.orders.n

    def levels(self, int64_t depth):
        _non_negative(depth, "depth")
        out = np.zeros((4, depth), np.int64)
        cdef int64_t[:, ::1] v = out
        if depth > 0:
            lad_levels(&self.bid, depth, &v[0, 0], &v[1, 0], NULL)
            lad_levels(&self.ask, depth, &v[2, 0], &v[3, 0], NULL)
        return out

    def get(self, int side, int64_t price):
        return lad_get(_pick(&self.bid, &self.ask, side), price)
