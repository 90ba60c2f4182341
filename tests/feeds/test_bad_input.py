"""The feeds bad-input matrix (issue 11): every malformed argument raises a
builtin exception type whose message names the parameter and the value; the
book is unchanged, and the caller's buffer and file are exactly as they were."""
import gzip
import hashlib

import numpy as np
import pytest

from nanobook.feeds import (FeedFormatError, ItchBook, L2Book, OrderBook, decimal_to_int,
                            decode_mdp3, features, iter_itch, read_itch, synthetic_order_flow)

from .conftest import DATA

PCAP = DATA / "itch" / "Nasdaq.Multiple.Packets.pcap"
SCHEMA = DATA / "cme" / "FixBinary_v9_real-logic.xml.gz"


def test_iter_itch_detects_a_capture_from_bytes():
    """The issue's case: bytes of a pcap gave [] (lenient) or 'truncated ITCH
    message' (strict); the container is now told from the bytes, as
    ``read_itch`` does, plain or gzip."""
    raw = PCAP.read_bytes()
    want = read_itch(PCAP).n_messages
    assert want == 39
    for source in (raw, bytearray(raw), memoryview(raw), gzip.compress(raw), PCAP):
        for lenient in (True, False):
            got = list(iter_itch(source, lenient=lenient))
            assert sum(m.n_messages for m in got) == want
            assert (np.concatenate([m["A"] for m in got]) == read_itch(PCAP)["A"]).all()
    assert PCAP.read_bytes() == raw


def test_itch_book_replay_detects_a_gzipped_capture(tmp_path):
    """ItchBook.replay tells the container the same way (a gzipped capture,
    as bytes or as a path, was fed to the book as BinaryFILE bytes)."""
    raw = PCAP.read_bytes()
    gz = tmp_path / "cap.pcap.gz"
    gz.write_bytes(gzip.compress(raw))
    want = ItchBook(lenient=True).replay(PCAP)
    assert want.n_messages == 39
    for source in (raw, gzip.compress(raw), gz):
        got = ItchBook(lenient=True).replay(source)
        assert got.n_messages == 39 and (got.orders() == want.orders()).all()


@pytest.mark.parametrize("chunk,ok", [(63, False), (64, True), (65, True), (True, False), (64.0, False)])
def test_iter_itch_chunk_size_boundary(chunk, ok):
    data = gzip.decompress((DATA / "itch" / "ex20101224.TEST_ITCH_50.gz").read_bytes())[:4000]
    if ok:
        assert sum(m.n_messages for m in iter_itch(data, chunk_size=chunk, lenient=True)) == \
            read_itch(data, lenient=True).n_messages
    else:
        with pytest.raises(ValueError, match=f"chunk_size must be an int >= 64, got {chunk!r}"):
            list(iter_itch(data, chunk_size=chunk))


def book_state(book):
    return (book.n_messages, book.unknown_refs, book.n_orders, book.orders().tobytes(),
            book.trades.tobytes())


def fed_book():
    raw = gzip.decompress((DATA / "itch" / "ex20101224.TEST_ITCH_50.gz").read_bytes())
    book = ItchBook(lenient=True, depth=2)
    book.feed(raw[:5000])
    return book


# (call, exception type, message naming parameter and value)
CASES = [
    (lambda: read_itch(5), TypeError, "source must be a path or bytes-like, got int"),
    (lambda: read_itch(b"", strict="yes"), TypeError, "strict must be a bool, got 'yes'"),
    (lambda: read_itch(b"", lenient="no"), TypeError, "lenient must be a bool, got 'no'"),
    (lambda: read_itch(b"\x1f\x8bnot gzip"), FeedFormatError, "corrupt gzip stream"),
    (lambda: list(iter_itch(None)), TypeError, "source must be a path or bytes-like, got NoneType"),
    (lambda: list(iter_itch(b"\x1f\x8bnot gzip")), FeedFormatError, "corrupt gzip stream"),
    (lambda: list(iter_itch(b"", lenient=1)), TypeError, "lenient must be a bool, got 1"),
    (lambda: ItchBook(depth=0), ValueError, "depth must be an int in [1, 1000], got 0"),
    (lambda: ItchBook(depth=1001), ValueError, "depth must be an int in [1, 1000], got 1001"),
    (lambda: ItchBook(depth=True), ValueError, "depth must be an int in [1, 1000], got True"),
    (lambda: ItchBook(symbols="BOB"), TypeError, "symbols must be an iterable of str, got the str 'BOB'"),
    (lambda: ItchBook(symbols=["TOOLONGSYM"]), ValueError, "symbols must hold str of at most 8 bytes, got 'TOOLONGSYM'"),
    (lambda: ItchBook(record_trades="no"), TypeError, "record_trades must be a bool, got 'no'"),
    (lambda: ItchBook(record_snapshots=1), TypeError, "record_snapshots must be a bool, got 1"),
    (lambda: ItchBook(lenient=None), TypeError, "lenient must be a bool, got None"),
    (lambda: decode_mdp3(PCAP, SCHEMA, arbitrate="yes"), TypeError, "arbitrate must be a bool, got 'yes'"),
    (lambda: decode_mdp3(PCAP, SCHEMA, strict=0), TypeError, "strict must be a bool, got 0"),
    (lambda: decode_mdp3(PCAP, SCHEMA, on_gap="skip"), ValueError, "on_gap must be 'record' or 'raise', got 'skip'"),
    (lambda: decode_mdp3(5, SCHEMA), TypeError, "source must be a pcap path, pcap bytes or a sequence of packets, got int"),
    (lambda: features.spread([1.0], [2.0], relative="no"), TypeError, "relative must be a bool, got 'no'"),
    (lambda: features.spread([1.0, 2.0], [2.0]), ValueError, "arrays must have the same shape"),
    (lambda: features.spread(["a"], ["b"]), TypeError, "bid_px must be numeric, got dtype <U1"),
    (lambda: synthetic_order_flow(0), ValueError, "n_events must be a positive int, got 0"),
    (lambda: synthetic_order_flow(10, mid_volatility=float("inf")), ValueError, "mid_volatility must be a finite number >= 0, got inf"),
    (lambda: synthetic_order_flow(10, alpha=float("nan")), ValueError, "alpha must be a finite number, got nan"),
    (lambda: synthetic_order_flow(10, cancel_rate=0), ValueError, "cancel_rate must be a positive finite number, got 0"),
    (lambda: decimal_to_int("1_000", 2), ValueError, "value must be a decimal string, got '1_000'"),
    (lambda: decimal_to_int(" 12", 2), ValueError, "value must be a decimal string, got ' 12'"),
    (lambda: decimal_to_int("+5", 2), ValueError, "value must be a decimal string, got '+5'"),
    (lambda: decimal_to_int("١٢", 0), ValueError, "value must be a decimal string, got '١٢'"),
    (lambda: decimal_to_int(5, 2), TypeError, "value must be a decimal string, got 5"),
    (lambda: decimal_to_int("1.005", 2), ValueError, "value '1.005' has more than 2 decimals"),
]


@pytest.mark.parametrize("call,exc,msg", CASES, ids=[m for _, _, m in CASES])
def test_bad_argument(call, exc, msg):
    before = hashlib.sha256(PCAP.read_bytes()).hexdigest()
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value), str(info.value)
    assert hashlib.sha256(PCAP.read_bytes()).hexdigest() == before


BOOK_CASES = [
    (lambda b: b.feed("text"), TypeError, "data must be bytes-like, got str"),
    (lambda b: b.feed(None), TypeError, "data must be bytes-like, got NoneType"),
    (lambda b: b.bbo("NOPE"), ValueError, "NOPE"),
    (lambda b: b.depth_of(70000), ValueError, "70000"),
    (lambda b: b._core.levels(-1, 1), ValueError, "stock_locate must be in [0, 65535], got -1"),
    (lambda b: b._core.n_levels(65536), ValueError, "stock_locate must be in [0, 65535], got 65536"),
    (lambda b: b._core.trading_state(-5), ValueError, "stock_locate must be in [0, 65535], got -5"),
    (lambda b: b._core.levels(1, -1), ValueError, "depth must be non-negative, got -1"),
    (lambda b: b.replay(b"", chunk_size=10), ValueError, "chunk_size must be an int >= 64, got 10"),
]


@pytest.mark.parametrize("call,exc,msg", BOOK_CASES, ids=[m for _, _, m in BOOK_CASES])
def test_itch_book_bad_call_changes_nothing(call, exc, msg):
    book = fed_book()
    before = book_state(book)
    with pytest.raises(exc) as info:
        call(book)
    assert msg in str(info.value), str(info.value)
    assert book_state(book) == before


def test_itch_book_malformed_bytes_keep_what_was_applied():
    """Strict mode: a bad message raises FeedFormatError with its offset;
    the messages before it are applied, the caller's buffer is untouched."""
    raw = bytearray(gzip.decompress((DATA / "itch" / "ex20101224.TEST_ITCH_50.gz").read_bytes())[:2000])
    keep = bytes(raw)
    book = ItchBook()
    with pytest.raises(FeedFormatError, match="ITCH message length is 0") as info:
        book.feed(raw)
    assert info.value.offset == 0 and bytes(raw) == keep and book.n_messages == 0


def l2():
    b = L2Book()
    b.set(0, 100, 5)
    b.set(1, 101, 7)
    return b


L2_CASES = [
    (lambda b: b.set(2, 100, 1), "side must be 0 (bid) or 1 (ask), got 2"),
    (lambda b: b.set(-1, 100, 1), "side must be 0 (bid) or 1 (ask), got -1"),
    (lambda b: b.add(7, 100, 1), "side must be 0 (bid) or 1 (ask), got 7"),
    (lambda b: b.get(3, 100), "side must be 0 (bid) or 1 (ask), got 3"),
    (lambda b: b.truncate(-1), "depth must be non-negative, got -1"),
    (lambda b: b.levels(-3), "depth must be non-negative, got -3"),
    (lambda b: b.apply(np.zeros(3, np.uint8), np.zeros(2, np.int64), np.zeros(2, np.int64)),
     "side, price and qty must have the same length, got 3, 2, 2"),
    (lambda b: b.apply(np.array([0, 5], np.uint8), np.array([99, 98], np.int64), np.ones(2, np.int64)),
     "side[1] must be 0 (bid) or 1 (ask), got 5"),
]


@pytest.mark.parametrize("call,msg", L2_CASES, ids=[m for _, m in L2_CASES])
def test_l2book_bad_call_changes_nothing(call, msg):
    b = l2()
    before = (b.levels(5).tobytes(), b.n_levels())
    with pytest.raises(ValueError) as info:
        call(b)
    assert msg in str(info.value)
    assert (b.levels(5).tobytes(), b.n_levels()) == before


@pytest.mark.parametrize("depth,n", [(0, (0, 0)), (1, (1, 1)), (2, (1, 1))])
def test_l2book_truncate_boundary(depth, n):
    b = l2()
    b.truncate(depth)
    assert b.n_levels() == n


@pytest.mark.parametrize("call,msg", [
    (lambda b: b.add(9, 2, 100, 1), "side must be 0 (bid) or 1 (ask), got 2"),
    (lambda b: b.add(9, 0, 100, 0), "qty must be positive, got 0"),
    (lambda b: b.add(9, 1, 100, -4), "qty must be positive, got -4"),
    (lambda b: b.add_level(5, 100, 1), "side must be 0 (bid) or 1 (ask), got 5"),
    (lambda b: b.add_level(0, 100, 0), "qty must be positive, got 0"),
    (lambda b: b.levels(-1), "depth must be non-negative, got -1"),
    (lambda b: b.get(2, 100), "side must be 0 (bid) or 1 (ask), got 2"),
])
def test_orderbook_bad_call_changes_nothing(call, msg):
    b = OrderBook()
    b.add(1, 0, 100, 5)
    before = (b.levels(5).tobytes(), len(b), b.order(1))
    with pytest.raises(ValueError) as info:
        call(b)
    assert msg in str(info.value)
    assert (b.levels(5).tobytes(), len(b), b.order(1)) == before
    assert b.add(9, 1, 101, 1) is True     # the id was not taken
