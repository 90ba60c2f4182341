"""Numpy structured dtypes of every fixed-size record nanobook produces.

These are the Python views of the C structs in ``nanobook/_engine.pxd``; a
test pins their layout to the compiled structs.  Codes used in the integer
fields are module constants here so that batch input can be built without
string parsing, and each code has one table of its names (below the codes);
``tests/engine/test_layout.py`` pins every code to the engine's C enum.

Units of every record: prices are integer ticks (cents for the bundled
data), quantities integer lots, ``timestamp`` the book's logical clock (a
counter that advances by one per order, stop and trade: it orders events
within one book and is not wall-clock time).
"""
from typing import NamedTuple

import numpy as np

__all__ = [
    "EVENT_DTYPE", "TRADE_DTYPE", "LEVEL_DTYPE",
    "BUY", "SELL", "GTC", "IOC", "FOK",
    "SUBMIT_LIMIT", "SUBMIT_MARKET", "CANCEL", "MODIFY",
    "SUBMIT_STOP_MARKET", "SUBMIT_STOP_LIMIT",
    "SUBMIT_TRAILING_STOP_MARKET", "SUBMIT_TRAILING_STOP_LIMIT",
    "TRAIL_NONE", "TRAIL_FIXED", "TRAIL_PERCENTAGE", "TRAIL_SMA_ABS_CHANGE",
    "EVENT_KINDS", "EVENT_VARIANTS",
    "ORDER_NEW", "ORDER_PARTIALLY_FILLED", "ORDER_FILLED", "ORDER_CANCELLED",
    "STOP_PENDING", "STOP_TRIGGERED", "STOP_CANCELLED",
    "Names", "SIDE_NAMES", "TIF_NAMES", "ORDER_STATUS_NAMES", "STOP_STATUS_NAMES",
    "TRAIL_NAMES", "SIDE_ALIASES", "TRAIL_ALIASES", "ERROR_NAMES",
    "SYMBOL_MAX_BYTES",
]

# side
BUY, SELL = 0, 1
# time in force
GTC, IOC, FOK = 0, 1, 2
# event kinds (0 is never a valid kind)
SUBMIT_LIMIT = 1
SUBMIT_MARKET = 2
CANCEL = 3
MODIFY = 4
SUBMIT_STOP_MARKET = 5
SUBMIT_STOP_LIMIT = 6
SUBMIT_TRAILING_STOP_MARKET = 7
SUBMIT_TRAILING_STOP_LIMIT = 8
EVENT_KINDS = {
    SUBMIT_LIMIT: "submit_limit",
    SUBMIT_MARKET: "submit_market",
    CANCEL: "cancel",
    MODIFY: "modify",
    SUBMIT_STOP_MARKET: "submit_stop_market",
    SUBMIT_STOP_LIMIT: "submit_stop_limit",
    SUBMIT_TRAILING_STOP_MARKET: "submit_trailing_stop_market",
    SUBMIT_TRAILING_STOP_LIMIT: "submit_trailing_stop_limit",
}
# trail methods
TRAIL_NONE, TRAIL_FIXED, TRAIL_PERCENTAGE, TRAIL_SMA_ABS_CHANGE = 0, 1, 2, 3
# order status (``Order.status``, ``SubmitResult.status``)
ORDER_NEW, ORDER_PARTIALLY_FILLED, ORDER_FILLED, ORDER_CANCELLED = 0, 1, 2, 3
# stop status (``Exchange.get_stop_order``, ``StopSubmitResult.status``)
STOP_PENDING, STOP_TRIGGERED, STOP_CANCELLED = 0, 1, 2

#: Longest symbol, in UTF-8 bytes: defined once in :mod:`nanobook.validate`
#: (the Python layers' ``symbol()`` check); the engine's compiled check
#: (``nanobook._engine.check_symbol``, on the order path) reads it from here.
from .validate import SYMBOL_MAX_BYTES  # noqa: E402


# -- names of the codes --------------------------------------------------------
# nanobook 0.19 spells every code in two casings, depending on where it
# appears, and its users (and our recorded conformance cases) depend on both:
#   * ``python``: the lower-case name of the Python records and of the
#     accepted input: ``Order.side`` / ``Trade.aggressor_side`` "buy",
#     ``Order.time_in_force`` "gtc", ``Order.status`` "partiallyfilled",
#     ``get_stop_order()["status"]`` "pending", ``trail_type`` "fixed";
#   * ``rust``: the name of the Rust enum variant, used where the reference
#     prints the enum itself: ``SubmitResult.status`` "PartiallyFilled",
#     ``StopSubmitResult.status`` "Pending", the JSON (serde) form of events
#     and ``repr(Event)`` ("Buy", "GTC", "Fixed").
# So each code has exactly one table, indexed by the code, holding both
# spellings; every place in the engine that names a code reads it here.

class Names(NamedTuple):
    """The two spellings of one code value (see the comment above)."""
    python: str
    rust: str


SIDE_NAMES = (Names("buy", "Buy"), Names("sell", "Sell"))
TIF_NAMES = (Names("gtc", "GTC"), Names("ioc", "IOC"), Names("fok", "FOK"))
ORDER_STATUS_NAMES = (Names("new", "New"), Names("partiallyfilled", "PartiallyFilled"),
                      Names("filled", "Filled"), Names("cancelled", "Cancelled"))
STOP_STATUS_NAMES = (Names("pending", "Pending"), Names("triggered", "Triggered"),
                     Names("cancelled", "Cancelled"))
# TRAIL_NONE has no name: plain stops carry no trail
TRAIL_NAMES = (None, Names("fixed", "Fixed"), Names("percentage", "Percentage"),
               Names("sma_abs_change", "SmaAbsChange"))
#: Extra input spellings accepted besides ``python`` (case-insensitive), as in
#: the reference: "b"/"s" for sides, "pct" and the deprecated "atr" for trails.
SIDE_ALIASES = {"b": BUY, "s": SELL}
TRAIL_ALIASES = {"pct": TRAIL_PERCENTAGE, "atr": TRAIL_SMA_ABS_CHANGE}
#: ``CancelResult.error`` / ``ModifyResult.error`` by outcome code
#: (0: success, 1: unknown id, 2: the order is finished).
ERROR_NAMES = (None, "OrderNotFound", "OrderNotActive")
#: The serde variant name of each event kind (the JSON form and ``repr(Event)``).
EVENT_VARIANTS = {
    SUBMIT_LIMIT: "SubmitLimit",
    SUBMIT_MARKET: "SubmitMarket",
    CANCEL: "Cancel",
    MODIFY: "Modify",
    SUBMIT_STOP_MARKET: "SubmitStopMarket",
    SUBMIT_STOP_LIMIT: "SubmitStopLimit",
    SUBMIT_TRAILING_STOP_MARKET: "SubmitTrailingStopMarket",
    SUBMIT_TRAILING_STOP_LIMIT: "SubmitTrailingStopLimit",
}

#: One state-changing call (the event log and the batch input of
#: ``Exchange.apply``).  Field use by kind:
#:   submit_limit: side, price, quantity, tif
#:   submit_market: side, quantity
#:   cancel: order_id
#:   modify: order_id, price (new price), quantity (new quantity)
#:   submit_stop_market: side, price (stop), quantity
#:   submit_stop_limit: side, price (stop), limit_price, quantity, tif
#:   submit_trailing_stop_*: as the plain stop, plus trail, trail_fixed
#:   (fixed offset), trail_value (percentage or multiplier), period.
EVENT_DTYPE = np.dtype(
    [
        ("kind", "u1"),
        ("side", "u1"),
        ("tif", "u1"),
        ("trail", "u1"),
        ("_pad", "u4"),
        ("order_id", "u8"),
        ("price", "i8"),
        ("limit_price", "i8"),
        ("quantity", "u8"),
        ("trail_fixed", "i8"),
        ("trail_value", "f8"),
        ("period", "u8"),
    ]
)

#: One trade (fill) printed by the book: ``quantity`` lots at the resting
#: order's ``price`` (ticks); ``aggressor_side`` is BUY/SELL; ``timestamp``
#: is the book's logical clock (see the module docstring).
TRADE_DTYPE = np.dtype(
    [
        ("trade_id", "u8"),
        ("price", "i8"),
        ("quantity", "u8"),
        ("aggressor_side", "u1"),
        ("_pad", "u1", (7,)),
        ("aggressor_order_id", "u8"),
        ("passive_order_id", "u8"),
        ("timestamp", "u8"),
    ]
)

#: One price level of a depth snapshot (quantity saturates at 2**64 - 1 here;
#: the Python objects carry the exact total).
LEVEL_DTYPE = np.dtype([("price", "i8"), ("quantity", "u8"), ("order_count", "u8")])
