# cython: freethreading_compatible = False
"""The order book: price-time priority matching on integer prices and lots.

Everything that changes the book goes through one ``nogil`` path,
``Exchange.run``, over a fixed-size event record: the Python methods build
one record and call it, ``Exchange.apply`` and ``Exchange.replay`` call it in
a loop over a numpy array.  Python objects (results, trades, snapshots) are
built only when a Python caller asks for them.

One extension module, one job per source file (``include``d below, so the
hot path compiles as one unit and nothing on it crosses a module boundary):

==========================  ==================================================
``_engine.pxd``             the header: C records, codes, the Exchange's state
                            and cdef methods with their exception contract
``_engine_cutil.pxi``       C helpers: saturating arithmetic, 128-bit values
``_engine_codec.pxi``       the varint byte encoding of the event log
``_engine_args.pxi``        conversion and validation of Python arguments
``_engine_records.pxi``     the result and record classes, ``Event``
``_engine_book.pxi``        the book: ``Exchange``
``_engine_batch.pxi``       ``EVENT_DTYPE`` batch input, event-file entry points
``_engine_multi.pxi``       ``MultiExchange`` and the symbol check
==========================  ==================================================

Not compiled: the JSON form of events and the event-file formats
(``nanobook/_events.py``), the record dtypes and the names of every code
(``nanobook/dtypes.py``).
"""
cimport cython
from cpython.long cimport PyLong_Check
from libc.math cimport isfinite, round as c_round
from libc.stdint cimport INT64_MAX, INT64_MIN, UINT64_MAX
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memmove, memset

from nanobook._buffer cimport buf_init, buf_push, buf_reserve

import operator
import os

import numpy as np
cimport numpy as cnp

import nanobook._events as _events  # (spelt so that tests/test_layers.py checks this import)
from nanobook import dtypes as _dt

cnp.import_array()

cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1
    unsigned long long PyLong_AsUnsignedLongLong(object) except? -1


def _layout():
    """Sizes and field offsets of the C records (pinned against nanobook.dtypes)."""
    cdef EventRec e
    cdef TradeRec t
    cdef char* eb = <char*>&e
    cdef char* tb = <char*>&t
    return {
        "event": (sizeof(EventRec), {
            "kind": <char*>&e.kind - eb, "side": <char*>&e.side - eb, "tif": <char*>&e.tif - eb,
            "trail": <char*>&e.trail - eb, "order_id": <char*>&e.order_id - eb,
            "price": <char*>&e.price - eb, "limit_price": <char*>&e.limit_price - eb,
            "quantity": <char*>&e.quantity - eb, "trail_fixed": <char*>&e.trail_fixed - eb,
            "trail_value": <char*>&e.trail_value - eb, "period": <char*>&e.period - eb}),
        "trade": (sizeof(TradeRec), {
            "trade_id": <char*>&t.trade_id - tb, "price": <char*>&t.price - tb,
            "quantity": <char*>&t.quantity - tb, "aggressor_side": <char*>&t.aggressor_side - tb,
            "aggressor_order_id": <char*>&t.aggressor_order_id - tb,
            "passive_order_id": <char*>&t.passive_order_id - tb,
            "timestamp": <char*>&t.timestamp - tb}),
        "order": sizeof(OrderRec),
        "level": sizeof(Level),
    }


def _codes():
    """The C enum codes that ``nanobook.dtypes`` names too (pinned by a test)."""
    return {
        "BUY": BUY, "SELL": SELL, "GTC": GTC, "IOC": IOC, "FOK": FOK,
        "SUBMIT_LIMIT": EV_SUBMIT_LIMIT, "SUBMIT_MARKET": EV_SUBMIT_MARKET,
        "CANCEL": EV_CANCEL, "MODIFY": EV_MODIFY,
        "SUBMIT_STOP_MARKET": EV_STOP_MARKET, "SUBMIT_STOP_LIMIT": EV_STOP_LIMIT,
        "SUBMIT_TRAILING_STOP_MARKET": EV_TRAIL_MARKET,
        "SUBMIT_TRAILING_STOP_LIMIT": EV_TRAIL_LIMIT,
        "TRAIL_NONE": TRAIL_NONE, "TRAIL_FIXED": TRAIL_FIXED,
        "TRAIL_PERCENTAGE": TRAIL_PCT, "TRAIL_SMA_ABS_CHANGE": TRAIL_SMA,
        "ORDER_NEW": ST_NEW, "ORDER_PARTIALLY_FILLED": ST_PARTIAL,
        "ORDER_FILLED": ST_FILLED, "ORDER_CANCELLED": ST_CANCELLED,
        "STOP_PENDING": STOP_PENDING, "STOP_TRIGGERED": STOP_TRIGGERED,
        "STOP_CANCELLED": STOP_CANCELLED,
        # outcome codes of cancel / modify, indices of dtypes.ERROR_NAMES
        "ERROR_NAMES": (OK, NOT_FOUND, NOT_ACTIVE),
    }


include "_engine_cutil.pxi"
include "_engine_codec.pxi"
include "_engine_args.pxi"
include "_engine_records.pxi"
include "_engine_book.pxi"
include "_engine_batch.pxi"
include "_engine_multi.pxi"
