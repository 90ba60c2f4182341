# One side of a price-level book, for every compiled book of the house (the
# simulator's exchange and local books, the feed books).
#
# Convention (the only one): a level's key is ``sign * price`` with
# ``sign = BID_SIGN (+1)`` on the bid side and ``ASK_SIGN (-1)`` on the ask
# side, and keys are kept ascending.  A larger key is a better price, so the
# best level is the LAST one (index n - 1): the touch, where almost all
# activity is, is read without a search and changed with a short memmove.
# Prices are ticks (``price_t``, > 0 in a book; 0 means "no level"),
# quantities signed (``sqty_t``).
#
# ``cnt`` (orders per level) is optional: NULL when the owner does not count
# orders (the simulator).  A level whose quantity is 0 is a "tombstone":
# ``lad_remove_at`` drops a level at once (feed books); an owner that keeps
# tombstones (the simulator: a deep level that comes and goes then costs no
# memmove) skips them when it walks and calls ``lad_compact``.
#
# Exception contract: growing can only fail by running out of memory and then
# raises MemoryError (``except -1``, the GIL re-taken); everything else is
# ``noexcept nogil``.
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memmove

from nanobook._types cimport price_t, sqty_t

cdef enum:
    BID_SIGN = 1
    ASK_SIGN = -1


ctypedef struct Ladder:
    price_t* key        # sign * price, ascending: best level last
    sqty_t* qty         # level total (0: a tombstone the owner keeps)
    int64_t* cnt        # orders at the level, or NULL when not counted
    int64_t n           # levels in use
    int64_t cap         # levels allocated
    int64_t sign        # BID_SIGN or ASK_SIGN


cdef extern from *:
    """
    /* First index i in the ascending a[0..n) with a[i] >= k.  Branch-free
       halving (the compiler emits a conditional move), so the search costs
       log2(n) dependent loads and no mispredicted branches. */
    static inline int64_t nb_lower_bound(const int64_t* a, int64_t n, int64_t k) {
        const int64_t* base = a;
        int64_t len = n, half;
        if (len <= 0) return 0;
        while (len > 1) {
            half = len >> 1;
            base = (base[half] < k) ? base + half : base;
            len -= half;
        }
        return (base - a) + (*base < k);
    }
    """
    int64_t nb_lower_bound(const int64_t* a, int64_t n, int64_t k) noexcept nogil


# ---------------------------------------------------------------- life cycle

cdef inline int lad_init(Ladder* s, int64_t sign, int64_t cap, bint counts) except -1 nogil:
    """Empty side of ``cap`` levels (``counts``: keep order counts)."""
    s.n = 0
    s.cap = cap
    s.sign = sign
    s.key = <price_t*>malloc(cap * sizeof(price_t))
    s.qty = <sqty_t*>malloc(cap * sizeof(sqty_t))
    s.cnt = <int64_t*>malloc(cap * sizeof(int64_t)) if counts else NULL
    if s.key == NULL or s.qty == NULL or (counts and s.cnt == NULL):
        with gil:
            raise MemoryError("nanobook: out of memory allocating a book side")
    return 0


cdef inline void lad_free(Ladder* s) noexcept nogil:
    free(s.key)
    free(s.qty)
    free(s.cnt)
    s.key = NULL
    s.qty = NULL
    s.cnt = NULL
    s.n = 0


cdef inline int lad_grow(Ladder* s) except -1 nogil:
    """Double the capacity (the side is unchanged if memory runs out)."""
    cdef int64_t cap = s.cap * 2
    cdef void* a = realloc(s.key, cap * sizeof(price_t))
    if a == NULL:
        with gil:
            raise MemoryError("nanobook: out of memory growing a book side")
    s.key = <price_t*>a
    a = realloc(s.qty, cap * sizeof(sqty_t))
    if a == NULL:
        with gil:
            raise MemoryError("nanobook: out of memory growing a book side")
    s.qty = <sqty_t*>a
    if s.cnt != NULL:
        a = realloc(s.cnt, cap * sizeof(int64_t))
        if a == NULL:
            with gil:
                raise MemoryError("nanobook: out of memory growing a book side")
        s.cnt = <int64_t*>a
    s.cap = cap
    return 0

# ---------------------------------------------------------------- queries

cdef inline int64_t lad_find(const Ladder* s, price_t k) noexcept nogil:
    """Index of the first key >= ``k`` (``n`` if none): where the level of
    key ``k`` is or would be inserted.  The touch (last key) is checked
    first: most updates are there; otherwise a branch-free binary search.
    O(log n)."""
    cdef int64_t n = s.n
    if n == 0 or s.key[n - 1] < k:
        return n
    if s.key[n - 1] == k:
        return n - 1
    return nb_lower_bound(s.key, n - 1, k)


cdef inline sqty_t lad_get(const Ladder* s, price_t price) noexcept nogil:
    """Quantity at ``price`` (0 if no level).  O(log n)."""
    cdef price_t k = s.sign * price
    cdef int64_t i = lad_find(s, k)
    if i < s.n and s.key[i] == k:
        return s.qty[i]
    return 0


cdef inline price_t lad_price(const Ladder* s, int64_t i) noexcept nogil:
    """Price of level ``i``."""
    return s.sign * s.key[i]


cdef inline bint lad_better(int64_t sign, price_t a, price_t b) noexcept nogil:
    """Price ``a`` is strictly better than ``b`` on the side of ``sign``."""
    return a > b if sign > 0 else a < b


cdef inline void lad_levels(const Ladder* s, int64_t depth, price_t* px, sqty_t* qty,
                            int64_t* cnt) noexcept nogil:
    """Write the best ``depth`` levels, best first (missing ones as price 0,
    qty 0); ``cnt`` NULL skips the counts.  O(depth)."""
    cdef int64_t j, i
    for j in range(depth):
        i = s.n - 1 - j
        if i >= 0:
            px[j] = s.sign * s.key[i]
            qty[j] = s.qty[i]
            if cnt != NULL:
                cnt[j] = s.cnt[i]
        else:
            px[j] = 0
            qty[j] = 0
            if cnt != NULL:
                cnt[j] = 0

# ---------------------------------------------------------------- commands

cdef inline int lad_insert_at(Ladder* s, int64_t i, price_t k, sqty_t q, int64_t c) except -1 nogil:
    """Insert the level (key ``k``, quantity ``q``, count ``c``) at index
    ``i`` (from :func:`lad_find`).  O(n - i)."""
    cdef int64_t m
    if s.n == s.cap:
        lad_grow(s)
    m = s.n - i
    if m > 0:
        memmove(s.key + i + 1, s.key + i, m * sizeof(price_t))
        memmove(s.qty + i + 1, s.qty + i, m * sizeof(sqty_t))
        if s.cnt != NULL:
            memmove(s.cnt + i + 1, s.cnt + i, m * sizeof(int64_t))
    s.key[i] = k
    s.qty[i] = q
    if s.cnt != NULL:
        s.cnt[i] = c
    s.n += 1
    return 0


cdef inline void lad_remove_at(Ladder* s, int64_t i) noexcept nogil:
    """Drop level ``i``.  O(n - i)."""
    cdef int64_t m = s.n - i - 1
    if m > 0:
        memmove(s.key + i, s.key + i + 1, m * sizeof(price_t))
        memmove(s.qty + i, s.qty + i + 1, m * sizeof(sqty_t))
        if s.cnt != NULL:
            memmove(s.cnt + i, s.cnt + i + 1, m * sizeof(int64_t))
    s.n -= 1


cdef inline void lad_keep_best(Ladder* s, int64_t depth) noexcept nogil:
    """Keep only the best ``depth`` levels (depth >= 0).  O(depth)."""
    cdef int64_t drop = s.n - depth
    if drop > 0:
        memmove(s.key, s.key + drop, depth * sizeof(price_t))
        memmove(s.qty, s.qty + drop, depth * sizeof(sqty_t))
        if s.cnt != NULL:
            memmove(s.cnt, s.cnt + drop, depth * sizeof(int64_t))
        s.n = depth


cdef inline int64_t lad_tombstones(const Ladder* s) noexcept nogil:
    """Number of levels whose quantity is 0.  O(n)."""
    cdef int64_t i, z = 0
    for i in range(s.n):
        if s.qty[i] == 0:
            z += 1
    return z


cdef inline void lad_compact(Ladder* s) noexcept nogil:
    """Drop every tombstone (levels keep their order).  O(n)."""
    cdef int64_t i, j = 0
    for i in range(s.n):
        if s.qty[i] != 0:
            s.key[j] = s.key[i]
            s.qty[j] = s.qty[i]
            if s.cnt != NULL:
                s.cnt[j] = s.cnt[i]
            j += 1
    s.n = j
