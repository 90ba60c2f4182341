# Included by _engine.pyx: the order book (Exchange).  Its state and cdef
# methods are declared, with their exception contract, in _engine.pxd.

cdef inline OrderRec* _at(Exchange ex, oid_t oid) noexcept nogil:
    """Record of an id known to be in the table (queue members)."""
    return &ex.pages[oid >> PAGE_BITS][oid & (PAGE_SIZE - 1)]


cdef class Exchange:
    """A single-instrument limit order book with price-time priority.

    Prices are integer ticks (cents), quantities integer lots.  Orders are
    stored by id (a paged table: O(1) lookup), each price level is an
    intrusive FIFO, and cancels are O(1) tombstones with exact level totals.
    Every state-changing call appends one fixed-size record to the event
    log (``event_log=False`` switches it off); ``Exchange.replay`` rebuilds
    the same state from it.

    Parameters
    ----------
    event_log : bool, default True
        Record every state-changing call.
    """

    def __cinit__(self, event_log=True):
        self.next_id = 1
        self.next_trade_id = 1
        self.next_ts = 1
        self.free_level = -1
        buf_init(&self.trade_log, sizeof(TradeRec))
        buf_init(&self.event_buf, 1)
        self.event_log = _flag(event_log, "event_log")

    def __init__(self, event_log=True):
        pass

    def __dealloc__(self):
        cdef size_t i
        if self.pages != NULL:
            for i in range(self.npages):
                free(self.pages[i])
        free(self.pages)
        free(self.page_live)
        free(self.levels)
        free(self.side_entries[0])
        free(self.side_entries[1])
        free(self.stops)
        free(self.pending)
        free(self.trig)
        free(self.history)
        free(self.trade_log.data)
        free(self.event_buf.data)

    # -- queries (C) ----------------------------------------------------------

    cdef OrderRec* rec(self, oid_t oid) noexcept nogil:
        cdef size_t p = oid >> PAGE_BITS
        cdef OrderRec* r
        if p >= self.npages or self.pages[p] == NULL:
            return NULL
        r = &self.pages[p][oid & (PAGE_SIZE - 1)]
        return r if r.kind != REC_NONE else NULL

    cdef size_t find_level(self, uint8_t side, price_t price, bint* found) noexcept nogil:
        cdef BookEntry* e = self.side_entries[side]
        cdef size_t n = self.side_n[side], lo = 0, hi, mid
        cdef price_t ep
        found[0] = False
        if n == 0:
            return 0
        # most traffic is at or near the touch (the end of the array)
        ep = e[n - 1].price
        if ep == price:
            found[0] = True
            return n - 1
        if (price > ep) if side == BUY else (price < ep):
            return n
        hi = n - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            ep = e[mid].price
            if ep == price:
                found[0] = True
                return mid
            if (ep < price) if side == BUY else (ep > price):
                lo = mid + 1
            else:
                hi = mid
        return lo

    cdef u128_t crossing_quantity(self, uint8_t side, price_t price, qty_t enough) noexcept nogil:
        cdef uint8_t opp = 1 - side
        cdef BookEntry* e = self.side_entries[opp]
        cdef size_t i = self.side_n[opp]
        cdef u128_t total = 0
        while i > 0 and total < enough:
            i -= 1
            if (price < e[i].price) if side == BUY else (price > e[i].price):
                break
            total = sat_add128(total, self.levels[e[i].slot].total)
        return total

    # -- commands (C) ---------------------------------------------------------

    cdef OrderRec* alloc_rec(self, oid_t oid) except NULL nogil:
        cdef size_t p = oid >> PAGE_BITS, cap, i
        cdef OrderRec** pages
        cdef uint32_t* live
        cdef OrderRec* r
        if p >= self.npages:
            cap = self.npages * 2 if self.npages else 16
            while cap <= p:
                cap *= 2
            pages = <OrderRec**>realloc(self.pages, cap * sizeof(OrderRec*))
            if pages == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for the order table")
            self.pages = pages
            live = <uint32_t*>realloc(self.page_live, cap * sizeof(uint32_t))
            if live == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for the order table")
            self.page_live = live
            for i in range(self.npages, cap):
                self.pages[i] = NULL
                self.page_live[i] = 0
            self.npages = cap
        if self.pages[p] == NULL:
            self.pages[p] = <OrderRec*>calloc(PAGE_SIZE, sizeof(OrderRec))
            if self.pages[p] == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for the order table")
        self.page_live[p] += 1
        r = &self.pages[p][oid & (PAGE_SIZE - 1)]
        return r

    cdef slot_t alloc_level(self) except -1 nogil:
        cdef slot_t s
        cdef slot_t cap
        cdef Level* lv
        if self.free_level >= 0:
            s = self.free_level
            self.free_level = self.levels[s].next_free
            return s
        if self.levels_used == self.levels_cap:
            cap = self.levels_cap * 2 if self.levels_cap else 64
            lv = <Level*>realloc(self.levels, cap * sizeof(Level))
            if lv == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for price levels")
            self.levels = lv
            self.levels_cap = cap
        s = self.levels_used
        self.levels_used += 1
        return s

    cdef int rest(self, OrderRec* o, oid_t oid) except -1 nogil:
        cdef uint8_t side = o.side
        cdef bint found
        cdef size_t idx = self.find_level(side, o.price, &found), cap
        cdef slot_t slot
        cdef BookEntry* e
        cdef Level* lv
        if found:
            slot = self.side_entries[side][idx].slot
        else:
            slot = self.alloc_level()
            if self.side_n[side] == self.side_cap[side]:
                cap = self.side_cap[side] * 2 if self.side_cap[side] else 64
                e = <BookEntry*>realloc(self.side_entries[side], cap * sizeof(BookEntry))
                if e == NULL:
                    with gil:
                        raise MemoryError("nanobook: out of memory for price levels")
                self.side_entries[side] = e
                self.side_cap[side] = cap
            e = self.side_entries[side]
            memmove(&e[idx + 1], &e[idx], (self.side_n[side] - idx) * sizeof(BookEntry))
            e[idx].price = o.price
            e[idx].slot = slot
            self.side_n[side] += 1
            lv = &self.levels[slot]
            lv.price = o.price
            lv.total = 0
            lv.head = 0
            lv.tail = 0
            lv.count = 0
            lv.next_free = -1
        lv = &self.levels[slot]
        o.level = slot
        o.next = 0
        if lv.tail:
            _at(self, lv.tail).next = oid
        else:
            lv.head = oid
        lv.tail = oid
        lv.total += o.remaining
        lv.count += 1
        return 0

    cdef void remove_level(self, uint8_t side, price_t price) noexcept nogil:
        cdef bint found
        cdef size_t idx = self.find_level(side, price, &found)
        cdef BookEntry* e = self.side_entries[side]
        cdef slot_t slot
        if not found:
            return
        slot = e[idx].slot
        memmove(&e[idx], &e[idx + 1], (self.side_n[side] - idx - 1) * sizeof(BookEntry))
        self.side_n[side] -= 1
        self.levels[slot].next_free = self.free_level
        self.free_level = slot

    cdef int match(self, OrderRec* o, oid_t oid) except -1 nogil:
        cdef uint8_t opp = 1 - o.side
        cdef BookEntry* e = self.side_entries[opp]
        cdef BookEntry best
        cdef Level* lv
        cdef oid_t pid
        cdef OrderRec* p
        cdef qty_t fill
        cdef TradeRec* t
        while o.remaining and self.side_n[opp]:
            best = e[self.side_n[opp] - 1]
            if (o.price < best.price) if o.side == BUY else (o.price > best.price):
                break
            lv = &self.levels[best.slot]
            pid = lv.head
            while pid and o.remaining:
                p = _at(self, pid)
                if p.status == ST_CANCELLED:        # tombstone: drop it
                    pid = p.next
                    continue
                fill = o.remaining if o.remaining < p.remaining else p.remaining
                t = <TradeRec*>buf_push(&self.trade_log)
                memset(t, 0, sizeof(TradeRec))      # no stray padding bytes in exports
                t.trade_id = self.next_trade_id
                self.next_trade_id += 1
                t.price = lv.price
                t.quantity = fill
                t.aggressor_side = o.side
                t.aggressor_order_id = oid
                t.passive_order_id = pid
                t.timestamp = self.next_ts
                self.next_ts += 1
                o.remaining -= fill
                p.remaining -= fill
                lv.total -= fill
                if p.remaining == 0:
                    p.status = ST_FILLED
                    p.level = -1
                    lv.count -= 1
                    pid = p.next
                else:
                    p.status = ST_PARTIAL
            lv.head = pid
            if pid == 0:
                lv.tail = 0
            if lv.count == 0:
                self.side_n[opp] -= 1
                lv.next_free = self.free_level
                self.free_level = best.slot
        return 0

    cdef int submit(self, uint8_t side, price_t price, qty_t qty, uint8_t tif,
                    SubmitOut* out) except -1 nogil:
        cdef oid_t oid = self.next_id
        cdef ts_t ts = self.next_ts
        cdef OrderRec* o
        self.next_id += 1
        self.next_ts += 1
        out.order_id = oid
        out.filled = 0
        out.resting = 0
        out.cancelled = 0
        out.trade_start = self.trade_log.n
        if tif == FOK and self.crossing_quantity(side, price, qty) < qty:
            out.cancelled = qty             # rejected: nothing stored
            out.status = ST_CANCELLED
            out.trade_end = self.trade_log.n
            return 0
        o = self.alloc_rec(oid)
        o.price = price
        o.original = qty
        o.remaining = qty
        o.timestamp = ts
        o.next = 0
        o.level = -1
        o.kind = REC_ORDER
        o.side = side
        o.tif = tif
        o.status = ST_NEW
        self.match(o, oid)
        out.filled = qty - o.remaining
        if o.remaining == 0:
            o.status = ST_FILLED
        elif tif == GTC:
            o.status = ST_PARTIAL if out.filled else ST_NEW
            out.resting = o.remaining
            self.rest(o, oid)
        else:                               # IOC / FOK remainder: cancelled now
            o.status = ST_CANCELLED
            out.cancelled = o.remaining
        out.status = o.status
        if o.status == ST_CANCELLED and out.filled:
            out.status = ST_PARTIAL
        out.trade_end = self.trade_log.n
        return 0

    cdef int cancel_order(self, oid_t oid, qty_t* cancelled) noexcept nogil:
        cdef OrderRec* r = self.rec(oid)
        cdef StopRec* s
        cdef Level* lv
        cancelled[0] = 0
        if r == NULL:
            return NOT_FOUND
        if r.kind == REC_STOP:
            s = &self.stops[r.next]
            if s.status != STOP_PENDING:
                return NOT_FOUND
            s.status = STOP_CANCELLED
            self.pending_live -= 1
            cancelled[0] = s.quantity
            return OK
        if r.status >= ST_FILLED:
            return NOT_ACTIVE
        lv = &self.levels[r.level]
        lv.total -= r.remaining
        lv.count -= 1
        cancelled[0] = r.remaining          # ``remaining`` keeps the unfilled amount
        r.status = ST_CANCELLED             # stays queued as a tombstone
        r.level = -1
        if lv.count == 0:
            self.remove_level(r.side, r.price)
        return OK

    cdef int modify_order(self, oid_t oid, price_t price, qty_t qty, qty_t* cancelled,
                          SubmitOut* out) except -1 nogil:
        cdef OrderRec* r = self.rec(oid)
        cdef uint8_t side, tif
        cancelled[0] = 0
        if r == NULL or r.kind != REC_ORDER:
            return NOT_FOUND
        if r.status >= ST_FILLED:
            return NOT_ACTIVE
        side = r.side
        tif = r.tif
        self.cancel_order(oid, cancelled)
        self.submit(side, price, qty, tif, out)
        return OK

    cdef int add_stop(self, EventRec* ev, oid_t* oid_out, bint* triggered) except -1 nogil:
        cdef oid_t oid = self.next_id
        cdef OrderRec* r
        cdef StopRec* s
        cdef size_t idx, cap
        cdef StopRec* stops
        cdef size_t* pend
        self.next_id += 1
        if self.nstops == self.stops_cap:
            cap = self.stops_cap * 2 if self.stops_cap else 16
            stops = <StopRec*>realloc(self.stops, cap * sizeof(StopRec))
            if stops == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for stops")
            self.stops = stops
            self.stops_cap = cap
        if self.npending == self.pending_cap:
            cap = self.pending_cap * 2 if self.pending_cap else 16
            pend = <size_t*>realloc(self.pending, cap * sizeof(size_t))
            if pend == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for stops")
            self.pending = pend
            pend = <size_t*>realloc(self.trig, cap * sizeof(size_t))
            if pend == NULL:
                with gil:
                    raise MemoryError("nanobook: out of memory for stops")
            self.trig = pend
            self.pending_cap = cap
        r = self.alloc_rec(oid)
        memset(r, 0, sizeof(OrderRec))
        r.kind = REC_STOP
        r.level = -1
        idx = self.nstops
        r.next = idx
        self.nstops += 1
        s = &self.stops[idx]
        memset(s, 0, sizeof(StopRec))
        s.id = oid
        s.stop_price = ev.price
        s.limit_price = ev.limit_price
        s.quantity = ev.quantity
        s.timestamp = self.next_ts
        self.next_ts += 1
        s.side = ev.side
        s.tif = ev.tif
        s.status = STOP_PENDING
        s.is_limit = ev.kind == EV_STOP_LIMIT or ev.kind == EV_TRAIL_LIMIT
        s.trail = ev.trail if (ev.kind == EV_TRAIL_MARKET or ev.kind == EV_TRAIL_LIMIT) else TRAIL_NONE
        s.trail_fixed = ev.trail_fixed
        s.trail_value = ev.trail_value
        s.period = ev.period
        self.pending[self.npending] = idx
        self.npending += 1
        self.pending_live += 1
        oid_out[0] = oid
        triggered[0] = False
        if s.trail == TRAIL_NONE and self.has_last and (
                (s.side == BUY and self.last_price >= s.stop_price)
                or (s.side == SELL and self.last_price <= s.stop_price)):
            self.process_stops()
            triggered[0] = self.stops[idx].status == STOP_TRIGGERED
        return 0

    cdef int feed_trailing(self, price_t p) noexcept nogil:
        """One update step of the trailing stops at trade price ``p``."""
        cdef size_t i, k, j, pos
        cdef StopRec* s
        cdef int64_t offset, cand, total
        if self.hist_has_prev:
            if self.history == NULL:
                self.history = <int64_t*>malloc(HISTORY_CAP * sizeof(int64_t))
            if self.history != NULL:
                self.history[self.hist_head] = abs_diff(p, self.hist_prev)
                self.hist_head = (self.hist_head + 1) % HISTORY_CAP
                if self.hist_n < HISTORY_CAP:
                    self.hist_n += 1
        self.hist_prev = p
        self.hist_has_prev = True
        for i in range(self.npending):
            s = &self.stops[self.pending[i]]
            if s.status != STOP_PENDING or s.trail == TRAIL_NONE:
                continue
            if not s.has_watermark:
                s.watermark = p
                s.has_watermark = True
            elif s.side == SELL:
                if p > s.watermark:
                    s.watermark = p
            elif p < s.watermark:
                s.watermark = p
            if s.trail == TRAIL_FIXED:
                offset = s.trail_fixed
            elif s.trail == TRAIL_PCT:
                offset = f64_to_i64(c_round(<double>s.watermark * s.trail_value))
            else:
                offset = 0
                if s.period and self.hist_n:
                    k = s.period if s.period < self.hist_n else self.hist_n
                    total = 0
                    pos = self.hist_head
                    for j in range(k):
                        pos = (pos + HISTORY_CAP - 1) % HISTORY_CAP
                        total = sat_add(total, self.history[pos])
                    offset = f64_to_i64((<double>total / <double>k) * s.trail_value)
            if offset <= 0:
                continue
            if s.side == SELL:
                cand = sat_add(s.watermark, -offset)
                if cand > s.stop_price:
                    s.stop_price = cand
            else:
                cand = sat_add(s.watermark, offset)
                if cand < s.stop_price:
                    s.stop_price = cand
        return 0

    cdef int process_stops(self) except -1 nogil:
        cdef int rounds = 0
        cdef price_t p, last = 0
        cdef size_t i, j, ntrig, k
        cdef StopRec* s
        cdef bint traded
        cdef SubmitOut out
        while rounds < MAX_STOP_ROUNDS:
            rounds += 1
            if not self.has_last:
                return 0
            p = self.last_price
            self.feed_trailing(p)
            ntrig = 0
            j = 0
            for i in range(self.npending):
                s = &self.stops[self.pending[i]]
                if s.status != STOP_PENDING:
                    continue
                if (s.stop_price <= p) if s.side == BUY else (s.stop_price >= p):
                    s.status = STOP_TRIGGERED
                    self.pending_live -= 1
                    self.trig[ntrig] = self.pending[i]
                    ntrig += 1
                else:
                    self.pending[j] = self.pending[i]
                    j += 1
            self.npending = j
            if ntrig == 0:
                return 0
            traded = False
            for k in range(ntrig):
                s = &self.stops[self.trig[k]]
                if s.is_limit:
                    self.submit(s.side, s.limit_price, s.quantity, s.tif, &out)
                else:
                    self.submit(s.side, INT64_MAX if s.side == BUY else INT64_MIN,
                                s.quantity, IOC, &out)
                if out.trade_end > out.trade_start:
                    traded = True
                    last = (<TradeRec*>self.trade_log.data)[out.trade_end - 1].price
            if not traded:
                return 0
            self.last_price = last
        return 0

    cdef int after_trades(self, SubmitOut* out) except -1 nogil:
        if out.trade_end > out.trade_start:
            self.last_price = (<TradeRec*>self.trade_log.data)[out.trade_end - 1].price
            self.has_last = True
            self.process_stops()
        return 0

    cdef int run(self, EventRec* ev, ExecOut* res) except -1 nogil:
        cdef uint8_t k = ev.kind
        if self.event_log:
            log_event(&self.event_buf, ev)
            self.nevents += 1
        if k == EV_SUBMIT_LIMIT:
            self.submit(ev.side, ev.price, ev.quantity, ev.tif, &res.sub)
            self.after_trades(&res.sub)
        elif k == EV_SUBMIT_MARKET:
            self.submit(ev.side, INT64_MAX if ev.side == BUY else INT64_MIN,
                        ev.quantity, IOC, &res.sub)
            self.after_trades(&res.sub)
        elif k == EV_CANCEL:
            res.code = self.cancel_order(ev.order_id, &res.cancelled)
        elif k == EV_MODIFY:
            res.code = self.modify_order(ev.order_id, ev.price, ev.quantity,
                                         &res.cancelled, &res.sub)
            if res.code == OK:
                self.after_trades(&res.sub)
        else:
            self.add_stop(ev, &res.sub.order_id, &res.triggered)
        return 0

    cdef void compact_levels(self) noexcept nogil:
        cdef int side
        cdef size_t i
        cdef Level* lv
        cdef oid_t pid, prev, nxt
        cdef OrderRec* p
        for side in range(2):
            for i in range(self.side_n[side]):
                lv = &self.levels[self.side_entries[side][i].slot]
                pid = lv.head
                prev = 0
                lv.head = 0
                while pid:
                    p = _at(self, pid)
                    nxt = p.next
                    if p.status != ST_CANCELLED:
                        if prev:
                            _at(self, prev).next = pid
                        else:
                            lv.head = pid
                        prev = pid
                    pid = nxt
                if prev:
                    _at(self, prev).next = 0
                lv.tail = prev

    # -- Python API: commands -------------------------------------------------

    cdef inline int _claim(self, const char* call, bint write) except -1:
        """Claim the book for the public method ``call`` (see ``_claim.pxd``:
        reads share, commands exclude) or raise RuntimeError."""
        return claim(&self.guard, "Exchange", call, write)

    cdef inline void _release(self, bint write) noexcept:
        release(&self.guard, write)

    cdef object _submit_call(self, EventRec* ev):
        cdef ExecOut res
        self.run(ev, &res)
        return _submit_result(self, &res.sub)

    cdef object _stop_call(self, EventRec* ev):
        cdef ExecOut res
        cdef StopSubmitResult r = StopSubmitResult.__new__(StopSubmitResult)
        self.run(ev, &res)
        r.order_id = res.sub.order_id
        r._triggered = res.triggered
        return r

    def submit_limit(self, side, price, quantity, tif="gtc"):
        """Submit a limit order; it matches at once and rests per ``tif``.

        Parameters
        ----------
        side : {"buy", "sell", "b", "s"} (case-insensitive)
        price : int
            Limit price in ticks (any signed 64-bit value).
        quantity : int
            Positive lots, below 2**64.
        tif : {"gtc", "ioc", "fok"}
            ``gtc`` rests the remainder, ``ioc`` cancels it, ``fok`` fills
            completely or is rejected without trading.

        Returns
        -------
        SubmitResult

        Raises
        ------
        ValueError
            Unknown side or tif, or a quantity that is not positive.
        TypeError, OverflowError
            Non-integer or out-of-range price or quantity.

        Complexity: O(log L + F) for L levels on the side and F fills.
        """
        cdef EventRec ev
        self._claim(b"submit_limit", True)
        try:
            ev.kind = EV_SUBMIT_LIMIT
            ev.side = _parse_side(side)
            ev.price = _to_i64(price, "price")
            ev.quantity = _to_qty(quantity, "quantity")
            ev.tif = _parse_tif(tif)
            _check_positive(ev.quantity, "quantity")
            ev.trail = TRAIL_NONE
            ev._pad = 0
            ev.order_id = 0
            ev.limit_price = 0
            ev.trail_fixed = 0
            ev.trail_value = 0.0
            ev.period = 0
            return self._submit_call(&ev)
        finally:
            self._release(True)

    def submit_market(self, side, quantity):
        """Submit a market order: an IOC at the most aggressive price.

        Whatever does not fill is cancelled (``get_order`` says
        ``"cancelled"``).  Complexity: O(F) for F fills.
        """
        cdef EventRec ev
        self._claim(b"submit_market", True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = EV_SUBMIT_MARKET
            ev.side = _parse_side(side)
            ev.quantity = _to_qty(quantity, "quantity")
            _check_positive(ev.quantity, "quantity")
            return self._submit_call(&ev)
        finally:
            self._release(True)

    def cancel(self, order_id):
        """Cancel a resting order or a pending stop.  O(1) (a tombstone).

        Unknown ids give ``CancelResult(success=False, error='OrderNotFound')``,
        finished orders ``'OrderNotActive'``; both are recorded as events.
        """
        cdef EventRec ev
        cdef ExecOut res
        cdef CancelResult r = CancelResult.__new__(CancelResult)
        self._claim(b"cancel", True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = EV_CANCEL
            ev.order_id = _to_u64(order_id, "order_id")
            self.run(&ev, &res)
            r.success = res.code == OK
            r.cancelled_quantity = res.cancelled
            r._code = res.code
            return r
        finally:
            self._release(True)

    def modify(self, order_id, new_price, new_quantity):
        """Cancel/replace: the order is cancelled and a new order (new id,
        same side and tif, back of the queue) is submitted.  Its trades set
        the last trade price and trigger stops like any submission.
        """
        cdef EventRec ev
        cdef ExecOut res
        cdef ModifyResult r = ModifyResult.__new__(ModifyResult)
        self._claim(b"modify", True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = EV_MODIFY
            ev.order_id = _to_u64(order_id, "order_id")
            ev.price = _to_i64(new_price, "new_price")
            ev.quantity = _to_qty(new_quantity, "new_quantity")
            _check_positive(ev.quantity, "new_quantity")
            self.run(&ev, &res)
            r.old_order_id = ev.order_id
            r._code = res.code
            r.success = res.code == OK
            if r.success:
                r.new_order_id = res.sub.order_id
                r.cancelled_quantity = res.cancelled
                r._take(self, res.sub.trade_start, res.sub.trade_end)
            return r
        finally:
            self._release(True)

    cdef object _stop(self, uint8_t kind, object side, str stop_name, object stop_price,
                      object limit_price, object quantity, object tif, tuple trail=None):
        """Validate the arguments of one of the four stop submitters (in the
        reference's order: side, prices, quantity, tif, trail) and submit it.
        ``trail`` is ``(trail_type, trail_value, atr_period)`` of the trailing
        kinds, None for the plain ones."""
        cdef EventRec ev
        self._claim(<bytes>_STOP_CALLS[kind], True)
        try:
            memset(&ev, 0, sizeof(EventRec))
            ev.kind = kind
            ev.side = _parse_side(side)
            ev.price = _to_i64(stop_price, stop_name)
            if limit_price is not None or kind == EV_STOP_LIMIT or kind == EV_TRAIL_LIMIT:
                ev.limit_price = _to_i64(limit_price, "limit_price")
            ev.quantity = _to_qty(quantity, "quantity")
            if tif is not None:
                ev.tif = _parse_tif(tif)
            _check_positive(ev.quantity, "quantity")
            if kind == EV_TRAIL_MARKET or kind == EV_TRAIL_LIMIT:
                _parse_trail(&ev, trail)
            return self._stop_call(&ev)
        finally:
            self._release(True)

    def submit_stop_market(self, side, stop_price, quantity):
        """A stop that sends a market order when the last trade price
        reaches ``stop_price`` (buy: at or above, sell: at or below)."""
        return self._stop(EV_STOP_MARKET, side, "stop_price", stop_price, None, quantity, None)

    def submit_stop_limit(self, side, stop_price, limit_price, quantity, tif="gtc"):
        """A stop that sends a limit order at ``limit_price`` with ``tif``."""
        return self._stop(EV_STOP_LIMIT, side, "stop_price", stop_price, limit_price, quantity, tif)

    def submit_trailing_stop_market(self, side, initial_stop_price, quantity, trail_type,
                                    trail_value, atr_period=None):
        """A stop-market whose stop price trails the last trade price.

        ``trail_type``: ``"fixed"`` (offset in ticks), ``"percentage"`` /
        ``"pct"`` (fraction of the watermark), ``"sma_abs_change"`` (alias
        ``"atr"``: ``trail_value`` times the mean absolute change of the last
        ``atr_period`` trade prices).  The stop only ever tightens.
        """
        return self._stop(EV_TRAIL_MARKET, side, "initial_stop_price", initial_stop_price, None,
                          quantity, None, (trail_type, trail_value, atr_period))

    def submit_trailing_stop_limit(self, side, initial_stop_price, limit_price, quantity,
                                   trail_type, trail_value, tif="gtc", atr_period=None):
        """A trailing stop that sends a limit order at ``limit_price``."""
        return self._stop(EV_TRAIL_LIMIT, side, "initial_stop_price", initial_stop_price,
                          limit_price, quantity, tif, (trail_type, trail_value, atr_period))

    def compact(self):
        """Unlink cancelled orders (tombstones) from the level queues.

        Has no observable effect on the book; matching skips tombstones
        anyway.  O(resting orders + tombstones).
        """
        self._claim(b"compact", True)
        try:
            self.compact_levels()
        finally:
            self._release(True)

    def clear_trades(self):
        """Empty the trade history (trade ids keep counting)."""
        self._claim(b"clear_trades", True)
        try:
            self.trade_log.n = 0
        finally:
            self._release(True)

    def clear_order_history(self):
        """Forget finished orders (filled/cancelled) and non-pending stops.

        Returns the number of regular orders removed.  Pages of the order
        table with nothing left in them are freed.
        """
        cdef size_t p, i, j = 0
        cdef OrderRec* r
        cdef uint64_t removed = 0
        self._claim(b"clear_order_history", True)
        try:
            self.compact_levels()       # no queue may point at a purged record
            for p in range(self.npages):
                if self.pages[p] == NULL:
                    continue
                for i in range(PAGE_SIZE):
                    r = &self.pages[p][i]
                    if r.kind == REC_ORDER and r.status >= ST_FILLED:
                        r.kind = REC_NONE
                        removed += 1
                        self.page_live[p] -= 1
                    elif r.kind == REC_STOP and self.stops[r.next].status != STOP_PENDING:
                        r.kind = REC_NONE
                        self.page_live[p] -= 1
                if self.page_live[p] == 0 and (p + 1) << PAGE_BITS <= self.next_id:
                    free(self.pages[p])
                    self.pages[p] = NULL
            # keep only pending stops, in submission order
            for i in range(self.nstops):
                if self.stops[i].status == STOP_PENDING:
                    self.stops[j] = self.stops[i]
                    self.rec(self.stops[j].id).next = j
                    self.pending[j] = j
                    j += 1
            self.nstops = j
            self.npending = j
            return removed
        finally:
            self._release(True)

    # -- Python API: queries ---------------------------------------------------

    def best_bid(self):
        """Highest bid price or None.  O(1)."""
        self._claim(b"best_bid", False)
        try:
            if self.side_n[BUY] == 0:
                return None
            return self.side_entries[BUY][self.side_n[BUY] - 1].price
        finally:
            self._release(False)

    def best_ask(self):
        """Lowest ask price or None.  O(1)."""
        self._claim(b"best_ask", False)
        try:
            if self.side_n[SELL] == 0:
                return None
            return self.side_entries[SELL][self.side_n[SELL] - 1].price
        finally:
            self._release(False)

    def best_bid_ask(self):
        """``(best_bid, best_ask)``, each None when its side is empty.  O(1)."""
        self._claim(b"best_bid_ask", False)
        try:
            return (None if self.side_n[BUY] == 0
                    else self.side_entries[BUY][self.side_n[BUY] - 1].price,
                    None if self.side_n[SELL] == 0
                    else self.side_entries[SELL][self.side_n[SELL] - 1].price)
        finally:
            self._release(False)

    def spread(self):
        """``best_ask - best_bid`` or None.  O(1)."""
        self._claim(b"spread", False)
        try:
            if self.side_n[BUY] == 0 or self.side_n[SELL] == 0:
                return None
            return (self.side_entries[SELL][self.side_n[SELL] - 1].price
                    - self.side_entries[BUY][self.side_n[BUY] - 1].price)
        finally:
            self._release(False)

    def last_trade_price(self):
        """Price of the last trade that set it (submissions, modifies, stop
        cascades), or None."""
        self._claim(b"last_trade_price", False)
        try:
            return self.last_price if self.has_last else None
        finally:
            self._release(False)

    def get_order(self, order_id):
        """Snapshot of order ``order_id`` or None (unknown, a stop, a
        rejected FOK, or purged by ``clear_order_history``).  O(1)."""
        cdef oid_t oid = _to_u64(order_id, "order_id")
        cdef OrderRec* r
        cdef Order o
        self._claim(b"get_order", False)
        try:
            r = self.rec(oid)
            if r == NULL or r.kind != REC_ORDER:
                return None
            o = Order.__new__(Order)
            o.id = oid
            o.price = r.price
            o.original_quantity = r.original
            # a cancelled resting (GTC) order reports nothing left; an IOC
            # remainder reports what was cancelled
            o.remaining_quantity = 0 if (r.status == ST_CANCELLED and r.tif == GTC) else r.remaining
            o.filled_quantity = r.original - r.remaining
            o.timestamp = r.timestamp
            o._side = r.side
            o._tif = r.tif
            o._status = r.status
            return o
        finally:
            self._release(False)

    def get_stop_order(self, order_id):
        """The stop ``order_id`` as a dict, or None.

        Keys: ``id, side, stop_price`` (current, trailed), ``limit_price``
        (None for stop-market), ``quantity, status`` (``pending``,
        ``triggered``, ``cancelled``), ``timestamp``.
        """
        cdef oid_t oid = _to_u64(order_id, "order_id")
        cdef OrderRec* r
        cdef StopRec* s
        self._claim(b"get_stop_order", False)
        try:
            r = self.rec(oid)
            if r == NULL or r.kind != REC_STOP:
                return None
            s = &self.stops[r.next]
            return {"id": s.id, "side": _SIDE_NAMES[s.side], "stop_price": s.stop_price,
                    "limit_price": s.limit_price if s.is_limit else None,
                    "quantity": s.quantity, "status": _STOP_STATUS[s.status],
                    "timestamp": s.timestamp}
        finally:
            self._release(False)

    def pending_stop_count(self):
        """Number of pending stops.  O(1)."""
        self._claim(b"pending_stop_count", False)
        try:
            return self.pending_live
        finally:
            self._release(False)

    def trades(self):
        """All trades since creation or the last ``clear_trades`` (``list[Trade]``)."""
        self._claim(b"trades", False)
        try:
            return _trade_list(<TradeRec*>self.trade_log.data, self.trade_log.n)
        finally:
            self._release(False)

    def trades_array(self):
        """The trade history as an array of ``nanobook.dtypes.TRADE_DTYPE`` (a copy)."""
        self._claim(b"trades_array", False)
        try:
            return _trades_array(<TradeRec*>self.trade_log.data, self.trade_log.n)
        finally:
            self._release(False)

    def events(self):
        """The event log as ``list[Event]`` (empty when the log is off)."""
        return events_from_array(self.events_array())

    def events_array(self):
        """The event log as an array of ``nanobook.dtypes.EVENT_DTYPE`` (decoded
        from its compact in-memory form)."""
        cdef unsigned char[::1] raw
        self._claim(b"events_array", False)
        try:
            arr = np.empty(self.nevents, dtype=_dt.EVENT_DTYPE)
            if self.nevents:
                raw = arr.view(np.uint8).reshape(-1)
                with nogil:
                    decode_events(<const uint8_t*>self.event_buf.data, self.nevents,
                                  <EventRec*>&raw[0])
            return arr
        finally:
            self._release(False)

    def event_count(self):
        """Number of recorded events.  O(1)."""
        self._claim(b"event_count", False)
        try:
            return self.nevents
        finally:
            self._release(False)

    cdef object _snapshot(self, size_t levels):
        cdef BookSnapshot snap = BookSnapshot.__new__(BookSnapshot)
        cdef int s
        cdef size_t n, i
        cdef BookEntry* e
        cdef Level* lv
        for s in range(2):
            n = self.side_n[s] if self.side_n[s] < levels else levels
            snap._n[s] = n
            if n == 0:
                continue
            snap._rows[s] = <LevelRow*>malloc(n * sizeof(LevelRow))
            if snap._rows[s] == NULL:
                raise MemoryError()
            e = self.side_entries[s]
            for i in range(n):
                lv = &self.levels[e[self.side_n[s] - 1 - i].slot]
                snap._rows[s][i].price = lv.price
                snap._rows[s][i].total = lv.total
                snap._rows[s][i].count = lv.count
        return snap

    def depth(self, levels=10):
        """``BookSnapshot`` of the best ``levels`` levels of each side.  O(levels)."""
        self._claim(b"depth", False)
        try:
            return self._snapshot(_to_u64(levels, "levels"))
        finally:
            self._release(False)

    def full_book(self):
        """``BookSnapshot`` of every level.  O(L)."""
        self._claim(b"full_book", False)
        try:
            return self._snapshot(<size_t>-1)
        finally:
            self._release(False)

    def __repr__(self):
        bid, ask = self.best_bid_ask()
        return (f"Exchange(bid={'None' if bid is None else _dollars(bid)}, "
                f"ask={'None' if ask is None else _dollars(ask)}, trades={self.trade_log.n})")

    # -- batch, replay, copies -------------------------------------------------

    def apply(self, ops):
        """Run an array of operations through the book in one ``nogil`` loop.

        Parameters
        ----------
        ops : numpy.ndarray of ``nanobook.dtypes.EVENT_DTYPE``
            One record per call, fields as documented on ``EVENT_DTYPE``.
            The whole array is validated first; an invalid row raises
            ``ValueError`` naming its index and field and nothing is applied.

        Returns
        -------
        numpy.ndarray of ``nanobook.dtypes.TRADE_DTYPE``
            The trades printed by these operations (stop cascades included).
        """
        cdef const EventRec* e
        cdef size_t n, i, start
        cdef const unsigned char[::1] raw
        cdef ExecOut res
        # claimed before validation: _validate_ops releases the GIL
        self._claim(b"apply", True)
        try:
            arr = _validate_ops(ops)
            n = arr.shape[0]
            start = self.trade_log.n
            if n:
                raw = arr.view(np.uint8).reshape(-1)
                e = <const EventRec*>&raw[0]
                with nogil:
                    if self.event_log:
                        buf_reserve(&self.event_buf, n * 8)
                    for i in range(n):
                        self.run(<EventRec*>&e[i], &res)
            return _trades_array((<TradeRec*>self.trade_log.data) + start, self.trade_log.n - start)
        finally:
            self._release(True)

    @staticmethod
    def replay(events, event_log=True):
        """A fresh ``Exchange`` with ``events`` re-applied (and re-recorded).

        ``events`` is a list of ``Event`` (as from ``events()``), an array of
        ``EVENT_DTYPE`` (``events_array()``), or the path of a file written by
        ``save_events``.  The result equals the live exchange the events
        came from (trades removed by ``clear_trades`` excepted).
        """
        cdef Exchange ex = Exchange(event_log=event_log)
        ex.apply(as_event_array(events))
        return ex

    def copy(self):
        """An independent deep copy of the book, stops, logs and counters."""
        cdef Exchange c = Exchange(event_log=self.event_log)
        cdef size_t p
        self._claim(b"copy", False)
        try:
            c.npages = self.npages
            if self.npages:
                c.pages = <OrderRec**>calloc(self.npages, sizeof(OrderRec*))
                c.page_live = <uint32_t*>malloc(self.npages * sizeof(uint32_t))
                if c.pages == NULL or c.page_live == NULL:
                    raise MemoryError()
                memcpy(c.page_live, self.page_live, self.npages * sizeof(uint32_t))
                for p in range(self.npages):
                    if self.pages[p] != NULL:
                        c.pages[p] = <OrderRec*>malloc(PAGE_SIZE * sizeof(OrderRec))
                        if c.pages[p] == NULL:
                            raise MemoryError()
                        memcpy(c.pages[p], self.pages[p], PAGE_SIZE * sizeof(OrderRec))
            c.levels = <Level*>_dup(self.levels, self.levels_cap * sizeof(Level))
            c.levels_cap = self.levels_cap
            c.levels_used = self.levels_used
            c.free_level = self.free_level
            for p in range(2):
                c.side_entries[p] = <BookEntry*>_dup(self.side_entries[p],
                                                     self.side_cap[p] * sizeof(BookEntry))
                c.side_n[p] = self.side_n[p]
                c.side_cap[p] = self.side_cap[p]
            c.stops = <StopRec*>_dup(self.stops, self.stops_cap * sizeof(StopRec))
            c.nstops = self.nstops
            c.stops_cap = self.stops_cap
            c.pending = <size_t*>_dup(self.pending, self.pending_cap * sizeof(size_t))
            c.trig = <size_t*>_dup(self.trig, self.pending_cap * sizeof(size_t))
            c.npending = self.npending
            c.pending_cap = self.pending_cap
            c.pending_live = self.pending_live
            c.history = <int64_t*>_dup(self.history, HISTORY_CAP * sizeof(int64_t)
                                       if self.history != NULL else 0)
            c.hist_n = self.hist_n
            c.hist_head = self.hist_head
            c.hist_prev = self.hist_prev
            c.hist_has_prev = self.hist_has_prev
            c.next_id = self.next_id
            c.next_trade_id = self.next_trade_id
            c.next_ts = self.next_ts
            c.last_price = self.last_price
            c.has_last = self.has_last
            free(c.trade_log.data)
            free(c.event_buf.data)
            buf_copy(&c.trade_log, &self.trade_log)
            buf_copy(&c.event_buf, &self.event_buf)
            c.nevents = self.nevents
            return c
        finally:
            self._release(False)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def save_events(self, path):
        """Write the event log to ``path``: JSON Lines when the name ends in
        ``.jsonl`` (one ``Event.__getstate__`` per line), otherwise the
        binary ``.npy`` form of ``events_array()``."""
        save_events(self.events_array(), path)

    # -- invariants ---------------------------------------------------------------

    def _check(self):
        """Verify every book invariant; raise AssertionError naming the first
        broken one.  O(orders + levels).  For tests."""
        cdef int s
        cdef size_t i, live_pending = 0
        cdef Level* lv
        cdef oid_t pid
        cdef OrderRec* r
        cdef u128_t total
        cdef uint64_t count
        self._claim(b"_check", False)
        try:
            for s in range(2):
                for i in range(self.side_n[s]):
                    e = self.side_entries[s][i]
                    if i and not ((self.side_entries[s][i - 1].price < e.price) if s == BUY
                                  else (self.side_entries[s][i - 1].price > e.price)):
                        raise AssertionError(f"side {s}: levels not strictly ordered at {i}")
                    lv = &self.levels[e.slot]
                    if lv.price != e.price:
                        raise AssertionError(f"level price {lv.price} != entry price {e.price}")
                    total = 0
                    count = 0
                    pid = lv.head
                    while pid:
                        r = self.rec(pid)
                        if r == NULL or r.kind != REC_ORDER:
                            raise AssertionError(f"queue at {lv.price} holds unknown id {pid}")
                        if r.status < ST_FILLED:
                            if r.level != e.slot or r.price != lv.price or r.side != s:
                                raise AssertionError(f"order {pid} misfiled at level {lv.price}")
                            if r.remaining == 0:
                                raise AssertionError(f"live order {pid} has nothing left")
                            total += r.remaining
                            count += 1
                        elif r.status != ST_CANCELLED:
                            raise AssertionError(f"filled order {pid} still queued")
                        if r.next == 0 and pid != lv.tail:
                            raise AssertionError(f"level {lv.price}: tail is not the last id")
                        pid = r.next
                    if total != lv.total or count != lv.count:
                        raise AssertionError(
                            f"level {lv.price}: total/count {u128_to_py(lv.total)}/{lv.count} "
                            f"!= live orders {u128_to_py(total)}/{count}")
                    if count == 0:
                        raise AssertionError(f"empty level {lv.price} still listed")
            if self.side_n[0] and self.side_n[1]:
                if self.side_entries[0][self.side_n[0] - 1].price >= \
                        self.side_entries[1][self.side_n[1] - 1].price:
                    raise AssertionError("book is crossed")
            for i in range(self.nstops):
                if self.stops[i].status == STOP_PENDING:
                    live_pending += 1
            if live_pending != self.pending_live:
                raise AssertionError(f"pending stops {live_pending} != counter {self.pending_live}")
            return True
        finally:
            self._release(False)
