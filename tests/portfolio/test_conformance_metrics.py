"""Analytics corpus records of the portfolio area (metrics, drawdowns, rolling stats,
tear sheet, decomposition), compared exactly: floats bit for bit, ints as ints,
dict keys in the reference's order."""
from __future__ import annotations

import pytest

import nanobook.portfolio as P

from _portfolio_corpus import decode, load, mismatch, to_plain

RECORDS = load("analytics_portfolio.jsonl.gz")


def _present(rec):
    return hasattr(P, rec["fn"])


@pytest.mark.parametrize("rec", RECORDS, ids=[r["id"] + ":" + r["fn"] for r in RECORDS])
def test_record(rec):
    if not _present(rec):
        pytest.skip(f"{rec['fn']} not exported yet")
    fn = getattr(P, rec["fn"])
    args = decode(rec["args"])
    kwargs = decode(rec["kwargs"])
    if "err" in rec:
        with pytest.raises(Exception) as ei:
            fn(*args, **kwargs)
        assert [type(ei.value).__name__, str(ei.value)] == rec["err"]
        return
    got = to_plain(fn(*args, **kwargs))
    m = mismatch(rec["expect"], got)
    assert m is None, m


def test_every_portfolio_record_is_runnable():
    missing = sorted({r["fn"] for r in RECORDS if not _present(r)})
    assert missing == []
    assert len(RECORDS) == 95
