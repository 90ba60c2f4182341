"""Synthetic order flow: a seeded zero-intelligence limit order book simulation.

The model follows Smith, Farmer, Gillemot & Krishnamurthy (2003) and Cont,
Stoikov & Talreja (2010): limit orders arrive as independent Poisson
processes at each distance ``k = 1..K`` ticks from the opposite best quote,
with rate ``limit_rate * k**-alpha`` per side; every resting order is
cancelled at rate ``cancel_rate``; market orders arrive at rate
``market_rate``.  A latent fair price follows a Gaussian random walk (one
step of ``mid_volatility`` ticks per unit of time) and tilts the side of
market orders, ``P(buy) = Phi((fair - mid) / spread_scale)``, so the mid
moves with it.  Events are drawn with the Gillespie algorithm and are always
valid: cancels name live orders, market orders never exceed the depth.
"""
from __future__ import annotations

import math

import numpy as np

from ..validate import integer

__all__ = ["SYNTHETIC_EVENT_DTYPE", "synthetic_order_flow"]

#: kind 0 limit add, 1 cancel, 2 market; side 0 buy, 1 sell; price in ticks
#: (0 for market orders); order_id the new order (add) or the cancelled one.
SYNTHETIC_EVENT_DTYPE = np.dtype([("time", "f8"), ("kind", "u1"), ("side", "u1"), ("price", "i8"),
                                  ("qty", "i8"), ("order_id", "u8"), ("mid", "f8")])


def synthetic_order_flow(
    n_events: int,
    *,
    seed: int | None = 0,
    initial_mid: int = 10_000,
    levels: int = 10,
    limit_rate: float = 1.0,
    alpha: float = 0.6,
    cancel_rate: float = 0.05,
    market_rate: float = 0.6,
    mean_qty: float = 100.0,
    mid_volatility: float = 0.3,
    spread_scale: float = 2.0,
) -> np.ndarray:
    """Generate ``n_events`` order-book events (see module docstring).

    Parameters
    ----------
    n_events : int
        Number of events (> 0).
    seed : int or None
        Seed of the numpy ``Generator``; the same seed gives the same stream.
    initial_mid : int
        Starting mid price in ticks; the book starts with one order on each
        of ``levels`` levels per side around it.
    levels : int
        K, the farthest distance (ticks) at which limit orders are placed.
    limit_rate, alpha, cancel_rate, market_rate : float
        Rates of the Poisson processes (per unit of time).
    mean_qty : float
        Order sizes are ``1 + Geometric`` with this mean (lots).
    mid_volatility, spread_scale : float
        Latent fair-price random walk and the tilt of market orders.

    Returns
    -------
    numpy.ndarray of :data:`SYNTHETIC_EVENT_DTYPE`
        The first ``2 * levels`` events (time 0) build the initial book, one
        order per level and side; ``mid`` is the book mid after each event
        (NaN while a side is empty).

    Raises
    ------
    ValueError
        On a non-positive count, rate or size.
    """
    integer(n_events, "n_events", ge=1, expect="a positive int")
    integer(levels, "levels", ge=1, expect="a positive int")
    integer(initial_mid, "initial_mid", gt=2 * levels + 2, expect="an int > 2 * levels + 2")
    for name, v in (("limit_rate", limit_rate), ("cancel_rate", cancel_rate),
                    ("market_rate", market_rate), ("mean_qty", mean_qty),
                    ("spread_scale", spread_scale)):
        if not (isinstance(v, (int, float)) and v > 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if not (isinstance(mid_volatility, (int, float)) and 0 <= mid_volatility < math.inf):
        raise ValueError(f"mid_volatility must be a finite number >= 0, got {mid_volatility!r}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}")
    rng = np.random.default_rng(seed)
    k = np.arange(1, levels + 1)
    lam = limit_rate * k.astype(float) ** -alpha
    lam_cum = np.cumsum(lam)
    lam_tot = float(lam_cum[-1])
    p_geo = 1.0 / mean_qty

    # book: side -> {price: list of [oid, qty]}; orders: oid -> (side, price)
    book = ({}, {})
    orders: dict[int, tuple[int, int]] = {}
    live: list[int] = []          # live order ids (swap-remove), pos in live_pos
    live_pos: dict[int, int] = {}
    next_id = 1

    def add(side, price, qty):
        nonlocal next_id
        oid = next_id
        next_id += 1
        book[side].setdefault(price, []).append([oid, qty])
        orders[oid] = (side, price)
        live_pos[oid] = len(live)
        live.append(oid)
        return oid

    def remove_live(oid):
        i = live_pos.pop(oid)
        last = live.pop()
        if last != oid:
            live[i] = last
            live_pos[last] = i
        del orders[oid]

    out = np.zeros(n_events, SYNTHETIC_EVENT_DTYPE)
    # the initial book: one order per level and side, emitted as the first events at time 0
    e0 = 0
    for j in range(1, levels + 1):
        for side, price in ((0, initial_mid - j), (1, initial_mid + j)):
            if e0 == n_events:
                break
            qty = int(rng.geometric(p_geo))
            oid = add(side, price, qty)
            out[e0]["kind"], out[e0]["side"], out[e0]["price"] = 0, side, price
            out[e0]["qty"], out[e0]["order_id"] = qty, oid
            out[e0]["mid"] = initial_mid if j > 1 or side == 1 else np.nan
            e0 += 1
    t = 0.0
    fair = float(initial_mid)
    from math import erf, sqrt

    for e in range(e0, n_events):
        bb = max(book[0]) if book[0] else None
        ba = min(book[1]) if book[1] else None
        n_live = len(live)
        r_lim = 2 * lam_tot
        r_can = cancel_rate * n_live
        r_mkt = 2 * market_rate if (bb is not None and ba is not None) else 0.0
        total = r_lim + r_can + r_mkt
        dt = rng.exponential(1.0 / total)
        t += dt
        if mid_volatility:
            fair += rng.normal(0.0, mid_volatility * math.sqrt(dt))
        u = rng.random() * total
        rec = out[e]
        rec["time"] = t
        if u < r_lim:
            side = 0 if u < lam_tot else 1
            kk = int(np.searchsorted(lam_cum, rng.random() * lam_tot, side="right")) + 1
            if side == 0:
                ref = ba if ba is not None else (bb + 1 if bb is not None else int(round(fair)) + 1)
                price = ref - kk
            else:
                ref = bb if bb is not None else (ba - 1 if ba is not None else int(round(fair)) - 1)
                price = ref + kk
            price = max(price, 1)
            qty = int(rng.geometric(p_geo))
            oid = add(side, price, qty)
            rec["kind"], rec["side"], rec["price"], rec["qty"], rec["order_id"] = 0, side, price, qty, oid
        elif u < r_lim + r_can:
            oid = live[int(rng.integers(n_live))]
            side, price = orders[oid]
            q = book[side][price]
            for i, (o, qty) in enumerate(q):
                if o == oid:
                    del q[i]
                    break
            if not q:
                del book[side][price]
            remove_live(oid)
            rec["kind"], rec["side"], rec["price"], rec["qty"], rec["order_id"] = 1, side, price, qty, oid
        else:
            mid = (bb + ba) / 2.0
            p_buy = 0.5 * (1.0 + erf((fair - mid) / spread_scale / sqrt(2.0)))
            side = 0 if rng.random() < p_buy else 1     # buyer takes the asks
            opp = book[1] if side == 0 else book[0]
            depth_total = sum(q for lv in opp.values() for _, q in lv)
            want = min(int(rng.geometric(p_geo)), max(depth_total - 1, 1))
            left = want
            while left > 0 and opp:
                best = min(opp) if side == 0 else max(opp)
                q = opp[best]
                while left > 0 and q:
                    o, qty = q[0]
                    take = min(left, qty)
                    left -= take
                    if take == qty:
                        q.pop(0)
                        remove_live(o)
                    else:
                        q[0][1] = qty - take
                if not q:
                    del opp[best]
            rec["kind"], rec["side"], rec["price"], rec["qty"], rec["order_id"] = 2, side, 0, want - left, 0
        bb = max(book[0]) if book[0] else None
        ba = min(book[1]) if book[1] else None
        rec["mid"] = (bb + ba) / 2.0 if bb is not None and ba is not None else np.nan
    return out
