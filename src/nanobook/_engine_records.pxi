# Included by _engine.pyx: the Python-facing records and results (built
# from the C records only when a Python caller asks for them).

# Units of every record: prices are integer ticks (cents for the bundled
# data), quantities integer lots, ids the book's order ids (1, 2, ...), and
# ``timestamp`` the book's logical clock: a counter that advances by one per
# order, stop and trade, ordering events within one book (not wall time).
#
# The names of the codes, read once from their tables in nanobook.dtypes
# (which says why nanobook 0.19 spells each code in two casings).
cdef tuple _python_names(tuple names):
    return tuple(n.python for n in names)


cdef tuple _rust_names(tuple names):
    return tuple(n.rust for n in names)


cdef tuple _SIDE_NAMES = _python_names(_dt.SIDE_NAMES)              # Order.side, Trade
cdef tuple _TIF_NAMES = _python_names(_dt.TIF_NAMES)                # Order.time_in_force
cdef tuple _ORDER_STATUS = _python_names(_dt.ORDER_STATUS_NAMES)    # Order.status
cdef tuple _SUBMIT_STATUS = _rust_names(_dt.ORDER_STATUS_NAMES)     # SubmitResult.status
cdef tuple _STOP_STATUS = _python_names(_dt.STOP_STATUS_NAMES)      # get_stop_order
cdef tuple _STOP_SUBMIT_STATUS = _rust_names(_dt.STOP_STATUS_NAMES)  # StopSubmitResult.status
cdef tuple _ERRORS = _dt.ERROR_NAMES                                # Cancel/ModifyResult.error
# public name of the stop submitter of each event kind (thread-claim messages)
cdef dict _STOP_CALLS = {k: _dt.EVENT_KINDS[k].encode("ascii")
                         for k in (EV_STOP_MARKET, EV_STOP_LIMIT, EV_TRAIL_MARKET, EV_TRAIL_LIMIT)}


cdef str _dollars(int64_t cents):
    return f"${cents / 100.0:.2f}"


@cython.freelist(32)
cdef class _Record:
    """Base of the read-only record classes: built by the engine only."""

    def __init__(self, *args, **kwargs):
        raise TypeError(f"cannot create '{type(self).__name__}' instances")


@cython.final
@cython.freelist(64)
cdef class Trade:
    """One fill: ``quantity`` at the resting order's ``price``.

    Attributes
    ----------
    trade_id : int
        Sequence number of the trade in its book (1, 2, ...).
    price : int
        Execution price in ticks: the resting (passive) order's price.
    quantity : int
        Lots filled.
    aggressor_order_id, passive_order_id : int
        The incoming order that crossed, and the resting order it hit.
    timestamp : int
        The book's logical clock when the trade printed (not wall time).
    """
    cdef readonly uint64_t trade_id
    cdef readonly int64_t price
    cdef readonly uint64_t quantity
    cdef readonly uint64_t aggressor_order_id
    cdef readonly uint64_t passive_order_id
    cdef readonly uint64_t timestamp
    cdef uint8_t _side          # BUY / SELL of the aggressor

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'Trade' instances")

    @property
    def aggressor_side(self):
        """``"buy"`` or ``"sell"``: the side of the incoming order."""
        return _SIDE_NAMES[self._side]

    @property
    def price_float(self):
        """``price / 100``: the price in currency units when ticks are cents."""
        return self.price / 100.0

    def __repr__(self):
        return (f"Trade(id={self.trade_id}, price={_dollars(self.price)}, "
                f"qty={self.quantity}, side='{_SIDE_NAMES[self._side]}')")

    def __reduce__(self):
        return (_make_trade, (self.trade_id, self.price, self.quantity, self._side,
                              self.aggressor_order_id, self.passive_order_id, self.timestamp))


def _make_trade(trade_id, price, quantity, side, aggressor, passive, timestamp):
    cdef TradeRec t
    t.trade_id = trade_id
    t.price = price
    t.quantity = quantity
    t.aggressor_side = side
    t.aggressor_order_id = aggressor
    t.passive_order_id = passive
    t.timestamp = timestamp
    return _trade(&t)


cdef Trade _trade(const TradeRec* t):
    cdef Trade o = Trade.__new__(Trade)
    o.trade_id = t.trade_id
    o.price = t.price
    o.quantity = t.quantity
    o._side = t.aggressor_side
    o.aggressor_order_id = t.aggressor_order_id
    o.passive_order_id = t.passive_order_id
    o.timestamp = t.timestamp
    return o


cdef list _trade_list(const TradeRec* t, size_t n):
    cdef list out = []
    cdef size_t i
    for i in range(n):
        out.append(_trade(&t[i]))
    return out


@cython.freelist(64)
cdef class _HasTrades:
    """Holds a private copy of the trades of one call; builds them lazily."""
    cdef TradeRec* _trades
    cdef size_t _ntrades
    cdef list _trade_objs

    cdef int _take(self, Exchange ex, size_t start, size_t end) except -1:
        cdef size_t n = end - start
        if n == 0:
            return 0
        self._trades = <TradeRec*>malloc(n * sizeof(TradeRec))
        if self._trades == NULL:
            raise MemoryError()
        memcpy(self._trades, ex.trade_log.data + start * sizeof(TradeRec), n * sizeof(TradeRec))
        self._ntrades = n
        return 0

    def __init__(self, *args, **kwargs):
        raise TypeError(f"cannot create '{type(self).__name__}' instances")

    def __dealloc__(self):
        free(self._trades)

    @property
    def trades(self):
        """The trades of this call, in execution order (``list[Trade]``)."""
        if self._trade_objs is None:
            self._trade_objs = _trade_list(self._trades, self._ntrades)
        return self._trade_objs


@cython.final
cdef class SubmitResult(_HasTrades):
    """Outcome of a submission: ``filled + resting + cancelled == quantity``.

    Attributes
    ----------
    order_id : int
        The id given to the order (also to a rejected FOK).
    filled_quantity, resting_quantity, cancelled_quantity : int
        Lots filled by this call, left resting in the book (GTC), and
        cancelled (an IOC/market remainder, or a whole rejected FOK).
    """
    cdef readonly uint64_t order_id
    cdef readonly uint64_t filled_quantity
    cdef readonly uint64_t resting_quantity
    cdef readonly uint64_t cancelled_quantity
    cdef uint8_t _status        # ST_* as reported (see SubmitOut.status)

    @property
    def status(self):
        """``"New"``, ``"PartiallyFilled"``, ``"Filled"`` or ``"Cancelled"``."""
        return _SUBMIT_STATUS[self._status]

    def __repr__(self):
        return (f"SubmitResult(order_id={self.order_id}, status='{self.status}', "
                f"filled={self.filled_quantity}, resting={self.resting_quantity}, "
                f"cancelled={self.cancelled_quantity}, trades={self._ntrades})")


cdef SubmitResult _submit_result(Exchange ex, const SubmitOut* s):
    cdef SubmitResult r = SubmitResult.__new__(SubmitResult)
    r.order_id = s.order_id
    r.filled_quantity = s.filled
    r.resting_quantity = s.resting
    r.cancelled_quantity = s.cancelled
    r._status = s.status
    r._take(ex, s.trade_start, s.trade_end)
    return r


@cython.final
cdef class CancelResult(_Record):
    """Outcome of ``cancel``; ``error`` is None, ``"OrderNotFound"`` or ``"OrderNotActive"``.

    Attributes
    ----------
    success : bool
        The order (or pending stop) was live and is now cancelled.
    cancelled_quantity : int
        Lots taken out of the book (0 on failure).
    """
    cdef readonly bint success
    cdef readonly uint64_t cancelled_quantity
    cdef int _code              # OK / NOT_FOUND / NOT_ACTIVE

    @property
    def error(self):
        return _ERRORS[self._code]

    def __repr__(self):
        if self.success:
            return f"CancelResult(success=True, cancelled_quantity={self.cancelled_quantity})"
        return f"CancelResult(success=False, error='{self.error}')"


@cython.final
cdef class ModifyResult(_HasTrades):
    """Outcome of ``modify`` (cancel/replace: a new id at the back of the queue).

    Attributes
    ----------
    success : bool
        The order was live and has been replaced.
    old_order_id : int
        The id that was modified.
    new_order_id : int or None
        The id of the replacement order (None on failure).
    cancelled_quantity : int
        Lots of the old order taken out of the book (0 on failure).
    """
    cdef readonly bint success
    cdef readonly uint64_t old_order_id
    cdef readonly object new_order_id
    cdef readonly uint64_t cancelled_quantity
    cdef int _code              # OK / NOT_FOUND / NOT_ACTIVE

    @property
    def error(self):
        return _ERRORS[self._code]

    def __repr__(self):
        if self.success:
            return (f"ModifyResult(success=True, old={self.old_order_id}, "
                    f"new=Some({self.new_order_id}), trades={self._ntrades})")
        return f"ModifyResult(success=False, error='{self.error}')"


@cython.final
cdef class StopSubmitResult(_Record):
    """Outcome of a stop submission: ``status`` is ``"Pending"`` or ``"Triggered"``.

    Attributes
    ----------
    order_id : int
        The id of the stop (its triggered order gets a new id).
    """
    cdef readonly uint64_t order_id
    cdef bint _triggered        # triggered at submission

    @property
    def status(self):
        return _STOP_SUBMIT_STATUS[STOP_TRIGGERED if self._triggered else STOP_PENDING]

    def __repr__(self):
        return f"StopSubmitResult(order_id={self.order_id}, status='{self.status}')"


@cython.final
cdef class Order(_Record):
    """Snapshot (a copy) of one order.

    Attributes
    ----------
    id : int
        The order id.
    price : int
        Limit price in ticks (a market order's is the most aggressive
        signed 64-bit value).
    original_quantity, filled_quantity : int
        Lots submitted, and lots filled so far.
    remaining_quantity : int
        Lots not filled: still resting while active; for a cancelled GTC
        order 0, for a cancelled IOC/market remainder the unfilled lots.
    timestamp : int
        The book's logical clock when the order arrived (not wall time).
    """
    cdef readonly uint64_t id
    cdef readonly int64_t price
    cdef readonly uint64_t original_quantity
    cdef readonly uint64_t remaining_quantity
    cdef readonly uint64_t filled_quantity
    cdef readonly uint64_t timestamp
    cdef uint8_t _side, _tif, _status   # BUY/SELL, GTC/IOC/FOK, ST_*

    @property
    def side(self):
        """``"buy"`` or ``"sell"``."""
        return _SIDE_NAMES[self._side]

    @property
    def status(self):
        """``"new"``, ``"partiallyfilled"``, ``"filled"`` or ``"cancelled"``."""
        return _ORDER_STATUS[self._status]

    @property
    def time_in_force(self):
        """``"gtc"``, ``"ioc"`` or ``"fok"``."""
        return _TIF_NAMES[self._tif]

    @property
    def is_active(self):
        """True while the order can still fill (``new`` or ``partiallyfilled``)."""
        return self._status < ST_FILLED

    def __repr__(self):
        return (f"Order(id={self.id}, side={self.side}, price={self.price}, "
                f"qty={self.filled_quantity}/{self.original_quantity}, status={self.status})")


@cython.final
cdef class LevelSnapshot(_Record):
    """One price level: ``quantity`` is the exact total of its live orders.

    Attributes
    ----------
    price : int
        The level's price in ticks.
    quantity : int
        Lots resting at this price (exact: may exceed 2**64 - 1).
    order_count : int
        Live orders at this price.
    """
    cdef readonly int64_t price
    cdef readonly object quantity
    cdef readonly uint64_t order_count

    @property
    def price_float(self):
        """``price / 100``: the price in currency units when ticks are cents."""
        return self.price / 100.0

    def __repr__(self):
        return f"Level(price={_dollars(self.price)}, qty={self.quantity}, orders={self.order_count})"


ctypedef struct LevelRow:
    price_t price
    u128_t total
    uint64_t count


@cython.final
cdef class BookSnapshot(_Record):
    """Levels of both sides, best first; the methods see only these levels."""
    cdef LevelRow* _rows[2]
    cdef size_t _n[2]
    cdef list _bids, _asks

    def __dealloc__(self):
        free(self._rows[0])
        free(self._rows[1])

    cdef list _side(self, int s):
        cdef size_t i
        cdef LevelSnapshot lv
        cdef list out = self._bids if s == BUY else self._asks
        if out is None:
            out = []
            for i in range(self._n[s]):
                lv = LevelSnapshot.__new__(LevelSnapshot)
                lv.price = self._rows[s][i].price
                lv.quantity = u128_to_py(self._rows[s][i].total)
                lv.order_count = self._rows[s][i].count
                out.append(lv)
            if s == BUY:
                self._bids = out
            else:
                self._asks = out
        return out

    @property
    def bids(self):
        """Bid levels, highest price first (``list[LevelSnapshot]``)."""
        return self._side(BUY)

    @property
    def asks(self):
        """Ask levels, lowest price first (``list[LevelSnapshot]``)."""
        return self._side(SELL)

    def spread(self):
        """``best_ask - best_bid`` or None when a side is empty."""
        if self._n[0] == 0 or self._n[1] == 0:
            return None
        return self._rows[1][0].price - self._rows[0][0].price

    def mid_price(self):
        """``(best_bid + best_ask) / 2`` in cents (float), or None."""
        if self._n[0] == 0 or self._n[1] == 0:
            return None
        return (<double>self._rows[0][0].price + <double>self._rows[1][0].price) / 2.0

    def imbalance(self):
        """``(bid qty - ask qty) / (bid qty + ask qty)`` over the snapshot, or None."""
        cdef double b = 0.0, a = 0.0
        cdef size_t i
        for i in range(self._n[0]):
            b += <double>self._rows[0][i].total
        for i in range(self._n[1]):
            a += <double>self._rows[1][i].total
        if b + a == 0.0:
            return None
        return (b - a) / (b + a)

    def weighted_mid(self):
        """Top-of-book mid weighted by the opposite quantities (cents), or None."""
        cdef double bq, aq
        if self._n[0] == 0 or self._n[1] == 0:
            return None
        bq = <double>self._rows[0][0].total
        aq = <double>self._rows[1][0].total
        if bq + aq == 0.0:
            return None
        return (aq * <double>self._rows[0][0].price + bq * <double>self._rows[1][0].price) / (bq + aq)

    def to_numpy(self):
        """``(bids, asks)`` as arrays of ``nanobook.dtypes.LEVEL_DTYPE``."""
        out = []
        for s in range(2):
            arr = np.empty(self._n[s], dtype=_dt.LEVEL_DTYPE)
            for i in range(self._n[s]):
                arr[i] = (self._rows[s][i].price, u128_sat64(self._rows[s][i].total),
                          self._rows[s][i].count)
            out.append(arr)
        return tuple(out)

    def __repr__(self):
        return f"BookSnapshot(bids={self._n[0]}, asks={self._n[1]})"


cdef tuple _row(const EventRec* e):
    """``e`` as a row: its ``EVENT_DTYPE`` fields in order (the form
    ``nanobook._events`` reads and writes)."""
    return (e.kind, e.side, e.tif, e.trail, e._pad, e.order_id, e.price, e.limit_price,
            e.quantity, e.trail_fixed, e.trail_value, e.period)


cdef int _from_row(EventRec* e, tuple row) except -1:
    """A row parsed by ``nanobook._events`` (values already range-checked) into ``e``."""
    (e.kind, e.side, e.tif, e.trail, e._pad, e.order_id, e.price, e.limit_price,
     e.quantity, e.trail_fixed, e.trail_value, e.period) = row
    return 0


@cython.final
@cython.freelist(256)
cdef class Event:
    """One state-changing call, as recorded in the event log.

    ``kind`` is the method name (``"submit_limit"``, ``"cancel"``, ...).
    ``__getstate__`` gives the JSON form, ``Event.from_json`` parses it (both
    in ``nanobook._events``, as is the ``repr``: the reference's Debug form).
    """
    cdef EventRec rec

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'Event' instances; use Event.from_json or Exchange.events()")

    @property
    def kind(self):
        return _dt.EVENT_KINDS[self.rec.kind]

    def to_dict(self):
        """The serde form: ``{"SubmitLimit": {"side": "Buy", ...}}``."""
        return _events.to_dict(_row(&self.rec))

    def __getstate__(self):
        return _events.dumps(_row(&self.rec))

    def __setstate__(self, state):
        cdef EventRec e
        if not isinstance(state, str):
            raise TypeError(f"state must be a str, got {_describe(state)}")
        _from_row(&e, _events.from_text(state, "event", "event JSON"))
        self.rec = e

    def __reduce__(self):
        return (_event_from_json, (self.__getstate__(),))

    @staticmethod
    def from_json(text):
        """Parse one event from its JSON form (``Event.__getstate__``)."""
        cdef Event ev = Event.__new__(Event)
        ev.__setstate__(text)
        return ev

    def __eq__(self, other):
        if not isinstance(other, Event):
            return NotImplemented
        return self.to_dict() == (<Event>other).to_dict()

    def __hash__(self):
        return hash(self.__getstate__())

    def __repr__(self):
        return _events.debug_repr(_row(&self.rec))


def _event_from_json(text):
    return Event.from_json(text)


cdef Event _event(const EventRec* e):
    cdef Event ev = Event.__new__(Event)
    ev.rec = e[0]
    return ev


cdef object _trades_array(const TradeRec* t, size_t n):
    arr = np.zeros(n, dtype=_dt.TRADE_DTYPE)
    cdef char[::1] view
    if n:
        view = arr.view(np.uint8).reshape(-1)
        memcpy(&view[0], t, n * sizeof(TradeRec))
    return arr
