"""Random operation sequences on the Cython book mirrored on a plain-Python book.

After every step: every observable output equals the model's, the book's
own invariant check passes (levels ordered, totals and counts equal the
live orders, never crossed), quantity is conserved for every order, ids are
unique and increasing, and replaying the event log rebuilds the same book.
"""
import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import nanobook
from refbook import RefBook

SIDES = st.sampled_from(["buy", "sell"])
PRICES = st.integers(97, 103)
QTYS = st.integers(1, 6)
TIFS = st.sampled_from(["gtc", "gtc", "gtc", "ioc", "fok"])


def trade(t):
    return (t.trade_id, t.price, t.quantity, t.aggressor_side, t.aggressor_order_id,
            t.passive_order_id, t.timestamp)


def levels(lv):
    return [(x.price, x.quantity, x.order_count) for x in lv]


class BookMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.ex = nanobook.Exchange()
        self.ref = RefBook()
        self.ids = []

    def _known_id(self, data):
        if self.ids and data.draw(st.booleans()):
            return data.draw(st.sampled_from(self.ids))
        return data.draw(st.integers(0, self.ref.next_id + 2))

    def _check_submit(self, r, m):
        assert (r.order_id, r.status, r.filled_quantity, r.resting_quantity,
                r.cancelled_quantity) == (m["order_id"], m["status"], m["filled"],
                                          m["resting"], m["cancelled"])
        assert [trade(t) for t in r.trades] == m["trades"]
        assert r.filled_quantity + r.resting_quantity + r.cancelled_quantity == \
            sum(t.quantity for t in r.trades) + r.resting_quantity + r.cancelled_quantity
        self.ids.append(r.order_id)

    @rule(side=SIDES, price=PRICES, qty=QTYS, tif=TIFS)
    def submit_limit(self, side, price, qty, tif):
        self._check_submit(self.ex.submit_limit(side, price, qty, tif),
                           self.ref.submit_limit(side, price, qty, tif))

    @rule(side=SIDES, qty=QTYS)
    def submit_market(self, side, qty):
        self._check_submit(self.ex.submit_market(side, qty), self.ref.submit_market(side, qty))

    @rule(data=st.data())
    def cancel(self, data):
        oid = self._known_id(data)
        r = self.ex.cancel(oid)
        assert (r.success, r.cancelled_quantity, r.error) == self.ref.cancel(oid)

    @rule(data=st.data(), price=PRICES, qty=QTYS)
    def modify(self, data, price, qty):
        oid = self._known_id(data)
        r = self.ex.modify(oid, price, qty)
        m = self.ref.modify(oid, price, qty)
        assert r.success == m["success"]
        if r.success:
            assert (r.new_order_id, r.cancelled_quantity) == (m["new"], m["cancelled"])
            assert [trade(t) for t in r.trades] == m["trades"]
            self.ids.append(r.new_order_id)
        else:
            assert (r.error, r.new_order_id, r.cancelled_quantity) == (m["error"], None, 0)

    @rule(side=SIDES, stop=PRICES, limit=st.none() | PRICES, qty=QTYS, tif=TIFS)
    def submit_stop(self, side, stop, limit, qty, tif):
        if limit is None:
            r = self.ex.submit_stop_market(side, stop, qty)
        else:
            r = self.ex.submit_stop_limit(side, stop, limit, qty, tif)
        oid, trig = self.ref.add_stop(side, stop, limit, qty, tif)
        assert (r.order_id, r.status) == (oid, "Triggered" if trig else "Pending")
        self.ids.append(oid)

    @rule(side=SIDES, stop=PRICES, limit=st.none() | PRICES, qty=QTYS,
          trail=st.one_of(st.tuples(st.just("fixed"), st.integers(-2, 4)),
                          st.tuples(st.just("percentage"), st.sampled_from([0.0, 0.01, 0.02, 0.05])),
                          st.tuples(st.just("sma_abs_change"), st.sampled_from([0.5, 1.0, 2.5]),
                                    st.integers(0, 4))))
    def submit_trailing(self, side, stop, limit, qty, trail):
        kind = trail[0]
        period = trail[2] if kind == "sma_abs_change" else None
        if limit is None:
            r = self.ex.submit_trailing_stop_market(side, stop, qty, kind, trail[1], period)
        else:
            r = self.ex.submit_trailing_stop_limit(side, stop, limit, qty, kind, trail[1],
                                                   "gtc", period)
        model = {"fixed": ("fixed", trail[1]), "percentage": ("pct", trail[1]),
                 "sma_abs_change": ("sma", trail[1], period)}[kind]
        oid, trig = self.ref.add_stop(side, stop, limit, qty, "gtc", model)
        assert (r.order_id, r.status) == (oid, "Pending")
        self.ids.append(oid)

    @rule()
    def compact(self):
        self.ex.compact()

    @rule()
    def clear_order_history(self):
        assert self.ex.clear_order_history() == self.ref.clear_order_history()

    @rule()
    def clear_trades(self):
        self.ex.clear_trades()
        self.ref.trades = []

    @invariant()
    def same_book(self):
        if not hasattr(self, "ex"):
            return
        ex, ref = self.ex, self.ref
        ex._check()
        snap = ex.full_book()
        assert levels(snap.bids) == ref.levels("buy")
        assert levels(snap.asks) == ref.levels("sell")
        bid, ask = ex.best_bid_ask()
        assert (bid, ask) == (ref.best("buy"), ref.best("sell"))
        if bid is not None and ask is not None:
            assert bid < ask
        assert ex.last_trade_price() == ref.last
        assert ex.pending_stop_count() == sum(s.status == "pending" for s in ref.stops.values())
        assert [trade(t) for t in ex.trades()] == ref.trades

    @invariant()
    def orders_conserved(self):
        if not hasattr(self, "ex"):
            return
        for oid, o in self.ref.orders.items():
            got = self.ex.get_order(oid)
            assert got is not None
            assert (got.id, got.side, got.price, got.original_quantity, got.remaining_quantity,
                    got.filled_quantity, got.status, got.time_in_force, got.timestamp) == o.view()
            resting = o.remaining if o.status in ("new", "partiallyfilled") else 0
            cancelled = o.remaining if o.status == "cancelled" else 0
            assert got.filled_quantity + resting + cancelled == got.original_quantity
        for sid, s in self.ref.stops.items():
            assert self.ex.get_stop_order(sid) == s.view()
        # ids unique and increasing in submission order
        assert self.ids == sorted(set(self.ids))

    @invariant()
    def replay_rebuilds(self):
        if not hasattr(self, "ex"):
            return
        again = nanobook.Exchange.replay(self.ex.events())
        again._check()
        assert levels(again.full_book().bids) == levels(self.ex.full_book().bids)
        assert levels(again.full_book().asks) == levels(self.ex.full_book().asks)
        assert again.last_trade_price() == self.ex.last_trade_price()
        assert again.pending_stop_count() == self.ex.pending_stop_count()
        n = len(self.ex.trades())
        assert [trade(t) for t in again.trades()[len(again.trades()) - n:]] == \
            [trade(t) for t in self.ex.trades()]


BookMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
TestBook = BookMachine.TestCase
