"""Codes and numpy structured dtypes of the market-making simulator.

Every integer code the simulator's records and its compiled loop use is
named here once, next to the records that carry it; the rest of
``nanobook.sim`` imports the names from this module.  The compiled loop
(``nanobook/sim/_core.pyx``) spells the same codes as C enums of the same
names and the same records as C structs; ``_core._layout()`` returns its
enum values and struct sizes/offsets, and ``tests/sim/test_layout.py`` pins
them to this module, as ``nanobook/dtypes.py`` is pinned to the book.

Units: every price is an integer number of ticks of the stream (the unit of
``md["price"]``), every quantity an integer number of the stream's quantity
units, every timestamp integer nanoseconds on the stream's clock; cash, fees
and equity are float64 currency (``price * qty * multiplier``).  Two clocks
share that axis: ``exch_ts`` (when something happened at the exchange) and
``local_ts`` (when the strategy learns it).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import limits

__all__ = [
    "MD_DTYPE", "DEPTH", "TRADE", "ADD", "CANCEL", "EXEC", "KIND_NAMES", "EXCH", "LOCAL", "HIDDEN",
    "BUY", "SELL",
    "ORDER_MARKET", "ORDER_IOC", "ORDER_POST_ONLY", "ORDER_FOK", "ORDER_FLATTEN",
    "STATUS_PENDING", "STATUS_OPEN", "STATUS_FILLED", "STATUS_CANCELLED", "STATUS_REJECTED",
    "STATUS_NAMES",
    "RESP_ACK", "RESP_FILL", "RESP_CANCELLED", "RESP_REJECTED", "RESP_CANCEL_REJECTED",
    "RESP_MODIFIED", "RESP_MODIFY_REJECTED", "ORDER_EVENT_NAMES",
    "REQ_NEW", "REQ_CANCEL", "REQ_MODIFY",
    "DECISION_END", "DECISION_BOOK", "DECISION_TRADE", "DECISION_FILL", "DECISION_ORDER",
    "DECISION_TIMER", "DECISION_PROGRESS", "DECISION_PAUSE",
    "KILL_MAX_POSITION", "KILL_DRAWDOWN", "KILL_DAILY_LOSS", "KILL_RULE_NAMES",
    "QUEUE_RISK_AVERSE", "QUEUE_POWER", "QUEUE_LOG",
    "LATENCY_CONSTANT", "LATENCY_SERIES", "LATENCY_LOGNORMAL", "LATENCY_UNIFORM",
    "ORDER_FIELDS", "ORDER_DTYPE", "FILL_DTYPE", "RECORD_DTYPE", "BBO_DTYPE", "RESPONSE_DTYPE",
    "CODES", "ResponseRow", "StreamScan",
]

# ------------------------------------------------------------------ the market-data stream

# md["kind"]: what a market row is (0 is never a valid kind); the fields each
# kind uses are in the table of nanobook/sim/stream.py and docs/sim.md
DEPTH = 1       # a price level's new total (L2)
TRADE = 2       # a print; side = the aggressor's side
ADD = 3         # an order joins a level (L3)
CANCEL = 4      # an order (or part of it) leaves a level (L3)
EXEC = 5        # a resting order executes (L3); side = the resting order's side
KIND_NAMES = {DEPTH: "DEPTH", TRADE: "TRADE", ADD: "ADD", CANCEL: "CANCEL", EXEC: "EXEC"}

# md["flags"] bits: which book a row updates
EXCH = 1        # the exchange-side book our orders queue and fill against (at exch_ts)
LOCAL = 2       # the strategy's delayed view (at local_ts)
HIDDEN = 4      # a TRADE of non-displayed liquidity (fills only orders priced through it)

# sides of rows, orders and fills: 0 buy / bid, 1 sell / ask
BUY, SELL = 0, 1

#: One market event (51 bytes, packed).  ``exch_ts`` / ``local_ts``: ns on
#: the exchange's and the strategy's clock; ``price`` in ticks, ``qty`` in
#: quantity units; ``order_id`` the venue's reference (L3); ``rank`` the
#: order's place in arrival order (L3, -1 for an order resting before the
#: data starts); ``kind``, ``side``, ``flags`` the codes above.
MD_DTYPE = np.dtype([
    ("exch_ts", "i8"), ("local_ts", "i8"), ("price", "i8"), ("qty", "i8"),
    ("order_id", "u8"), ("rank", "i8"), ("kind", "u1"), ("side", "u1"), ("flags", "u1"),
])

# ------------------------------------------------------------------ our orders

# ORDER_DTYPE["flags"] bits (0: a resting GTC limit order)
ORDER_MARKET = 1        # no price: takes the visible liquidity, the rest is cancelled
ORDER_IOC = 2           # immediate or cancel
ORDER_POST_ONLY = 4     # rejected if it would take (Binance's GTX)
ORDER_FOK = 8           # fill completely on arrival or cancel whole
ORDER_FLATTEN = 16      # the kill switch's market order, sized to the position at arrival

# ORDER_DTYPE["status"] (exchange truth) and ["local_status"] (the strategy's view)
STATUS_PENDING = 0      # sent, not yet at the exchange / not yet acknowledged
STATUS_OPEN = 1
STATUS_FILLED = 2
STATUS_CANCELLED = 3
STATUS_REJECTED = 4
STATUS_NAMES = {STATUS_PENDING: "pending", STATUS_OPEN: "open", STATUS_FILLED: "filled",
                STATUS_CANCELLED: "cancelled", STATUS_REJECTED: "rejected"}

# RESPONSE_DTYPE["kind"]: a report from the exchange to the strategy
RESP_ACK = 1
RESP_FILL = 2
RESP_CANCELLED = 3
RESP_REJECTED = 4           # a post-only order that would have taken
RESP_CANCEL_REJECTED = 5    # the order was done when the cancel arrived
RESP_MODIFIED = 6
RESP_MODIFY_REJECTED = 7
#: the ``kind`` of :class:`nanobook.sim.OrderEvent` for every report but a fill
ORDER_EVENT_NAMES = {RESP_ACK: "ack", RESP_CANCELLED: "cancelled", RESP_REJECTED: "rejected",
                     RESP_CANCEL_REJECTED: "cancel_rejected", RESP_MODIFIED: "modified",
                     RESP_MODIFY_REJECTED: "modify_rejected"}

# a request from the strategy to the exchange (internal queue of the loop)
REQ_NEW = 1
REQ_CANCEL = 2
REQ_MODIFY = 3

# ------------------------------------------------------------------ the loop

# what SimCore.advance() returns: why it stopped
DECISION_END = 0        # no event left
DECISION_BOOK = 1       # the local book changed (on_book)
DECISION_TRADE = 2      # a market trade reached the strategy (on_trade)
DECISION_FILL = 3       # a fill report (on_fill)
DECISION_ORDER = 4      # another order report (on_order)
DECISION_TIMER = 5      # the timer fired (on_timer)
DECISION_PROGRESS = 6   # progress_every more exchange rows were processed
DECISION_PAUSE = 7      # the next event is after SimCore.until (several instruments, one clock)

# SimCore.kill_rule: which kill-switch rule fired (0: none)
KILL_MAX_POSITION = 1
KILL_DRAWDOWN = 2
KILL_DAILY_LOSS = 3
KILL_RULE_NAMES = {KILL_MAX_POSITION: limits.MAX_POSITION, KILL_DRAWDOWN: limits.DRAWDOWN,
                   KILL_DAILY_LOSS: limits.DAILY_LOSS}

# the ``_kind`` tags of nanobook.sim.queue's models
QUEUE_RISK_AVERSE = 0
QUEUE_POWER = 1
QUEUE_LOG = 2

# the ``_kind`` tags of nanobook.sim.latency's models
LATENCY_CONSTANT = 0
LATENCY_SERIES = 1
LATENCY_LOGNORMAL = 2
LATENCY_UNIFORM = 3

#: every code above by name (pinned against the compiled loop's enums)
CODES = {name: value for name, value in globals().items()
         if name.isupper() and isinstance(value, int) and not name.startswith("_")}

# ------------------------------------------------------------------ records of a run

#: integer fields of one order, in record order (all int64)
ORDER_FIELDS = ["order_id", "side", "price", "qty", "leaves", "flags", "status",
                "local_status", "local_leaves", "ahead", "trade_acc", "join_rank",
                "submit_ts", "arrive_ts", "ack_ts", "done_ts", "cancel_ts", "n_fills",
                "local_price", "ahead0", "tick_ts", "n_modifies"]

#: One of our orders (``SimResult.orders``).  ``order_id`` from 1;
#: ``price`` / ``qty`` / ``leaves`` at the exchange (price 0 for a market
#: order; ``qty`` grows or shrinks with a modify), ``local_price`` /
#: ``local_leaves`` / ``local_status`` as the strategy knows them;
#: ``flags`` the ORDER_* bits; ``status`` a STATUS_* code; ``ahead`` the
#: quantity ahead of it in the queue now, ``ahead0`` when it joined (-1 never
#: rested); ``trade_acc`` trades at its price since the last depth update;
#: ``join_rank`` the L3 rank it joined behind; ``submit_ts`` (local clock),
#: ``arrive_ts``, ``done_ts`` (exchange clock), ``ack_ts`` (local clock),
#: ``cancel_ts`` (local clock, the cancel was sent; -1 none), ns, -1 not yet;
#: ``tick_ts`` the exch_ts of the last market row the strategy had seen when
#: it sent the order; ``n_fills``, ``n_modifies`` counts; ``fee`` (currency)
#: and ``notional`` (``price * qty * multiplier`` filled, currency).
ORDER_DTYPE = np.dtype([(f, "i8") for f in ORDER_FIELDS] + [("fee", "f8"), ("notional", "f8")])

#: One fill (``SimResult.fills``): ``exch_ts`` when it happened, ``local_ts``
#: when its report reaches the strategy (ns); ``side`` of our order; ``price``
#: (ticks) and ``qty``; ``maker`` 1 if our order was resting; ``fee``
#: (currency, negative is a rebate); ``position``, ``cash`` (currency) and
#: the exchange ``mid`` (ticks, NaN before the book was two-sided) just after it.
FILL_DTYPE = np.dtype([("exch_ts", "i8"), ("local_ts", "i8"), ("order_id", "i8"), ("side", "i8"),
                       ("price", "i8"), ("qty", "i8"), ("maker", "i8"), ("fee", "f8"),
                       ("position", "i8"), ("cash", "f8"), ("mid", "f8")])

#: One sample every ``record_interval`` ns of exchange time
#: (``SimResult.records``): exchange ``bid`` / ``ask`` (ticks, 0 for an empty
#: side) and ``mid``; ``position``; ``cash``, ``equity`` (cash + position at
#: mid, without the initial capital) and ``fees`` in currency; traded ``volume``.
RECORD_DTYPE = np.dtype([("ts", "i8"), ("bid", "i8"), ("ask", "i8"), ("mid", "f8"),
                         ("position", "i8"), ("cash", "f8"), ("equity", "f8"), ("fees", "f8"),
                         ("volume", "i8")])

#: One change of the exchange's best bid or ask (``SimResult.bbo``): ``ts``
#: exchange clock (ns), prices in ticks, 0 for an empty side.
BBO_DTYPE = np.dtype([("ts", "i8"), ("bid", "i8"), ("ask", "i8")])

#: One report to the strategy (``SimResult.responses``): ``t`` when it
#: reaches the strategy (local clock, ns), ``kind`` a RESP_* code,
#: ``order_id``, ``price`` / ``qty`` (a fill's, or a modify's new values, or
#: the open quantity a cancel removed), ``maker`` (fills), ``fill`` the row of
#: FILL_DTYPE it reports (-1 for other kinds).
RESPONSE_DTYPE = np.dtype([("t", "i8"), ("kind", "i8"), ("order_id", "i8"), ("price", "i8"),
                           ("qty", "i8"), ("maker", "i8"), ("fill", "i8")])


class ResponseRow(NamedTuple):
    """One report (a row of :data:`RESPONSE_DTYPE`) as ``SimCore.response``
    returns it to the Python driver."""

    t: int          # when it reaches the strategy (local clock, ns)
    kind: int       # RESP_*
    order_id: int
    price: int
    qty: int
    maker: int
    fill: int       # row of the fills (RESP_FILL), else -1


class StreamScan(NamedTuple):
    """What one pass of ``_core.scan_stream`` over an MD_DTYPE stream finds."""

    ok: bool                    # False: some row breaks a rule (validate_stream names it)
    exch_rows: object           # int64 row numbers of the EXCH rows (None if not ok)
    local_rows: object          # int64 row numbers of the LOCAL rows (None if not ok)
    price_lo: int               # the smallest and largest price of any row (ticks;
    price_hi: int               # 0 and -1 for an empty stream)
    t_start: int                # the smallest timestamp of either clock (ns)
    first_exch: int | None      # the first and last exch_ts of the EXCH rows
    last_exch: int | None       # (None without EXCH rows)
