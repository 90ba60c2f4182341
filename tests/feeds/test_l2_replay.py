"""Binance diff-depth, Kraken checksums and LOBSTER replay against the venues' own data."""
import gzip
import json

import numpy as np
import pytest

from nanobook.feeds import FeedError, SequenceGapError
from nanobook.feeds.crypto import (BinanceDepthBook, KrakenBook, decimal_to_int, kraken_checksum,
                                   replay_binance, replay_kraken)
from nanobook.feeds.lobster import read_lobster, replay_lobster


@pytest.mark.parametrize("name,snap_id", [
    ("spot_btcusdt_20240808.head12000.gz", 50093239218),
    ("spot_ethusdt_20240808.head6000.gz", 35346513512),
])
def test_binance_bbo_equals_book_ticker_at_every_update(data_dir, name, snap_id):
    r = replay_binance(data_dir / "crypto" / name)
    assert r.snapshot_update_id == snap_id
    assert len(r.depth) > 450
    # straddle rule: the first applied event covers lastUpdateId + 1
    assert r.depth["first_update_id"][0] <= snap_id + 1 <= r.depth["update_id"][0]
    assert (r.depth["first_update_id"][1:] == r.depth["update_id"][:-1] + 1).all()
    checked, bad = r.ticker_mismatches()
    assert checked == len(r.depth) and bad == 0
    assert (r.depth["bid_px"] < r.depth["ask_px"]).all()


def test_binance_gap_and_order_errors(data_dir):
    lines = gzip.decompress((data_dir / "crypto" / "spot_btcusdt_20240808.head12000.gz").read_bytes()).decode().splitlines()
    depth = [i for i, l in enumerate(lines) if "depthUpdate" in l]
    # drop one depth event after the snapshot: continuity breaks
    del lines[depth[20]]
    with pytest.raises(SequenceGapError, match="does not follow"):
        replay_binance(lines)
    b = BinanceDepthBook()
    with pytest.raises(FeedError, match="load a snapshot"):
        b.update({"U": 1, "u": 2, "b": [], "a": []})
    b.snapshot({"lastUpdateId": 10, "bids": [["1.5", "2"]], "asks": [["1.6", "1"]]})
    assert b.update({"U": 5, "u": 10, "b": [], "a": []}) is False  # predates the snapshot
    with pytest.raises(SequenceGapError, match="straddle"):
        b.update({"U": 12, "u": 13, "b": [], "a": []})
    assert b.update({"U": 9, "u": 12, "b": [["1.55", "3"]], "a": [["1.6", "0"]]})
    assert b.bbo() == (155000000, 300000000, 0, 0)
    with pytest.raises(ValueError, match="market must be"):
        BinanceDepthBook(market="options")


def test_decimal_to_int():
    assert decimal_to_int("61837.63000000", 8) == 6183763000000
    assert decimal_to_int("0.000022900", 9) == 22900
    assert decimal_to_int("5", 2) == 500
    with pytest.raises(ValueError, match="more than 2 decimals"):
        decimal_to_int("1.234", 2)
    with pytest.raises(ValueError, match="decimal string"):
        decimal_to_int("abc", 2)


def test_kraken_every_checksum_matches(data_dir):
    books = replay_kraken(data_dir / "crypto" / "KRAKEN.ws.50.0.gz")
    assert len(books) == 10
    assert sum(b.checked for b in books.values()) == 4269
    assert sum(b.mismatches for b in books.values()) == 0
    for b in books.values():
        bp, _, ap, _ = b.bbo()
        assert 0 < bp < ap


def test_kraken_checksum_detects_a_wrong_book(data_dir):
    raw = gzip.decompress((data_dir / "crypto" / "KRAKEN.ws.50.0.gz").read_bytes()).decode().splitlines()
    # corrupt one volume in one update line: from there the checksum of that pair fails
    for i, line in enumerate(raw):
        if '"XMR/USD"' in line and '"c":' in line and '"b":[["' in line:
            head, js = line.split(": ", 1)
            msg = json.loads(js)
            lv = msg[1]["b"][0]
            if float(lv[1]) > 0:
                lv[1] = "%.8f" % (float(lv[1]) + 1)
                raw[i] = head + ": " + json.dumps(msg)
                break
    books = replay_kraken(raw)
    assert books["XMR/USD"].mismatches >= 1
    assert sum(b.mismatches for p, b in books.items() if p != "XMR/USD") == 0


def test_kraken_checksum_function_matches_strings():
    asks = [("0.05005", "0.00000500"), ("0.05010", "0.00000500")]
    bids = [("0.05000", "0.00000500")]
    b = KrakenBook()
    b.snapshot({"as": [list(a) + ["0"] for a in asks], "bs": [list(x) + ["0"] for x in bids]})
    assert b.checksum() == kraken_checksum(asks, bids)
    with pytest.raises(ValueError, match="depth must be an int >= 10"):
        KrakenBook(depth=5)


def test_lobster_replay_matches_every_book_row(data_dir):
    d = data_dir / "lobster"
    msgs, book = read_lobster(d / "MSFT_2012-06-21_34200000_37800000_message_50.csv",
                              d / "MSFT_2012-06-21_34200000_37800000_orderbook_50.csv.gz")
    assert len(msgs) == 1000 and book.shape == (1000, 50, 4)
    assert dict(zip(*np.unique(msgs["type"], return_counts=True))) == {1: 449, 2: 1, 3: 435, 4: 110, 5: 5}
    r = replay_lobster(msgs, book)
    assert r.matched == 999 and r.mismatched == 0 and r.first_mismatch == -1
    assert r.complete_rows > 0
    # the final top of book equals the file's last row
    lv = r.book.levels(1)
    assert (lv[2, 0], lv[3, 0], lv[0, 0], lv[1, 0]) == tuple(book[-1, 0])


def test_lobster_detects_a_corrupted_message(data_dir):
    d = data_dir / "lobster"
    msgs, book = read_lobster(d / "MSFT_2012-06-21_34200000_37800000_message_50.csv",
                              d / "MSFT_2012-06-21_34200000_37800000_orderbook_50.csv.gz")
    k = int(np.nonzero(msgs["type"] == 1)[0][10])
    msgs = msgs.copy()
    msgs["size"][k] += 1
    r = replay_lobster(msgs, book)
    assert r.first_mismatch == k
