# Included by _engine.pyx: C helpers (saturating arithmetic, 128-bit
# conversions, raw memory copies).

cdef int buf_copy(Buf* dst, const Buf* src) except -1:
    """``dst`` becomes an independent copy of ``src`` (its old data is not freed)."""
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
    """``a + b``, saturating at the largest 128-bit value."""
    cdef u128_t s = a + b
    return s if s >= a else <u128_t>0 - 1


cdef inline int64_t sat_add(int64_t a, int64_t b) noexcept nogil:
    """``a + b``, saturating at the signed 64-bit bounds."""
    if b > 0 and a > INT64_MAX - b:
        return INT64_MAX
    if b < 0 and a < INT64_MIN - b:
        return INT64_MIN
    return a + b


cdef inline int64_t abs_diff(int64_t a, int64_t b) noexcept nogil:
    """``|a - b|``, saturating at INT64_MAX."""
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
    """``v`` as an exact Python int."""
    cdef uint64_t hi = <uint64_t>(v >> 64)
    cdef uint64_t lo = <uint64_t>v
    if hi == 0:
        return lo
    return (<object>hi << 64) | <object>lo


cdef inline uint64_t u128_sat64(u128_t v) noexcept nogil:
    """``v`` saturated to 64 bits (for LEVEL_DTYPE rows)."""
    return <uint64_t>v if (v >> 64) == 0 else UINT64_MAX



cdef void* _dup(const void* src, size_t nbytes) except? NULL:
    """A malloc'd copy of ``nbytes`` at ``src`` (NULL for nothing); MemoryError."""
    cdef void* dst
    if src == NULL or nbytes == 0:
        return NULL
    dst = malloc(nbytes)
    if dst == NULL:
        raise MemoryError()
    memcpy(dst, src, nbytes)
    return dst
