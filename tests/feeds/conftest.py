import gzip
import struct
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "feeds"


def fix_lengths(raw: bytes) -> bytes:
    """Write the ITCH 5.0 spec length into every zero length slot (RITCH's file)."""
    from nanobook.feeds.itch import ITCH_DTYPES
    from nanobook.feeds._itch import WIRE_LENGTHS

    out = bytearray(raw)
    pos = 0
    while pos < len(out):
        ln = WIRE_LENGTHS[chr(out[pos + 2])]
        struct.pack_into(">H", out, pos, ln)
        pos += 2 + ln
    assert ITCH_DTYPES
    return bytes(out)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def ritch_raw() -> bytes:
    """The upstream RITCH file, zero length slots and all."""
    return gzip.decompress((DATA / "itch" / "ex20101224.TEST_ITCH_50.gz").read_bytes())


@pytest.fixture(scope="session")
def ritch_fixed(ritch_raw) -> bytes:
    return fix_lengths(ritch_raw)


def assert_same_mdp3(a, b) -> None:
    """Two Mdp3Messages hold the same messages, blocks, feeds and arbitration counts."""
    import numpy as np

    assert a.messages.dtype == b.messages.dtype and np.array_equal(a.messages, b.messages)
    assert list(a.roots) == list(b.roots) and list(a.groups) == list(b.groups)
    for d1, d2 in ((a.roots, b.roots), (a.groups, b.groups)):
        for k in d1:
            assert d1[k].dtype == d2[k].dtype, k
            for f in d1[k].dtype.names:   # field by field: padding bytes carry nothing
                assert np.array_equal(d1[k][f], d2[k][f]), (k, f)
    assert (a.feeds, a.packets, a.duplicates, a.gaps) == (b.feeds, b.packets, b.duplicates, b.gaps)
