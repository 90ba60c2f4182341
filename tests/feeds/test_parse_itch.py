"""parse_itch against the reference package's recorded output."""
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nanobook
from nanobook.feeds import FeedFormatError
from nanobook.feeds.itch import parse_itch


@pytest.fixture(scope="module")
def ref(data_dir):
    return json.loads((data_dir / "itch" / "reference_parse_itch.json").read_text())


def lines(events):
    return [s + "\t" + e.__getstate__() for s, e in events]


def test_ritch_events_equal_reference(ref, ritch_fixed, tmp_path):
    p = tmp_path / "ritch.itch"
    p.write_bytes(ritch_fixed)
    ev = parse_itch(str(p))
    assert all(isinstance(e, nanobook.Event) and isinstance(s, str) for s, e in ev)
    got = lines(ev)
    r = ref["ritch_lenfixed"]
    assert len(got) == r["n"] == 6802
    assert got[:25] == r["head"] and got[-10:] == r["tail"]
    assert hashlib.sha256("\n".join(got).encode()).hexdigest() == r["sha256"]
    assert nanobook.parse_itch is parse_itch


@pytest.mark.parametrize("case", ["zero", "trunc", "short", "shortR", "stray", "empty", "unknown", "tinyS"])
def test_edge_cases_equal_reference(ref, data_dir, case):
    want = ref["cases"][case]
    path = data_dir / "itch" / "refcases" / f"{case}.itch"
    if "ok" in want:
        assert lines(parse_itch(path)) == want["ok"]
    else:
        with pytest.raises(OSError) as ei:
            parse_itch(path)
        assert isinstance(ei.value, FeedFormatError)
        # the reference's message, then where it happened
        assert str(ei.value).startswith(want["message"] + " (at byte offset ")


def test_missing_file(ref, tmp_path):
    with pytest.raises(FileNotFoundError):
        parse_itch(tmp_path / "missing.itch")
    assert ref["cases"]["missing"]["error"] == "FileNotFoundError"
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        parse_itch(3)


def test_zero_share_messages_become_events(tmp_path):
    # ITCH allows 0 shares; the reference emits such events, ours drops them (quantity 0
    # is an error in our engine: correction 3) and keeps everything else in order
    from nanobook.feeds.itch import parse_itch as pi

    hdr = b"\x00\x01\x00\x00" + (7).to_bytes(6, "big")
    add0 = b"A" + hdr + (5).to_bytes(8, "big") + b"S" + (0).to_bytes(4, "big") + b"ZZZ     " + (123456).to_bytes(4, "big")
    add1 = b"A" + hdr + (6).to_bytes(8, "big") + b"B" + (10).to_bytes(4, "big") + b" Q      " + (99).to_bytes(4, "big")
    rep0 = b"U" + hdr + (6).to_bytes(8, "big") + (9).to_bytes(8, "big") + (0).to_bytes(4, "big") + (250).to_bytes(4, "big")
    p = tmp_path / "z.itch"
    p.write_bytes(b"".join(len(m).to_bytes(2, "big") + m for m in (add0, add1, rep0)))
    got = lines(pi(p))
    assert got == ['Q\t{"SubmitLimit":{"side":"Buy","price":0,"quantity":10,"time_in_force":"GTC"}}']


def _spec_events(data: bytes) -> list:
    """Spec section 9 written out plainly (valid streams only), zero-share events dropped."""
    out, pos = [], 0
    while pos + 2 <= len(data):
        ln = int.from_bytes(data[pos : pos + 2], "big")
        m = data[pos + 2 : pos + 2 + ln]
        pos += 2 + ln
        t = m[:1]
        u = lambda a, b: int.from_bytes(m[a:b], "big")  # noqa: E731
        if t in (b"A", b"F") and u(20, 24):
            side = "Buy" if m[19:20] == b"B" else "Sell"
            out.append((m[24:32].decode("ascii").strip(), {"SubmitLimit": {
                "side": side, "price": u(32, 36) // 100, "quantity": u(20, 24), "time_in_force": "GTC"}}))
        elif t in (b"X", b"D"):
            out.append(("", {"Cancel": {"order_id": u(11, 19)}}))
        elif t == b"U" and u(27, 31):
            out.append(("", {"Modify": {"order_id": u(11, 19), "new_price": u(31, 35) // 100,
                                        "new_quantity": u(27, 31)}}))
    return out


@st.composite
def order_flow(draw):
    from nanobook.feeds._itch import WIRE_LENGTHS

    # a NUL stock field (0 marks empty slots in the C symbol table) and a blank one
    stocks = [b"%-8s" % (b"S%d" % i) for i in range(draw(st.integers(1, 50)))] + [b"\0" * 8, b" " * 8]
    out = b""
    for t in draw(st.lists(st.sampled_from("AAAFXDUUPSR"), max_size=80)):
        body = bytearray(t.encode() + draw(st.binary(min_size=WIRE_LENGTHS[t] - 1,
                                                    max_size=WIRE_LENGTHS[t] - 1)))
        if t in "AF":
            body[19:20] = draw(st.sampled_from([b"B", b"S", b"x"]))
            body[24:32] = draw(st.sampled_from(stocks))
            if draw(st.booleans()):
                body[20:24] = bytes(4)   # zero shares
        out += len(body).to_bytes(2, "big") + bytes(body)
    return out, stocks


@settings(max_examples=150, deadline=None)
@given(order_flow())
def test_parse_itch_equals_the_spec_written_out(tmp_path_factory, flow):
    data, stocks = flow
    p = tmp_path_factory.mktemp("flow") / "f.itch"
    p.write_bytes(data)
    got = [(s, e.to_dict()) for s, e in parse_itch(p)]
    assert got == _spec_events(data)


def test_symbol_table_grows_past_its_first_size(tmp_path):
    hdr = b"\x00\x01\x00\x00" + bytes(6)
    msgs = [b"A" + hdr + i.to_bytes(8, "big") + b"B" + (1).to_bytes(4, "big") + b"%-8d" % i
            + (10000).to_bytes(4, "big") for i in range(5000)]
    p = tmp_path / "many.itch"
    p.write_bytes(b"".join(len(m).to_bytes(2, "big") + m for m in msgs * 2))
    got = parse_itch(p)
    assert [s for s, _ in got] == [str(i) for i in range(5000)] * 2


def test_pair_rejects_bad_label_ids():
    import numpy as np
    from nanobook.feeds import _itch

    assert _itch.pair(["", "a"], np.array([1, 0], np.int32), [7, 8]) == [("a", 7), ("", 8)]
    with pytest.raises(ValueError, match=r"label_id\[1\] must index labels \(0..1\), got 2"):
        _itch.pair(["", "a"], np.array([1, 2], np.int32), [7, 8])
    with pytest.raises(ValueError, match="one entry per item, got 1 for 2"):
        _itch.pair(["", "a"], np.array([1], np.int32), [7, 8])


def test_output_grows_past_its_estimate(tmp_path):
    # deletes are the shortest events (21 framed bytes): the output, sized for a real mix
    # of messages, must grow several times; events stay in order and exact
    hdr = b"\x00\x01\x00\x00" + bytes(6)
    msgs = [b"D" + hdr + i.to_bytes(8, "big") for i in range(20000)]
    data = b"".join(len(m).to_bytes(2, "big") + m for m in msgs)
    p = tmp_path / "deletes.itch"
    p.write_bytes(data)
    got = [(s, e.to_dict()) for s, e in parse_itch(p)]
    assert got == _spec_events(data) and len(got) == 20000
