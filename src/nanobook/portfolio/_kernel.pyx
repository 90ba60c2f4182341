# cython: language_level=3, cdivision=True
# (cdivision is relied upon: // on C integers truncates toward zero here)
"""Dense backtest kernel: the per-period loop of ``backtest_weights`` over
(periods x symbols) arrays, with the reference's exact integer rules.

Columns are symbols in ascending order, so "ascending symbol order" is column
order. Absent prices are -1 (valid prices are >= 0). Weights are NaN where a
symbol is not a target. Integer products use 128-bit intermediates and
saturate to the i64 range, exactly as ``nanobook.portfolio._arith``.

Interface: :func:`run_dense` takes the layout (``_layout.DenseInputs``) and
one :class:`IntegerRules`; :func:`run_float` the layout and one
:class:`FloatRules`; both return a :class:`KernelRun`. Each period of
``run_dense`` is a sequence of steps, one inline function each (open the
budgets, price the fills, plan the orders, cap and execute them, stops,
value at the close, record), in the order ``docs/portfolio.md`` gives.

This kernel covers every option, stops included; the Python list engine is
its oracle and the conformance corpus runs through both.
"""
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, INT64_MAX, INT64_MIN
from libc.math cimport round as c_round, isnan, isinf, fabs, NAN
from libc.stdlib cimport malloc, free, qsort

from nanobook._buffer cimport Buf, buf_free, buf_init, buf_push
from nanobook._types cimport cents_t, i128_t, micros_t, price_t

import numpy as np

cdef extern from *:
    """
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
    bint mul_ovf "nb_mul_ovf"(int64_t a, int64_t b, int64_t* r) noexcept nogil
    bint add_ovf "nb_add_ovf"(int64_t a, int64_t b, int64_t* r) noexcept nogil
    bint sub_ovf "nb_sub_ovf"(int64_t a, int64_t b, int64_t* r) noexcept nogil
    void ovf_set "nb_ovf_set"() noexcept nogil
    void ovf_reset "nb_ovf_reset"() noexcept nogil
    int ovf_get "nb_ovf_get"() noexcept nogil

cdef int64_t I64_MAX = INT64_MAX
cdef int64_t I64_MIN = INT64_MIN
cdef int64_t MICRO = 1000000


# ----------------------------------------------------------------------------- exact arithmetic
# Unit-free saturating i64 arithmetic (amounts, quantities and prices alike),
# named as its Python twin in ``_arith.py``.

cdef inline int64_t clamp128(i128_t x) noexcept nogil:
    # the reference saturates; we saturate too but flag it, and the caller
    # turns a flagged run into a ValueError (never a clamped number)
    if x > <i128_t>I64_MAX:
        ovf_set()
        return I64_MAX
    if x < <i128_t>I64_MIN:
        ovf_set()
        return I64_MIN
    return <int64_t>x


cdef inline cents_t mul_div_trunc(micros_t q, price_t p) noexcept nogil:
    # the value of q micro-shares at p: trunc(q * p / 1e6), exact, clamped (C
    # division truncates toward zero). 64-bit fast path when the product fits
    # (division by a constant is a multiply-shift); 128-bit otherwise.
    cdef int64_t r
    if not mul_ovf(q, p, &r):
        return r // 1000000
    return clamp128((<i128_t>q * <i128_t>p) / <i128_t>MICRO)


cdef inline micros_t micros_for(cents_t a, price_t p) noexcept nogil:
    # the micro-shares that amount a buys at p: trunc(a * 1e6 / p) for a >= 0, p > 0, clamped
    cdef int64_t r
    if not mul_ovf(a, MICRO, &r):
        return r // p
    return clamp128((<i128_t>a * <i128_t>MICRO) / <i128_t>p)


cdef inline i128_t floordiv_micro(i128_t x) noexcept nogil:
    # floor division by 1e6 (Python // semantics)
    cdef i128_t qd = x / <i128_t>MICRO
    if (x % <i128_t>MICRO) != 0 and x < 0:
        qd -= 1
    return qd


cdef inline cents_t mul_div_floor(micros_t q, price_t p) noexcept nogil:
    # floor(q * p / 1e6) (Python // semantics), clamped
    cdef int64_t r, d
    if not mul_ovf(q, p, &r):
        d = r // 1000000
        if r < 0 and d * 1000000 != r:
            d -= 1
        return d
    return clamp128(floordiv_micro(<i128_t>q * <i128_t>p))


cdef inline int64_t sat_add(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t r
    if not add_ovf(a, b, &r):
        return r
    return clamp128(<i128_t>a + <i128_t>b)


cdef inline int64_t sat_sub(int64_t a, int64_t b) noexcept nogil:
    cdef int64_t r
    if not sub_ovf(a, b, &r):
        return r
    return clamp128(<i128_t>a - <i128_t>b)


cdef inline int64_t f2i(double x) noexcept nogil:
    # a float to i64 as Rust's ``as``: NaN -> 0, saturating (flagged)
    if isnan(x):
        return 0
    if x >= 9.223372036854775807e18:
        ovf_set()
        return I64_MAX
    if x <= -9.223372036854775808e18:
        ovf_set()
        return I64_MIN
    return <int64_t>x


cdef inline double round_half_away(double x) noexcept nogil:
    # round half away from zero (C round) without the libm call in the common
    # case: for 0 <= x < 2**52, x - trunc(x) is exact
    cdef double t
    if x >= 0.0 and x < 4503599627370496.0:
        t = <double>(<int64_t>x)
        return t + 1.0 if x - t >= 0.5 else t
    return c_round(x)


cdef inline micros_t floor_step(micros_t a, micros_t step) noexcept nogil:
    # a // step * step for a >= 0; the usual steps divide by a constant (no idiv)
    if step == 1000000:
        return a // 1000000 * 1000000
    if step == 1:
        return a
    return a // step * step


cdef inline int64_t abs64(int64_t x) noexcept nogil:
    return -x if x < 0 else x


# ----------------------------------------------------------------------------- prices as given

ctypedef fused price_cell_t:
    # one cell of a caller's price panel: int64 cents (-1 = absent) or float
    # currency (NaN = absent), read in place (no cents copy of the panel)
    int64_t
    double


cdef inline price_t cell_cents(price_cell_t v, double scale) noexcept nogil:
    # a price in integer cents: int64 arrays are cents already (-1 = absent);
    # float arrays are converted as to_cents_2d does (NaN = absent = -1)
    if price_cell_t is int64_t:
        return v
    else:
        if isnan(v):
            return -1
        return f2i(round_half_away(v * scale))


cdef inline double cell_float_cents(price_cell_t v, double scale) noexcept nogil:
    # a price in float cents as given (no rounding): -1 = absent
    if price_cell_t is int64_t:
        return <double>v
    else:
        if isnan(v):
            return -1.0
        return v * scale


# ----------------------------------------------------------------------------- records of a run

cdef struct Skip:
    # a target that could not be traded (no positive fill price)
    int64_t period
    int64_t column
    int64_t code        # 0 = target not held, 1 = held position kept at its last price


cdef struct StopEvent:
    # a stop that closed a position at the close
    int64_t period
    int64_t column
    price_t trigger     # the stop level, cents
    price_t exit        # the close it executed at, cents
    int64_t reason      # 0 fixed, 1 trailing, 2 atr


cdef struct Unpriced:
    # the first held symbol without a positive price: phase -1 = none, 0 = at the fill, 1 = at the close
    int phase
    Py_ssize_t period
    Py_ssize_t column


cdef inline void unpriced_at(Unpriced* err, int phase, Py_ssize_t t, Py_ssize_t j) noexcept nogil:
    err.phase = phase
    err.period = t
    err.column = j


cdef struct Flow:
    # this period's notional filled and commission paid, cents
    double traded
    double costs


cdef int skip_add(Buf* skips, Py_ssize_t t, Py_ssize_t j, int64_t code) except -1 nogil:
    cdef Skip* s = <Skip*>buf_push(skips)
    s.period = t
    s.column = j
    s.code = code
    return 0


cdef object skip_array(Buf* skips):
    # the skipped targets as an (n, 3) int64 array (period, column, code)
    out = np.empty((skips.n, 3), dtype=np.int64)
    cdef int64_t[:, ::1] o = out
    cdef Skip* s = <Skip*>skips.data
    cdef size_t i
    for i in range(skips.n):
        o[i, 0] = s[i].period
        o[i, 1] = s[i].column
        o[i, 2] = s[i].code
    return out


cdef class KernelRun:
    """What one run of :func:`run_dense` or :func:`run_float` produced.

    ``equity`` (``T + 1`` values: int64 cents, or float64 cents for the float
    conventions), ``returns`` (float64, ``T``), ``holdings`` (float64
    ``T x N`` weights, NaN = not held), ``skipped`` (uint8 per period: no fill
    bar), ``final_cash`` (cents: int, or float for the float conventions),
    ``error`` (None or ``(phase, period, column)`` of an unpriced holding,
    phase 0 = fill, 1 = close), ``stop_events`` (list of ``(period, column,
    trigger, exit, reason)``, reason 0 fixed, 1 trailing, 2 atr),
    ``skips`` (int64 ``(n, 3)``: period, column, code 0 = target not held,
    1 = held position kept at its last price), ``overflow_period`` (the
    first period whose arithmetic left the exact int64 range, -1 = none; the
    run stops there), ``traded`` and ``costs`` (float64 per period: notional
    filled, commission paid, cents). Rows after an error or an overflow are
    never read.
    """

    cdef readonly object equity
    cdef readonly object returns
    cdef readonly object holdings
    cdef readonly object skipped
    cdef readonly object final_cash
    cdef readonly object error
    cdef readonly list stop_events
    cdef readonly object skips
    cdef readonly Py_ssize_t overflow_period
    cdef readonly object traded
    cdef readonly object costs


cdef KernelRun new_run(Py_ssize_t T, Py_ssize_t N, object equity_dtype, bint nan_holdings):
    # the output arrays of one run (the loop writes every holdings cell of a
    # period it completes; the float loop only the held ones, so NaN first)
    cdef KernelRun run = KernelRun.__new__(KernelRun)
    run.equity = np.empty(T + 1, dtype=equity_dtype)
    run.returns = np.empty(T, dtype=np.float64)
    run.holdings = np.full((T, N), np.nan) if nan_holdings else np.empty((T, N), dtype=np.float64)
    run.skipped = np.zeros(T, dtype=np.uint8)
    run.traded = np.zeros(T, dtype=np.float64)
    run.costs = np.zeros(T, dtype=np.float64)
    run.stop_events = []
    run.overflow_period = -1
    return run


cdef class _Layout:
    # a ``_layout.DenseInputs`` typed once for the kernels (the prices are
    # passed beside it, typed by their dtype)
    cdef const double[:, :] W               # weights, any strides; NaN = not a target
    cdef const int32_t[:, ::1] order        # the targets' column order: one row, or one per period
    cdef const int32_t[::1] order_len       # columns in use per row of ``order``
    cdef const uint8_t[::1] active          # the period rebalances (a row with a weight)
    cdef const uint8_t[::1] has_fill        # the period has a fill bar
    cdef Py_ssize_t fill_shift              # period t fills at row t + fill_shift of the fills
    cdef double close_scale                 # cents per unit of the closes (1 for int64 cents)
    cdef double fill_scale                  # cents per unit of the fills
    cdef Py_ssize_t T                       # periods
    cdef Py_ssize_t N                       # symbols


cdef _Layout layout_of(object inputs):
    cdef _Layout lay = _Layout.__new__(_Layout)
    lay.W = inputs.W
    lay.order = inputs.order
    lay.order_len = inputs.order_len
    lay.active = inputs.active
    lay.has_fill = inputs.has_fill
    lay.fill_shift = inputs.fill_shift
    lay.close_scale = inputs.close_scale
    lay.fill_scale = inputs.fill_scale
    lay.T = lay.W.shape[0]
    lay.N = lay.W.shape[1]
    return lay


cdef KernelRun run_layout(object inputs, object rules):
    """Type the layout and its prices (both int64 cents or both float
    currency), then run the kernel of ``rules``."""
    cdef _Layout lay = layout_of(inputs)
    cdef const int64_t[:, :] close_i
    cdef const int64_t[:, :] fill_i
    cdef const double[:, :] close_f
    cdef const double[:, :] fill_f
    if inputs.close.dtype == np.int64:
        close_i = inputs.close
        fill_i = inputs.fill
        if isinstance(rules, IntegerRules):
            return dense_run(lay, close_i, fill_i, <IntegerRules>rules)
        return float_run(lay, close_i, fill_i, <FloatRules>rules)
    close_f = inputs.close
    fill_f = inputs.fill
    if isinstance(rules, IntegerRules):
        return dense_run(lay, close_f, fill_f, <IntegerRules>rules)
    return float_run(lay, close_f, fill_f, <FloatRules>rules)


# ----------------------------------------------------------------------------- the integer convention

cdef class IntegerRules:
    """The settings of one integer-convention run (every field read-only).

    Money in cents, quantities in micro-shares. ``quantity_step`` > 0;
    ``min_order_value`` / ``max_order_value`` 0 = none; ``max_trades`` -1 =
    no cap per rebalance; the budgets (``max_trades_per_day``,
    ``max_trades_per_month``, ``max_traded_value_per_month``, -1 = none) count
    over the periods' ``day_ordinals`` / ``month_ordinals`` (int64 per
    period, or None) and apply when ``budgets_active``; the stops
    (``stop_fixed``, ``stop_trailing`` fractions, ``stop_atr_multiple``, 0 =
    off) as ``docs/portfolio.md`` states them; ``hold_unpriced`` keeps a held
    position without a price at its last one instead of failing.
    """

    cdef readonly cents_t initial_cash
    cdef readonly double commission_bps
    cdef readonly double slippage_bps
    cdef readonly cents_t min_commission
    cdef readonly micros_t quantity_step
    cdef readonly cents_t min_order_value
    cdef readonly cents_t max_order_value
    cdef readonly double no_trade_band_bps
    cdef readonly int64_t max_trades
    cdef readonly object day_ordinals
    cdef readonly object month_ordinals
    cdef readonly int64_t max_trades_per_day
    cdef readonly int64_t max_trades_per_month
    cdef readonly cents_t max_traded_value_per_month
    cdef readonly bint budgets_active
    cdef readonly double stop_fixed
    cdef readonly double stop_trailing
    cdef readonly double stop_atr_multiple
    cdef readonly int64_t stop_atr_period
    cdef readonly bint hold_unpriced

    def __init__(self, *, cents_t initial_cash, double commission_bps=0.0, double slippage_bps=0.0,
                 cents_t min_commission=0, micros_t quantity_step=1000000, cents_t min_order_value=0,
                 cents_t max_order_value=0, double no_trade_band_bps=0.0, int64_t max_trades=-1,
                 object day_ordinals=None, object month_ordinals=None, int64_t max_trades_per_day=-1,
                 int64_t max_trades_per_month=-1, cents_t max_traded_value_per_month=-1,
                 bint budgets_active=False, double stop_fixed=0.0, double stop_trailing=0.0,
                 double stop_atr_multiple=0.0, int64_t stop_atr_period=14, bint hold_unpriced=False):
        self.initial_cash = initial_cash
        self.commission_bps = commission_bps
        self.slippage_bps = slippage_bps
        self.min_commission = min_commission
        self.quantity_step = quantity_step
        self.min_order_value = min_order_value
        self.max_order_value = max_order_value
        self.no_trade_band_bps = no_trade_band_bps
        self.max_trades = max_trades
        self.max_trades_per_day = max_trades_per_day
        self.max_trades_per_month = max_trades_per_month
        self.max_traded_value_per_month = max_traded_value_per_month
        self.budgets_active = budgets_active
        self.stop_fixed = stop_fixed
        self.stop_trailing = stop_trailing
        self.stop_atr_multiple = stop_atr_multiple
        self.stop_atr_period = stop_atr_period
        self.hold_unpriced = hold_unpriced
        self.day_ordinals = None if day_ordinals is None else np.ascontiguousarray(day_ordinals, dtype=np.int64)
        self.month_ordinals = None if month_ordinals is None else np.ascontiguousarray(month_ordinals, dtype=np.int64)


cdef struct Account:
    # the cash, the cost model and the order rules one rebalance applies
    double commission_bps
    double slippage_bps
    cents_t min_commission
    micros_t step
    cents_t min_order_value     # 0 = none
    cents_t max_order_value     # 0 = none
    double band                 # no-trade band, bps of equity; 0 = none
    int64_t max_trades          # this rebalance's cap after the budgets; -1 = no cap
    cents_t max_notional        # this rebalance's notional budget; 0 = none
    cents_t cash
    cents_t last_notional       # notional of the last executed fill


cdef struct Order:
    int32_t col
    micros_t qty                # signed
    price_t price
    double drift                # |value change| / equity, bps (NaN sorts last)
    cents_t notional
    int32_t seq                 # planning order (the caps' last tie-break)


cdef inline cents_t cost_of(Account* a, cents_t n) noexcept nogil:
    cdef cents_t v = f2i(round_half_away(<double>abs64(n) * a.commission_bps / 10000.0))
    return v if v > a.min_commission else a.min_commission


cdef cents_t execute_fill(Account* a, micros_t* qty, int32_t col, micros_t q, price_t price) noexcept nogil:
    # returns the commission paid (its notional in a.last_notional), or -1 when nothing was executed
    cdef double sign = 1.0 if q > 0 else -1.0
    cdef price_t e = price if a.slippage_bps == 0.0 else f2i(round_half_away(<double>price * (1.0 + sign * a.slippage_bps / 10000.0)))
    cdef cents_t cash = a.cash
    cdef cents_t n, notional, cost, delta
    cdef bint known = False
    if q > 0:
        n = mul_div_floor(q, e)
        cost = cost_of(a, n)
        if <i128_t>n + <i128_t>cost > <i128_t>cash:
            if cash <= 0:
                return -1
            q = trim_buy(a, q, e, cash)
            if q == 0:
                return -1
        elif e >= 0:
            # q > 0, e >= 0: floor, trunc and |.| agree, so notional = delta = n
            notional = n
            delta = n
            known = True
    if not known:
        notional = mul_div_trunc(abs64(q), abs64(e))
        cost = cost_of(a, notional)
        delta = -notional if (q < 0 and e >= 0) else mul_div_trunc(q, e)
    if q < 0 and <i128_t>cash - (<i128_t>delta + <i128_t>cost) < 0:
        return -1
    qty[col] = sat_add(qty[col], q)
    a.cash = sat_sub(cash, sat_add(delta, cost))  # (delta + cost overflowing flags the run anyway)
    a.last_notional = notional
    return cost


cdef inline bint fits(Account* a, int64_t k, price_t e, cents_t cash) noexcept nogil:
    # k steps at e, commission included, cost at most cash
    cdef cents_t nn
    if k == 0:
        return True
    nn = mul_div_floor(k * a.step, e)
    return <i128_t>nn + <i128_t>cost_of(a, nn) <= <i128_t>cash


cdef micros_t trim_buy(Account* a, micros_t q, price_t e, cents_t cash) noexcept nogil:
    """Largest multiple of the step (<= q) whose cash requirement fits.

    The requirement is monotone in the quantity, so the answer is unique;
    we start from an estimate, gallop to bracket it and finish by bisection.
    """
    cdef int64_t hi = q // a.step, k0, lo, upper, d, nxt, mid
    cdef double est
    if e <= 0:
        est = <double>hi
    else:
        est = (<double>cash / (<double>e * (1.0 + a.commission_bps / 10000.0))) * 1e6 / <double>a.step
    if not (est >= 0.0):
        est = 0.0
    k0 = hi if est >= <double>hi else <int64_t>est
    if fits(a, k0, e, cash):
        lo = k0
        upper = hi
        d = 1
        while True:
            nxt = k0 + d
            if nxt > hi:
                break
            if fits(a, nxt, e, cash):
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
            if fits(a, nxt, e, cash):
                lo = nxt
                break
            upper = nxt - 1
            d *= 2
    while lo < upper:
        mid = lo + (upper - lo + 1) // 2
        if fits(a, mid, e, cash):
            lo = mid
        else:
            upper = mid - 1
    return lo * a.step


cdef int add_order(Account* a, Order* orders, int k, int32_t col, micros_t q, price_t price, double drift) noexcept nogil:
    # append one order after the per-order limits; returns the new count
    cdef price_t ap = abs64(price)
    cdef cents_t notional = mul_div_trunc(abs64(q), ap)
    cdef micros_t mq
    if a.max_order_value > 0 and notional > a.max_order_value:
        if ap == 0:
            return k
        mq = micros_for(a.max_order_value, ap) // a.step * a.step
        if mq > abs64(q):
            mq = abs64(q)
        if mq == 0:
            return k
        q = mq if q > 0 else -mq
        notional = mul_div_trunc(mq, ap)
    if a.min_order_value > 0 and notional < a.min_order_value:
        return k
    orders[k].col = col
    orders[k].qty = q
    orders[k].price = price
    orders[k].drift = drift
    orders[k].notional = notional
    orders[k].seq = k
    return k + 1


cdef int cmp_orders(const void* x_, const void* y_) noexcept nogil:
    cdef const Order* x = <const Order*>x_
    cdef const Order* y = <const Order*>y_
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


cdef int apply_caps(Account* a, Order* orders, int k) noexcept nogil:
    # the trade cap and the notional budget, largest drift first; returns the orders kept
    cdef int i, m = 0
    cdef cents_t used = 0, remaining, n
    cdef micros_t mq
    cdef price_t ap
    if a.max_trades < 0 and a.max_notional <= 0:
        return k
    qsort(orders, k, sizeof(Order), cmp_orders)
    for i in range(k):
        if a.max_trades >= 0 and m >= a.max_trades:
            break
        if a.max_notional > 0:
            remaining = a.max_notional - used
            if orders[i].notional > remaining:
                ap = abs64(orders[i].price)
                if ap == 0 or remaining <= 0:
                    mq = 0
                else:
                    mq = micros_for(remaining, ap) // a.step * a.step
                if mq > abs64(orders[i].qty):
                    mq = abs64(orders[i].qty)
                if mq > 0:
                    n = mul_div_trunc(mq, ap)
                    if not (a.min_order_value > 0 and n < a.min_order_value):
                        orders[m] = orders[i]
                        orders[m].qty = mq if orders[i].qty > 0 else -mq
                        orders[m].notional = n
                        m += 1
                break
            used += orders[i].notional
        orders[m] = orders[i]
        m += 1
    return m


cdef struct Budgets:
    # trade budgets per calendar day / month (the periods' ordinals)
    bint active
    const int64_t* day_ord      # NULL = no day ordinals
    const int64_t* month_ord    # NULL = no month ordinals
    int64_t max_trades          # the per-rebalance cap they tighten; -1 = none
    int64_t per_day             # -1 = none
    int64_t per_month           # -1 = none
    cents_t value_month         # -1 = none
    int64_t day_used
    int64_t month_trades
    cents_t month_value
    int64_t last_day
    int64_t last_month
    bint first_day
    bint first_month


cdef inline void budgets_open(Budgets* b, Account* a, Py_ssize_t t) noexcept nogil:
    """Step 1: start a new day / month when the ordinal changes; set this
    period's trade cap and notional budget on the account."""
    cdef int64_t cap, left
    cdef cents_t rem
    if b.day_ord != NULL and (b.first_day or b.day_ord[t] != b.last_day):
        b.day_used = 0
        b.last_day = b.day_ord[t]
        b.first_day = False
    if b.month_ord != NULL and (b.first_month or b.month_ord[t] != b.last_month):
        b.month_trades = 0
        b.month_value = 0
        b.last_month = b.month_ord[t]
        b.first_month = False
    cap = b.max_trades
    if b.per_day >= 0 and b.day_ord != NULL:
        left = b.per_day - b.day_used
        if left < 0:
            left = 0
        cap = left if cap < 0 else (cap if cap < left else left)
    if b.per_month >= 0 and b.month_ord != NULL:
        left = b.per_month - b.month_trades
        if left < 0:
            left = 0
        cap = left if cap < 0 else (cap if cap < left else left)
    a.max_notional = 0
    if b.value_month >= 0 and b.month_ord != NULL:
        rem = b.value_month - b.month_value
        if rem <= 0:
            cap = 0
        else:
            a.max_notional = rem
    a.max_trades = cap


cdef inline void budgets_spend(Budgets* b, int64_t count, cents_t notional) noexcept nogil:
    b.day_used += count
    b.month_trades += count
    b.month_value += notional


cdef struct Tracker:
    # the stop state of one held position
    int8_t on
    int8_t side
    price_t entry
    price_t reference           # best close since entry (highest long, lowest short)
    price_t last
    int64_t n                   # changes recorded (capped at the ring size)
    int64_t head                # next write position in the ring


cdef struct Stops:
    bint on
    double fixed
    double trailing
    double atr_multiple
    int64_t atr_period
    int64_t ring_size           # per symbol: the last |close changes| the ATR averages
    Tracker* trackers           # one per symbol
    price_t* ring               # ring_size per symbol


cdef inline price_t stop_level(Tracker* tr, price_t* ring, int64_t rsize, double fixed, double trailing,
                               double atr_m, int64_t period, int* reason) noexcept nogil:
    """The active stop level (0 = none) and its reason (0 fixed, 1 trailing, 2 atr),
    exactly as ``_listengine.stop_level``."""
    cdef double s = <double>tr.side
    cdef price_t best = 0, lv
    cdef int64_t k, i, idx
    cdef int have = 0
    cdef double acc, atr
    if fixed > 0.0:
        lv = f2i(round_half_away(<double>tr.entry * (1.0 - s * fixed)))
        best = lv if lv > 1 else 1
        reason[0] = 0
        have = 1
    if trailing > 0.0:
        lv = f2i(round_half_away(<double>tr.reference * (1.0 - s * trailing)))
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
        lv = f2i(round_half_away(<double>tr.reference - s * atr_m * atr))
        lv = lv if lv > 1 else 1
        if not have or (tr.side > 0 and lv >= best) or (tr.side < 0 and lv < best):
            best = lv
            reason[0] = 2
        have = 1
    return best if have else 0


cdef struct Book:
    # the per-symbol state of an integer run (N entries each)
    Py_ssize_t n
    micros_t* qty               # position
    cents_t* value              # market value at the last pricing (fill, then close)
    price_t* fill_px            # this period's fill price, -1 = none
    price_t* last_px            # last close (or first fill) of a held position; 0 = none
    double* weight              # this period's targets, read once from W (NaN = not a target)
    Order* orders               # room for one close and one target order per symbol


cdef int book_alloc(Book* bk, Stops* st, Py_ssize_t n) except -1:
    # every pointer is assigned before the check, so book_free is always safe afterwards
    bk.n = n
    bk.qty = <micros_t*>malloc(n * sizeof(micros_t) + 8)
    bk.value = <cents_t*>malloc(n * sizeof(cents_t) + 8)
    bk.fill_px = <price_t*>malloc(n * sizeof(price_t) + 8)
    bk.last_px = <price_t*>malloc(n * sizeof(price_t) + 8)
    bk.weight = <double*>malloc(n * sizeof(double) + 8)
    bk.orders = <Order*>malloc((2 * n + 1) * sizeof(Order))
    st.trackers = <Tracker*>malloc(n * sizeof(Tracker) + 8)
    st.ring = <price_t*>malloc(n * st.ring_size * sizeof(price_t) + 8)
    if (bk.qty == NULL or bk.value == NULL or bk.fill_px == NULL or bk.last_px == NULL or bk.weight == NULL
            or bk.orders == NULL or st.trackers == NULL or st.ring == NULL):
        raise MemoryError()
    cdef Py_ssize_t j
    for j in range(n):
        bk.qty[j] = 0
        bk.last_px[j] = 0
        st.trackers[j].on = 0
    return 0


cdef void book_free(Book* bk, Stops* st) noexcept:
    free(bk.qty); free(bk.value); free(bk.fill_px); free(bk.last_px); free(bk.weight); free(bk.orders)
    free(st.trackers); free(st.ring)
    bk.qty = bk.value = bk.fill_px = bk.last_px = NULL
    bk.weight = NULL
    bk.orders = NULL
    st.trackers = NULL
    st.ring = NULL


cdef inline cents_t price_fills(Book* bk, cents_t cash, const double[:, :] W, const price_cell_t[:, :] fill,
                                Py_ssize_t t, Py_ssize_t tf, double scale, bint hold_unpriced,
                                Unpriced* err) noexcept nogil:
    """Step 2: this period's fill prices and weights, the unpriced check and
    the pre-trade equity, in one pass (an unpriced holding sets ``err``)."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef micros_t* qty = bk.qty
    cdef cents_t* values = bk.value
    cdef price_t* fill_px = bk.fill_px
    cdef price_t* last_px = bk.last_px
    cdef double* weights = bk.weight
    cdef cents_t eq = cash
    cdef price_t p
    cdef Py_ssize_t j
    for j in range(bk.n):
        p = cell_cents(fill[tf, j], scale)
        fill_px[j] = p
        weights[j] = W[t, j]
        if qty[j] != 0:
            if p > 0:
                values[j] = mul_div_trunc(qty[j], p)  # reused by the planning (qty is unchanged there)
                eq = sat_add(eq, values[j])
            elif hold_unpriced:
                eq = sat_add(eq, mul_div_trunc(qty[j], last_px[j]))
            elif err.phase < 0:
                unpriced_at(err, 0, t, j)
    return eq


cdef inline int plan_orders(Book* bk, Account* a, cents_t eq, const int32_t[:, ::1] order,
                            const int32_t[::1] order_len, Py_ssize_t row, Py_ssize_t t, bint hold_unpriced,
                            bint need_drift, Buf* skips) except -1 nogil:
    """Step 3: the orders toward the targets (``eq`` > 0): first close the held
    symbols that are not targets (ascending), then each target in the row's
    order; a target without a fill price is listed in ``skips``. Returns the
    number of orders in ``bk.orders``."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef micros_t* qty = bk.qty
    cdef cents_t* values = bk.value
    cdef price_t* fill_px = bk.fill_px
    cdef double* weights = bk.weight
    cdef Order* orders = bk.orders
    cdef double band = a.band          # (the rules in locals: add_order may write *a)
    cdef micros_t step = a.step
    cdef double feq = <double>eq, w, drift
    cdef int k = 0
    cdef Py_ssize_t j, kk
    cdef price_t p
    cdef cents_t value, target, diff
    cdef micros_t aq
    for j in range(bk.n):  # held, not a target, priced (any price)
        if qty[j] != 0 and isnan(weights[j]):
            p = fill_px[j]
            if hold_unpriced and p <= 0:
                skip_add(skips, t, j, 1)
                continue
            if p < 0:
                continue
            value = values[j] if p > 0 else 0
            drift = <double>abs64(value) / feq * 10000.0 if need_drift else 0.0
            if band > 0.0 and drift <= band:
                continue
            k = add_order(a, orders, k, <int32_t>j, -qty[j], p, drift)
    for kk in range(order_len[row]):
        j = order[row, kk]
        w = weights[j]
        if isnan(w):
            continue
        p = fill_px[j]
        if p <= 0:
            skip_add(skips, t, j, 1 if qty[j] != 0 else 0)
            continue
        value = values[j] if qty[j] != 0 else 0
        target = f2i(feq * w)
        diff = sat_sub(target, value)
        drift = <double>abs64(diff) / feq * 10000.0 if need_drift else 0.0
        if band > 0.0 and drift <= band:
            continue
        aq = floor_step(micros_for(abs64(diff), p), step)
        if aq == 0:
            continue
        k = add_order(a, orders, k, <int32_t>j, aq if diff > 0 else -aq, p, drift)
    return k


cdef inline cents_t orders_notional(Book* bk, int m) noexcept nogil:
    # the arrays in locals (not reloaded from the struct after each store)
    cdef Order* orders = bk.orders
    cdef cents_t tot = 0
    cdef int kk
    for kk in range(m):
        tot = sat_add(tot, orders[kk].notional)
    return tot


cdef inline void execute_orders(Book* bk, Account* a, int m, Flow* flow) noexcept nogil:
    """Step 4 (after ``apply_caps``): fill the first ``m`` orders in turn; a new
    position's last price is its fill price until its first close."""
    # the period's flow in locals (execute_fill is a call: no reload of *flow per order)
    cdef double traded = flow.traded, costs = flow.costs
    # the arrays in locals (not reloaded from the struct after each store)
    cdef micros_t* qty = bk.qty
    cdef price_t* last_px = bk.last_px
    cdef Order* orders = bk.orders
    cdef int kk
    cdef cents_t paid
    cdef int32_t col
    for kk in range(m):
        col = orders[kk].col
        paid = execute_fill(a, qty, col, orders[kk].qty, orders[kk].price)
        if paid >= 0:
            traded += <double>a.last_notional
            costs += <double>paid
        if last_px[col] <= 0:
            last_px[col] = orders[kk].price
    flow.traded = traded
    flow.costs = costs


cdef inline int run_stops(Book* bk, Account* a, Stops* st, const price_cell_t[:, :] close, Py_ssize_t t,
                          double scale, bint fill_known, Buf* events, Flow* flow) except -1 nogil:
    """Step 5: the stops at the close, ascending symbol order; a tracker lives
    while its position does (the rules are in ``docs/portfolio.md``)."""
    # the period's flow in locals (execute_fill is a call: no reload of *flow per order)
    cdef double traded = flow.traded, costs = flow.costs
    # the arrays in locals (not reloaded from the struct after each store)
    cdef micros_t* qty = bk.qty
    cdef price_t* fill_px = bk.fill_px
    cdef Py_ssize_t j
    cdef Tracker* tr
    cdef micros_t q
    cdef price_t cp, level
    cdef int8_t side
    cdef int reason = 0
    cdef cents_t paid
    cdef StopEvent* ev
    cdef int64_t rsize = st.ring_size
    for j in range(bk.n):
        tr = &st.trackers[j]
        q = qty[j]
        if q == 0:
            tr.on = 0
            continue
        cp = fill_px[j] if fill_known else cell_cents(close[t, j], scale)
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
            st.ring[j * rsize + tr.head] = abs64(cp - tr.last)
            tr.head = (tr.head + 1) % rsize
            if tr.n < rsize:
                tr.n += 1
            tr.last = cp
            if side > 0:
                if cp > tr.reference:
                    tr.reference = cp
            elif cp < tr.reference:
                tr.reference = cp
        level = stop_level(tr, &st.ring[j * rsize], rsize, st.fixed, st.trailing, st.atr_multiple,
                           st.atr_period, &reason)
        if level == 0:
            continue
        if (side > 0 and cp <= level) or (side < 0 and cp >= level):
            paid = execute_fill(a, qty, <int32_t>j, -q, cp)
            if paid >= 0:
                traded += <double>a.last_notional
                costs += <double>paid
            tr.on = 0
            ev = <StopEvent*>buf_push(events)
            ev.period = t
            ev.column = j
            ev.trigger = level
            ev.exit = cp
            ev.reason = reason
    flow.traded = traded
    flow.costs = costs
    return 0


cdef inline cents_t value_at_close(Book* bk, cents_t cash, const price_cell_t[:, :] close, Py_ssize_t t,
                                   double scale, bint fill_known, bint hold_unpriced, Unpriced* err) noexcept nogil:
    """Step 6: the unpriced check at the close (ascending symbols), then the
    valuation; returns the equity (an unpriced holding sets ``err``)."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef micros_t* qty = bk.qty
    cdef cents_t* values = bk.value
    cdef price_t* fill_px = bk.fill_px
    cdef price_t* last_px = bk.last_px
    cdef cents_t eq = cash
    cdef price_t cp
    cdef Py_ssize_t j
    for j in range(bk.n):
        if qty[j] != 0:
            cp = fill_px[j] if fill_known else cell_cents(close[t, j], scale)
            if cp <= 0:
                if not hold_unpriced:
                    unpriced_at(err, 1, t, j)
                    break
                cp = last_px[j]
            else:
                last_px[j] = cp
            values[j] = mul_div_trunc(qty[j], cp)
            eq = sat_add(eq, values[j])
        else:
            last_px[j] = 0  # a later position starts from its own fill price
    return eq


cdef inline void record_period(Book* bk, cents_t eq, cents_t prev, Py_ssize_t t, cents_t[::1] equity,
                               double[::1] rets, double[:, ::1] hold) noexcept nogil:
    """Step 7: the period's return, equity and holding weights."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef micros_t* qty = bk.qty
    cdef cents_t* values = bk.value
    cdef Py_ssize_t j
    cdef double feq = <double>eq
    if prev > 0:
        rets[t] = <double>(<i128_t>eq - <i128_t>prev) / <double>prev
    else:
        rets[t] = 0.0
    equity[t + 1] = eq
    for j in range(bk.n):
        hold[t, j] = <double>values[j] / feq if (qty[j] != 0 and eq != 0) else NAN


cdef object error_of(Unpriced* err):
    return None if err.phase < 0 else (err.phase, err.period, err.column)


cdef Account account_from(IntegerRules rules):
    cdef Account a
    a.commission_bps = rules.commission_bps
    a.slippage_bps = rules.slippage_bps
    a.min_commission = rules.min_commission
    a.step = rules.quantity_step
    a.min_order_value = rules.min_order_value
    a.max_order_value = rules.max_order_value
    a.band = rules.no_trade_band_bps
    a.max_trades = rules.max_trades
    a.max_notional = 0
    a.cash = rules.initial_cash
    return a


cdef const int64_t* ordinals(object arr):
    # the first ordinal of a contiguous int64 array the rules keep alive; NULL = none
    cdef const int64_t[::1] v
    if arr is None:
        return NULL
    v = arr
    return &v[0] if v.shape[0] > 0 else NULL


cdef Budgets budgets_from(IntegerRules rules):
    cdef Budgets b
    b.active = rules.budgets_active
    b.day_ord = ordinals(rules.day_ordinals)
    b.month_ord = ordinals(rules.month_ordinals)
    b.max_trades = rules.max_trades
    b.per_day = rules.max_trades_per_day
    b.per_month = rules.max_trades_per_month
    b.value_month = rules.max_traded_value_per_month
    b.day_used = b.month_trades = b.month_value = b.last_day = b.last_month = 0
    b.first_day = b.first_month = True
    return b


cdef Stops stops_from(IntegerRules rules, Py_ssize_t T):
    # the trackers and the ring are allocated by book_alloc
    cdef Stops st
    st.fixed = rules.stop_fixed
    st.trailing = rules.stop_trailing
    st.atr_multiple = rules.stop_atr_multiple
    st.atr_period = rules.stop_atr_period
    st.on = st.fixed > 0.0 or st.trailing > 0.0 or st.atr_multiple > 0.0
    st.ring_size = max(1, min(st.atr_period, T)) if st.on else 0
    st.trackers = NULL
    st.ring = NULL
    return st


cdef KernelRun dense_run(_Layout lay, const price_cell_t[:, :] close, const price_cell_t[:, :] fill,
                         IntegerRules rules):
    cdef Py_ssize_t T = lay.T
    cdef Py_ssize_t N = lay.N
    cdef Py_ssize_t t, tf
    if close.shape[0] != T or close.shape[1] != N or fill.shape[1] != N:
        raise ValueError("close and fill must be (periods x symbols) like the weights")
    cdef bint hold_unpriced = rules.hold_unpriced
    cdef Account a = account_from(rules)
    cdef Budgets b = budgets_from(rules)
    cdef Stops st = stops_from(rules, T)
    cdef KernelRun run = new_run(T, N, np.int64, False)
    cdef cents_t[::1] equity = run.equity
    cdef double[::1] rets = run.returns
    cdef double[:, ::1] hold = run.holdings
    cdef uint8_t[::1] skipped = run.skipped
    cdef double[::1] traded = run.traded
    cdef double[::1] costs = run.costs

    # the fill prices are the closes (same array, same row): convert each price once
    cdef bint fill_is_close = (lay.fill_shift == 0 and lay.close_scale == lay.fill_scale and T > 0 and N > 0
                               and &fill[0, 0] == &close[0, 0] and fill.strides[0] == close.strides[0]
                               and fill.strides[1] == close.strides[1])
    cdef bint multi_order = lay.order.shape[0] > 1
    # the drift (|diff| / equity in bps) only matters for the band and the trade caps
    cdef bint need_drift = a.band > 0.0 or a.max_trades >= 0 or b.active
    cdef bint fill_known
    cdef cents_t eq, prev = a.cash
    cdef int m
    cdef Unpriced err
    err.phase = -1
    err.period = err.column = 0
    cdef Py_ssize_t ovf_t = -1
    cdef Flow flow
    cdef Book bk
    cdef Buf skips, events
    buf_init(&skips, sizeof(Skip))
    buf_init(&events, sizeof(StopEvent))
    try:
        book_alloc(&bk, &st, N)
        equity[0] = a.cash
        with nogil:
            ovf_reset()
            for t in range(T):
                fill_known = False
                flow.traded = 0.0
                flow.costs = 0.0
                if b.active:
                    budgets_open(&b, &a, t)
                tf = t + lay.fill_shift
                if lay.has_fill[t] and lay.active[t] and tf < fill.shape[0]:
                    eq = price_fills(&bk, a.cash, lay.W, fill, t, tf, lay.fill_scale, hold_unpriced, &err)
                    if err.phase >= 0:
                        break
                    fill_known = fill_is_close
                    if eq > 0:
                        m = apply_caps(&a, bk.orders, plan_orders(&bk, &a, eq, lay.order, lay.order_len,
                                                                  t if multi_order else 0, t, hold_unpriced,
                                                                  need_drift, &skips))
                        if b.active:
                            budgets_spend(&b, m, orders_notional(&bk, m))
                        execute_orders(&bk, &a, m, &flow)
                elif not lay.has_fill[t]:
                    skipped[t] = 1
                if st.on:
                    run_stops(&bk, &a, &st, close, t, lay.close_scale, fill_known, &events, &flow)
                eq = value_at_close(&bk, a.cash, close, t, lay.close_scale, fill_known, hold_unpriced, &err)
                if err.phase >= 0:
                    break  # (the caller raises: rows from here on are never read)
                record_period(&bk, eq, prev, t, equity, rets, hold)
                traded[t] = flow.traded
                costs[t] = flow.costs
                prev = eq
                if ovf_get():
                    ovf_t = t
                    break
        run.final_cash = a.cash
        run.error = error_of(&err)
        run.stop_events = stop_list(&events)
        run.skips = skip_array(&skips)
        run.overflow_period = ovf_t
    finally:
        book_free(&bk, &st)
        buf_free(&skips)
        buf_free(&events)
    return run


cdef list stop_list(Buf* events):
    cdef StopEvent* e = <StopEvent*>events.data
    cdef size_t i
    return [(e[i].period, e[i].column, e[i].trigger, e[i].exit, e[i].reason) for i in range(events.n)]


def run_dense(inputs, IntegerRules rules):
    """Run the dense simulation (the integer convention, ``docs/portfolio.md``).

    ``inputs`` is a ``_layout.DenseInputs``: ``W`` may have any strides (a
    DataFrame's F-ordered values are used as they are); ``close`` and
    ``fill`` are both int64 cents (-1 = absent) or both float currency (NaN =
    absent) converted on the fly with ``round(x * scale)``, so no cents copy
    of the prices is made; period ``t`` fills at row ``t + fill_shift`` of
    ``fill``. Stops (fixed / trailing / ATR) run after each period's
    rebalance in ascending column order.

    A held symbol without a positive price is an error (the reference's
    rule) unless ``rules.hold_unpriced``: then it is not traded and is valued
    at its last close (or, before its first close, its fill price). A target
    without a positive fill price is never traded; every such target is
    listed in the result's ``skips``.

    Returns a :class:`KernelRun`. Cost: O(T * N) plus a sort of the orders
    in periods with trade caps.
    """
    return run_layout(inputs, rules)


def to_cents_2d(const double[:, :] x, double scale=100.0):
    """``round_half_away(x * scale)`` as int64 in one pass; NaN -> -1 (absent).

    Values beyond the i64 range saturate (they are rejected later as invalid
    only if negative; a huge positive price stays huge).
    """
    cdef Py_ssize_t T = x.shape[0], N = x.shape[1], i, j
    out_np = np.empty((T, N), dtype=np.int64)
    cdef price_t[:, ::1] out = out_np
    cdef double v
    with nogil:
        for i in range(T):
            for j in range(N):
                v = x[i, j]
                if isnan(v):
                    out[i, j] = -1
                else:
                    out[i, j] = f2i(round_half_away(v * scale))
    return out_np


# ----------------------------------------------------------------------------- the float conventions

cdef class FloatRules:
    """The settings of one float-convention run (every field read-only).

    ``initial_cash`` and ``min_commission`` in float cents; ``cash_limited``
    selects ``convention="cash_limited"`` (sells first, buys trimmed to the
    cash) over ``"fractional"``; ``hold_unpriced`` as in :class:`IntegerRules`.
    """

    cdef readonly double initial_cash
    cdef readonly double commission_bps
    cdef readonly double slippage_bps
    cdef readonly double min_commission
    cdef readonly bint cash_limited
    cdef readonly bint hold_unpriced

    def __init__(self, *, double initial_cash, double commission_bps=0.0, double slippage_bps=0.0,
                 double min_commission=0.0, bint cash_limited=False, bint hold_unpriced=False):
        self.initial_cash = initial_cash
        self.commission_bps = commission_bps
        self.slippage_bps = slippage_bps
        self.min_commission = min_commission
        self.cash_limited = cash_limited
        self.hold_unpriced = hold_unpriced


cdef struct BuyKey:
    double ov                   # order value w * E - h * p
    int32_t pos                 # position in the candidate list (stable sort)
    int32_t col


cdef int cmp_buys(const void* x_, const void* y_) noexcept nogil:
    # ascending order value, stable (position in the candidate list)
    cdef const BuyKey* x = <const BuyKey*>x_
    cdef const BuyKey* y = <const BuyKey*>y_
    if x.ov < y.ov:
        return -1
    if x.ov > y.ov:
        return 1
    return -1 if x.pos < y.pos else (1 if x.pos > y.pos else 0)


cdef struct FloatBook:
    # the state of a float run: cash and per-symbol arrays (N entries each)
    Py_ssize_t n
    double cash                 # float cents
    double commission           # fraction of the traded value
    double slippage             # fraction of the price
    double min_commission       # float cents per fill
    bint cash_limited
    double* qty                 # shares (fractional)
    double* change              # this period's wanted change of qty
    double* value               # market value at the close
    double* fill_px             # this period's fill price (float cents), <= 0 = none
    double* last_px             # last close (or first fill) of a held position; 0 = none
    uint8_t* in_order           # the column is in the weights' given order
    BuyKey* buys                # room for N buy candidates


cdef int float_book_alloc(FloatBook* fb, Py_ssize_t n) except -1:
    # every pointer is assigned before the check, so float_book_free is always safe afterwards
    fb.n = n
    fb.qty = <double*>malloc(n * sizeof(double) + 8)
    fb.change = <double*>malloc(n * sizeof(double) + 8)
    fb.value = <double*>malloc(n * sizeof(double) + 8)
    fb.fill_px = <double*>malloc(n * sizeof(double) + 8)
    fb.last_px = <double*>malloc(n * sizeof(double) + 8)
    fb.in_order = <uint8_t*>malloc(n + 8)
    fb.buys = <BuyKey*>malloc((n + 1) * sizeof(BuyKey))
    if (fb.qty == NULL or fb.change == NULL or fb.value == NULL or fb.fill_px == NULL or fb.last_px == NULL
            or fb.in_order == NULL or fb.buys == NULL):
        raise MemoryError()
    cdef Py_ssize_t j
    for j in range(n):
        fb.qty[j] = 0.0
        fb.last_px[j] = 0.0
        fb.in_order[j] = 0
    return 0


cdef void float_book_free(FloatBook* fb) noexcept:
    free(fb.qty); free(fb.change); free(fb.value); free(fb.fill_px); free(fb.last_px); free(fb.in_order)
    free(fb.buys)
    fb.qty = fb.change = fb.value = fb.fill_px = fb.last_px = NULL
    fb.in_order = NULL
    fb.buys = NULL


cdef inline double fee_of(FloatBook* fb, double val) noexcept nogil:
    cdef double fee = fabs(val) * fb.commission
    return fb.min_commission if fee < fb.min_commission else fee


cdef inline double float_price_fills(FloatBook* fb, const price_cell_t[:, :] fill, Py_ssize_t t, Py_ssize_t tf,
                                     double scale, bint hold_unpriced, Unpriced* err) noexcept nogil:
    """Step 1: the fill prices as given, the unpriced check and the pre-trade equity."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef double* qty = fb.qty
    cdef double* fill_px = fb.fill_px
    cdef double* last_px = fb.last_px
    cdef double E = fb.cash, p
    cdef Py_ssize_t j
    for j in range(fb.n):
        p = cell_float_cents(fill[tf, j], scale)
        fill_px[j] = p
        if qty[j] != 0.0:
            if p > 0.0:
                E += qty[j] * p
            elif hold_unpriced:
                E += qty[j] * last_px[j]
            elif err.phase < 0:
                unpriced_at(err, 0, t, j)
    return E


cdef inline int float_trade(FloatBook* fb, const double[:, :] W, Py_ssize_t t, double E, Buf* skips,
                            Flow* flow) except -1 nogil:
    """Step 2 (``E`` > 0): each symbol's change toward ``w * E / p``; a target
    without a fill price is listed in ``skips``. ``fractional`` trades every
    change here; ``cash_limited`` only the sells (the buys follow)."""
    cdef double traded = flow.traded
    # the arrays in locals (not reloaded from the struct after each store)
    cdef double* qty = fb.qty
    cdef double* change = fb.change
    cdef double* fill_px = fb.fill_px
    cdef double* last_px = fb.last_px
    cdef Py_ssize_t j
    cdef double p, w, tgt, u, pe, val, fee
    cdef double tot_val = 0.0, tot_fee = 0.0
    for j in range(fb.n):
        change[j] = 0.0
        p = fill_px[j]
        w = W[t, j]
        if p > 0.0 and last_px[j] <= 0.0:
            last_px[j] = p  # a new position's price until its first close
        if p <= 0.0:
            if qty[j] != 0.0 or not isnan(w):
                skip_add(skips, t, j, 1 if qty[j] != 0.0 else 0)
            continue
        tgt = 0.0 if isnan(w) else w * E / p
        u = tgt - qty[j]
        change[j] = u
        if u == 0.0:
            continue
        if fb.cash_limited:
            if u < 0.0:  # sells first, all of them
                pe = p * (1.0 - fb.slippage)
                val = u * pe
                fee = fee_of(fb, val)
                tot_val += val
                tot_fee += fee
                traded += fabs(val)
                qty[j] += u  # as vectorbt: position + size
        else:
            pe = p * (1.0 + fb.slippage) if u > 0.0 else p * (1.0 - fb.slippage)
            val = u * pe
            fee = fee_of(fb, val)
            tot_val += val
            tot_fee += fee
            traded += fabs(val)
            qty[j] = tgt
    fb.cash -= tot_val + tot_fee
    flow.traded = traded
    flow.costs = tot_fee
    return 0


cdef inline void float_buys(FloatBook* fb, const double[:, :] W, const int32_t[:, ::1] order, Py_ssize_t n_order,
                            Py_ssize_t t, double E, Flow* flow) noexcept nogil:
    """Step 3 (``cash_limited``): the buys by ascending order value
    ``w * E - h * p``, stable in the weights' column order (then any other
    column); the first that does not fit gets the largest affordable
    fraction, commission included, and ends the buying."""
    cdef double traded = flow.traded, costs = flow.costs
    # the arrays in locals (not reloaded from the struct after each store)
    cdef double* qty = fb.qty
    cdef double* change = fb.change
    cdef double* fill_px = fb.fill_px
    cdef Py_ssize_t j, kk
    cdef int nb = 0
    cdef double w, pe, val, fee, need, q, v
    for kk in range(n_order + fb.n):
        if kk < n_order:
            j = order[0, kk]
        else:
            j = kk - n_order
            if fb.in_order[j]:
                continue
        if change[j] > 0.0:
            w = W[t, j]
            fb.buys[nb].ov = (0.0 if isnan(w) else w * E) - qty[j] * fill_px[j]
            fb.buys[nb].pos = nb
            fb.buys[nb].col = <int32_t>j
            nb += 1
    if nb > 1:
        qsort(fb.buys, nb, sizeof(BuyKey), cmp_buys)
    for kk in range(nb):
        j = fb.buys[kk].col
        pe = fill_px[j] * (1.0 + fb.slippage)
        val = change[j] * pe
        fee = fee_of(fb, val)
        need = val + fee
        if need <= fb.cash:
            fb.cash -= need
            qty[j] += change[j]
            traded += val
            costs += fee
        else:
            # largest affordable fraction, commission included
            q = (fb.cash if fb.cash > 0.0 else 0.0) / (pe * (1.0 + fb.commission)) if pe > 0.0 else 0.0
            if q > 0.0 and q * pe * fb.commission < fb.min_commission:
                q = fb.cash - fb.min_commission
                q = (q if q > 0.0 else 0.0) / pe
            if q > 0.0:
                v = q * pe
                fee = v * fb.commission
                if fee < fb.min_commission:
                    fee = fb.min_commission
                fb.cash -= v + fee
                qty[j] += q
                traded += v
                costs += fee
            break
    flow.traded = traded
    flow.costs = costs


cdef inline double float_value_at_close(FloatBook* fb, const price_cell_t[:, :] close, Py_ssize_t t, double scale,
                                        bint hold_unpriced, Unpriced* err) noexcept nogil:
    """Step 4: the unpriced check at the close, then the valuation; returns the equity."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef double* qty = fb.qty
    cdef double* values = fb.value
    cdef double* last_px = fb.last_px
    cdef double E = fb.cash, cpf
    cdef Py_ssize_t j
    for j in range(fb.n):
        if qty[j] != 0.0:
            cpf = cell_float_cents(close[t, j], scale)
            if cpf <= 0.0:
                if not hold_unpriced:
                    unpriced_at(err, 1, t, j)
                    break
                cpf = last_px[j]
            else:
                last_px[j] = cpf
            values[j] = qty[j] * cpf
            E += values[j]
        else:
            last_px[j] = 0.0
    return E


cdef inline void float_record(FloatBook* fb, double E, double prev, Py_ssize_t t, double[::1] equity,
                              double[::1] rets, double[:, ::1] hold) noexcept nogil:
    """Step 5: the period's return, equity and holding weights."""
    # the arrays in locals (not reloaded from the struct after each store)
    cdef double* qty = fb.qty
    cdef double* values = fb.value
    cdef Py_ssize_t j
    rets[t] = (E - prev) / prev if prev > 0.0 else 0.0
    equity[t + 1] = E
    if E != 0.0:
        for j in range(fb.n):
            if qty[j] != 0.0:
                hold[t, j] = values[j] / E


cdef KernelRun float_run(_Layout lay, const price_cell_t[:, :] close, const price_cell_t[:, :] fill,
                         FloatRules rules):
    cdef Py_ssize_t T = lay.T
    cdef Py_ssize_t N = lay.N
    cdef Py_ssize_t n_order = lay.order_len[0]
    cdef Py_ssize_t t, tf, kk
    cdef bint hold_unpriced = rules.hold_unpriced
    cdef double E, prev = rules.initial_cash

    cdef KernelRun run = new_run(T, N, np.float64, True)
    cdef double[::1] equity = run.equity
    cdef double[::1] rets = run.returns
    cdef double[:, ::1] hold = run.holdings
    cdef uint8_t[::1] skipped = run.skipped
    cdef double[::1] traded = run.traded
    cdef double[::1] costs = run.costs

    cdef FloatBook fb
    fb.cash = rules.initial_cash
    fb.commission = rules.commission_bps / 10000.0
    fb.slippage = rules.slippage_bps / 10000.0
    fb.min_commission = rules.min_commission
    fb.cash_limited = rules.cash_limited
    cdef Unpriced err
    err.phase = -1
    err.period = err.column = 0
    cdef Flow flow
    cdef Buf skips
    buf_init(&skips, sizeof(Skip))
    try:
        float_book_alloc(&fb, N)
        for kk in range(n_order):
            fb.in_order[lay.order[0, kk]] = 1
        equity[0] = fb.cash
        with nogil:
            for t in range(T):
                tf = t + lay.fill_shift
                if lay.has_fill[t] and lay.active[t] and tf < fill.shape[0]:
                    E = float_price_fills(&fb, fill, t, tf, lay.fill_scale, hold_unpriced, &err)
                    if err.phase >= 0:
                        break
                    if E > 0.0:
                        flow.traded = 0.0
                        flow.costs = 0.0
                        float_trade(&fb, lay.W, t, E, &skips, &flow)
                        if fb.cash_limited:
                            float_buys(&fb, lay.W, lay.order, n_order, t, E, &flow)
                        traded[t] = flow.traded
                        costs[t] = flow.costs
                elif not lay.has_fill[t]:
                    skipped[t] = 1
                E = float_value_at_close(&fb, close, t, lay.close_scale, hold_unpriced, &err)
                if err.phase >= 0:
                    break
                float_record(&fb, E, prev, t, equity, rets, hold)
                prev = E
        run.final_cash = fb.cash
        run.error = error_of(&err)
        run.skips = skip_array(&skips)
    finally:
        float_book_free(&fb)
        buf_free(&skips)
    return run


def run_float(inputs, FloatRules rules):
    """The float conventions (``fractional``, ``cash_limited``) in C.

    Prices are used as given: float currency times ``scale`` (float cents),
    never rounded; int64 arrays are cents. Same rules and, up to summation
    order, the same arithmetic as the numpy transcription in
    ``nanobook.portfolio.conventions`` (its test oracle). The weights'
    columns are taken in the order of ``inputs.order[0]``. ``hold_unpriced``
    and the skipped targets as in :func:`run_dense`. Returns a
    :class:`KernelRun` (``equity`` and ``final_cash`` in float cents, no
    stop events, no overflow).
    """
    return run_layout(inputs, rules)


# ----------------------------------------------------------------------------- input scans

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
