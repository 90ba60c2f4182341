# cython: language_level=3
"""The arithmetic of :class:`nanobook.signals.FeatureState` in C.

One sample costs O(levels), one trade O(vpin_buckets) at most (the VPIN
buckets it completes, of which only the last ``vpin_buckets`` are kept).  The operations and their order are those documented in
``docs/signals.md`` (section 1); the Python class validates and wraps.
"""
from libc.math cimport copysign, fabs, floor, log, log1p, sqrt
from libc.stdint cimport int64_t

import numpy as np
cimport numpy as cnp

cnp.import_array()


cdef inline double _slog(double x) noexcept nogil:
    return copysign(log1p(fabs(x)), x)


cdef class FeatureCore:
    """State of the online features (see :class:`FeatureState`)."""

    cdef readonly int levels, n_buckets
    cdef double trade_ema, vol_ema, bucket
    cdef bint has_prev
    cdef int64_t prev_ts
    cdef double prev_mid
    cdef int prev_L
    cdef double[:, ::1] prev
    cdef double flow, sign_ema, var_ema, bucket_buy, bucket_fill, imb_sum
    cdef long count
    cdef double[::1] imb
    cdef int imb_n, imb_head

    def __init__(self, int levels, double trade_ema, double vol_ema, double vpin_bucket, int vpin_buckets) -> None:
        if levels < 1 or vpin_buckets < 1 or not vpin_bucket > 0:
            raise ValueError(f"bad feature parameters: levels={levels}, vpin_bucket={vpin_bucket}, "
                             f"vpin_buckets={vpin_buckets}")
        self.levels, self.n_buckets = levels, vpin_buckets
        self.trade_ema, self.vol_ema, self.bucket = trade_ema, vol_ema, vpin_bucket
        self.prev = np.zeros((4, levels))
        self.imb = np.zeros(vpin_buckets)
        self.reset()

    def reset(self) -> None:
        self.has_prev = False
        self.prev_ts, self.prev_mid, self.prev_L = 0, 0.0, 0
        self.flow = self.sign_ema = self.var_ema = self.bucket_buy = self.bucket_fill = self.imb_sum = 0.0
        self.count = 0
        self.imb_n = self.imb_head = 0

    def on_trade(self, int side, double qty) -> None:
        cdef double s = 1.0 if side == 0 else -1.0
        cdef double q = qty, take, imb, V = self.bucket
        self.flow += s * q
        self.count += 1
        self.sign_ema += self.trade_ema * (s - self.sign_ema)
        while q > 0:
            if self.bucket_fill == 0 and q >= V * (self.n_buckets + 1):
                # buckets this trade fills whole are one-sided (imbalance 1); all
                # but the last n_buckets of them would be pushed out by the rest,
                # so skip those: the loop runs at most n_buckets + 2 times
                q -= (floor(q / V) - self.n_buckets) * V
                if q <= 0:
                    break
            take = min(q, V - self.bucket_fill)
            self.bucket_fill += take
            if s > 0:
                self.bucket_buy += take
            q -= take
            if self.bucket_fill >= V:
                imb = fabs(2.0 * self.bucket_buy - V) / V
                self.imb_sum += imb
                if self.imb_n < self.n_buckets:
                    self.imb[(self.imb_head + self.imb_n) % self.n_buckets] = imb
                    self.imb_n += 1
                else:                      # drop the oldest bucket, keep the newest n
                    self.imb_sum -= self.imb[self.imb_head]
                    self.imb[self.imb_head] = imb
                    self.imb_head = (self.imb_head + 1) % self.n_buckets
                self.bucket_buy = self.bucket_fill = 0.0

    def sample(self, int64_t ts, const int64_t[:, ::1] depth, double[::1] out) -> bool:
        """Write the 13 features at ``ts`` into ``out``; False (state
        unchanged) while the book is not two-sided."""
        cdef double b, a, qb, qa
        cdef int L, k
        cdef double mid, ret, ofi1, ofil, dt, e, tot, sb, sa
        cdef double pb, pqb, pa, pqa, nb, nqb, na, nqa
        if depth.shape[0] != 4 or depth.shape[1] < 1 or out.shape[0] != 13:
            raise ValueError(f"depth must have 4 rows and at least one level and out 13 entries, got depth "
                             f"{(depth.shape[0], depth.shape[1])} and out {out.shape[0]}")
        b, a = <double> depth[0, 0], <double> depth[2, 0]
        qb, qa = <double> depth[1, 0], <double> depth[3, 0]
        if b <= 0 or a <= 0 or a <= b:
            return False
        L = min(self.levels, <int> depth.shape[1])
        mid = 0.5 * (a + b)
        if not self.has_prev:
            ret = ofi1 = ofil = dt = 0.0
        else:
            ret = 1e4 * log(mid / self.prev_mid)
            ofi1 = ofil = 0.0
            for k in range(min(L, self.prev_L)):
                pb, pqb, pa, pqa = self.prev[0, k], self.prev[1, k], self.prev[2, k], self.prev[3, k]
                nb, nqb = <double> depth[0, k], <double> depth[1, k]
                na, nqa = <double> depth[2, k], <double> depth[3, k]
                e = ((nqb if nb >= pb else 0.0) - (pqb if nb <= pb else 0.0)
                     - (nqa if na <= pa else 0.0) + (pqa if na >= pa else 0.0))
                if k == 0:
                    ofi1 = e
                ofil += e
            dt = <double> (ts - self.prev_ts if ts > self.prev_ts else 0) / 1e6
        self.var_ema += self.vol_ema * (ret * ret - self.var_ema)
        tot = qb + qa
        sb = sa = 0.0
        for k in range(L):
            sb += <double> depth[1, k]
            sa += <double> depth[3, k]
        out[0] = ret
        out[1] = 1e4 * (a - b) / mid
        out[2] = 1e4 * ((a * qb + b * qa) / tot - mid) / mid if tot > 0 else 0.0
        out[3] = (qb - qa) / tot if tot > 0 else 0.0
        out[4] = (sb - sa) / (sb + sa) if sb + sa > 0 else 0.0
        out[5] = _slog(ofi1)
        out[6] = _slog(ofil)
        out[7] = _slog(self.flow)
        out[8] = log1p(<double> self.count)
        out[9] = self.sign_ema
        out[10] = sqrt(self.var_ema)
        out[11] = self.imb_sum / self.imb_n if self.imb_n else 0.0
        out[12] = log1p(dt)
        self.has_prev = True
        self.prev_ts, self.prev_mid, self.prev_L = ts, mid, L
        for k in range(L):
            self.prev[0, k] = <double> depth[0, k]
            self.prev[1, k] = <double> depth[1, k]
            self.prev[2, k] = <double> depth[2, k]
            self.prev[3, k] = <double> depth[3, k]
        self.flow = 0.0
        self.count = 0
        return True
