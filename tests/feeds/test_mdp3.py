"""CME MDP 3.0 decoding against sbedecoder's decodings, the upstream vectors and the wiki example."""
import gzip
import json

import numpy as np
import pytest

from nanobook.feeds import FeedError, FeedFormatError, SequenceGapError
from nanobook.feeds.mdp3 import Mdp3Book, decode_mdp3
from nanobook.feeds.sbe import SbeSchema, snake

from .conftest import DATA, assert_same_mdp3


@pytest.fixture(scope="module")
def v9(data_dir):
    return SbeSchema(data_dir / "cme" / "FixBinary_v9_real-logic.xml.gz")


@pytest.fixture(scope="module")
def v5(data_dir):
    return SbeSchema(data_dir / "cme" / "templates_FixBinary_v5_real-logic.xml.gz")


@pytest.fixture(scope="module")
def v61(data_dir, v9):
    return decode_mdp3(data_dir / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz", v9)


def _same(v, w):
    if isinstance(v, float) and isinstance(w, float):
        return abs(v - w) <= 1e-9 * max(1.0, abs(v))
    return v == w or str(v) == str(w)


def compare_block(expected: dict, got: dict, block, version: int, where) -> int:
    """Compare one sbedecoder dict with ours; return the number of fields checked.

    sbedecoder ignores ``sinceVersion`` and reads whatever bytes sit in the
    block (zero padding in these captures); SBE says such a field is absent,
    so ours is None there.  Non-decimal composites are nested dicts there and
    flattened columns (``<field>_<part>``) here.
    """
    since = {f.name: f.since for f in block.fields}
    n = 0
    for k, v in expected.items():
        if k in ("message_size", "block_length", "template_id", "schema_id", "version"):
            continue
        if isinstance(v, dict):
            for sub, sv in v.items():
                assert _same(sv, got[f"{k}_{sub}"]), (where, k, sub)
                n += 1
            continue
        if since.get(k, 0) > version:
            assert got[k] is None, (where, k)
        else:
            assert _same(v, got[k]), (where, k, v, got[k])
        n += 1
    return n


def compare_capture(m, expected: list[dict]) -> int:
    assert len(m) == len(expected)
    n = 0
    for i, e in enumerate(expected):
        d = m.to_dict(i)
        assert (d["template_id"], d["msg_seq_num"], d["sending_time"]) == (
            e["template_id"], e["seq"], e["sending_time"])
        assert m.feeds[m.messages["feed"][i]] == e["dst"]
        assert d["block_length"] == e["block_length"] and d["version"] == e["version"]
        msg = m.schema.message(d["template_id"])
        n += compare_block(e["root"], d, msg, d["version"], i)
        groups = {g.name: g for g in msg.groups}
        for gname, entries in e["groups"].items():
            assert len(d[gname]) == len(entries), (i, gname)
            for a, b in zip(entries, d[gname]):
                n += compare_block(a, b, groups[gname], d["version"], (i, gname))
    return n


def test_v61_capture_decodes_like_sbedecoder(v61, data_dir):
    with gzip.open(data_dir / "cme" / "Mdp3.Sbe.v1.6__Cme.Mdp3.Sbe.v6.1.jsonl.gz", "rt") as fh:
        expected = [json.loads(x) for x in fh]
    assert len(v61) == 20546
    assert v61.template_counts() == {12: 18, 32: 19138, 35: 614, 37: 388, 42: 388}
    assert compare_capture(v61, expected) > 100_000


def test_v61_sequence_numbers_contiguous_on_both_feeds(v61):
    seqs = {}
    for f in range(len(v61.feeds)):
        sel = v61.messages[v61.messages["feed"] == f]
        pk = np.unique(sel["packet"])
        s = sel["msg_seq_num"][np.searchsorted(sel["packet"], pk)]
        seqs[v61.feeds[f]] = s
        assert len(s) == 5000 and (np.diff(s.astype(np.int64)) == 1).all()
    assert sorted(seqs) == ["224.0.31.64:14340", "224.0.32.64:15340"]
    assert {int(s[0]) for s in seqs.values()} == {5615}


def test_v61_arbitration_and_books(data_dir, v9):
    m = decode_mdp3(data_dir / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz", v9, arbitrate=True)
    assert m.packets == 5000 and m.duplicates == 5000 and m.gaps == []
    assert len(m) == 20546 // 2
    book = Mdp3Book().apply(m)
    book.check()
    assert book.rpt_gaps == []
    assert book.crossed_events == 0
    assert book.events > 4000
    # 127 instruments carry RptSeq; 85 of them have book entries in these 5 minutes
    assert len(book.rpt_seq) == 127
    assert len(book.books) == 85
    bids, offers = book.levels(411873)
    assert (np.diff(bids["price"]) < 0).all() and (np.diff(offers["price"]) > 0).all()


def test_gap_detection_when_packets_dropped(data_dir, v9):
    from nanobook.feeds._pcap import iter_udp

    raw = gzip.decompress((data_dir / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz").read_bytes())
    pkts = [(p.payload, p.flow) for p in iter_udp(raw)]
    # drop sequence numbers 6000 and 6001 from both feeds
    kept = [p for p in pkts if int.from_bytes(p[0][:4], "little") not in (6000, 6001)]
    m = decode_mdp3(kept, v9, arbitrate=True)
    assert m.gaps == [(6000, 6002)]
    book = Mdp3Book().apply(m)
    assert book.rpt_gaps  # the instruments updated in the dropped packets see RptSeq jumps
    with pytest.raises(SequenceGapError, match="expected 6000, got 6002"):
        decode_mdp3(kept, v9, arbitrate=True, on_gap="raise")
    # one feed alone is complete: A-only arbitration has no gap
    a_only = [p for p in pkts if p[1] == "224.0.31.64:14340"]
    assert decode_mdp3(a_only, v9, arbitrate=True).gaps == []


@pytest.mark.parametrize("name", [
    "v1.5.MdIncrementalRefreshBook", "v1.5.MdIncrementalRefreshSessionStatistics",
    "v1.5.MdIncrementalRefreshTradeSummary", "v1.5.MdIncrementalRefreshVolume",
    "v1.5.MdInstrumentDefinitionSpread", "v1.8.MdIncrementalRefreshSessionStatistics",
    "v1.8.MdIncrementalRefreshTradeSummary", "v1.8.MdIncrementalRefreshVolume",
    "v1.9.MdIncrementalRefreshBook", "v1.9.MdIncrementalRefreshOrderBook",
    "v1.9.MdIncrementalRefreshTradeSummary", "v1.9.MdIncrementalRefreshVolume",
])
def test_other_captures_decode_like_sbedecoder(name, data_dir, v9, v5):
    ver, base = name[:4], name[5:]
    schema = v5 if "Spread" in name else v9  # as the third-party decoding did
    m = decode_mdp3(data_dir / "cme" / f"{name}.pcap", schema)
    with gzip.open(data_dir / "cme" / f"Mdp3.Sbe.{ver}__{base}.jsonl.gz", "rt") as fh:
        expected = [json.loads(x) for x in fh]
    assert compare_capture(m, expected) > 0


def _vector_value(d, path):
    for part in path:
        d = d[int(part)] if part.isdigit() else d[part]
    return d


def test_sbedecoder_vectors(data_dir, v9):
    doc = json.loads((data_dir / "cme" / "sbedecoder_vectors.json").read_text())
    checked = 0
    for vec in doc["vectors"]:
        pkt = bytes.fromhex(vec["hex"])
        m = decode_mdp3([pkt], v9)
        assert len(m) == vec["n_messages"]
        for key, want in vec["expect"].items():
            parts = key.split(".")
            i, path, kind = int(parts[0]), parts[1:-1], parts[-1]
            d = m.to_dict(i)
            if kind == "raw_value":
                tid = d["template_id"]
                got = int(m.roots[tid][path[0]][np.searchsorted(m.roots[tid]["msg"], i)])
            elif parts[1] == "name":
                got = d["name"]
                path = ["name"]
            else:
                got = _vector_value(d, path)
            assert _same(want, got), (vec["name"], key, want, got)
            checked += 1
    # the CME wiki example (template 50, schema v9)
    ex = doc["cme_wiki_decoding_example"]
    m = decode_mdp3([bytes.fromhex(ex["hex"])], v9)
    e = ex["expect"]
    d = m.to_dict(0)
    row = m.messages[0]
    got = {
        "MsgSeqNum": d["msg_seq_num"], "SendingTime": d["sending_time"], "MsgSize": int(row["msg_size"]),
        "blockLength": d["block_length"], "templateId": d["template_id"], "schemaId": int(row["schema_id"]),
        "version": d["version"], "TransactTime": d["transact_time"],
        "MatchEventIndicator": int(m.roots[50]["match_event_indicator"][0]),
        "NoMDEntries.numInGroup": len(d["no_md_entries"]),
        "HighLimitPrice": d["no_md_entries"][0]["high_limit_price"],
        "LowLimitPrice_as_documented": d["no_md_entries"][0]["low_limit_price"],
        "MaxPriceVariation_as_documented": d["no_md_entries"][0]["max_price_variation"],
        "SecurityID": d["no_md_entries"][0]["security_id"], "RptSeq": d["no_md_entries"][0]["rpt_seq"],
    }
    for k, v in got.items():
        assert _same(e[k], v), (k, e[k], v)
        checked += 1
    assert m.group(50, "no_md_entries").dtype.itemsize - 8 == e["NoMDEntries.blockLength"]
    checked += 1
    assert checked == 66 + 16  # the 66 upstream vector fields + 16 values of the wiki example


def test_snake_names():
    assert snake("MDEntryPx") == "md_entry_px"
    assert snake("NoOrderIDEntries") == "no_order_id_entries"
    assert snake("SecurityID") == "security_id"


def test_malformed_packets(v9, data_dir):
    pkt = bytes.fromhex(json.loads((data_dir / "cme" / "sbedecoder_vectors.json").read_text())
                        ["vectors"][2]["hex"])
    with pytest.raises(FeedFormatError, match="packet header needs 12"):
        decode_mdp3([pkt[:5]], v9)
    with pytest.raises(FeedFormatError, match="MsgSize") as ei:
        decode_mdp3([pkt[:40]], v9)
    assert ei.value.offset == 12
    bad = bytearray(pkt)
    bad[16:18] = (999).to_bytes(2, "little")  # template id
    with pytest.raises(FeedFormatError, match="template_id 999 is not in schema"):
        decode_mdp3([bytes(bad)], v9)
    assert len(decode_mdp3([bytes(bad)], v9, strict=False)) == 0
    grp = bytearray(pkt)
    grp[12 + 2 + 8 + 11 + 2] = 200  # numInGroup of NoMDEntries far too large
    with pytest.raises(FeedFormatError, match="overrun"):
        decode_mdp3([bytes(grp)], v9)
    with pytest.raises(ValueError, match="on_gap must be"):
        decode_mdp3([pkt], v9, on_gap="ignore")
    with pytest.raises(TypeError, match="source must be"):
        decode_mdp3(3, v9)
    with pytest.raises(FeedError, match="not an SBE messageSchema"):
        SbeSchema(b"<root/>")
    with pytest.raises(ValueError, match="depth must be an int"):
        Mdp3Book(depth=0)


CAPTURES = sorted(p.name for p in (DATA / "cme").glob("*.pcap*"))


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("arbitrate", [False, True])
def test_c_walk_equals_python_reference_on_every_capture(name, arbitrate, v9, v5):
    # the C walk (pcap/pcapng index, packets, headers, blocks, groups) against the
    # message-by-message Python path, record for record
    from nanobook.feeds import mdp3

    raw = (DATA / "cme" / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    schema = v5 if "Spread" in name else v9
    c = mdp3._decode_c(raw, schema, arbitrate, False, True)
    assert c is not None and len(c) > 0
    assert_same_mdp3(c, mdp3._decode_py(raw, schema, arbitrate, "record", True))


def test_c_walk_on_packet_lists_with_gaps_and_feeds(data_dir, v9):
    from nanobook.feeds import mdp3
    from nanobook.feeds._pcap import iter_udp

    raw = gzip.decompress((data_dir / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz").read_bytes())
    pkts = [(p.payload, p.flow) for p in iter_udp(raw)][:3000]
    kept = [p for p in pkts if int.from_bytes(p[0][:4], "little") % 97 != 5]
    for src in (kept, [p for p, _ in kept]):
        for arb in (False, True):
            c = mdp3._decode_c(src, v9, arb, False, True)
            assert c is not None
            assert_same_mdp3(c, mdp3._decode_py(src, v9, arb, "record", True))
    assert len(mdp3._decode_c(kept, v9, True, False, True).gaps) > 5
    # a gap that must raise, an unknown template, a bad item: the Python path words them
    assert mdp3._decode_c(kept, v9, True, True, True) is None
    assert mdp3._decode_c(kept + [3], v9, False, False, True) is None
    with pytest.raises(TypeError, match=r"source\[3000\] must be bytes"):
        decode_mdp3(pkts + [3], v9)


def test_udp_index_equals_iter_udp(data_dir):
    from nanobook.feeds._mdp3 import udp_index
    from nanobook.feeds._pcap import iter_udp

    files = [p for p in (data_dir / "cme").glob("*.pcap*")] + list((data_dir / "itch").glob("*.pcap"))
    for p in files:
        raw = p.read_bytes()
        if p.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        off, ln, key = udp_index(raw)
        ref = list(iter_udp(raw))
        assert [raw[o : o + n] for o, n in zip(off, ln)] == [u.payload for u in ref], p.name
        assert off.tolist() == [u.offset for u in ref]
        flows = ["%d.%d.%d.%d:%d" % (k >> 40 & 255, k >> 32 & 255, k >> 24 & 255, k >> 16 & 255,
                                     k & 0xFFFF) for k in key.tolist()]
        assert flows == [u.flow for u in ref]


# ------------------------------------------------------------------ depth, MBO


def test_market_depth_from_instrument_definitions(data_dir, v5):
    from nanobook.feeds.mdp3 import market_depths

    defs = decode_mdp3(data_dir / "cme" / "v1.5.MdInstrumentDefinitionSpread.pcap", v5)
    depths = market_depths(defs)
    # 2 futures (27) and 3 spreads (29), each with one GBX feed type of depth 10
    secs = [int(x) for t in (27, 29) for x in defs.roots[t]["security_id"]]
    assert sorted(depths) == sorted(secs) and len(secs) == 5
    assert set(depths.values()) == {10}
    assert defs.to_dict(2)["no_md_feed_types"] == [{"md_feed_type": "GBX", "market_depth": 10}]
    book = Mdp3Book(depth=3, definitions=defs)
    assert all(book.depth_of(s) == 10 for s in secs) and book.depth_of(1) == 3
    # definitions met in the stream count too
    assert Mdp3Book(depth=3).apply(defs).depths == depths
    with pytest.raises(TypeError, match="definitions must be Mdp3Messages, got dict"):
        Mdp3Book(definitions={})


def test_depth_of_a_definition_caps_the_book(data_dir, v9):
    m = decode_mdp3(data_dir / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz", v9, arbitrate=True)
    deep = Mdp3Book(depth=10).apply(m)
    sec = max(deep.books, key=lambda s: len(deep.books[s][0]) + len(deep.books[s][1]))
    assert len(deep.books[sec][0]) > 2
    b = Mdp3Book(depth=10)
    b._set_depth(sec, 2)       # as a definition with MarketDepth 2 would
    b.apply(m).check()
    assert len(b.books[sec][0]) <= 2 and len(b.books[sec][1]) <= 2
    assert b.books[sec][0] == deep.books[sec][0][:2] or len(deep.books[sec][0]) < 2
    b._set_depth(sec, 1)
    assert len(b.books[sec][0]) <= 1 and b.check()


def test_mbo_books_on_the_captures_agree_with_mbp(data_dir, v9):
    from nanobook.feeds.mdp3 import Mdp3OrderBook

    seen = {}
    for name in ("v1.9.MdIncrementalRefreshBook", "v1.9.MdIncrementalRefreshOrderBook",
                 "v1.9.MdIncrementalRefreshTradeSummary", "v1.9.MdIncrementalRefreshVolume"):
        m = decode_mdp3(data_dir / "cme" / f"{name}.pcap", v9)
        ob = Mdp3OrderBook().apply(m)
        mbp = Mdp3Book().apply(m)
        assert ob.check() and ob.bad_references == 0
        for sec in ob.securities:
            for side, levels in enumerate(ob.levels(sec)):
                mbp_side = {p: (q, n) for p, q, n in mbp.books.get(sec, ([], []))[side]}
                for p, q, n in levels.tolist():
                    if p in mbp_side:   # orders resting before the capture are unknown to MBO
                        assert q <= mbp_side[p][0] and n <= mbp_side[p][1]
                        if n == mbp_side[p][1]:
                            assert q == mbp_side[p][0]
        seen[name] = (len(ob.orders), ob.unknown_orders, ob.securities)
    # template 46: 16 order entries -- 1 New, 7 Updates of orders resting before the capture
    # (inserted, counted unknown) and 8 Deletes of such orders (counted unknown): 8 orders on 8
    # securities, and every level they build equals the MBP level
    book = seen["v1.9.MdIncrementalRefreshBook"]
    assert book[:2] == (8, 15) and len(book[2]) == 8
    m = decode_mdp3(data_dir / "cme" / "v1.9.MdIncrementalRefreshBook.pcap", v9)
    ob, mbp = Mdp3OrderBook().apply(m), Mdp3Book().apply(m)
    for sec in ob.securities:
        for side in (0, 1):
            assert ob.levels(sec)[side].tolist() == [tuple(x) for x in mbp.books[sec][side]]
    # template 47: the one order of the OrderBook capture, as sbedecoder decodes it
    ob = Mdp3OrderBook().apply(decode_mdp3(data_dir / "cme" / "v1.9.MdIncrementalRefreshOrderBook.pcap", v9))
    assert ob.orders == {(532259, 76662054355): [1, 12068 * 10**9, 4, 641463012]}
    assert ob.queue(532259, 1, 12068 * 10**9) == [(76662054355, 4, 641463012)]


def _encode(schema, tid: int, root: dict, groups: dict, seq: int) -> bytes:
    """One MDP3 packet holding one message, laid out from the schema's dtypes."""
    import struct

    msg = schema.message(tid)
    r = np.zeros(1, msg.dtype)
    for k, v in root.items():
        r[k] = v
    body = r.tobytes()[8 : 8 + msg.block_length]
    for g in msg.groups:
        rows = groups.get(g.name, [])
        dim = bytearray(g.dim_size)
        struct.pack_into(g.dim_block_fmt, dim, g.dim_block_off, g.block_length)
        struct.pack_into(g.dim_num_fmt, dim, g.dim_num_off, len(rows))
        body += bytes(dim)
        for row in rows:
            e = np.zeros(1, g.dtype)
            for k, v in row.items():
                e[k] = v
            body += e.tobytes()[8 : 8 + g.block_length]
    hdr = struct.pack("<HHHHH", 10 + len(body), msg.block_length, tid, schema.schema_id, schema.version)
    return struct.pack("<IQ", seq, 1_000 + seq) + hdr + body


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2), st.sampled_from([b"0", b"1"]),
                          st.integers(95, 105), st.integers(1, 50), st.integers(1, 2)),
                min_size=1, max_size=60))
def test_mbo_book_equals_a_plain_model_through_encode_and_decode(v9, events):
    from nanobook.feeds.mdp3 import Mdp3OrderBook

    model: dict = {}
    pkts = []
    for seq, (oid, action, et, px, qty, sec) in enumerate(events, 1):
        # template 47 entries, one per packet, through the C walk and the book
        pkts.append(_encode(v9, 47, {"transact_time": seq, "match_event_indicator": 0x80},
                            {"no_md_entries": [{"order_id": oid, "md_order_priority": seq,
                                                "md_entry_px": px * 10**9, "md_display_qty": qty,
                                                "security_id": sec, "md_update_action": action,
                                                "md_entry_type": et}]}, seq))
        if action == 2:
            model.pop((sec, oid), None)
        else:
            model[(sec, oid)] = [0 if et == b"0" else 1, px * 10**9, qty, seq]
    m = decode_mdp3(pkts, v9, arbitrate=True)
    assert len(m) == len(events) and m.gaps == []
    ob = Mdp3OrderBook().apply(m)
    assert ob.check() and ob.orders == model
    for sec in {k[0] for k in model}:
        bids, offers = ob.levels(sec)
        assert (np.diff(bids["price"]) < 0).all() and (np.diff(offers["price"]) > 0).all()
        assert int(bids["qty"].sum() + offers["qty"].sum()) == sum(
            o[2] for k, o in model.items() if k[0] == sec)
