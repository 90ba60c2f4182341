"""ITCH book replica against a plain-Python book built from the decoded arrays."""
import numpy as np
import pytest

from nanobook.feeds import FeedError, FeedFormatError
from nanobook.feeds.itch import read_itch
from nanobook.feeds.itch_book import ItchBook


def stream_rows(m):
    rows = []
    for t, a in m.arrays.items():
        for r in a.tolist():
            d = dict(zip(a.dtype.names, r))
            d["t"] = t
            rows.append(d)
    rows.sort(key=lambda d: d["index"])
    return rows


def python_replay(m, depth):
    """Reference book: dict of orders, dict of levels; snapshot after each change."""
    orders = {}
    levels = {}  # (loc, side) -> {price: shares}
    snaps, trades = [], []
    unknown = 0

    def top(loc):
        out = []
        for side, rev in ((0, True), (1, False)):
            lv = levels.get((loc, side), {})
            ps = sorted(lv, reverse=rev)[:depth]
            px = ps + [0] * (depth - len(ps))
            out.append(px)
            out.append([lv[p] for p in ps] + [0] * (depth - len(ps)))
        return out

    def change(loc, side, px, dq):
        lv = levels.setdefault((loc, side), {})
        lv[px] = lv.get(px, 0) + dq
        if lv[px] == 0:
            del lv[px]

    for r in stream_rows(m):
        t = r["t"]
        if t in "AF":
            side = 0 if r["buy_sell_indicator"] == b"B" else 1
            orders[r["order_reference_number"]] = [r["stock_locate"], side, r["price"], r["shares"]]
            change(r["stock_locate"], side, r["price"], r["shares"])
        elif t in "ECXD":
            o = orders.get(r["order_reference_number"])
            if o is None:
                unknown += 1
                continue
            q = o[3] if t == "D" else min(o[3], r["executed_shares" if t in "EC" else "cancelled_shares"])
            if t == "E":
                trades.append((r["index"], o[2], q, b"E"))
            elif t == "C":
                trades.append((r["index"], r["execution_price"], q, b"C"))
            o[3] -= q
            change(o[0], o[1], o[2], -q)
            if o[3] == 0:
                del orders[r["order_reference_number"]]
        elif t == "U":
            o = orders.pop(r["order_reference_number"], None)
            if o is None:
                unknown += 1
                continue
            change(o[0], o[1], o[2], -o[3])
            orders[r["new_order_reference_number"]] = [o[0], o[1], r["price"], r["shares"]]
            change(o[0], o[1], r["price"], r["shares"])
        elif t == "P":
            trades.append((r["index"], r["price"], r["shares"], b"P"))
            continue
        else:
            continue
        snaps.append((r["index"], r["stock_locate"], top(r["stock_locate"])))
    return snaps, trades, orders, unknown


@pytest.mark.parametrize("depth", [1, 5])
def test_ritch_book_matches_python_reference_at_every_message(ritch_fixed, depth):
    m = read_itch(ritch_fixed)
    book = ItchBook(depth=depth, record_snapshots=True).replay(ritch_fixed)
    book.check()
    snaps, trades, orders, unknown = python_replay(m, depth)
    got = book.snapshots
    assert len(got) == len(snaps)
    assert got["index"].tolist() == [s[0] for s in snaps]
    assert got["stock_locate"].tolist() == [s[1] for s in snaps]
    for name, k in (("bid_px", 0), ("bid_qty", 1), ("ask_px", 2), ("ask_qty", 3)):
        np.testing.assert_array_equal(got[name], np.array([s[2][k] for s in snaps]).reshape(-1, depth))
    tr = book.trades
    assert [(int(a), int(b), int(c), d) for a, b, c, d in zip(tr["index"], tr["price"], tr["shares"], tr["kind"])] == trades
    assert book.n_orders == len(orders)
    # the artificial file re-deletes/executes 117 orders already gone
    assert book.unknown_refs == unknown == 117
    assert book.n_messages == 12012


def test_ritch_final_state_and_directory(ritch_raw):
    book = ItchBook(depth=3, lenient=True).replay(ritch_raw)
    assert book.symbols() == {1: "ALC", 2: "BOB", 3: "CHAR"}
    assert book.trading_state("BOB") == "T"
    bid_px, bid_q, ask_px, ask_q = book.bbo("BOB")
    assert bid_px > 0 and ask_px > 0  # (the artificial file ends crossed: no matching engine wrote it)
    d = book.depth_of("BOB", 3)
    assert d["bid_px"][0] == bid_px and (np.diff(d["bid_px"][d["bid_px"] > 0]) < 0).all()
    assert (d["bid_orders"][d["bid_qty"] > 0] >= 1).all()
    # the P prints count equals RITCH's documented trades per stock
    tr = book.trades
    p = tr[tr["kind"] == b"P"]
    assert np.bincount(p["stock_locate"]).tolist()[1:] == [1885, 1658, 1457]
    book.check()


def test_symbol_filter_and_chunked_feed(ritch_fixed):
    whole = ItchBook(record_snapshots=True).replay(ritch_fixed)
    only = ItchBook(record_snapshots=True, symbols=["BOB"])
    for i in range(0, len(ritch_fixed), 997):  # arbitrary splits
        only.feed(ritch_fixed[i : i + 997])
    only.close()
    s = whole.snapshots
    s = s[s["stock_locate"] == 2]
    np.testing.assert_array_equal(only.snapshots, s)
    assert only.bbo("BOB") == whole.bbo("BOB")
    assert only.bbo("ALC") == (0, 0, 0, 0)


def test_mid_day_start_counts_unknown_refs(ritch_fixed):
    # drop the first 3000 messages (but keep the directory): deletes of unseen orders
    pos, n = 0, 0
    while n < 3000:
        pos += 2 + int.from_bytes(ritch_fixed[pos : pos + 2], "big")
        n += 1
    head = b"".join(ritch_fixed[p : p + 41] for p in (14,))  # the 'R' for ALC
    book = ItchBook().replay(head + ritch_fixed[pos:])
    assert book.unknown_refs > 0
    book.check()


def test_errors(ritch_raw, ritch_fixed):
    with pytest.raises(FeedFormatError, match="length is 0") as ei:
        ItchBook().replay(ritch_raw)
    assert ei.value.offset == 0
    b = ItchBook()
    b.feed(ritch_fixed[:100])
    with pytest.raises(FeedFormatError, match="stream ends inside a message"):
        b.close()
    with pytest.raises(ValueError, match="depth must be an int in"):
        ItchBook(depth=0)
    with pytest.raises(TypeError, match="symbols must be an iterable of str"):
        ItchBook(symbols="BOB")
    with pytest.raises(FeedError, match="not in the stock directory"):
        ItchBook().bbo("NOPE")
    short = bytes([0, 5]) + b"A" + b"\0" * 4
    with pytest.raises(FeedFormatError, match="'A' message has length 5, the specification says 36"):
        ItchBook().replay(short)
