"""parse_itch against the reference package's recorded output."""
import hashlib
import json

import pytest

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
