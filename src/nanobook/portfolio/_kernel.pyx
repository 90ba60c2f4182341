# cython: language_level=3, cdivision=True
# (cdivision is relied upon: // on C integers truncates toward zero here)
"""Dense backtest kernel: the per-period loop of ``backtest_weights`` over
(periods x symbols) arrays, with the reference's exact integer rules.

Columns are symbols in ascending order, so "ascending symbol order" is column
order. Absent prices are -1 (valid prices are >= 0). Weights are NaN where a
symbol is not a target. Integer products use 128-bit intermediates and
saturate to the i64 range, exactly as ``nanobook.portfolio._arith``.

This kernel covers every option, stops included; the Python list engine is
its oracle and the conformance corpus runs through both.
"""
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, INT64_MAX, INT64_MIN
from libc.math cimport round as c_round, isnan, isinf, fabs, NAN
from libc.stdlib cimport malloc, calloc, realloc, free, qsort

import numpy as np

cdef extern from *:
    """
    typedef __int128 nb_i128;
    static inline int nb_mul_ovf(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }
    static inline int nb_add_ovf(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
    static inline int nb_sub_ovf(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
    /* set when a result had to be clamped to the int64 range (per thread: the
       kernels run without the GIL) */
    static __thread int nb_ovf_flag = 0;
    static inline void nb_ovf_set(void) { nb_ovf_flag = 1; }
    static inline void nb_ovf_reset(void) { nb_ovf_flag = 0; }
    static inline int nb_ovf_get(void) { return nb_ovf_flag; }
    """
    ctypedef long long i128 "nb_i128"
    bint mul_ovf "nb_mul_ovf"(int64_t a, int64_t b, int64_t* r) noexcept nogil
    bint add_ovf "nb_add_ovf"(int64_t a, int64_t b, int64_t* r) noexcept nogil
    bint sub_ovf "nb_sub_ovf"(int64_t a, int64_t b, int64_t* r) noexcept nogil
    void ovf_set "nb_ovf_set"() noexcept nogil
    void ovf_reset "nb_ovf_reset"() noexcept nogil
    int ovf_get "nb_ovf_get"() noexcept nogil

cdef int64_t I64_MAX = INT64_MAX
cdef int64_t I64_MIN = INT64_MIN
cdef int64_t MICRO = 1000000


cdef inline int64_t clamp128(i128 x) noexcept nogil:
    # the reference saturates; we saturate too but flag it, and the caller
    # turns a flagged run into a ValueError (never a clamped number)
    if x > <i128>I64_MAX:
        ovf_set()
        return I64_MAX
    if x < <i128>I64_MIN:
        ovf_set()
        return I64_MIN
    return <int64_t>x


cdef inline int64_t mdt(int64_t q, int64_t p) noexcept nogil:
    # trunc(q * p / 1e6), exact, clamped (C division truncates toward zero).
    # 64-bit fast path when the product fits (division by a constant is a
    # multiply-shift); 128-bit otherwise.
    cdef int64_t r
    if not mul_ovf(q, p, &r):
        return r // 1000000
    return clamp128((<i128>q * <i128>p) / <i128>MICRO)


cdef inline int64_t muldiv_micro(int64_t a, int64_t p) noexcept nogil:
    # trunc(a * 1e6 / p) for a >= 0, p > 0, clamped
    cdef int64_t r
    if not mul_ovf(a, MICRO, &r):
        return r // p
    return clamp128((<i128>a * <i128>MICRO) / <i128>p)


cdef inline int64_t mdt_floor(int64_t q, int64_t p) noexcept nogil:
    # floor(q * p / 1e6) (Python // semantics), clamped
    cdef int64_t r, d
    if not mul_ovf(q, p, &r):
        d = r // 1000000
        if r < 0 and d * 1000000 != r:
            d -= 1
        return d
    return clamp128(_floordiv(<i128>q * <i128>p))


cdef inline int64_t sat_add(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t r
    if not add_ovf(a, b, &r):
        return r
    return clamp128(<i128>a + <i128>b)


cdef inline int64_t sat_sub(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t r
    if not sub_ovf(a, b, &r):
        return r
    return clamp128(<i128>a - <i128>b)


cdef inline int64_t f2i(double x) noexcept nogil:
    if isnan(x):
        return 0
    if x >= 9.223372036854775807e18:
        ovf_set()
        return I64_MAX
    if x <= -9.223372036854775808e18:
        ovf_set()
        return I64_MIN
    return <int64_t>x


cdef inline double rnd(double x) noexcept nogil:
    # round half away from zero (C round) without the libm call in the common
    # case: for 0 <= x < 2**52, x - trunc(x) is exact
    cdef double t
    if x >= 0.0 and x < 4503599627370496.0:
        t = <double>(<int64_t>x)
        return t + 1.0 if x - t >= 0.5 else t
    return c_round(x)


cdef inline int64_t floor_step(int64_t a, int64_t step) noexcept nogil:
    # a // step * step for a >= 0; the usual steps divide by a constant (no idiv)
    if step == 1000000:
        return a // 1000000 * 1000000
    if step == 1:
        return a
    return a // step * step


cdef inline int64_t abs64(int64_t x) noexcept nogil:
    return -x if x < 0 else x


cdef struct Ctx:
    double commission_bps
    double slippage_bps
    int64_t min_commission
    int64_t step
    int64_t min_order_value
    int64_t max_order_value
    double band
    int64_t max_trades      # -1 = no cap
    int64_t max_notional    # 0 = none
    int64_t cash
    int64_t last_notional   # notional of the last executed fill (cents)


cdef struct Order:
    int32_t col
    int64_t qty
    int64_t price
    double drift
    int64_t notional
    int32_t seq


cdef inline int64_t cost_of(Ctx* c, int64_t n) noexcept nogil:
    cdef int64_t v = f2i(rnd(<double>abs64(n) * c.commission_bps / 10000.0))
    return v if v > c.min_commission else c.min_commission


cdef int64_t execute_fill(Ctx* c, int64_t* qty, int32_t col, int64_t q, int64_t price) noexcept nogil:
    # returns the commission paid (its notional in c.last_notional), or -1 when nothing was executed
    cdef double sign = 1.0 if q > 0 else -1.0
    cdef int64_t e = price if c.slippage_bps == 0.0 else f2i(rnd(<double>price * (1.0 + sign * c.slippage_bps / 10000.0)))
    cdef int64_t cash = c.cash
    cdef int64_t n, lo, hi, mid, nn, notional, cost, delta
    cdef i128 prod
    cdef bint known = False
    if q > 0:
        n = mdt_floor(q, e)
        cost = cost_of(c, n)
        if <i128>n + <i128>cost > <i128>cash:
            if cash <= 0:
                return -1
            q = trim_buy(c, q, e, cash)
            if q == 0:
                return -1
        elif e >= 0:
            # q > 0, e >= 0: floor, trunc and |.| agree, so notional = delta = n
            notional = n
            delta = n
            known = True
    if not known:
        notional = mdt(abs64(q), abs64(e))
        cost = cost_of(c, notional)
        delta = -notional if (q < 0 and e >= 0) else mdt(q, e)
    if q < 0 and <i128>cash - (<i128>delta + <i128>cost) < 0:
        return -1
    qty[col] = sat_add(qty[col], q)
    c.cash = sat_sub(cash, sat_add(delta, cost))  # (delta + cost overflowing flags the run anyway)
    c.last_notional = notional
    return cost


cdef inline bint fits(Ctx* c, int64_t k, int64_t e, int64_t cash) noexcept nogil:
    cdef int64_t nn
    if k == 0:
        return True
    nn = mdt_floor(k * c.step, e)
    return <i128>nn + <i128>cost_of(c, nn) <= <i128>cash


cdef int64_t trim_buy(Ctx* c, int64_t q, int64_t e, int64_t cash) noexcept nogil:
    """Largest multiple of the step (<= q) whose cash requirement fits.

    The requirement is monotone in the quantity, so the answer is unique;
    we start from an estimate, gallop to bracket it and finish by bisection.
    """
    cdef int64_t hi = q // c.step, k0, lo, upper, d, nxt, mid
    cdef double est
    if e <= 0:
        est = <double>hi
    else:
        est = (<double>cash / (<double>e * (1.0 + c.commission_bps / 10000.0))) * 1e6 / <double>c.step
    if not (est >= 0.0):
        est = 0.0
    k0 = hi if est >= <double>hi else <int64_t>est
    if fits(c, k0, e, cash):
        lo = k0
        upper = hi
        d = 1
        while True:
            nxt = k0 + d
            if nxt > hi:
                break
            if fits(c, nxt, e, cash):
                lo = nxt
                d *= 2
            else:
                upper = nxt - 1
                break
    else:
        upper = k0 - 1
        lo = 0
        d = 1
        while True:
            nxt = k0 - d
            if nxt <= 0:
                break
            if fits(c, nxt, e, cash):
                lo = nxt
                break
            upper = nxt - 1
            d *= 2
    while lo < upper:
        mid = lo + (upper - lo + 1) // 2
        if fits(c, mid, e, cash):
            lo = mid
        else:
            upper = mid - 1
    return lo * c.step


cdef inline i128 _floordiv(i128 x) noexcept nogil:
    # floor division by 1e6 (Python // semantics)
    cdef i128 qd = x / <i128>MICRO
    if (x % <i128>MICRO) != 0 and x < 0:
        qd -= 1
    return qd


cdef int add_order(Ctx* c, Order* orders, int k, int32_t col, int64_t q, int64_t price, double drift) noexcept nogil:
    cdef int64_t ap = abs64(price)
    cdef int64_t notional = mdt(abs64(q), ap)
    cdef int64_t mq
    if c.max_order_value > 0 and notional > c.max_order_value:
        if ap == 0:
            return k
        mq = muldiv_micro(c.max_order_value, ap) // c.step * c.step
        if mq > abs64(q):
            mq = abs64(q)
        if mq == 0:
            return k
        q = mq if q > 0 else -mq
        notional = mdt(mq, ap)
    if c.min_order_value > 0 and notional < c.min_order_value:
        return k
    orders[k].col = col
    orders[k].qty = q
    orders[k].price = price
    orders[k].drift = drift
    orders[k].notional = notional
    orders[k].seq = k
    return k + 1


cdef int cmp_orders(const void* a, const void* b) noexcept nogil:
    cdef const Order* x = <const Order*>a
    cdef const Order* y = <const Order*>b
    # drift descending (NaN last), then symbol (column) ascending, then input order
    cdef bint xn = isnan(x.drift)
    cdef bint yn = isnan(y.drift)
    if xn != yn:
        return 1 if xn else -1
    if not xn:
        if x.drift > y.drift:
            return -1
        if x.drift < y.drift:
            return 1
    if x.col != y.col:
        return -1 if x.col < y.col else 1
    return -1 if x.seq < y.seq else (1 if x.seq > y.seq else 0)


cdef int apply_caps(Ctx* c, Order* orders, int k) noexcept nogil:
    cdef int i, m = 0
    cdef int64_t used = 0, remaining, mq, n, ap
    if c.max_trades < 0 and c.max_notional <= 0:
        return k
    qsort(orders, k, sizeof(Order), cmp_orders)
    for i in range(k):
        if c.max_trades >= 0 and m >= c.max_trades:
            break
        if c.max_notional > 0:
            remaining = c.max_notional - used
            if orders[i].notional > remaining:
                ap = abs64(orders[i].price)
                if ap == 0 or remaining <= 0:
                    mq = 0
                else:
                    mq = muldiv_micro(remaining, ap) // c.step * c.step
                if mq > abs64(orders[i].qty):
                    mq = abs64(orders[i].qty)
                if mq > 0:
                    n = mdt(mq, ap)
                    if not (c.min_order_value > 0 and n < c.min_order_value):
                        orders[m] = orders[i]
                        orders[m].qty = mq if orders[i].qty > 0 else -mq
                        orders[m].notional = n
                        m += 1
                break
            used += orders[i].notional
        orders[m] = orders[i]
        m += 1
    return m


ctypedef fused price_t:
    int64_t
    double


cdef inline int64_t pxc(price_t v, double scale) noexcept nogil:
    # a price in integer cents: int64 arrays are cents already (-1 = absent);
    # float arrays are converted as to_cents_2d does (NaN = absent = -1)
    if price_t is int64_t:
        return v
    else:
        if isnan(v):
            return -1
        return f2i(rnd(v * scale))


cdef inline double pxf(price_t v, double scale) noexcept nogil:
    # a price in float cents as given (no rounding): -1 = absent
    if price_t is int64_t:
        return <double>v
    else:
        if isnan(v):
            return -1.0
        return v * scale


cdef struct Tracker:
    int8_t on
    int8_t side
    int64_t entry
    int64_t reference
    int64_t last
    int64_t n        # changes recorded (capped at the ring size)
    int64_t head     # next write position in the ring


cdef inline int64_t stop_level(Tracker* tr, int64_t* ring, int64_t rsize, double fixed, double trailing,
                               double atr_m, int64_t period, int* reason) noexcept nogil:
    """The active stop level (0 = none) and its reason (0 fixed, 1 trailing, 2 atr),
    exactly as ``_listengine.stop_level``."""
    cdef double s = <double>tr.side
    cdef int64_t best = 0, lv, k, i, idx
    cdef int have = 0
    cdef double acc, atr
    if fixed > 0.0:
        lv = f2i(rnd(<double>tr.entry * (1.0 - s * fixed)))
        best = lv if lv > 1 else 1
        reason[0] = 0
        have = 1
    if trailing > 0.0:
        lv = f2i(rnd(<double>tr.reference * (1.0 - s * trailing)))
        lv = lv if lv > 1 else 1
        if not have or (tr.side > 0 and lv >= best) or (tr.side < 0 and lv < best):
            best = lv
            reason[0] = 1
        have = 1
    if atr_m > 0.0 and tr.n > 0:
        k = period if period < tr.n else tr.n
        acc = 0.0
        for i in range(k):  # oldest of the last k first, as the list engine sums
            idx = (tr.head - k + i) % rsize
            if idx < 0:
                idx += rsize
            acc += <double>ring[idx]
        atr = acc / <double>k
        lv = f2i(rnd(<double>tr.reference - s * atr_m * atr))
        lv = lv if lv > 1 else 1
        if not have or (tr.side > 0 and lv >= best) or (tr.side < 0 and lv < best):
            best = lv
            reason[0] = 2
        have = 1
    return best if have else 0


cdef struct SkipBuf:
    int64_t* data   # triples (period, column, code)
    Py_ssize_t n
    Py_ssize_t cap


cdef inline int skip_add(SkipBuf* sb, Py_ssize_t t, Py_ssize_t j, int code) noexcept nogil:
    # append one skipped target; -1 when out of memory
    cdef int64_t* nd
    cdef Py_ssize_t nc
    if sb.n == sb.cap:
        nc = 64 if sb.cap == 0 else 2 * sb.cap
        nd = <int64_t*>realloc(sb.data, 3 * nc * sizeof(int64_t))
        if nd == NULL:
            return -1
        sb.data = nd
        sb.cap = nc
    sb.data[3 * sb.n] = t
    sb.data[3 * sb.n + 1] = j
    sb.data[3 * sb.n + 2] = code
    sb.n += 1
    return 0


cdef object skip_array(SkipBuf* sb):
    # the skipped targets as an (n, 3) int64 array (period, column, code); frees the buffer
    out = np.empty((sb.n, 3), dtype=np.int64)
    cdef int64_t[:, ::1] o = out
    cdef Py_ssize_t i
    for i in range(sb.n):
        o[i, 0] = sb.data[3 * i]
        o[i, 1] = sb.data[3 * i + 1]
        o[i, 2] = sb.data[3 * i + 2]
    free(sb.data)
    sb.data = NULL
    sb.n = sb.cap = 0
    return out


def run_dense(
    const double[:, :] W,
    const int32_t[:, ::1] order,
    const int32_t[::1] order_len,
    const uint8_t[::1] active,
    const price_t[:, :] close,
    const price_t[:, :] fill,
    const uint8_t[::1] has_fill,
    Py_ssize_t fill_shift,
    double close_scale,
    double fill_scale,
    int64_t initial_cash,
    double commission_bps,
    double slippage_bps,
    int64_t min_commission,
    int64_t step,
    int64_t min_order_value,
    int64_t max_order_value,
    double band,
    int64_t max_trades,
    object day_ord,
    object month_ord,
    int64_t per_day,
    int64_t per_month,
    int64_t value_month,
    bint budgets_active,
    double stop_fixed=0.0,
    double stop_trailing=0.0,
    double stop_atr_multiple=0.0,
    int64_t stop_atr_period=14,
    bint hold_unpriced=False,
):
    """Run the dense simulation (the integer convention; spec 5.2-5.3).

    ``W`` may have any strides (a DataFrame's F-ordered values are used as
    they are). ``close`` and ``fill`` are int64 cents (-1 = absent) or float
    currency (NaN = absent) converted on the fly with ``round(x * scale)``,
    so no cents copy of the prices is made; period ``t`` fills at row
    ``t + fill_shift`` of ``fill``. Stops (fixed / trailing / ATR, spec 5.3)
    run after each period's rebalance in ascending column order.

    A held symbol without a positive price is an error (the reference's
    rule) unless ``hold_unpriced``: then it is not traded and is valued at
    its last close (or, before its first close, its fill price). A target
    without a positive fill price is never traded; every such target is
    listed in ``skips`` as ``(period, column, code)``, code 0 = target not
    held, 1 = held position kept at its last price.

    Returns ``(equity[T+1], returns[T], holdings[T, N] (NaN = not held),
    skipped[T] (uint8), final_cash, error, stop_events, skips, overflow)``
    where ``error`` is None or ``(phase, period, column)`` for an unpriced
    holding (phase 0 = fill, 1 = close), ``stop_events`` a list of
    ``(period, column, trigger, exit, reason)`` (reason 0 fixed, 1 trailing,
    2 atr), ``overflow`` the first period whose arithmetic left the exact
    int64 range (-1 = none; the run stops there), then per period the
    notional filled and the commission paid (cents, float64).

    Cost: O(T * N) plus a sort of the orders in periods with trade caps.
    """
    cdef Py_ssize_t T = W.shape[0]
    cdef Py_ssize_t N = W.shape[1]
    cdef Py_ssize_t t, j, kk, r, tf
    cdef Ctx c
    c.commission_bps = commission_bps
    c.slippage_bps = slippage_bps
    c.min_commission = min_commission
    c.step = step
    c.min_order_value = min_order_value
    c.max_order_value = max_order_value
    c.band = band
    c.max_trades = max_trades
    c.max_notional = 0
    c.cash = initial_cash
    if close.shape[0] != T or close.shape[1] != N or fill.shape[1] != N:
        raise ValueError("close and fill must be (periods x symbols) like the weights")

    equity_np = np.empty(T + 1, dtype=np.int64)
    returns_np = np.empty(T, dtype=np.float64)
    hold_np = np.empty((T, N), dtype=np.float64)  # every cell written below (NaN = not held)
    skipped_np = np.zeros(T, dtype=np.uint8)
    cdef double ptrade = 0.0, pcost = 0.0
    cdef int64_t paid
    cdef int64_t[::1] equity = equity_np
    cdef double[::1] rets = returns_np
    cdef double[:, ::1] hold = hold_np
    cdef uint8_t[::1] skipped = skipped_np
    cdef int64_t[::1] dord
    cdef int64_t[::1] mord
    cdef bint has_day = day_ord is not None
    cdef bint has_month = month_ord is not None
    if has_day:
        dord = np.ascontiguousarray(day_ord, dtype=np.int64)
    if has_month:
        mord = np.ascontiguousarray(month_ord, dtype=np.int64)

    cdef bint stops_on = stop_fixed > 0.0 or stop_trailing > 0.0 or stop_atr_multiple > 0.0
    cdef int64_t rsize = stop_atr_period if stop_atr_period < T else T
    if rsize < 1:
        rsize = 1
    if not stops_on:
        rsize = 0
    events = []
    # the fill prices are the closes (same array, same row): convert each price once
    cdef bint fill_is_close = (fill_shift == 0 and close_scale == fill_scale and T > 0 and N > 0
                               and &fill[0, 0] == &close[0, 0] and fill.strides[0] == close.strides[0]
                               and fill.strides[1] == close.strides[1])

    cdef int64_t* qty = <int64_t*>malloc(N * sizeof(int64_t) + 8)
    cdef int64_t* mv = <int64_t*>malloc(N * sizeof(int64_t) + 8)
    cdef int64_t* fp = <int64_t*>malloc(N * sizeof(int64_t) + 8)
    cdef int64_t* last = <int64_t*>malloc(N * sizeof(int64_t) + 8)
    # this period's weights, read once from W (whose rows may be strided: a DataFrame's values are F-ordered)
    cdef double* wt = <double*>malloc(N * sizeof(double) + 8)
    # per period: notional filled, commission paid (cents); plain C buffers
    cdef double* flow = <double*>calloc(2 * T + 2, sizeof(double))
    cdef Order* orders = <Order*>malloc((2 * N + 1) * sizeof(Order))
    cdef Tracker* trk = <Tracker*>malloc(N * sizeof(Tracker) + 8)
    cdef int64_t* ring = <int64_t*>malloc(N * rsize * sizeof(int64_t) + 8)
    cdef SkipBuf sb
    sb.data = NULL
    sb.n = sb.cap = 0
    if (qty == NULL or orders == NULL or mv == NULL or fp == NULL or trk == NULL or ring == NULL or last == NULL
            or flow == NULL or wt == NULL):
        free(qty); free(mv); free(fp); free(orders); free(trk); free(ring); free(last); free(flow); free(wt)
        raise MemoryError()
    for j in range(N):
        qty[j] = 0
        last[j] = 0
        trk[j].on = 0

    cdef int64_t eq, prev = initial_cash, p, value, target, diff, q, aq, cp, level
    cdef double feq, w, drift
    cdef int k, m, err_phase = -1, reason = 0, nomem = 0
    cdef Py_ssize_t err_t = 0, err_j = 0, ovf_t = -1
    cdef int64_t day_used = 0, month_trades = 0, month_value = 0, cap, left, rem
    cdef int64_t last_day = 0, last_month = 0
    cdef bint first_day = True, first_month = True, fill_known
    cdef int64_t count, tot
    cdef int8_t side
    cdef bint multi_order = order.shape[0] > 1
    # the drift (|diff| / equity in bps) only matters for the band and the trade caps
    cdef bint need_drift = band > 0.0 or max_trades >= 0 or budgets_active
    cdef Tracker* tr
    equity[0] = initial_cash

    with nogil:
        ovf_reset()
        for t in range(T):
            fill_known = False
            ptrade = 0.0
            pcost = 0.0
            if budgets_active:
                if has_day and (first_day or dord[t] != last_day):
                    day_used = 0
                    last_day = dord[t]
                    first_day = False
                if has_month and (first_month or mord[t] != last_month):
                    month_trades = 0
                    month_value = 0
                    last_month = mord[t]
                    first_month = False
                cap = max_trades
                if per_day >= 0 and has_day:
                    left = per_day - day_used
                    if left < 0:
                        left = 0
                    cap = left if cap < 0 else (cap if cap < left else left)
                if per_month >= 0 and has_month:
                    left = per_month - month_trades
                    if left < 0:
                        left = 0
                    cap = left if cap < 0 else (cap if cap < left else left)
                c.max_notional = 0
                if value_month >= 0 and has_month:
                    rem = value_month - month_value
                    if rem <= 0:
                        cap = 0
                    else:
                        c.max_notional = rem
                c.max_trades = cap

            tf = t + fill_shift
            if has_fill[t] and active[t] and tf < fill.shape[0]:
                # fill prices, the unpriced check and the pre-trade equity in one pass
                eq = c.cash
                for j in range(N):
                    p = pxc(fill[tf, j], fill_scale)
                    fp[j] = p
                    wt[j] = W[t, j]
                    if qty[j] != 0:
                        if p > 0:
                            mv[j] = mdt(qty[j], p)  # reused by the planning below (qty is unchanged there)
                            eq = sat_add(eq, mv[j])
                        elif hold_unpriced:
                            eq = sat_add(eq, mdt(qty[j], last[j]))
                        elif err_phase < 0:
                            err_phase = 0
                            err_t = t
                            err_j = j
                if err_phase >= 0:
                    break
                fill_known = fill_is_close
                count = 0
                tot = 0
                if eq > 0:
                    feq = <double>eq
                    k = 0
                    # close loop: held, not a target, priced (any price)
                    for j in range(N):
                        if qty[j] != 0 and isnan(wt[j]):
                            p = fp[j]
                            if hold_unpriced and p <= 0:
                                if skip_add(&sb, t, j, 1) < 0:
                                    nomem = 1
                                continue
                            if p < 0:
                                continue
                            value = mv[j] if p > 0 else 0
                            drift = <double>abs64(value) / feq * 10000.0 if need_drift else 0.0
                            if band > 0.0 and drift <= band:
                                continue
                            k = add_order(&c, orders, k, <int32_t>j, -qty[j], p, drift)
                    r = t if multi_order else 0
                    for kk in range(order_len[r]):
                        j = order[r, kk]
                        w = wt[j]
                        if isnan(w):
                            continue
                        p = fp[j]
                        if p <= 0:
                            if skip_add(&sb, t, j, 1 if qty[j] != 0 else 0) < 0:
                                nomem = 1
                            continue
                        value = mv[j] if qty[j] != 0 else 0
                        target = f2i(feq * w)
                        diff = sat_sub(target, value)
                        drift = <double>abs64(diff) / feq * 10000.0 if need_drift else 0.0
                        if band > 0.0 and drift <= band:
                            continue
                        aq = floor_step(muldiv_micro(abs64(diff), p), step)
                        if aq == 0:
                            continue
                        k = add_order(&c, orders, k, <int32_t>j, aq if diff > 0 else -aq, p, drift)
                    m = apply_caps(&c, orders, k)
                    count = m
                    if budgets_active:
                        for kk in range(m):
                            tot = sat_add(tot, orders[kk].notional)
                    for kk in range(m):
                        paid = execute_fill(&c, qty, orders[kk].col, orders[kk].qty, orders[kk].price)
                        if paid >= 0:
                            ptrade += <double>c.last_notional
                            pcost += <double>paid
                        if last[orders[kk].col] <= 0:
                            last[orders[kk].col] = orders[kk].price
                if budgets_active:
                    day_used += count
                    month_trades += count
                    month_value += tot
            else:
                if not has_fill[t]:
                    skipped[t] = 1

            if stops_on:
                # spec 5.3, ascending symbol order; a tracker lives while its position does
                for j in range(N):
                    tr = &trk[j]
                    q = qty[j]
                    if q == 0:
                        tr.on = 0
                        continue
                    cp = fp[j] if fill_known else pxc(close[t, j], close_scale)
                    if cp <= 0:
                        continue
                    side = 1 if q > 0 else -1
                    if not tr.on or tr.side != side:
                        tr.on = 1
                        tr.side = side
                        tr.entry = cp
                        tr.reference = cp
                        tr.last = cp
                        tr.n = 0
                        tr.head = 0
                    else:
                        ring[j * rsize + tr.head] = abs64(cp - tr.last)
                        tr.head = (tr.head + 1) % rsize
                        if tr.n < rsize:
                            tr.n += 1
                        tr.last = cp
                        if side > 0:
                            if cp > tr.reference:
                                tr.reference = cp
                        elif cp < tr.reference:
                            tr.reference = cp
                    level = stop_level(tr, &ring[j * rsize], rsize, stop_fixed, stop_trailing,
                                       stop_atr_multiple, stop_atr_period, &reason)
                    if level == 0:
                        continue
                    if (side > 0 and cp <= level) or (side < 0 and cp >= level):
                        paid = execute_fill(&c, qty, <int32_t>j, -q, cp)
                        if paid >= 0:
                            ptrade += <double>c.last_notional
                            pcost += <double>paid
                        tr.on = 0
                        with gil:
                            events.append((t, j, level, cp, reason))

            # unpriced check at the close (ascending symbols), then valuation
            eq = c.cash
            for j in range(N):
                if qty[j] != 0:
                    cp = fp[j] if fill_known else pxc(close[t, j], close_scale)
                    if cp <= 0:
                        if not hold_unpriced:
                            err_phase = 1
                            err_t = t
                            err_j = j
                            break
                        cp = last[j]
                    else:
                        last[j] = cp
                    mv[j] = mdt(qty[j], cp)
                    eq = sat_add(eq, mv[j])
                else:
                    last[j] = 0  # a later position starts from its own fill price
            if err_phase >= 0:
                break  # (the caller raises: rows from here on are never read)
            if prev > 0:
                rets[t] = <double>(<i128>eq - <i128>prev) / <double>prev
            else:
                rets[t] = 0.0
            equity[t + 1] = eq
            flow[2 * t] = ptrade
            flow[2 * t + 1] = pcost
            prev = eq
            feq = <double>eq
            for j in range(N):
                hold[t, j] = <double>mv[j] / feq if (qty[j] != 0 and eq != 0) else NAN
            if ovf_get() or nomem:
                ovf_t = t
                break

    final_cash = c.cash
    free(qty); free(mv); free(fp); free(orders); free(trk); free(ring); free(last); free(wt)
    flow_np = np.empty((T, 2), dtype=np.float64)
    cdef double[:, ::1] fv = flow_np
    for t in range(T):
        fv[t, 0] = flow[2 * t]
        fv[t, 1] = flow[2 * t + 1]
    free(flow)
    skips = skip_array(&sb)
    if nomem:
        raise MemoryError()
    err = None if err_phase < 0 else (err_phase, err_t, err_j)
    return equity_np, returns_np, hold_np, skipped_np, final_cash, err, events, skips, ovf_t, flow_np[:, 0].copy(), flow_np[:, 1].copy()


def to_cents_2d(const double[:, :] x, double scale=100.0):
    """``round_half_away(x * scale)`` as int64 in one pass; NaN -> -1 (absent).

    Values beyond the i64 range saturate (they are rejected later as invalid
    only if negative; a huge positive price stays huge).
    """
    cdef Py_ssize_t T = x.shape[0], N = x.shape[1], i, j
    out_np = np.empty((T, N), dtype=np.int64)
    cdef int64_t[:, ::1] out = out_np
    cdef double v
    with nogil:
        for i in range(T):
            for j in range(N):
                v = x[i, j]
                if isnan(v):
                    out[i, j] = -1
                else:
                    out[i, j] = f2i(rnd(v * scale))
    return out_np


cdef struct BuyKey:
    double ov
    int32_t pos
    int32_t col


cdef int cmp_buys(const void* a, const void* b) noexcept nogil:
    # ascending order value, stable (position in the candidate list)
    cdef const BuyKey* x = <const BuyKey*>a
    cdef const BuyKey* y = <const BuyKey*>b
    if x.ov < y.ov:
        return -1
    if x.ov > y.ov:
        return 1
    return -1 if x.pos < y.pos else (1 if x.pos > y.pos else 0)


def run_float(
    const double[:, :] W,
    const int32_t[::1] order,
    const uint8_t[::1] active,
    const price_t[:, :] close,
    const price_t[:, :] fill,
    const uint8_t[::1] has_fill,
    Py_ssize_t fill_shift,
    double close_scale,
    double fill_scale,
    double cash0,
    double commission_bps,
    double slippage_bps,
    double min_commission,
    bint cash_limited,
    bint hold_unpriced=False,
):
    """The float conventions (``fractional``, ``cash_limited``) in C.

    Prices are used as given: float currency times ``scale`` (float cents),
    never rounded; int64 arrays are cents. Same rules and, up to summation
    order, the same arithmetic as the numpy transcription in
    ``nanobook.portfolio.conventions`` (its test oracle). ``order`` lists
    the weights' columns in their given order. ``hold_unpriced`` and the
    skipped targets as in :func:`run_dense`. Returns ``(equity[T+1],
    returns[T], holdings[T, N] (NaN = not held), skipped[T], final_cash,
    error, skips, traded[T], costs[T])``.
    """
    cdef Py_ssize_t T = W.shape[0]
    cdef Py_ssize_t N = W.shape[1]
    cdef Py_ssize_t n_order = order.shape[0]
    cdef Py_ssize_t t, j, kk
    cdef double c = commission_bps / 10000.0
    cdef double s = slippage_bps / 10000.0
    cdef double mc = min_commission
    cdef double cash = cash0, prev = cash0, E, p, w, tgt, u, pe, val, fee, need, q, v, tot_val, tot_fee
    cdef int err_phase = -1
    cdef Py_ssize_t err_t = 0, err_j = 0
    cdef int nb

    equity_np = np.empty(T + 1, dtype=np.float64)
    returns_np = np.empty(T, dtype=np.float64)
    hold_np = np.full((T, N), np.nan, dtype=np.float64)
    skipped_np = np.zeros(T, dtype=np.uint8)
    traded_np = np.zeros(T, dtype=np.float64)
    costs_np = np.zeros(T, dtype=np.float64)
    cdef double[::1] traded = traded_np
    cdef double[::1] costs = costs_np
    cdef double ptrade, pcost
    cdef double[::1] equity = equity_np
    cdef double[::1] rets = returns_np
    cdef double[:, ::1] hold = hold_np
    cdef uint8_t[::1] skipped = skipped_np

    cdef double* h = <double*>malloc(N * sizeof(double) + 8)
    cdef double* uu = <double*>malloc(N * sizeof(double) + 8)
    cdef double* mv = <double*>malloc(N * sizeof(double) + 8)
    cdef double* fpx = <double*>malloc(N * sizeof(double) + 8)
    cdef double* last = <double*>malloc(N * sizeof(double) + 8)
    cdef Py_ssize_t tf
    cdef double cpf
    cdef int nomem = 0
    cdef SkipBuf sb
    sb.data = NULL
    sb.n = sb.cap = 0
    cdef uint8_t* in_order = <uint8_t*>malloc(N + 8)
    cdef BuyKey* buys = <BuyKey*>malloc((N + 1) * sizeof(BuyKey))
    if h == NULL or uu == NULL or mv == NULL or in_order == NULL or buys == NULL or fpx == NULL or last == NULL:
        free(h); free(uu); free(mv); free(in_order); free(buys); free(fpx); free(last)
        raise MemoryError()
    for j in range(N):
        h[j] = 0.0
        last[j] = 0.0
        in_order[j] = 0
    for kk in range(n_order):
        in_order[order[kk]] = 1
    equity[0] = cash0

    with nogil:
        for t in range(T):
            tf = t + fill_shift
            if has_fill[t] and active[t] and tf < fill.shape[0]:
                E = cash
                for j in range(N):
                    p = pxf(fill[tf, j], fill_scale)
                    fpx[j] = p
                    if h[j] != 0.0:
                        if p > 0.0:
                            E += h[j] * p
                        elif hold_unpriced:
                            E += h[j] * last[j]
                        elif err_phase < 0:
                            err_phase = 0
                            err_t = t
                            err_j = j
                if err_phase >= 0:
                    break
                if E > 0.0:
                    tot_val = 0.0
                    tot_fee = 0.0
                    ptrade = 0.0
                    for j in range(N):
                        uu[j] = 0.0
                        p = fpx[j]
                        w = W[t, j]
                        if p > 0.0 and last[j] <= 0.0:
                            last[j] = p  # a new position's price until its first close
                        if p <= 0.0:
                            if (h[j] != 0.0 or not isnan(w)) and skip_add(&sb, t, j, 1 if h[j] != 0.0 else 0) < 0:
                                nomem = 1
                            continue
                        tgt = 0.0 if isnan(w) else w * E / p
                        u = tgt - h[j]
                        uu[j] = u
                        if u == 0.0:
                            continue
                        if cash_limited:
                            if u < 0.0:  # sells first, all of them
                                pe = p * (1.0 - s)
                                val = u * pe
                                fee = fabs(val) * c
                                if fee < mc:
                                    fee = mc
                                tot_val += val
                                tot_fee += fee
                                ptrade += fabs(val)
                                h[j] += u  # as vectorbt: position + size
                        else:
                            pe = p * (1.0 + s) if u > 0.0 else p * (1.0 - s)
                            val = u * pe
                            fee = fabs(val) * c
                            if fee < mc:
                                fee = mc
                            tot_val += val
                            tot_fee += fee
                            ptrade += fabs(val)
                            h[j] = tgt
                    cash -= tot_val + tot_fee
                    pcost = tot_fee
                    if cash_limited:
                        # buys by ascending order value w * E - h * p, stable in
                        # the weights' column order (then any other column)
                        nb = 0
                        for kk in range(n_order + N):
                            if kk < n_order:
                                j = order[kk]
                            else:
                                j = kk - n_order
                                if in_order[j]:
                                    continue
                            if uu[j] > 0.0:
                                w = W[t, j]
                                p = fpx[j]
                                buys[nb].ov = (0.0 if isnan(w) else w * E) - h[j] * p
                                buys[nb].pos = nb
                                buys[nb].col = <int32_t>j
                                nb += 1
                        if nb > 1:
                            qsort(buys, nb, sizeof(BuyKey), cmp_buys)
                        for kk in range(nb):
                            j = buys[kk].col
                            pe = fpx[j] * (1.0 + s)
                            val = uu[j] * pe
                            fee = fabs(val) * c
                            if fee < mc:
                                fee = mc
                            need = val + fee
                            if need <= cash:
                                cash -= need
                                h[j] += uu[j]
                                ptrade += val
                                pcost += fee
                            else:
                                # largest affordable fraction, commission included
                                q = (cash if cash > 0.0 else 0.0) / (pe * (1.0 + c)) if pe > 0.0 else 0.0
                                if q > 0.0 and q * pe * c < mc:
                                    q = cash - mc
                                    q = (q if q > 0.0 else 0.0) / pe
                                if q > 0.0:
                                    v = q * pe
                                    fee = v * c
                                    if fee < mc:
                                        fee = mc
                                    cash -= v + fee
                                    h[j] += q
                                    ptrade += v
                                    pcost += fee
                                break
                    traded[t] = ptrade
                    costs[t] = pcost
            elif not has_fill[t]:
                skipped[t] = 1

            E = cash
            for j in range(N):
                if h[j] != 0.0:
                    cpf = pxf(close[t, j], close_scale)
                    if cpf <= 0.0:
                        if not hold_unpriced:
                            err_phase = 1
                            err_t = t
                            err_j = j
                            break
                        cpf = last[j]
                    else:
                        last[j] = cpf
                    mv[j] = h[j] * cpf
                    E += mv[j]
                else:
                    last[j] = 0.0
            if err_phase >= 0 or nomem:
                break
            rets[t] = (E - prev) / prev if prev > 0.0 else 0.0
            equity[t + 1] = E
            prev = E
            if E != 0.0:
                for j in range(N):
                    if h[j] != 0.0:
                        hold[t, j] = mv[j] / E

    final_cash = cash
    free(h); free(uu); free(mv); free(in_order); free(buys); free(fpx); free(last)
    skips = skip_array(&sb)
    if nomem:
        raise MemoryError()
    err = None if err_phase < 0 else (err_phase, err_t, err_j)
    return equity_np, returns_np, hold_np, skipped_np, final_cash, err, skips, traded_np, costs_np


cdef inline void _first(Py_ssize_t* bt, Py_ssize_t* bj, Py_ssize_t t, Py_ssize_t j) noexcept nogil:
    # keep the first (row-major) position seen
    if bt[0] < 0 or t < bt[0] or (t == bt[0] and j < bj[0]):
        bt[0] = t
        bj[0] = j


def scan_weights(const double[:, :] W):
    """One pass over a weights panel (any strides, memory order).

    Returns ``(active[T] (uint8: the row has a non-NaN weight), t, j)`` where
    ``(t, j)`` is the first (row-major) infinite weight, or ``(-1, -1)``.
    """
    cdef Py_ssize_t T = W.shape[0], N = W.shape[1], t, j
    cdef Py_ssize_t bt = -1, bj = -1
    cdef double v
    active_np = np.zeros(T, dtype=np.uint8)
    cdef uint8_t[::1] active = active_np
    cdef bint colmajor = W.strides[0] < W.strides[1]
    with nogil:
        if colmajor:
            for j in range(N):
                for t in range(T):
                    v = W[t, j]
                    if not isnan(v):
                        active[t] = 1
                        if isinf(v):
                            _first(&bt, &bj, t, j)
        else:
            for t in range(T):
                for j in range(N):
                    v = W[t, j]
                    if not isnan(v):
                        active[t] = 1
                        if isinf(v):
                            _first(&bt, &bj, t, j)
    return active_np, bt, bj


cdef struct PriceScan:
    Py_ssize_t nt, nj, it, ij, lt, lj, off
    double worst


cdef inline void scan_one(PriceScan* ps, uint8_t* has, double v, Py_ssize_t t, Py_ssize_t j, double scale,
                          double limit, bint check_grid) noexcept nogil:
    cdef double y, d
    if v >= 0.0 and v <= limit:  # the common case (NaN fails both tests)
        has[t] = 1
        if check_grid:  # here y <= limit * scale < 2**63: (int64)(y + 0.5) rounds half up
            y = v * scale
            d = fabs(y - <double>(<int64_t>(y + 0.5)))
            if d > 1e-9 * (1.0 + y):
                ps.off += 1
                if d / y > ps.worst:
                    ps.worst = d / y
        return
    if isnan(v):
        return
    has[t] = 1
    if v < 0.0:
        _first(&ps.nt, &ps.nj, t, j)
    elif isinf(v):
        _first(&ps.it, &ps.ij, t, j)
    else:
        _first(&ps.lt, &ps.lj, t, j)


def scan_prices(const double[:, :] x, double scale, double limit, bint check_grid):
    """One pass over a price panel in currency (any strides, memory order).

    Returns ``(has[T] (uint8: the row has a price), negative, infinite,
    too_large, n_off_grid, max_change)``: the first (row-major) ``(t, j)`` of
    a negative price, an infinite one and one above ``limit`` (each
    ``(-1, -1)`` when none), and with ``check_grid`` the number of prices
    that ``round(x * scale)`` changes (beyond float noise) and the largest
    relative change it makes.
    """
    cdef Py_ssize_t T = x.shape[0], N = x.shape[1], t, j
    cdef PriceScan ps
    ps.nt = ps.nj = ps.it = ps.ij = ps.lt = ps.lj = -1
    ps.off = 0
    ps.worst = 0.0
    has_np = np.zeros(T, dtype=np.uint8)
    cdef uint8_t[::1] has = has_np
    cdef uint8_t* hp = &has[0] if T > 0 else NULL
    with nogil:
        if x.strides[0] < x.strides[1]:
            for j in range(N):
                for t in range(T):
                    scan_one(&ps, hp, x[t, j], t, j, scale, limit, check_grid)
        else:
            for t in range(T):
                for j in range(N):
                    scan_one(&ps, hp, x[t, j], t, j, scale, limit, check_grid)
    return has_np, (ps.nt, ps.nj), (ps.it, ps.ij), (ps.lt, ps.lj), ps.off, ps.worst
