"""Replay the Monte-Carlo conformance records (spec §10; SCHEMA-v1 format).

``getattr(nanobook, function)(ticker, current_price, **kwargs)``; terminal
prices and summaries are compared exactly (floats bit for bit, ints and
floats kept apart; summary key order is not part of the contract).
Native records exercise the ChaCha20/ziggurat stream, parity records
numpy's ``default_rng`` (numpy 2.4.6 at recording time).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import nanobook

DATA = Path(__file__).resolve().parents[1] / "data" / "analytics" / "montecarlo.jsonl"
RECORDS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def _same(expect, got):
    if isinstance(expect, float):
        return isinstance(got, float) and (expect == got or (math.isnan(expect) and math.isnan(got)))
    if isinstance(expect, bool) or expect is None or isinstance(expect, str):
        return type(got) is type(expect) and got == expect
    if isinstance(expect, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == expect
    if isinstance(expect, list):
        return len(expect) == len(got) and all(_same(e, g) for e, g in zip(expect, got))
    if isinstance(expect, dict):
        return set(expect) == set(got) and all(_same(expect[k], got[k]) for k in expect)
    raise AssertionError(f"unsupported {expect!r}")


@pytest.mark.parametrize("rec", RECORDS, ids=[r["id"] for r in RECORDS])
def test_record(rec):
    inp = rec["input"]
    res = getattr(nanobook, rec["function"])(inp["ticker"], inp["current_price"], **inp["kwargs"])
    out = rec["output"]
    prices = res.terminal_prices
    if rec["function"].endswith("native"):
        assert isinstance(prices, np.ndarray)
    prices = [float(p) for p in prices]
    assert _same(out["terminal_prices"], prices)
    assert _same(out["summary"], res.summary), (out["summary"], res.summary)
    assert res.method == out["method"]


def test_native_stream_matches_across_entry_points():
    a = nanobook.monte_carlo_stock_valuation("X", 50.0, n_paths=20, seed=-5)
    b = nanobook.monte_carlo_stock_valuation_native("X", 50.0, n_paths=20, seed=-5)
    assert a.terminal_prices.tolist() == b.terminal_prices.tolist() and a.summary == b.summary
