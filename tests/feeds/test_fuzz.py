"""Mutated real captures and random bytes: a clear error with an offset, or a result; never a
crash, another exception type, or a hang (pytest-timeout guards each test)."""
import gzip

import numpy as np

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanobook.feeds import FeedError, FeedFormatError
from nanobook.feeds import _itch
from nanobook.feeds.itch import read_itch
from nanobook.feeds.itch_book import ItchBook
from nanobook.feeds.mdp3 import decode_mdp3
from nanobook.feeds.sbe import SbeSchema
from nanobook.feeds._pcap import iter_udp

from .conftest import DATA, assert_same_mdp3, fix_lengths

RITCH = fix_lengths(gzip.decompress((DATA / "itch" / "ex20101224.TEST_ITCH_50.gz").read_bytes()))[:6000]
ITCH_PCAP = (DATA / "itch" / "Nasdaq.Multiple.Packets.pcap").read_bytes()
CME_PCAP = (DATA / "cme" / "v1.8.MdIncrementalRefreshVolume.pcap").read_bytes()[:8000]
SCHEMA = SbeSchema(DATA / "cme" / "FixBinary_v9_real-logic.xml.gz")


def _pcapng_head(raw: bytes, limit: int) -> bytes:
    """The whole pcapng blocks within the first ``limit`` bytes."""
    pos = 0
    while pos + 8 <= len(raw):
        blen = int.from_bytes(raw[pos + 4 : pos + 8], "little")
        if pos + blen > limit:
            break
        pos += blen
    return raw[:pos]


def _pcap_head(raw: bytes, limit: int) -> bytes:
    """The global header and the whole records within the first ``limit`` bytes."""
    pos = 24
    while pos + 16 <= len(raw):
        nxt = pos + 16 + int.from_bytes(raw[pos + 8 : pos + 12], "little")
        if nxt > limit:
            break
        pos = nxt
    return raw[:pos]


CME_PCAP_WHOLE = _pcap_head((DATA / "cme" / "v1.8.MdIncrementalRefreshVolume.pcap").read_bytes(), 8000)
CME_PCAPNG = _pcapng_head(gzip.decompress((DATA / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz").read_bytes()), 9000)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw, base: bytes):
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("A"), ord("U")]))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[i : i + draw(st.integers(1, 16))]
    return bytes(data)


def _offset_ok(err: FeedFormatError, n: int):
    assert err.offset is None or 0 <= err.offset <= n + 64
    assert str(err)


@FUZZ
@given(mutated(RITCH), st.booleans())
def test_itch_arrays_fuzz(data, strict):
    try:
        m = read_itch(data, strict=strict)
        assert sum(len(a) for a in m.arrays.values()) + m.skipped <= m.n_messages + 1
    except FeedFormatError as e:
        _offset_ok(e, len(data))


@FUZZ
@given(mutated(RITCH))
def test_itch_book_fuzz(data):
    try:
        b = ItchBook(depth=3, record_snapshots=True).replay(data)
        b.check()
    except FeedFormatError as e:
        _offset_ok(e, len(data))


@FUZZ
@given(mutated(RITCH))
def test_reference_event_array_fuzz(data):
    try:
        _itch.reference_event_array(data)
    except FeedFormatError as e:
        _offset_ok(e, len(data))


@FUZZ
@given(mutated(ITCH_PCAP))
def test_itch_pcap_fuzz(data):
    # the C MoldUDP64 split declines exactly when the Python one raises, else agrees
    from nanobook.feeds.itch import _mold_fast, moldudp64_to_binaryfile

    fast = _mold_fast(data)
    try:
        ref = moldudp64_to_binaryfile(data)
    except FeedFormatError:
        assert fast is None
    else:
        assert fast is not None
        assert bytes(fast[0]) == ref[0] and fast[2] == ref[2]
        assert all(np.array_equal(fast[1][f], ref[1][f]) for f in ref[1].dtype.names)
    try:
        read_itch(data, lenient=True)
    except FeedFormatError as e:
        _offset_ok(e, len(data))


@FUZZ
@given(mutated(CME_PCAP), st.booleans())
def test_mdp3_fuzz(data, strict):
    try:
        decode_mdp3(data, SCHEMA, strict=strict, arbitrate=True)
    except FeedError as e:  # FeedFormatError, or a sequence problem
        if isinstance(e, FeedFormatError):
            _offset_ok(e, len(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data):
    for fn in (lambda: read_itch(data), lambda: read_itch(data, lenient=True),
               lambda: ItchBook(lenient=True).replay(data), lambda: _itch.reference_event_array(data),
               lambda: list(iter_udp(data)) if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a") else None,
               lambda: decode_mdp3([data], SCHEMA, strict=False)):
        try:
            fn()
        except FeedFormatError as e:
            _offset_ok(e, len(data))


@pytest.mark.parametrize("magic", [b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x0a\x0d\x0d\x0a"])
@settings(max_examples=60, deadline=None)
@given(tail=st.binary(max_size=200))
def test_pcap_headers_fuzz(magic, tail):
    try:
        list(iter_udp(magic + tail))
    except FeedFormatError as e:
        _offset_ok(e, len(tail) + 4)


@FUZZ
@given(st.one_of(mutated(CME_PCAP_WHOLE), mutated(CME_PCAPNG)), st.booleans(), st.booleans(), st.booleans())
def test_mdp3_c_walk_agrees_with_python_on_mutated_captures(data, arbitrate, gap_raises, strict):
    # the C walk either declines (the Python path then words the error) or gives
    # exactly what the Python path gives
    from nanobook.feeds import mdp3
    from nanobook.feeds._mdp3 import udp_index

    ix = udp_index(data)
    if ix is None:
        with pytest.raises(FeedFormatError):
            list(iter_udp(data))
    else:
        ref = list(iter_udp(data))
        assert ix[0].tolist() == [u.offset for u in ref]
        assert [data[o : o + n] for o, n in zip(*ix[:2])] == [u.payload for u in ref]
    c = mdp3._decode_c(data, SCHEMA, arbitrate, gap_raises, strict)
    try:
        py = mdp3._decode_py(data, SCHEMA, arbitrate, "raise" if gap_raises else "record", strict)
    except FeedError:
        assert c is None
        return
    assert c is not None
    assert_same_mdp3(c, py)
