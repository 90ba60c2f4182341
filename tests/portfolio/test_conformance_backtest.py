"""Conformance corpus v2, backtest part: every record exactly (ints equal, floats
bit-equal, errors with the recorded class and message).

Each record runs through the list engine and, where the input fits it, through
the dense engine too, so both implementations are held to the same corpus."""
from __future__ import annotations

import pytest

from nanobook.portfolio import BarPrices, CostModel, FillPolicy, backtest_weights

from _portfolio_corpus import decode, load, mismatch, to_plain

RECORDS = load("backtest.jsonl.gz")


def _call(rec, engine=None):
    inp = decode(rec["input"])
    opts = dict(inp.get("options") or {})
    if "fill_schedule" in opts:
        opts["fill_schedule"] = [[(s, BarPrices(*b)) for s, b in p] for p in opts["fill_schedule"]]
    if engine is not None:
        opts["engine"] = engine
    return backtest_weights(
        [[(s, w) for s, w in p] for p in inp["weight_schedule"]],
        [[(s, BarPrices(*b)) for s, b in p] for p in inp["price_schedule"]],
        inp["initial_cash"],
        CostModel(**inp["cost_model"]),
        getattr(FillPolicy, inp["fill_policy"]),
        inp["periods_per_year"],
        inp["risk_free"],
        inp["stop_cfg"],
        **opts,
    )


def _check(rec, engine=None):
    exp = rec["output"]
    if "err" in exp:
        with pytest.raises(Exception) as ei:
            _call(rec, engine)
        assert [type(ei.value).__name__, str(ei.value)] == exp["err"]
        return
    got = dict(_call(rec, engine))
    if got["metrics"] is not None:
        got["metrics"] = got["metrics"].to_dict()
    m = mismatch(exp, to_plain(got))
    assert m is None, m


@pytest.mark.parametrize("rec", RECORDS, ids=[r["id"] for r in RECORDS])
def test_record_auto_engine(rec):
    _check(rec)


@pytest.mark.parametrize("rec", RECORDS, ids=[r["id"] for r in RECORDS])
def test_record_list_engine(rec):
    _check(rec, "list")


def test_corpus_is_complete():
    assert len(RECORDS) == 62
    assert sum("err" in r["output"] for r in RECORDS) == 17


STOP_RECORDS = [r for r in RECORDS if decode(r["input"])["stop_cfg"]]


@pytest.mark.parametrize("rec", RECORDS, ids=[r["id"] for r in RECORDS])
def test_record_dense_engine(rec):
    # forced onto the Cython kernel (stops included); only inputs with a
    # symbol twice in one period cannot be laid out densely
    try:
        _check(rec, "dense")
    except ValueError as e:
        if "engine='dense' needs" not in str(e):
            raise
        pytest.skip("input repeats a symbol within a period")


def test_stop_records_run_on_the_kernel(monkeypatch):
    import nanobook.portfolio.backtest as bt

    assert len(STOP_RECORDS) >= 5
    monkeypatch.setattr(bt, "run_general", lambda *a, **k: pytest.fail("list engine used"))
    for rec in STOP_RECORDS:
        if "err" not in rec["output"]:
            _check(rec)
