"""A plain-Python order book with nanobook's (corrected) semantics.

Deliberately naive: dicts and lists, every operation written out the
obvious way, no tombstones.  The stateful test drives it and the Cython
``Exchange`` with the same calls and compares everything observable.
"""
import math
from dataclasses import dataclass, field

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


@dataclass
class Order:
    id: int
    side: str
    price: int
    original: int
    remaining: int
    tif: str
    timestamp: int
    status: str = "new"

    @property
    def filled(self):
        return self.original - self.remaining

    def view(self):
        rem = 0 if (self.status == "cancelled" and self.tif == "gtc") else self.remaining
        return (self.id, self.side, self.price, self.original, rem, self.filled,
                self.status, self.tif, self.timestamp)


@dataclass
class Stop:
    id: int
    side: str
    stop_price: int
    limit_price: object
    quantity: int
    tif: str
    timestamp: int
    trail: object = None          # ("fixed", int) / ("pct", float) / ("sma", mult, period)
    status: str = "pending"
    watermark: object = None

    def view(self):
        return {"id": self.id, "side": self.side, "stop_price": self.stop_price,
                "limit_price": self.limit_price, "quantity": self.quantity,
                "status": self.status, "timestamp": self.timestamp}


@dataclass
class RefBook:
    orders: dict = field(default_factory=dict)      # id -> Order (regular orders)
    stops: dict = field(default_factory=dict)       # id -> Stop
    queues: dict = field(default_factory=lambda: {"buy": {}, "sell": {}})  # price -> [ids]
    trades: list = field(default_factory=list)
    next_id: int = 1
    next_trade: int = 1
    ts: int = 1
    last: object = None
    history: list = field(default_factory=list)
    prev: object = None

    # -- helpers --------------------------------------------------------------
    def _tick(self):
        t = self.ts
        self.ts += 1
        return t

    def _new_id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def levels(self, side):
        q = self.queues[side]
        prices = sorted(q, reverse=(side == "buy"))
        return [(p, sum(self.orders[i].remaining for i in q[p]), len(q[p])) for p in prices]

    def best(self, side):
        lv = self.levels(side)
        return lv[0][0] if lv else None

    def _crosses(self, side, price, level_price):
        return price >= level_price if side == "buy" else price <= level_price

    # -- matching ---------------------------------------------------------------
    def _submit(self, side, price, qty, tif):
        oid = self._new_id()
        ts = self._tick()
        opp = "sell" if side == "buy" else "buy"
        start = len(self.trades)
        if tif == "fok":
            avail = sum(q for p, q, _ in self.levels(opp) if self._crosses(side, price, p))
            if avail < qty:
                return dict(order_id=oid, status="Cancelled", filled=0, resting=0,
                            cancelled=qty, trades=[])
        o = Order(oid, side, price, qty, qty, tif, ts)
        self.orders[oid] = o
        while o.remaining:
            lv = self.levels(opp)
            if not lv or not self._crosses(side, price, lv[0][0]):
                break
            p = lv[0][0]
            queue = self.queues[opp][p]
            while queue and o.remaining:
                r = self.orders[queue[0]]
                f = min(o.remaining, r.remaining)
                self.trades.append((self.next_trade, p, f, side, oid, r.id, self._tick()))
                self.next_trade += 1
                o.remaining -= f
                r.remaining -= f
                if r.remaining == 0:
                    r.status = "filled"
                    queue.pop(0)
                else:
                    r.status = "partiallyfilled"
            if not queue:
                del self.queues[opp][p]
        filled = o.filled
        if o.remaining == 0:
            o.status = "filled"
            status, resting, cancelled = "Filled", 0, 0
        elif tif == "gtc":
            o.status = "partiallyfilled" if filled else "new"
            self.queues[side].setdefault(price, []).append(oid)
            status = "PartiallyFilled" if filled else "New"
            resting, cancelled = o.remaining, 0
        else:
            o.status = "cancelled"
            status = "PartiallyFilled" if filled else "Cancelled"
            resting, cancelled = 0, o.remaining
        return dict(order_id=oid, status=status, filled=filled, resting=resting,
                    cancelled=cancelled, trades=self.trades[start:])

    def _after(self, res):
        if res["trades"]:
            self.last = res["trades"][-1][1]
            self._process_stops()

    def _process_stops(self):
        for _ in range(100):
            if self.last is None:
                return
            p = self.last
            self._feed(p)
            pending = sorted((s for s in self.stops.values() if s.status == "pending"),
                             key=lambda s: s.timestamp)
            trig = [s for s in pending
                    if (s.stop_price <= p if s.side == "buy" else s.stop_price >= p)]
            if not trig:
                return
            for s in trig:
                s.status = "triggered"
            last = None
            for s in trig:
                if s.limit_price is not None:
                    r = self._submit(s.side, s.limit_price, s.quantity, s.tif)
                else:
                    r = self._submit(s.side, INT64_MAX if s.side == "buy" else INT64_MIN,
                                     s.quantity, "ioc")
                if r["trades"]:
                    last = r["trades"][-1][1]
            if last is None:
                return
            self.last = last

    def _feed(self, p):
        if self.prev is not None:
            self.history.append(abs(p - self.prev))
            self.history = self.history[-10000:]
        self.prev = p
        for s in sorted(self.stops.values(), key=lambda s: s.timestamp):
            if s.status != "pending" or s.trail is None:
                continue
            if s.watermark is None:
                s.watermark = p
            elif s.side == "sell":
                s.watermark = max(s.watermark, p)
            else:
                s.watermark = min(s.watermark, p)
            kind = s.trail[0]
            if kind == "fixed":
                off = s.trail[1]
            elif kind == "pct":
                x = s.watermark * s.trail[1]
                r = math.floor(abs(x))
                r += abs(x) - r >= 0.5                            # half away from zero
                off = r if x >= 0 else -r
            else:
                mult, period = s.trail[1], s.trail[2]
                if period == 0 or not self.history:
                    off = 0
                else:
                    win = self.history[-min(period, len(self.history)):]
                    off = int(sum(win) / len(win) * mult)
            if off <= 0:
                continue
            if s.side == "sell":
                s.stop_price = max(s.stop_price, s.watermark - off)
            else:
                s.stop_price = min(s.stop_price, s.watermark + off)

    # -- API ------------------------------------------------------------------------
    def submit_limit(self, side, price, qty, tif="gtc"):
        r = self._submit(side, price, qty, tif)
        self._after(r)
        return r

    def submit_market(self, side, qty):
        r = self._submit(side, INT64_MAX if side == "buy" else INT64_MIN, qty, "ioc")
        self._after(r)
        return r

    def cancel(self, oid):
        if oid in self.stops:
            s = self.stops[oid]
            if s.status != "pending":
                return (False, 0, "OrderNotFound")
            s.status = "cancelled"
            return (True, s.quantity, None)
        o = self.orders.get(oid)
        if o is None:
            return (False, 0, "OrderNotFound")
        if o.status in ("filled", "cancelled"):
            return (False, 0, "OrderNotActive")
        q = o.remaining
        self.queues[o.side][o.price].remove(oid)
        if not self.queues[o.side][o.price]:
            del self.queues[o.side][o.price]
        o.status = "cancelled"
        return (True, q, None)

    def modify(self, oid, price, qty):
        o = self.orders.get(oid)
        if o is None:
            return dict(success=False, error="OrderNotFound")
        if o.status in ("filled", "cancelled"):
            return dict(success=False, error="OrderNotActive")
        _, q, _ = self.cancel(oid)
        r = self._submit(o.side, price, qty, o.tif)
        self._after(r)
        return dict(success=True, new=r["order_id"], cancelled=q, trades=r["trades"])

    def add_stop(self, side, stop_price, limit_price, qty, tif, trail=None):
        oid = self._new_id()
        s = Stop(oid, side, stop_price, limit_price, qty, tif, self._tick(), trail)
        self.stops[oid] = s
        if trail is None and self.last is not None and (
                (side == "buy" and self.last >= stop_price)
                or (side == "sell" and self.last <= stop_price)):
            self._process_stops()
            return oid, s.status == "triggered"
        return oid, False

    def clear_order_history(self):
        done = [i for i, o in self.orders.items() if o.status in ("filled", "cancelled")]
        for i in done:
            del self.orders[i]
        for i in [i for i, s in self.stops.items() if s.status != "pending"]:
            del self.stops[i]
        return len(done)
