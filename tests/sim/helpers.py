"""Small builders for hand-made streams and scripted strategies."""
from __future__ import annotations

import numpy as np

from nanobook.sim import ADD, CANCEL, DEPTH, EXEC, MD_DTYPE, TRADE, Strategy

__all__ = ["stream", "Scripted", "ADD", "CANCEL", "DEPTH", "EXEC", "TRADE"]


def stream(rows) -> np.ndarray:
    """rows: (exch_ts, kind, side, price, qty[, rank]); local_ts = exch_ts, both flags."""
    out = np.zeros(len(rows), MD_DTYPE)
    for i, r in enumerate(rows):
        t, kind, side, price, qty = r[:5]
        out[i] = (t, t, price, qty, 0, r[5] if len(r) > 5 else -1, kind, side, 3)
    return out


class Scripted(Strategy):
    """Sends ``orders`` [(time, side, price, qty, kwargs)] at those local times
    (on the timer, or at start for time None) and records every callback."""

    def __init__(self, orders, timer_interval=None, cancels=()):
        self.orders = sorted(orders, key=lambda o: -1 if o[0] is None else o[0])
        self.cancels = list(cancels)      # (time, order index)
        self.timer_interval = timer_interval
        self.ids: list[int] = []
        self.fills = []
        self.events = []

    def _send(self, sim):
        while self.orders and (self.orders[0][0] is None or self.orders[0][0] <= sim.now):
            _, side, price, qty, kw = self.orders.pop(0)
            self.ids.append(sim.submit(side, price, qty, **kw))
        while self.cancels and self.cancels[0][0] <= sim.now:
            _, i = self.cancels.pop(0)
            sim.cancel(self.ids[i])

    def on_start(self, sim):
        self._send(sim)

    def on_timer(self, sim):
        self._send(sim)

    def on_fill(self, sim, fill):
        self.fills.append((sim.now, fill))

    def on_order(self, sim, ev):
        self.events.append((sim.now, ev))
