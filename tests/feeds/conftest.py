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
