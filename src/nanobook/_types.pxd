# Shared C typedefs of nanobook's Cython modules.  cimport them; never
# spell the underlying C types in a signature.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

ctypedef int64_t price_t    # price in ticks (cents); signed, zero and negatives allowed
ctypedef uint64_t qty_t     # quantity in lots
ctypedef uint64_t oid_t     # order id; 0 means "none"
ctypedef uint64_t ts_t      # logical timestamp
ctypedef int32_t slot_t     # index into a pool; -1 means "none"
ctypedef int64_t cents_t    # money in cents (cash, notional, commission); signed
ctypedef int64_t micros_t   # signed quantity in micro-shares (1 share = 1 000 000)
ctypedef int64_t sqty_t     # signed quantity: level totals, positions, deltas (simulator, feed books)
ctypedef int64_t nanos_t    # signed time in ns on one clock (simulator); -1 means "not yet"

cdef extern from *:
    """
    typedef unsigned __int128 nb_u128;
    typedef __int128 nb_i128;
    """
    # 128-bit unsigned level totals: the sum of resting 64-bit quantities
    # never wraps.  Cython sees an integer type; convert to Python only
    # through nanobook._engine.u128_to_py.
    ctypedef unsigned long long u128_t "nb_u128"
    # 128-bit signed intermediates (products of two int64 values) for exact
    # arithmetic before a range check.
    ctypedef long long i128_t "nb_i128"
