# cython: language_level=3
"""ChaCha20 random stream and ziggurat normals for the Monte-Carlo scenarios.

Reproduces the reference's native stream (nanobook 0.19's Rust generator): a ChaCha20 block
generator (20 rounds, 64-bit block counter from 0, stream 0) keyed from a
64-bit seed by eight PCG32 steps, 64-bit draws made of two consecutive
little-endian words, and the 256-layer ziggurat for standard normals.
"""
import math

import numpy as np
cimport numpy as cnp
from libc.math cimport exp, fabs, log
from libc.stdint cimport uint32_t, uint64_t

cnp.import_array()

# ---------------------------------------------------------------------------
# ziggurat tables: x[0] = V/f(R), x[1] = R, x[i] = f^-1(V/x[i-1] + f(x[i-1]))
# ---------------------------------------------------------------------------

cdef double ZIG_R = 3.654152885361008796
cdef double ZIG_V = 0.00492867323399
cdef double XT[257]
cdef double FT[257]


def _build_tables():
    f = lambda x: math.exp(-x * x / 2.0)
    x = [0.0] * 257
    x[0] = ZIG_V / f(ZIG_R)
    x[1] = ZIG_R
    for i in range(2, 256):
        x[i] = math.sqrt(-2.0 * math.log(ZIG_V / x[i - 1] + f(x[i - 1])))
    x[256] = 0.0
    for i in range(257):
        XT[i] = x[i]
        FT[i] = f(x[i])


_build_tables()


cdef inline uint32_t _rotl(uint32_t v, int c) noexcept nogil:
    return (v << c) | (v >> (32 - c))


cdef inline double _float_exp(uint64_t mantissa, int e) noexcept nogil:
    """Float in [2**e, 2**(e+1)) with the given 52-bit mantissa."""
    cdef uint64_t bits = (<uint64_t>(1023 + e) << 52) | mantissa
    return (<double*>&bits)[0]


cdef inline void _qr(uint32_t* x, int a, int b, int c, int d) noexcept nogil:
    x[a] += x[b]
    x[d] = _rotl(x[d] ^ x[a], 16)
    x[c] += x[d]
    x[b] = _rotl(x[b] ^ x[c], 12)
    x[a] += x[b]
    x[d] = _rotl(x[d] ^ x[a], 8)
    x[c] += x[d]
    x[b] = _rotl(x[b] ^ x[c], 7)


cdef class ChaCha20Rng:
    """ChaCha20 stream seeded like ``rand``'s ``seed_from_u64``."""

    cdef uint32_t key[8]
    cdef uint64_t counter
    cdef uint32_t buf[16]
    cdef int idx

    def __init__(self, seed):
        pass

    def __cinit__(self, seed):
        cdef uint64_t state = <uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF)
        cdef uint32_t xs, rot
        cdef int i
        for i in range(8):
            state = state * 6364136223846793005ULL + 11634580027462260723ULL
            xs = <uint32_t>(((state >> 18) ^ state) >> 27)
            rot = <uint32_t>(state >> 59)
            self.key[i] = (xs >> rot) | (xs << ((32 - rot) & 31))
        self.counter = 0
        self.idx = 16

    cdef void _refill(self) noexcept nogil:
        cdef uint32_t s[16]
        cdef uint32_t x[16]
        cdef int i, r
        s[0] = 0x61707865
        s[1] = 0x3320646e
        s[2] = 0x79622d32
        s[3] = 0x6b206574
        for i in range(8):
            s[4 + i] = self.key[i]
        s[12] = <uint32_t>self.counter
        s[13] = <uint32_t>(self.counter >> 32)
        s[14] = 0
        s[15] = 0
        for i in range(16):
            x[i] = s[i]
        for r in range(10):
            _qr(x, 0, 4, 8, 12)
            _qr(x, 1, 5, 9, 13)
            _qr(x, 2, 6, 10, 14)
            _qr(x, 3, 7, 11, 15)
            _qr(x, 0, 5, 10, 15)
            _qr(x, 1, 6, 11, 12)
            _qr(x, 2, 7, 8, 13)
            _qr(x, 3, 4, 9, 14)
        for i in range(16):
            self.buf[i] = x[i] + s[i]
        self.counter += 1
        self.idx = 0

    cdef uint64_t next_u64(self) noexcept nogil:
        cdef uint64_t lo, hi
        if self.idx >= 16:
            self._refill()
        lo = self.buf[self.idx]
        self.idx += 1
        if self.idx >= 16:
            self._refill()
        hi = self.buf[self.idx]
        self.idx += 1
        return lo | (hi << 32)

    cdef double _open01(self) noexcept nogil:
        return _float_exp(self.next_u64() >> 12, 0) - (1.0 - 2.220446049250313e-16 / 2.0)

    cdef double standard_normal(self) noexcept nogil:
        cdef uint64_t bits
        cdef Py_ssize_t i
        cdef double u, x, y, xx
        while True:
            bits = self.next_u64()
            i = <Py_ssize_t>(bits & 0xff)
            u = _float_exp(bits >> 12, 1) - 3.0
            x = u * XT[i]
            if fabs(x) < XT[i + 1]:
                return x
            if i == 0:
                xx = 1.0
                y = 0.0
                while -2.0 * y < xx * xx:
                    xx = log(self._open01()) / ZIG_R
                    y = log(self._open01())
                return xx - ZIG_R if u < 0.0 else ZIG_R - xx
            if FT[i + 1] + (FT[i] - FT[i + 1]) * (<double>(self.next_u64() >> 11) * 1.1102230246251565e-16) \
                    < exp(-x * x / 2.0):
                return x

    def u64(self):
        """One 64-bit draw (for tests)."""
        return self.next_u64()

    def normals(self, Py_ssize_t n):
        """``n`` standard normals from the stream, in draw order."""
        out = np.empty(n, dtype=np.float64)
        cdef double[::1] o = out
        cdef Py_ssize_t k
        with nogil:
            for k in range(n):
                o[k] = self.standard_normal()
        return out
