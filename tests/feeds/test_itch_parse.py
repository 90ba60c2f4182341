"""ITCH 5.0 decoding against RITCH's documented counts and itchfeed's decodings."""
import gzip
import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanobook.feeds import FeedFormatError
from nanobook.feeds.itch import ITCH_DTYPES, ItchMessages, iter_itch, read_itch

# itchfeed spells a few fields differently from the ITCH 5.0 specification.
ALIASES = {"variation_indicator": "price_variation_indicator"}


def rows_in_stream_order(m: ItchMessages) -> list[dict]:
    rows = {}
    for t, a in m.arrays.items():
        for r in a.tolist():
            d = dict(zip(a.dtype.names, r))
            d = {k: (v.decode("ascii") if isinstance(v, bytes) else v) for k, v in d.items()}
            d["message_type"] = t
            rows[d.pop("index")] = d
    return [rows[i] for i in range(len(rows))]


def assert_same_as_itchfeed(got: list[dict], expected: list[dict], mold=None):
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        for k, v in e.items():
            if k in ("pkt", "message_size"):
                continue
            if k == "session":
                assert mold["session"][i].decode() == v
            elif k == "seq":
                assert int(mold["sequence"][i]) == v
            else:
                assert g[ALIASES.get(k, k)] == v, (i, k)


def test_length_fixed_copy_matches_published_hash(ritch_fixed, data_dir):
    exp = json.loads((data_dir / "itch" / "ritch_expected.json").read_text())
    assert hashlib.sha256(ritch_fixed).hexdigest() == exp["sha256"]["ex20101224.TEST_ITCH_50.lenfixed"]


def test_ritch_counts_by_type_stock_side(ritch_fixed, data_dir):
    exp = json.loads((data_dir / "itch" / "ritch_expected.json").read_text())
    m = read_itch(ritch_fixed)
    assert m.n_messages == exp["messages"] and m.skipped == 0
    for t, n in exp["count_by_type"].items():
        assert len(m[t]) == n, t
    orders = np.concatenate([m["A"][["stock", "buy_sell_indicator"]], m["F"][["stock", "buy_sell_indicator"]]])
    assert len(orders) == exp["orders_total"]
    stocks = np.char.strip(orders["stock"].astype("U8"))
    assert {s: int((stocks == s).sum()) for s in np.unique(stocks)} == exp["orders_by_stock"]
    assert int((orders["buy_sell_indicator"] == b"B").sum()) == exp["orders_by_side"]["buy"]
    assert int((orders["buy_sell_indicator"] == b"S").sum()) == exp["orders_by_side"]["sell"]
    p = m["P"]
    ps = np.char.strip(p["stock"].astype("U8"))
    assert {s: int((ps == s).sum()) for s in np.unique(ps)} == exp["trades_P_by_stock"]
    assert bool((p["buy_sell_indicator"] == b"B").all()) == exp["trades_all_buy"]
    assert m.symbols() == {1: "ALC", 2: "BOB", 3: "CHAR"}


def test_ritch_every_field_equals_itchfeed(ritch_fixed, data_dir):
    with gzip.open(data_dir / "itch" / "ritch_decoded_itchfeed_1.6.4.jsonl.gz", "rt") as fh:
        expected = [json.loads(line) for line in fh]
    assert_same_as_itchfeed(rows_in_stream_order(read_itch(ritch_fixed)), expected)


def test_zero_length_file_rejected_in_strict_mode_with_offset(ritch_raw):
    with pytest.raises(FeedFormatError, match=r"length is 0.*lenient=True.*byte offset 0") as ei:
        read_itch(ritch_raw)
    assert ei.value.offset == 0
    assert isinstance(ei.value, OSError) and isinstance(ei.value, ValueError)


def test_zero_length_file_decodes_in_lenient_mode(ritch_raw, ritch_fixed):
    a, b = read_itch(ritch_raw, lenient=True), read_itch(ritch_fixed)
    assert a.counts == b.counts
    for t in a.arrays:
        np.testing.assert_array_equal(a[t], b[t])
    assert read_itch(ritch_raw, strict=False).counts == b.counts


def test_gzip_path_and_plain_path_agree(ritch_fixed, tmp_path, data_dir):
    plain = tmp_path / "f.itch"
    plain.write_bytes(ritch_fixed)
    gz = tmp_path / "f.itch.gz"
    gz.write_bytes(gzip.compress(ritch_fixed))
    a, b = read_itch(plain), read_itch(str(gz))
    assert a.counts == b.counts
    # the upstream gzip file itself, lenient
    c = read_itch(data_dir / "itch" / "ex20101224.TEST_ITCH_50.gz", lenient=True)
    assert c.counts == a.counts


@pytest.mark.parametrize("chunk", [64, 1000, 4099, 1 << 20])
def test_streaming_chunks_equal_whole_file(ritch_fixed, tmp_path, chunk):
    gz = tmp_path / "f.itch.gz"
    gz.write_bytes(gzip.compress(ritch_fixed))
    whole = read_itch(ritch_fixed)
    parts = list(iter_itch(gz, chunk_size=chunk))
    joined = ItchMessages.concat(parts)
    assert joined.n_messages == whole.n_messages
    for t in whole.arrays:
        np.testing.assert_array_equal(joined[t], whole[t])


def test_streaming_lenient_zero_lengths(ritch_raw, ritch_fixed):
    joined = ItchMessages.concat(list(iter_itch(ritch_raw, chunk_size=777, lenient=True)))
    whole = read_itch(ritch_fixed)
    for t in whole.arrays:
        np.testing.assert_array_equal(joined[t], whole[t])


def test_streaming_error_offset_is_absolute(ritch_fixed):
    bad = bytearray(ritch_fixed)
    # find the byte offset of message 5000 and break its type byte
    pos = 0
    for _ in range(5000):
        pos += 2 + int.from_bytes(bad[pos : pos + 2], "big")
    bad[pos + 2] = ord("z")
    with pytest.raises(FeedFormatError, match="unknown ITCH 5.0 message type 'z'") as ei:
        list(iter_itch(bytes(bad), chunk_size=1000))
    assert ei.value.offset == pos
    with pytest.raises(FeedFormatError) as ei2:
        read_itch(bytes(bad))
    assert ei2.value.offset == pos
    m = read_itch(bytes(bad), lenient=True)
    assert m.skipped == 1 and m.n_messages == 12012


def test_truncated_tail(ritch_fixed):
    cut = ritch_fixed[:-5]
    with pytest.raises(FeedFormatError, match="truncated ITCH message 'S': length says 12 bytes, only 7 left") as ei:
        read_itch(cut)
    assert ei.value.offset == len(ritch_fixed) - 14
    m = read_itch(cut, lenient=True)
    assert m.n_messages == 12011
    with pytest.raises(FeedFormatError, match="stray byte"):
        read_itch(ritch_fixed + b"\x00")


def test_wrong_length_strict_vs_lenient():
    # a system event ('S', 12 bytes) declared 13 long with one padding byte
    msg = b"S" + b"\x00\x01\x00\x02" + (5).to_bytes(6, "big") + b"O"
    longer = (13).to_bytes(2, "big") + msg + b"\xff"
    with pytest.raises(FeedFormatError, match="length 13, the specification says 12"):
        read_itch(longer)
    m = read_itch(longer, lenient=True)
    assert m["S"]["timestamp"].tolist() == [5] and m["S"]["event_code"].tolist() == [b"O"]
    shorter = (11).to_bytes(2, "big") + msg[:11]
    assert read_itch(shorter, lenient=True).skipped == 1


def test_every_message_type_roundtrips_through_a_synthetic_stream():
    # Build one message of every type with distinct field values and decode it.
    from nanobook.feeds._itch_spec import HEADER, MESSAGES

    stream = b""
    expected = {}
    for k, (t, (_, fields)) in enumerate(MESSAGES.items()):
        body = t.encode()
        vals = {}
        for j, (name, n, kind) in enumerate(HEADER + fields):
            if kind == "u":
                v = (k * 1000 + j * 7 + 1) % (1 << (8 * n))
                body += v.to_bytes(n, "big")
            else:
                v = bytes([65 + (k + j + i) % 26 for i in range(n)])
                body += v
            vals[name] = v
        expected[t] = vals
        stream += len(body).to_bytes(2, "big") + body
    m = read_itch(stream)
    assert m.n_messages == len(MESSAGES) == 23
    for t, vals in expected.items():
        rec = m[t]
        assert len(rec) == 1
        for name, v in vals.items():
            assert rec[name][0] == v, (t, name)
    assert set(ITCH_DTYPES) == set(MESSAGES)


def test_pcaps_decode_like_itchfeed(data_dir):
    pcaps = sorted((data_dir / "itch").glob("*.pcap"))
    assert len(pcaps) == 11
    total = 0
    for p in pcaps:
        venue, name = p.name.split(".", 1)
        exp_file = data_dir / "itch" / f"{venue}.Equities.TotalView.Itch.v5.0__{name[:-5]}.jsonl"
        expected = [json.loads(x) for x in exp_file.read_text().splitlines()]
        m = read_itch(p)
        assert_same_as_itchfeed(rows_in_stream_order(m), expected, m.mold)
        total += m.n_messages
    assert total == 46 + 3  # NASDAQ 46 (39 in Multiple.Packets), BX 3


def test_multiple_packets_types(data_dir):
    m = read_itch(data_dir / "itch" / "Nasdaq.Multiple.Packets.pcap")
    assert m.counts == {"A": 36, "D": 1, "F": 2}
    assert m.packets == 2


def test_bad_arguments():
    with pytest.raises(TypeError, match="source must be a path or bytes-like, got int"):
        read_itch(3)
    with pytest.raises(TypeError, match="strict must be a bool"):
        read_itch(b"", strict="yes")
    with pytest.raises(ValueError, match="chunk_size must be an int >= 64, got 0"):
        list(iter_itch(b"", chunk_size=0))
    with pytest.raises(FileNotFoundError):
        read_itch("/nonexistent/file.itch")
    assert read_itch(b"").n_messages == 0
    with pytest.raises(KeyError, match="msg_type"):
        read_itch(b"")["?"]


@st.composite
def itch_streams(draw):
    """Random messages of every type (frequent order-flow types weighted up), random field bytes."""
    from nanobook.feeds._itch import WIRE_LENGTHS

    types = draw(st.lists(st.sampled_from(list("AFDXECUP") * 3 + sorted(WIRE_LENGTHS)), max_size=60))
    out = b""
    for t in types:
        body = t.encode() + draw(st.binary(min_size=WIRE_LENGTHS[t] - 1, max_size=WIRE_LENGTHS[t] - 1))
        out += len(body).to_bytes(2, "big") + body
    return out


@settings(max_examples=200, deadline=None)
@given(itch_streams())
def test_dedicated_writers_equal_the_layout_table_byte_for_byte(stream):
    # A D E F P U X C have hand-written decoders; the table-driven path is their reference.
    from nanobook.feeds import _itch

    fast, _, n1, _ = _itch.decode(stream, True, True, 0, 0, False)
    slow, _, n2, _ = _itch.decode(stream, True, True, 0, 0, True)
    assert n1 == n2 and fast.keys() == slow.keys()
    for t in fast:
        assert fast[t].tobytes() == slow[t].tobytes(), t   # padding bytes zeroed too


def _same_mold(fast, ref):
    s1, m1, p1 = fast
    s2, m2, p2 = ref
    assert bytes(s1) == s2 and p1 == p2
    assert m1.dtype == m2.dtype and all(np.array_equal(m1[f], m2[f]) for f in m1.dtype.names)


def test_moldudp64_split_in_c_equals_the_python_path(data_dir):
    from nanobook.feeds.itch import _mold_fast, moldudp64_to_binaryfile

    for p in sorted((data_dir / "itch").glob("*.pcap")):
        raw = p.read_bytes()
        fast = _mold_fast(raw)
        assert fast is not None, p.name
        _same_mold(fast, moldudp64_to_binaryfile(raw))
