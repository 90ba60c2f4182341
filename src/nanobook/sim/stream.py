"""The market-data stream of the simulator and adapters from nanobook.feeds.

One structured dtype, :data:`MD_DTYPE`, carries every market event:

========  =====  ============================================================
kind      value  fields used
========  =====  ============================================================
DEPTH     1      side, price, qty = the level's new total (0 deletes it)
TRADE     2      side = *aggressor* side (0 buy lifts asks, 1 sell hits
                 bids), price, qty; flag HIDDEN for non-displayed prints
ADD       3      side, price, qty, order_id, rank (L3: an order joins)
CANCEL    4      side, price, qty removed, order_id, rank of that order
EXEC      5      side = the *resting* order's side, price, qty, order_id,
                 rank of that order (L3: a visible execution, also a trade)
========  =====  ============================================================

``exch_ts`` is when the event happened at the exchange and ``local_ts`` when
the strategy sees it (ns, one clock).  ``flags`` says which side processes a
row: EXCH (the exchange-side book the matching of our orders uses), LOCAL
(the strategy's view) or both.  Over EXCH rows ``exch_ts`` must not decrease,
over LOCAL rows ``local_ts`` must not decrease; :func:`order_events` splits
and reorders any stream so that both hold.  ``rank`` numbers ADD rows
0, 1, 2, ... in exchange order; CANCEL/EXEC rows carry the rank of the order
they touch, or -1 for an order that was already resting when the data starts
(it is then ahead of any order of ours).
"""
from __future__ import annotations


import numpy as np

from ..feeds._io import timestamped_json
from ..validate import integer, is_int
from ._errors import StreamError
# the stream's dtype and codes are named in nanobook/sim/dtypes.py (re-exported here)
from .dtypes import ADD, CANCEL, DEPTH, EXCH, EXEC, HIDDEN, KIND_NAMES as _KIND_NAMES, LOCAL, MD_DTYPE, TRADE

__all__ = [
    "MD_DTYPE", "DEPTH", "TRADE", "ADD", "CANCEL", "EXEC", "EXCH", "LOCAL", "HIDDEN",
    "validate_stream", "order_events", "from_lobster", "from_binance", "from_itch",
    "from_synthetic",
]

_BOTH = EXCH | LOCAL


def validate_stream(md: np.ndarray) -> None:
    """Raise :class:`StreamError` naming the first offending row and value.

    Checks the dtype, the kind/side/flags codes, quantities (>= 0 for DEPTH,
    > 0 otherwise) and prices (> 0), the time order of EXCH and LOCAL rows
    and ``local_ts >= exch_ts`` on rows that carry both.
    """
    if not isinstance(md, np.ndarray) or md.dtype != MD_DTYPE:
        got = md.dtype if isinstance(md, np.ndarray) else type(md).__name__
        raise StreamError(f"md must be a numpy array of nanobook.sim.MD_DTYPE, got {got}")
    if md.ndim != 1:
        raise StreamError(f"md must be 1-dimensional, got shape {md.shape}")
    if len(md) == 0:
        return
    kind, side, flags = md["kind"], md["side"], md["flags"]

    def first(mask):
        return int(np.flatnonzero(mask)[0])

    bad = (kind < DEPTH) | (kind > EXEC)
    if bad.any():
        i = first(bad)
        raise StreamError(f"md['kind'] must be 1..5 (DEPTH..EXEC), got {kind[i]} at row {i}")
    if (side > 1).any():
        i = first(side > 1)
        raise StreamError(f"md['side'] must be 0 (buy/bid) or 1 (sell/ask), got {side[i]} at row {i}")
    bad = ((flags & _BOTH) == 0) | (flags > 7)
    if bad.any():
        i = first(bad)
        raise StreamError(f"md['flags'] must include EXCH and/or LOCAL (1..7), got {flags[i]} at row {i}")
    q = md["qty"]
    bad = np.where(kind == DEPTH, q < 0, q <= 0)
    if bad.any():
        i = first(bad)
        raise StreamError(f"md['qty'] must be > 0 (>= 0 for DEPTH), got {q[i]} at row {i} "
                          f"({_KIND_NAMES[int(kind[i])]})")
    if (md["price"] <= 0).any():
        i = first(md["price"] <= 0)
        raise StreamError(f"md['price'] must be > 0, got {md['price'][i]} at row {i}")
    both = (flags & _BOTH) == _BOTH
    bad = both & (md["local_ts"] < md["exch_ts"])
    if bad.any():
        i = first(bad)
        raise StreamError(f"md['local_ts'] must be >= exch_ts, got local_ts {md['local_ts'][i]} < "
                          f"exch_ts {md['exch_ts'][i]} at row {i}")
    for name, flag in (("exch_ts", EXCH), ("local_ts", LOCAL)):
        idx = np.flatnonzero(flags & flag)
        ts = md[name][idx]
        if len(ts) > 1:
            d = np.diff(ts)
            if (d < 0).any():
                j = int(np.flatnonzero(d < 0)[0])
                raise StreamError(
                    f"md['{name}'] must be non-decreasing over {'EXCH' if flag == EXCH else 'LOCAL'} "
                    f"rows, got {ts[j]} at row {idx[j]} then {ts[j + 1]} at row {idx[j + 1]} "
                    f"(nanobook.sim.order_events reorders a stream)")


def order_events(md: np.ndarray) -> np.ndarray:
    """Return a stream whose EXCH rows are in ``exch_ts`` order and LOCAL
    rows in ``local_ts`` order (stable), splitting rows into an exchange copy
    and a local copy where the two orders disagree.  A stream that is already
    ordered is returned unchanged."""
    if not isinstance(md, np.ndarray) or md.dtype != MD_DTYPE:
        raise StreamError(f"md must be a numpy array of nanobook.sim.MD_DTYPE, got "
                          f"{getattr(md, 'dtype', type(md).__name__)}")
    fl = md["flags"]
    ex_ok = np.all(np.diff(md["exch_ts"][(fl & EXCH) != 0]) >= 0)
    lo_ok = np.all(np.diff(md["local_ts"][(fl & LOCAL) != 0]) >= 0)
    if ex_ok and lo_ok:
        return md
    ex = md[(fl & EXCH) != 0].copy()
    ex["flags"] = (ex["flags"] & ~np.uint8(LOCAL)) | EXCH
    lo = md[(fl & LOCAL) != 0].copy()
    lo["flags"] = (lo["flags"] & ~np.uint8(EXCH)) | LOCAL
    ex = ex[np.argsort(ex["exch_ts"], kind="stable")]
    lo = lo[np.argsort(lo["local_ts"], kind="stable")]
    out = np.concatenate([ex, lo])
    key = np.concatenate([ex["exch_ts"], lo["local_ts"]])
    return out[np.argsort(key, kind="stable")]


# ------------------------------------------------------------------ order-level builder


class _Builder:
    """Order-level operations -> MD rows, as L3 rows or as L2 (DEPTH/TRADE)."""

    def __init__(self, mode: str) -> None:
        if mode not in ("l3", "l2"):
            raise ValueError(f"mode must be 'l3' or 'l2', got {mode!r}")
        self.l3 = mode == "l3"
        self.rows: list[tuple] = []
        self.orders: dict[int, list] = {}      # ref -> [side, price, remaining, rank]
        self.levels: dict[tuple[int, int], int] = {}
        self.next_rank = 0
        self.unknown = 0

    def _level(self, ts, side, price, dq):
        key = (side, price)
        q = max(self.levels.get(key, 0) + dq, 0)
        if q:
            self.levels[key] = q
        else:
            self.levels.pop(key, None)
        if not self.l3:
            self.rows.append((ts, ts, price, q, 0, -1, DEPTH, side, _BOTH))

    def depth(self, ts, side, price, qty):
        self.levels[(side, price)] = qty
        if not qty:
            del self.levels[(side, price)]
        self.rows.append((ts, ts, price, qty, 0, -1, DEPTH, side, _BOTH))

    def add(self, ts, ref, side, price, qty):
        if qty <= 0 or price <= 0:
            return
        self.orders[ref] = [side, price, qty, self.next_rank]
        if self.l3:
            self.rows.append((ts, ts, price, qty, ref, self.next_rank, ADD, side, _BOTH))
        self._level(ts, side, price, qty)
        self.next_rank += 1

    def reduce(self, ts, ref, qty, *, execute: bool, side=None, price=None, delete=False):
        o = self.orders.get(ref)
        if o is None:
            if side is None or price is None or qty is None or qty <= 0 or price <= 0:
                self.unknown += 1
                return
            rank = -1
        else:
            side, price, rank = o[0], o[1], o[3]
            if delete or qty is None or qty > o[2]:
                qty = o[2]
            o[2] -= qty
            if o[2] <= 0:
                del self.orders[ref]
        if qty <= 0:
            return
        if execute and not self.l3:
            self.rows.append((ts, ts, price, qty, 0, -1, TRADE, 1 - side, _BOTH))
        if self.l3:
            self.rows.append((ts, ts, price, qty, ref, rank, EXEC if execute else CANCEL, side, _BOTH))
        self._level(ts, side, price, -qty)

    def trade(self, ts, aggressor, price, qty, hidden=False):
        if qty > 0 and price > 0:
            self.rows.append((ts, ts, price, qty, 0, -1, TRADE, aggressor,
                              _BOTH | (HIDDEN if hidden else 0)))

    def array(self) -> np.ndarray:
        return np.array(self.rows, MD_DTYPE) if self.rows else np.empty(0, MD_DTYPE)


# ------------------------------------------------------------------ LOBSTER


def from_lobster(messages: np.ndarray, book: np.ndarray, *, mode: str = "l3") -> np.ndarray:
    """Stream from a LOBSTER pair (see :func:`nanobook.feeds.read_lobster`).

    The first book row is the starting state (DEPTH rows at the first
    message's time); messages 1.. follow.  Types: 1 submit -> ADD, 2 partial
    cancel and 3 delete -> CANCEL, 4 visible execution -> EXEC, 5 hidden
    execution -> TRADE flagged HIDDEN (it moves no visible queue), 6 cross and
    7 halt are skipped.  Orders not seen being added (in the first snapshot)
    get rank -1.  With ``mode="l2"`` the same events become DEPTH level
    totals and TRADE prints (executions print the trade, then the level).
    Times (seconds after midnight) become integer nanoseconds; prices stay in
    LOBSTER's 1e-4 dollars, sizes in shares (``multiplier=1e-4``).
    """
    from nanobook.feeds import LOBSTER_MESSAGE_DTYPE
    if not isinstance(messages, np.ndarray) or messages.dtype != LOBSTER_MESSAGE_DTYPE:
        raise TypeError(f"messages must have LOBSTER_MESSAGE_DTYPE, got {getattr(messages, 'dtype', messages)!r}")
    if not isinstance(book, np.ndarray) or book.ndim != 3 or book.shape[2] != 4 or len(book) != len(messages):
        raise ValueError(f"book must be (n, levels, 4) with n = len(messages), got "
                         f"{getattr(book, 'shape', book)!r}")
    b = _Builder(mode)
    if len(messages) == 0:
        return b.array()
    ts = np.round(messages["time"] * 1e9).astype(np.int64)
    t0 = int(ts[0])
    first = book[0]
    for px, q in zip(first[:, 2], first[:, 3]):
        if q > 0:
            b.depth(t0, 0, int(px), int(q))
    for px, q in zip(first[:, 0], first[:, 1]):
        if q > 0:
            b.depth(t0, 1, int(px), int(q))
    typ = messages["type"].tolist()
    oid = messages["order_id"].tolist()
    size = messages["size"].tolist()
    price = messages["price"].tolist()
    direc = messages["direction"].tolist()
    tsl = ts.tolist()
    for k in range(1, len(messages)):
        t, side = tsl[k], 0 if direc[k] == 1 else 1
        ty = typ[k]
        if ty == 1:
            b.add(t, oid[k], side, price[k], size[k])
        elif ty in (2, 3):
            b.reduce(t, oid[k], size[k], execute=False, side=side, price=price[k])
        elif ty == 4:
            b.reduce(t, oid[k], size[k], execute=True, side=side, price=price[k])
        elif ty == 5:
            b.trade(t, 1 - side, price[k], size[k], hidden=True)
    return b.array()


# ------------------------------------------------------------------ Binance


def from_binance(source, *, price_decimals: int = 8, qty_decimals: int = 8,
                 market: str = "spot", convention: str = "binance") -> np.ndarray:
    """Stream from an hftbacktest-style Binance capture (``<local ns> <json>``
    per line: diff-depth, trade and bookTicker messages plus one REST depth
    snapshot).

    Depth events go through :class:`nanobook.feeds.BinanceDepthBook`
    (Binance's buffering, straddle and continuity rules; a gap raises
    :class:`nanobook.feeds.SequenceGapError`) and become DEPTH rows with
    ``exch_ts`` = the event time ``E``; trades become TRADE rows at their
    trade time ``T`` (aggressor = seller when ``m`` is true).  Nothing before
    the snapshot is kept; the snapshot's levels are DEPTH rows.  The capture
    clock and Binance's differ by an unknown offset, so ``local_ts`` is the
    capture time shifted so that the smallest ``local_ts - exch_ts`` is 0
    (the fastest message defines zero feed latency); events buffered before
    the snapshot are seen locally when the snapshot is.  The result is
    passed through :func:`order_events` (trades and 100 ms depth batches
    interleave differently in the two clocks).  Prices and quantities are
    scaled by ``10**decimals`` (multiplier ``10**-(price_decimals +
    qty_decimals)``).

    ``convention="hftbacktest"`` replays the capture the way hftbacktest's
    converter (``hftbacktest.data.utils.binancefutures.convert``) does, so
    that the two simulators see the same book: depth rows at the
    transaction time ``T``, every diff applied in capture order from the
    first line (no sequence check, nothing buffered), the snapshot emptying
    the levels of its price range that it does not list, trades other than
    ``X = "MARKET"`` dropped, and ``local_ts`` shifted only if some row
    would be seen before it happened.
    """
    if convention not in ("binance", "hftbacktest"):
        raise ValueError(f"convention must be 'binance' or 'hftbacktest', got {convention!r}")
    if convention == "hftbacktest":
        return _binance_as_hftbacktest(source, price_decimals, qty_decimals)
    from nanobook.feeds import BinanceDepthBook, FeedError, decimal_to_int
    book = BinanceDepthBook(price_decimals, qty_decimals, market)
    pd, qd = price_decimals, qty_decimals
    rows: list[tuple] = []
    pending: list[tuple[int, dict]] = []
    snap_seen = False

    def depth_rows(exch, local, ev):
        for p, q in ev["b"]:
            rows.append((exch, local, decimal_to_int(p, pd), decimal_to_int(q, qd), 0, -1, DEPTH, 0, _BOTH))
        for p, q in ev["a"]:
            rows.append((exch, local, decimal_to_int(p, pd), decimal_to_int(q, qd), 0, -1, DEPTH, 1, _BOTH))

    for ts, obj in timestamped_json(source):
        if "lastUpdateId" in obj:
            book.snapshot(obj)
            snap_seen = True
            snap_rows = len(rows)
            for side, key in ((0, "bids"), (1, "asks")):
                for p, q in obj[key]:
                    rows.append((ts, ts, decimal_to_int(p, pd), decimal_to_int(q, qd), 0, -1, DEPTH, side, _BOTH))
            first_e = None
            for pts, pev in pending:
                if book.update(pev):
                    e = int(pev["E"]) * 1_000_000
                    first_e = e if first_e is None else first_e
                    depth_rows(e, ts, pev)
            pending = []
            if first_e is not None:     # the snapshot precedes the events applied on top of it
                for i in range(snap_rows, len(rows)):
                    if rows[i][0] == ts:
                        r = rows[i]
                        rows[i] = (min(ts, first_e), *r[1:])
            continue
        data = obj.get("data", obj)
        ev = data.get("e")
        if ev == "depthUpdate":
            if not snap_seen:
                pending.append((ts, data))
            elif book.update(data):
                depth_rows(int(data["E"]) * 1_000_000, ts, data)
        elif ev == "trade" and snap_seen:
            p, q = decimal_to_int(data["p"], pd), decimal_to_int(data["q"], qd)
            if p > 0 and q > 0:
                rows.append((int(data["T"]) * 1_000_000, ts, p, q, 0, -1, TRADE,
                             1 if data["m"] else 0, _BOTH))
    if not snap_seen:
        raise FeedError("the capture holds no depth snapshot (a line with lastUpdateId)")
    md = np.array(rows, MD_DTYPE)
    # snapshot rows keep local == exch before the shift; take the offset over the rest
    off = int((md["local_ts"] - md["exch_ts"]).min())
    md["local_ts"] -= off
    bad = md["local_ts"] < md["exch_ts"]
    md["local_ts"][bad] = md["exch_ts"][bad]
    return order_events(md)


def _binance_as_hftbacktest(source, pd: int, qd: int) -> np.ndarray:
    """The ``convention="hftbacktest"`` reading of :func:`from_binance`."""
    from nanobook.feeds import FeedError, decimal_to_int
    rows: list[tuple] = []
    levels: tuple[dict, dict] = ({}, {})
    snap_seen = False
    for ts, obj in timestamped_json(source):
        if not isinstance(obj, dict):
            continue
        if "lastUpdateId" in obj:
            snap_seen = True
            exch = int(obj["T"]) * 1_000_000
            for side, key in ((0, "bids"), (1, "asks")):
                snap = [(decimal_to_int(p, pd), decimal_to_int(q, qd)) for p, q in obj[key]]
                if not snap:
                    continue
                worst = snap[-1][0]
                listed = {p for p, _ in snap}
                lv = levels[side]
                # the snapshot replaces the levels from the touch down to its last price
                for p in sorted(lv):
                    if (p >= worst if side == 0 else p <= worst) and p not in listed and lv[p]:
                        rows.append((exch, ts, p, 0, 0, -1, DEPTH, side, _BOTH))
                        lv[p] = 0
                for p, q in snap:
                    rows.append((exch, ts, p, q, 0, -1, DEPTH, side, _BOTH))
                    lv[p] = q
            continue
        data = obj.get("data", obj)
        if not isinstance(data, dict):
            continue
        ev = data.get("e")
        if ev == "depthUpdate":
            exch = int(data["T"]) * 1_000_000
            for side, key in ((0, "b"), (1, "a")):
                for p, q in data[key]:
                    pi, qi = decimal_to_int(p, pd), decimal_to_int(q, qd)
                    rows.append((exch, ts, pi, qi, 0, -1, DEPTH, side, _BOTH))
                    levels[side][pi] = qi
        elif ev == "trade" and data.get("X", "MARKET") == "MARKET":
            p, q = decimal_to_int(data["p"], pd), decimal_to_int(data["q"], qd)
            rows.append((int(data["T"]) * 1_000_000, ts, p, q, 0, -1, TRADE, 1 if data["m"] else 0, _BOTH))
    if not snap_seen:
        raise FeedError("the capture holds no depth snapshot (a line with lastUpdateId)")
    md = np.array(rows, MD_DTYPE)
    off = int((md["local_ts"] - md["exch_ts"]).min()) if len(md) else 0
    if off < 0:
        md["local_ts"] -= off
    return order_events(md)


# ------------------------------------------------------------------ ITCH


def from_itch(messages, symbol, *, mode: str = "l3") -> np.ndarray:
    """Stream of one stock from decoded ITCH 5.0 messages.

    Parameters
    ----------
    messages : nanobook.feeds.ItchMessages or path/bytes
        Output of :func:`nanobook.feeds.read_itch` (a path or bytes is read
        with ``lenient=True``).
    symbol : str or int
        Stock symbol or stock locate.
    mode : {"l3", "l2"}

    Notes
    -----
    A/F -> ADD, X -> CANCEL (partial), D -> CANCEL (the rest), U -> CANCEL of
    the old reference then ADD of the new one (a replace loses priority),
    E/C -> EXEC at the resting order's price, P (non-displayed) -> TRADE
    flagged HIDDEN with the aggressor opposite to the printed side.
    References never added (a file starting mid-day) are skipped.  Times are
    ITCH nanoseconds after midnight; prices 1e-4 dollars, quantities shares.
    """
    from nanobook.feeds import ItchMessages, read_itch
    if not isinstance(messages, ItchMessages):
        messages = read_itch(messages, lenient=True)
    if isinstance(symbol, str):
        loc = [k for k, v in messages.symbols().items() if v == symbol]
        if not loc:
            raise ValueError(f"symbol {symbol!r} is not in the stock directory "
                             f"({sorted(messages.symbols().values())})")
        locate = loc[0]
    elif is_int(symbol, numpy=True):
        locate = int(symbol)
    else:
        raise TypeError(f"symbol must be a str or a stock locate int, got {symbol!r}")
    parts = []
    for t in "AFEXDUCP":
        a = messages[t]
        a = a[a["stock_locate"] == locate]
        if len(a):
            parts.append((t, a))
    seq = []
    for t, a in parts:
        for i, r in enumerate(a["index"].tolist()):
            seq.append((r, t, i))
    seq.sort()
    arrs = dict(parts)
    b = _Builder(mode)
    for _, t, i in seq:
        r = arrs[t][i]
        ts = int(r["timestamp"])
        if t in "AF":
            b.add(ts, int(r["order_reference_number"]), 0 if r["buy_sell_indicator"] == b"B" else 1,
                  int(r["price"]), int(r["shares"]))
        elif t in "EC":
            b.reduce(ts, int(r["order_reference_number"]), int(r["executed_shares"]), execute=True)
        elif t == "X":
            b.reduce(ts, int(r["order_reference_number"]), int(r["cancelled_shares"]), execute=False)
        elif t == "D":
            b.reduce(ts, int(r["order_reference_number"]), None, execute=False, delete=True)
        elif t == "U":
            old = b.orders.get(int(r["order_reference_number"]))
            if old is None:
                b.unknown += 1
                continue
            side = old[0]
            b.reduce(ts, int(r["order_reference_number"]), None, execute=False, delete=True)
            b.add(ts, int(r["new_order_reference_number"]), side, int(r["price"]), int(r["shares"]))
        elif t == "P":
            b.trade(ts, 1 if r["buy_sell_indicator"] == b"B" else 0, int(r["price"]),
                    int(r["shares"]), hidden=True)
    return b.array()


# ------------------------------------------------------------------ synthetic flow


def from_synthetic(events: np.ndarray, *, mode: str = "l3", time_unit: int = 1_000_000_000) -> np.ndarray:
    """Stream from :func:`nanobook.feeds.synthetic_order_flow` events.

    Limit orders -> ADD, cancels -> CANCEL, market orders are replayed
    against a price-time-priority copy of the book and become one EXEC per
    resting order they hit (so L3 queue positions are exact).  ``time_unit``
    is nanoseconds per unit of the generator's time (default: one second).
    """
    from nanobook.feeds import SYNTHETIC_EVENT_DTYPE
    if not isinstance(events, np.ndarray) or events.dtype != SYNTHETIC_EVENT_DTYPE:
        raise TypeError(f"events must have SYNTHETIC_EVENT_DTYPE, got {getattr(events, 'dtype', events)!r}")
    integer(time_unit, "time_unit", gt=0, expect="a positive int (ns per unit)")
    b = _Builder(mode)
    fifo: tuple[dict, dict] = ({}, {})     # side -> price -> list of refs in time priority
    ts_all = np.round(events["time"] * time_unit).astype(np.int64).tolist()
    kinds = events["kind"].tolist()
    sides = events["side"].tolist()
    prices = events["price"].tolist()
    qtys = events["qty"].tolist()
    oids = events["order_id"].tolist()
    for ts, k, s, p, q, oid in zip(ts_all, kinds, sides, prices, qtys, oids):
        if k == 0:
            b.add(ts, oid, s, p, q)
            fifo[s].setdefault(p, []).append(oid)
        elif k == 1:
            o = b.orders.get(oid)
            if o is not None:
                lst = fifo[o[0]][o[1]]
                lst.remove(oid)
                if not lst:
                    del fifo[o[0]][o[1]]
            b.reduce(ts, oid, None, execute=False, delete=True)
        else:
            opp = fifo[1 - s]
            left = q
            while left > 0 and opp:
                best = min(opp) if s == 0 else max(opp)
                lst = opp[best]
                ref = lst[0]
                take = min(left, b.orders[ref][2])
                b.reduce(ts, ref, take, execute=True)
                left -= take
                if ref not in b.orders:
                    lst.pop(0)
                    if not lst:
                        del opp[best]
    return b.array()


# ------------------------------------------------------------------ CME MDP 3.0

_MDP3_BOOK = (32, 46)        # MDIncrementalRefreshBook (v5-v8 prices 1e-7, v9 1e-9)
_MDP3_SNAPSHOT = (38, 52)    # SnapshotFullRefresh
_MDP3_TRADES = (42, 48)      # MDIncrementalRefreshTradeSummary
_MDP3_RESET = 4              # ChannelReset
_NANO = 9                    # prices are carried as integer 1e-9 price units until divided by the tick


def _mdp3_group(m, t: int):
    """(entries of ``no_md_entries`` of template ``t``, their prices in 1e-9 units) or None."""
    g = m.groups.get((t, "no_md_entries"))
    if g is None or len(g) == 0:
        return None
    grp = next(x for x in m.schema.message(t).groups if x.name == "no_md_entries")
    exp = next(f.exponent for f in grp.fields if f.name == "md_entry_px")
    px = g["md_entry_px"].astype(np.int64) * 10 ** (exp + _NANO)
    return g, px


def _mdp3_activity(m) -> dict[int, list]:
    """security id -> [book entries + aggressor trades, lowest price in 1e-9 units]."""
    act: dict[int, list] = {}
    for t in _MDP3_BOOK + _MDP3_TRADES:
        gp = _mdp3_group(m, t)
        if gp is None:
            continue
        g, px = gp
        keep = (np.isin(g["md_entry_type"], (b"0", b"1")) if t in _MDP3_BOOK
                else np.isin(g["aggressor_side"], (1, 2)))
        for sec, p in zip(g["security_id"][keep].tolist(), px[keep].tolist()):
            a = act.setdefault(sec, [0, p])
            a[0] += 1
            a[1] = min(a[1], p)
    return act


def _mdp3_check_arbitrated(m) -> None:
    """Raise if ``m`` holds the A and B copies of one channel (every book
    entry would be applied twice): most packets repeat a MsgSeqNum."""
    if len(m.messages) == 0:
        return
    _, first = np.unique(m.messages["packet"], return_index=True)
    _, counts = np.unique(m.messages["msg_seq_num"][first], return_counts=True)
    repeated = int(counts[counts > 1].sum())
    if len(m.feeds) > 1 and 2 * repeated > len(first):
        raise ValueError(f"messages hold both feeds of a channel without arbitration ({repeated} of {len(first)} "
                         f"packets repeat a MsgSeqNum): decode with decode_mdp3(..., arbitrate=True)")


def from_mdp3(messages, security_id=None, *, tick=None, depth: int | None = None,
              return_info: bool = False):
    """Stream of one CME security from decoded MDP 3.0 messages (an L2 book).

    Parameters
    ----------
    messages : nanobook.feeds.Mdp3Messages
        Output of :func:`nanobook.feeds.decode_mdp3` in processing order
        (decode a capture holding both feeds with ``arbitrate=True``, else
        every packet is seen twice).
    security_id : int, optional
        The security to stream; default the most active one (book entries
        plus trades with an aggressor) among those whose prices are all
        positive (a calendar spread quotes negative prices, which a stream
        cannot carry).
    tick : float, optional
        The price increment in the instrument's price units (0.25 for corn
        in cents per bushel).  Stream prices are ``price / tick`` (integer
        ticks).  Default: the greatest common divisor of the security's book
        and trade prices (at least the instrument's tick, coarser only if
        every price in the data is a multiple of a larger step).
    depth : int, optional
        Book depth (levels per side): the ``GBX`` ``MarketDepth`` of the
        security's definition if ``messages`` has one, else 10.
    return_info : bool, default False
        Also return a dict: ``security_id``, ``tick`` (price units per
        stream unit), ``depth``, ``book_entries``, ``trades``, and what was
        skipped (``trades_no_aggressor``, ``implied_entries``).

    Notes
    -----
    The book is :class:`nanobook.feeds.Mdp3Book`'s (market by price, implied
    entries ignored, level-indexed New/Change/Delete/DeleteThru/DeleteFrom/
    Overlay, snapshots 38/52 replace the book, ChannelReset 4 and ``J``
    entries clear it): after every entry, each price level whose quantity
    changed becomes a DEPTH row with the level's new quantity (0 when it
    left the book, including a level pushed beyond ``depth``), so the
    stream's book equals ``Mdp3Book``'s after every message.  Trades come
    from TradeSummary (42/48) entries: TRADE rows with the aggressor side
    (1 buy -> 0, 2 sell -> 1); prints without an aggressor are skipped (and
    counted).  ``exch_ts`` is the message's ``TransactTime``, ``local_ts``
    the packet's ``SendingTime`` (when the gateway sent it; a capture
    without receive times has no later clock).  Quantities are contracts.
    """
    from nanobook.feeds import Mdp3Book, Mdp3Messages
    from nanobook.feeds.mdp3 import _OVERLAY, market_depths
    if not isinstance(messages, Mdp3Messages):
        raise TypeError(f"messages must be nanobook.feeds.Mdp3Messages, got {type(messages).__name__}")
    if not isinstance(return_info, bool):
        raise TypeError(f"return_info must be a bool, got {return_info!r}")
    _mdp3_check_arbitrated(messages)
    act = _mdp3_activity(messages)
    if security_id is None:
        cands = [(n, -s) for s, (n, lo) in act.items() if lo > 0]
        if not cands:
            raise ValueError("messages hold no book entries or trades of a security with positive prices "
                             f"(securities seen: {sorted(act)})")
        sec = -max(cands)[1]
    elif isinstance(security_id, (int, np.integer)) and not isinstance(security_id, bool):
        sec = int(security_id)
        if sec not in act:
            raise ValueError(f"security_id {sec} has no book entries or trades in messages "
                             f"(securities seen: {sorted(act)})")
        if act[sec][1] <= 0:
            raise ValueError(f"security_id {sec} quotes non-positive prices (lowest "
                             f"{act[sec][1] / 10 ** _NANO}; a spread?), which a stream cannot carry")
    else:
        raise TypeError(f"security_id must be an int or None, got {security_id!r}")
    if depth is None:
        depth = market_depths(messages).get(sec, 10)
        depth = depth if 1 <= depth <= 100 else 10
    elif isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 100:
        raise ValueError(f"depth must be an int in [1, 100], got {depth!r}")

    # every event of the security as (message row, entry, what, ...), in message order
    ev: list[tuple] = []
    implied = no_aggr = 0
    for t in _MDP3_BOOK + _MDP3_TRADES + _MDP3_SNAPSHOT:
        gp = _mdp3_group(messages, t)
        if gp is None:
            continue
        g, px = gp
        if t in _MDP3_SNAPSHOT:
            root = messages.roots[t]
            sec_of = dict(zip(root["msg"].tolist(), root["security_id"].tolist()))
            mine = np.array([sec_of.get(k) == sec for k in g["msg"].tolist()], bool)
        else:
            mine = g["security_id"] == sec
        g, px = g[mine], px[mine]
        cols = zip(g["msg"].tolist(), g["entry"].tolist(), px.tolist(),
                   g["md_entry_size"].tolist(), g["md_entry_type"].tolist() if t not in _MDP3_TRADES
                   else g["aggressor_side"].tolist(),
                   g["md_update_action"].tolist() if t in _MDP3_BOOK else [_OVERLAY] * len(g),
                   g["md_price_level"].tolist() if t not in _MDP3_TRADES else [0] * len(g))
        seen_snap = set()
        for k, e, p, q, typ, action, lvl in cols:
            if t in _MDP3_TRADES:
                if typ in (1, 2):
                    ev.append((k, e, "trade", p, q, typ - 1))
                else:
                    no_aggr += 1
            elif typ == b"J":
                ev.append((k, e, "clear"))
            elif typ in (b"0", b"1"):
                if t in _MDP3_SNAPSHOT and k not in seen_snap:
                    seen_snap.add(k)
                    ev.append((k, -1, "clear"))
                if t in _MDP3_SNAPSHOT and lvl <= 0:
                    continue
                ev.append((k, e, "level", p, q, 0 if typ == b"0" else 1, action, lvl))
            elif typ in (b"E", b"F"):
                implied += 1
    for k in messages.roots[_MDP3_RESET]["msg"].tolist() if _MDP3_RESET in messages.roots else ():
        ev.append((k, -1, "clear"))
    ev.sort(key=lambda r: (r[0], r[1]))

    prices = [r[3] for r in ev if r[2] != "clear"]
    if tick is None:
        step = int(np.gcd.reduce(np.array(prices, np.int64))) if prices else 1
    elif isinstance(tick, bool) or not isinstance(tick, (int, float)) or not np.isfinite(tick) or tick <= 0:
        raise ValueError(f"tick must be a finite number > 0, got {tick!r}")
    else:
        step = int(round(tick * 10 ** _NANO))
        bad = [p for p in prices if step == 0 or p % step]
        if bad:
            raise ValueError(f"tick {tick!r} does not divide the price {bad[0] / 10 ** _NANO} of security_id {sec}")
    transact = {}
    for t, root in messages.roots.items():
        if "transact_time" in root.dtype.names:
            transact.update(zip(root["msg"].tolist(), root["transact_time"].tolist()))
    sending = messages.messages["sending_time"]

    rows: list[tuple] = []
    book: tuple[list, list] = ([], [])
    n_book = n_trades = 0
    for r in ev:
        k = r[0]
        local = int(sending[k])
        exch = min(int(transact.get(k, local)), local)
        if r[2] == "trade":
            rows.append((exch, local, r[3] // step, r[4], 0, -1, TRADE, r[5], _BOTH))
            n_trades += 1
            continue
        sides = (0, 1) if r[2] == "clear" else (r[5],)
        before = [{lv[0]: lv[1] for lv in book[s]} for s in sides]
        if r[2] == "clear":
            book[0].clear(), book[1].clear()
        else:
            Mdp3Book._level(book[r[5]], depth, r[6], r[7], r[3], r[4], 0)
            n_book += 1
        for s, old in zip(sides, before):
            new = {lv[0]: lv[1] for lv in book[s]}
            for p in old:
                if p not in new:
                    rows.append((exch, local, p // step, 0, 0, -1, DEPTH, s, _BOTH))
            for p, q in new.items():
                if old.get(p) != q:
                    rows.append((exch, local, p // step, q, 0, -1, DEPTH, s, _BOTH))
    md = order_events(np.array(rows, MD_DTYPE))
    if not return_info:
        return md
    return md, {"security_id": sec, "tick": step / 10 ** _NANO, "depth": depth, "book_entries": n_book,
                "trades": n_trades, "trades_no_aggressor": no_aggr, "implied_entries": implied}


__all__.append("from_mdp3")     # here rather than in the list above: that list is being reorganised
