"""LOBSTER message + orderbook files: load, and replay from the first snapshot.

LOBSTER (lobsterdata.com) writes two CSV files per day and stock: messages
(time, type, order id, size, price, direction) and, row for row, the book of
``L`` levels after each message (ask price, ask size, bid price, bid size per
level; prices in 1e-4 dollars; empty levels as ``+-9999999999`` with size 0).
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import numpy as np

from ._books import L2Book
from ._errors import FeedFormatError

__all__ = ["LOBSTER_MESSAGE_DTYPE", "read_lobster", "replay_lobster", "LobsterReplay"]

#: types: 1 submit, 2 partial cancel, 3 delete, 4 visible execution,
#: 5 hidden execution, 6 cross trade, 7 trading halt; direction 1 buy, -1 sell
#: (for executions: the side of the resting order).
LOBSTER_MESSAGE_DTYPE = np.dtype([("time", "f8"), ("type", "i1"), ("order_id", "i8"),
                                  ("size", "i8"), ("price", "i8"), ("direction", "i1")])


def _load(path) -> np.ndarray:
    p = os.fspath(path)
    opener = gzip.open if p.endswith(".gz") else open
    with opener(p, "rt") as fh:
        try:
            return np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise FeedFormatError(f"{p}: not a numeric LOBSTER CSV: {exc}") from exc


def read_lobster(message_path, orderbook_path) -> tuple[np.ndarray, np.ndarray]:
    """Load a LOBSTER pair.

    Returns
    -------
    messages : numpy.ndarray
        :data:`LOBSTER_MESSAGE_DTYPE` records.
    book : numpy.ndarray
        int64 array (n, levels, 4): ask price, ask size, bid price, bid size.

    Raises
    ------
    FeedFormatError
        Wrong column counts, or files of different lengths.
    """
    m = _load(message_path)
    b = _load(orderbook_path)
    if m.shape[1] < 6:
        raise FeedFormatError(f"message file must have 6 columns, got {m.shape[1]}")
    if b.shape[1] % 4:
        raise FeedFormatError(f"orderbook file must have 4 columns per level, got {b.shape[1]}")
    if len(m) != len(b):
        raise FeedFormatError(f"message file has {len(m)} rows, orderbook file {len(b)}")
    msgs = np.empty(len(m), LOBSTER_MESSAGE_DTYPE)
    msgs["time"] = m[:, 0]
    for i, name in enumerate(("type", "order_id", "size", "price", "direction"), 1):
        msgs[name] = m[:, i].astype(np.int64)
    return msgs, b.astype(np.int64).reshape(len(b), -1, 4)


@dataclass
class LobsterReplay:
    """Result of :func:`replay_lobster`.

    ``matched`` / ``mismatched``: book rows after the first whose levels inside
    the known price window equal ours; ``complete_rows``: rows whose every
    level lies inside the window (a full check); ``first_mismatch``: row index
    or -1.  ``book`` is the replayed :class:`L2Book`.
    """

    matched: int
    mismatched: int
    complete_rows: int
    first_mismatch: int
    ask_bound: int
    bid_bound: int
    book: L2Book


def replay_lobster(messages: np.ndarray, book: np.ndarray) -> LobsterReplay:
    """Start from book row 0 and apply messages 1.. at price level, checking
    every later row.

    The snapshot shows ``L`` levels only, so quantities beyond its worst
    prices are unknown: rows are compared inside that window (asks up to the
    snapshot's worst ask, bids down to its worst bid, when the snapshot side
    is full).  Submits add size at their price, cancels, deletes and visible
    executions remove it; hidden executions, crosses and halts leave the
    visible book unchanged.
    """
    if messages.dtype != LOBSTER_MESSAGE_DTYPE:
        raise TypeError(f"messages must have LOBSTER_MESSAGE_DTYPE, got {messages.dtype}")
    if book.ndim != 3 or book.shape[2] != 4 or len(book) != len(messages):
        raise ValueError(f"book must be (n, levels, 4) with n = len(messages), got {book.shape}")
    n, levels, _ = book.shape
    lb = L2Book()
    first = book[0]
    for px, q in zip(first[:, 0], first[:, 1]):
        if q > 0:
            lb.set(1, int(px), int(q))
    for px, q in zip(first[:, 2], first[:, 3]):
        if q > 0:
            lb.set(0, int(px), int(q))
    big = np.iinfo(np.int64).max
    ask_bound = int(first[-1, 0]) if first[-1, 1] > 0 else big
    bid_bound = int(first[-1, 2]) if first[-1, 3] > 0 else -big
    matched = mismatched = complete = 0
    first_bad = -1
    typ, size, price, direc = messages["type"], messages["size"], messages["price"], messages["direction"]
    for k in range(1, n):
        t = int(typ[k])
        side = 0 if direc[k] == 1 else 1
        if t == 1:
            lb.add(side, int(price[k]), int(size[k]))
        elif t in (2, 3, 4):
            lb.add(side, int(price[k]), -int(size[k]))
        ours = lb.levels(levels)
        row = book[k]
        a_ok = _window_equal(ours[2], ours[3], row[:, 0], row[:, 1], lambda p: p <= ask_bound)
        b_ok = _window_equal(ours[0], ours[1], row[:, 2], row[:, 3], lambda p: p >= bid_bound)
        if a_ok and b_ok:
            matched += 1
        else:
            mismatched += 1
            if first_bad < 0:
                first_bad = k
        if ((row[:, 1] == 0) | (row[:, 0] <= ask_bound)).all() and ((row[:, 3] == 0) | (row[:, 2] >= bid_bound)).all():
            complete += 1
    return LobsterReplay(matched, mismatched, complete, first_bad, ask_bound, bid_bound, lb)


def _window_equal(opx, oq, rpx, rq, inside) -> bool:
    o = [(int(p), int(q)) for p, q in zip(opx, oq) if q > 0 and inside(p)]
    r = [(int(p), int(q)) for p, q in zip(rpx, rq) if q > 0 and inside(p)]
    return o == r
