"""Conformance corpus v2, backtest part: every record exactly (ints equal, floats
bit-equal, errors with the recorded class and message).

Each record runs through ``backtest_weights`` (the compiled kernel) and through
the list engine oracle (``_listengine.backtest_lists``), so both are held to the
same corpus."""
from __future__ import annotations

import pytest

from nanobook.portfolio import BarPrices, CostModel, FillPolicy, backtest_weights
from nanobook.portfolio._listengine import backtest_lists

from _portfolio_corpus import decode, load, mismatch, to_plain

RECORDS = load("backtest.jsonl.gz")


def _call(rec, engine=None):
    inp = decode(rec["input"])
    opts = dict(inp.get("options") or {})
    if "fill_schedule" in opts:
        opts["fill_schedule"] = [[(s, BarPrices(*b)) for s, b in p] for p in opts["fill_schedule"]]
    fn = backtest_lists if engine == "list" else backtest_weights
    return fn(
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


def test_stop_records_are_in_the_corpus():
    assert len(STOP_RECORDS) >= 5


def test_production_path_never_loads_the_oracle():
    # the list engine is the tests' oracle only: a backtest (stops included) runs without it
    import subprocess
    import sys

    code = (
        "import sys, nanobook\n"
        "from nanobook.portfolio import BarPrices as B, backtest_weights\n"
        "w = [[('A', 0.5)], [('A', 0.5)]]; p = [[('A', B(100, 100, 100, 100))], [('A', B(90, 90, 90, 90))]]\n"
        "backtest_weights(w, p, 10_000, None, None, 252.0, 0.0, {'fixed_stop_pct': 0.05})\n"
        "print('nanobook.portfolio._listengine' in sys.modules, 'nanobook.portfolio.conventions' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
