"""Numpy structured dtypes of every fixed-size record nanobook produces.

These are the Python views of the C structs in ``nanobook/_engine.pxd``; a
test pins their layout to the compiled structs.  Codes used in the integer
fields are module constants here so that batch input can be built without
string parsing.
"""
import numpy as np

__all__ = [
    "EVENT_DTYPE", "TRADE_DTYPE", "LEVEL_DTYPE",
    "BUY", "SELL", "GTC", "IOC", "FOK",
    "SUBMIT_LIMIT", "SUBMIT_MARKET", "CANCEL", "MODIFY",
    "SUBMIT_STOP_MARKET", "SUBMIT_STOP_LIMIT",
    "SUBMIT_TRAILING_STOP_MARKET", "SUBMIT_TRAILING_STOP_LIMIT",
    "TRAIL_NONE", "TRAIL_FIXED", "TRAIL_PERCENTAGE", "TRAIL_SMA_ABS_CHANGE",
    "EVENT_KINDS",
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

#: One trade (fill) printed by the book.
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
