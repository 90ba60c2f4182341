"""Ready-made strategies: a simple inventory-skewed market maker."""
from __future__ import annotations

import math

from ..validate import integer, real
from .dtypes import BUY, SELL, STATUS_OPEN, STATUS_PENDING
from .engine import Sim, Strategy

__all__ = ["MarketMaker", "TouchQuoter"]


class MarketMaker(Strategy):
    """Quote one bid and one ask around the local mid, skewed by inventory.

    Target prices (integer ticks)::

        reservation = mid - skew * position          (price units per lot)
        bid = min(floor(reservation - half_spread), best_bid)
        ask = max(ceil(reservation + half_spread), best_ask)

    so quotes never cross the local book (post-only).  A quote is replaced
    (cancel + new) when its target moves by ``requote`` ticks or more, and a
    side is not quoted while ``|position|`` is at ``max_position`` on that
    side (the :class:`Sim` ``max_position`` limit is the hard stop).

    Parameters
    ----------
    half_spread : float
        Half of the quoted spread, in price units (>= 0).
    qty : int
        Size of each quote (> 0).
    max_position : int
        Inventory limit (>= 0).
    skew : float
        Reservation-price shift per lot of inventory (>= 0).
    requote : int
        Minimum target move (ticks) that triggers a requote (>= 1).
    tick : int
        Price increment of the instrument, in price units (>= 1).
    """

    def __init__(self, half_spread: float, qty: int, max_position: int, *, skew: float = 0.0,
                 requote: int = 1, tick: int = 1, timer_interval: int | None = None) -> None:
        for name, v in (("half_spread", half_spread), ("skew", skew)):
            real(v, name, ge=0, finite=True)
        for name, v, lo in (("qty", qty, 1), ("max_position", max_position, 0), ("requote", requote, 1),
                            ("tick", tick, 1)):
            integer(v, name, ge=lo)
        self.half_spread, self.qty, self.max_position = float(half_spread), qty, max_position
        self.skew, self.requote, self.tick = float(skew), requote, tick
        self.timer_interval = timer_interval
        self.bid_id: int | None = None
        self.ask_id: int | None = None

    def on_start(self, sim: Sim) -> None:
        self.bid_id = self.ask_id = None

    def _quote(self, sim: Sim) -> None:
        b, _, a, _ = sim.bbo()
        if not b or not a or a <= b:
            return
        pos = sim.position
        res = 0.5 * (a + b) - self.skew * pos
        tk = self.tick
        bid = min(math.floor((res - self.half_spread) / tk) * tk, b)
        ask = max(math.ceil((res + self.half_spread) / tk) * tk, a)
        self.bid_id = self._side(sim, self.bid_id, BUY, bid, pos < self.max_position)
        self.ask_id = self._side(sim, self.ask_id, SELL, ask, -pos < self.max_position)

    def _side(self, sim: Sim, oid, side: int, price: int, allowed: bool):
        if oid is not None:
            o = sim.order(oid)
            live = o["status"] in ("pending", "open") and not o["cancel_sent"]
            if live and allowed and abs(o["price"] - price) < self.requote * self.tick:
                return oid
            if live:
                sim.cancel(oid)
        if not allowed or price <= 0:
            return None
        return sim.submit(side, int(price), self.qty, post_only=True)

    def on_book(self, sim: Sim) -> None:
        self._quote(sim)

    def on_fill(self, sim: Sim, fill) -> None:
        self._quote(sim)

    def on_timer(self, sim: Sim) -> None:
        self._quote(sim)


class TouchQuoter(Strategy):
    """One post-only order per side at the local touch, re-checked on a timer.

    Every ``timer_interval`` ns: a side whose order is gone (filled,
    cancelled, rejected) gets a new order of ``qty`` at the best price of its
    side; a side whose order rests away from the best price is cancelled and
    re-sent there.  A side is not quoted when ``|position|`` would exceed
    ``max_position`` (None: no limit).  This is the strategy of the
    comparison with hftbacktest (``benches/bench_sim.py``).
    """

    def __init__(self, qty: int, *, timer_interval: int = 100_000_000, max_position: int | None = None) -> None:
        for name, v, lo in (("qty", qty, 1), ("timer_interval", timer_interval, 1)):
            integer(v, name, ge=lo)
        if max_position is not None:
            integer(max_position, "max_position", ge=0, expect="an int >= 0 or None")
        self.qty, self.timer_interval, self.max_position = qty, timer_interval, max_position
        self.ids: list[int | None] = [None, None]

    def on_start(self, sim: Sim) -> None:
        self.ids = [None, None]

    def on_timer(self, sim: Sim) -> None:
        b, _, a, _ = sim.bbo()
        if not b or not a:
            return
        pos = sim.position
        core = sim._core
        for side, target in ((BUY, b), (SELL, a)):
            oid = self.ids[side]
            if oid is not None:
                _, price, _, _, status, cancel_ts = core.order_row(oid)     # the local view
                if status in (STATUS_PENDING, STATUS_OPEN):
                    if price == target or cancel_ts >= 0:
                        continue
                    core.cancel(oid)
                self.ids[side] = None
            lim = self.max_position
            if lim is not None and (pos + self.qty > lim if side == BUY else -pos + self.qty > lim):
                continue
            self.ids[side] = sim.submit(side, target, self.qty, post_only=True)
