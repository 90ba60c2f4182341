"""One test per reason code, our checks, TOML config and the kill switch."""
import datetime as dt

import pytest

from nanobook_risk import Decision, ReasonCode, RiskConfig, RiskConfigError, RiskEngine, RiskReport, Status

EQ = 100_000_000  # $1,000,000


def codes(report, status=None):
    return report.codes(status)


def test_every_reason_code_is_stable():
    assert {c.value for c in ReasonCode} == {
        "max_order_value", "max_position", "order_size", "short_selling", "leverage", "short_exposure",
        "max_batch_value", "max_trade_size", "order_count", "weight_allocation", "post_trade_position",
        "restricted_symbol", "price_collar", "max_open_orders", "daily_loss", "drawdown", "kill_switch",
    }


def test_max_order_value_fail_and_disabled():
    r = RiskEngine(max_order_value_cents=10_000)
    rep = r.evaluate_order("A", "buy", 3, 5_000, EQ, [])
    d = rep[0]
    assert (d.code, d.status, d.detail) == (ReasonCode.MAX_ORDER_VALUE, Status.FAIL, "$150 > $100 max_order_value_cents")
    assert RiskEngine(max_order_value_cents=10_000).evaluate_order("A", "buy", 2, 5_000, EQ, [])[0].status is Status.PASS
    assert RiskEngine(max_order_value_cents=0).evaluate_order("A", "buy", 10**6, 5_000, EQ, [])[0].status is Status.PASS
    b = RiskEngine(max_order_value_cents=10_000).evaluate_batch([("A", "buy", 3, 5_000)], EQ, [], [])
    assert b.codes(Status.FAIL) == [ReasonCode.MAX_ORDER_VALUE]
    assert b.failures[0].detail == "A: $150 > $100 max_order_value_cents"


def test_max_position_order_and_batch():
    r = RiskEngine(max_position_pct=0.10)
    d = r.evaluate_order("A", "buy", 1000, 15_000, EQ, [])[1]
    assert (d.code, d.status, d.detail) == (ReasonCode.MAX_POSITION, Status.FAIL, "15.0% (A) > 10.0% limit")
    b = r.evaluate_batch([], EQ, [], [("A", 0.05), ("B", -0.2), ("C", 0.2)])
    assert (b[0].code, b[0].status, b[0].detail) == (ReasonCode.MAX_POSITION, Status.FAIL, "20.0% (B) > 10.0% limit")


def test_order_size_and_max_trade_size_warn():
    r = RiskEngine(max_trade_usd=100.0)
    d = r.evaluate_order("A", "buy", 1, 10_001, EQ, [])[2]
    assert (d.code, d.status, d.detail) == (ReasonCode.ORDER_SIZE, Status.WARN, "$100.01 > $100.00 max")
    assert r.evaluate_order("A", "buy", 1, 10_000, EQ, [])[2].status is Status.PASS
    b = r.evaluate_batch([("A", "buy", 1, 10_001)], EQ, [], [])
    assert b.codes(Status.WARN) == [ReasonCode.MAX_TRADE_SIZE]
    assert b.passed and b.has_warnings


def test_short_selling_and_short_exposure():
    r = RiskEngine(allow_short=False)
    rep = r.evaluate_order("A", "sell", 10, 100, EQ, [("A", 5)])
    assert rep[-1].code is ReasonCode.SHORT_SELLING and rep[-1].status is Status.FAIL
    assert r.evaluate_order("A", "sell", 5, 100, EQ, [("A", 5)]).passed
    b = r.evaluate_batch([("A", "sell", 10, 100)], EQ, [], [])
    assert ReasonCode.SHORT_SELLING in b.codes(Status.FAIL)
    b = RiskEngine(max_short_pct=0.01).evaluate_batch([("A", "sell", 100, 15_000)], EQ, [], [])
    d = [x for x in b if x.code is ReasonCode.SHORT_EXPOSURE][0]
    assert (d.status, d.detail) == (Status.FAIL, "1.5% > 1.0% limit")


def test_leverage():
    b = RiskEngine(max_leverage=1.0).evaluate_batch([("A", "buy", 1000, 15_000)], 1_000_000, [], [])
    d = b[1]
    assert (d.code, d.status, d.detail) == (ReasonCode.LEVERAGE, Status.FAIL, "15.00x > 1.00x limit")


def test_max_batch_value():
    b = RiskEngine(max_batch_value_cents=10_000).evaluate_batch([("A", "buy", 25, 500), ("B", "sell", 25, 500)], EQ, [], [])
    d = [x for x in b if x.code is ReasonCode.MAX_BATCH_VALUE][0]
    assert (d.status, d.detail) == (Status.FAIL, "$250 > $100 max_batch_value_cents")


def test_order_count_and_weight_allocation():
    b = RiskEngine().evaluate_batch([("A", "buy", 1, 100)], EQ, [], [("A", 0.3), ("B", -0.1), ("A", 0.2)])
    assert (b[-2].code, b[-2].detail) == (ReasonCode.ORDER_COUNT, "1 orders")
    assert (b[-1].code, b[-1].detail) == (ReasonCode.WEIGHT_ALLOCATION, "20.0% long, 10.0% short, 80.0% cash")


def test_post_trade_position_running_exposure():
    # The targets pass, but the first order alone takes A to 40% of equity.
    r = RiskEngine(max_position_pct=0.25)
    b = r.evaluate_batch([("A", "buy", 400, 100_000), ("A", "sell", 200, 100_000)], 10_000_000 * 10, [], [("A", 0.2)])
    post = [d for d in b if d.code is ReasonCode.POST_TRADE_POSITION]
    assert len(post) == 1 and post[0].detail == "A: 40.0% (A) > 25.0% limit" and post[0].status is Status.FAIL


def test_running_short_sale_detected_even_if_covered_later():
    r = RiskEngine(allow_short=False)
    b = r.evaluate_batch([("A", "sell", 10, 100), ("A", "buy", 10, 100)], EQ, [], [])
    fails = b.failures
    assert [d.code for d in fails] == [ReasonCode.SHORT_SELLING]
    assert fails[0].detail == "A: short selling not allowed (running position 0)"


def test_restricted_symbols():
    r = RiskEngine(restricted_symbols=["GME"])
    rep = r.evaluate_order("GME", "buy", 1, 100, EQ, [])
    d = [x for x in rep if x.code is ReasonCode.RESTRICTED_SYMBOL][0]
    assert (d.status, d.detail) == (Status.FAIL, "GME is restricted")
    ok = [x for x in r.evaluate_order("AAPL", "buy", 1, 100, EQ, []) if x.code is ReasonCode.RESTRICTED_SYMBOL][0]
    assert ok.status is Status.PASS
    b = r.evaluate_batch([("AAPL", "buy", 1, 100), ("GME", "buy", 1, 100)], EQ, [], [])
    assert b.codes(Status.FAIL) == [ReasonCode.RESTRICTED_SYMBOL]
    with pytest.raises(TypeError):
        RiskEngine(restricted_symbols="GME")
    with pytest.raises(ValueError, match="exceeds 8 bytes"):
        RiskEngine(restricted_symbols=["TOOLONGSYM"])


def test_price_collar():
    r = RiskEngine(price_collar_bps=50)
    d = [x for x in r.evaluate_order("A", "buy", 1, 10_050, EQ, [], reference_price_cents=10_000) if x.code is ReasonCode.PRICE_COLLAR][0]
    assert d.status is Status.PASS and d.detail == "50.0 bps from reference 10000 <= 50.0 bps collar"
    d = [x for x in r.evaluate_order("A", "buy", 1, 10_051, EQ, [], reference_price_cents=10_000) if x.code is ReasonCode.PRICE_COLLAR][0]
    assert d.status is Status.FAIL and d.detail == "51.0 bps from reference 10000 > 50.0 bps collar"
    d = [x for x in r.evaluate_order("A", "sell", 1, 9_949, EQ, []) if x.code is ReasonCode.PRICE_COLLAR][0]
    assert d.status is Status.FAIL and d.detail == "no reference price for A"
    b = r.evaluate_batch([("A", "buy", 1, 10_000), ("B", "buy", 1, 20_000)], EQ, [], [], reference_prices={"A": 10_000, "B": 10_000})
    assert b.codes(Status.FAIL) == [ReasonCode.PRICE_COLLAR] and b.failures[0].symbol == "B"


def test_max_open_orders():
    r = RiskEngine(max_open_orders=3)
    d = r.evaluate_order("A", "buy", 1, 100, EQ, [], open_orders=2)[-1]
    assert (d.code, d.status, d.detail) == (ReasonCode.MAX_OPEN_ORDERS, Status.PASS, "3 open orders <= 3 max_open_orders")
    d = r.evaluate_order("A", "buy", 1, 100, EQ, [], open_orders=3)[-1]
    assert d.status is Status.FAIL
    b = r.evaluate_batch([("A", "buy", 1, 100)] * 2, EQ, [], [], open_orders=2)
    assert b.codes(Status.FAIL) == [ReasonCode.MAX_OPEN_ORDERS]


def test_daily_loss_trips_kill_switch_until_reset():
    r = RiskEngine(max_daily_loss_pct=0.02)
    day = dt.date(2026, 1, 5)
    r.mark_equity(EQ, day)
    ok = r.evaluate_order("A", "buy", 1, 100, EQ - 2_000_000, [])  # exactly -2 %
    assert ok.passed and not r.kill_switch_engaged
    bad = r.evaluate_order("A", "buy", 1, 100, EQ - 2_000_001, [])
    assert bad.codes(Status.FAIL) == [ReasonCode.DAILY_LOSS, ReasonCode.KILL_SWITCH]
    assert r.kill_switch_engaged
    # equity back up: still blocked by the kill switch
    again = r.evaluate_order("A", "buy", 1, 100, EQ, [])
    assert again.codes(Status.FAIL) == [ReasonCode.KILL_SWITCH]
    assert r.evaluate_batch([], EQ, [], []).codes(Status.FAIL) == [ReasonCode.KILL_SWITCH]
    r.reset_kill_switch()
    assert r.evaluate_order("A", "buy", 1, 100, EQ, []).passed
    # a new day resets the start equity
    r.mark_equity(EQ - 5_000_000, dt.date(2026, 1, 6))
    assert r.day_start_equity_cents == EQ - 5_000_000
    assert r.evaluate_order("A", "buy", 1, 100, EQ - 5_000_000, []).passed


def test_drawdown_uses_high_water_mark():
    r = RiskEngine(max_drawdown_pct=0.10)
    assert all(d.code is not ReasonCode.DRAWDOWN for d in r.evaluate_order("A", "buy", 1, 1, 1, []))
    r.mark_equity(EQ, "2026-01-05")
    r.mark_equity(2 * EQ, "2026-01-06")
    r.mark_equity(EQ, "2026-01-07")
    assert r.high_water_mark_cents == 2 * EQ
    rep = r.evaluate_order("A", "buy", 1, 100, int(1.8 * EQ), [])
    dd = [d for d in rep if d.code is ReasonCode.DRAWDOWN][0]
    assert dd.status is Status.PASS and dd.detail == "10.0% drawdown <= 10.0% limit"
    rep = r.evaluate_order("A", "buy", 1, 100, int(1.8 * EQ) - 1, [])
    assert rep.codes(Status.FAIL) == [ReasonCode.DRAWDOWN, ReasonCode.KILL_SWITCH]
    assert "drawdown" in r.kill_switch_reason


def test_manual_kill_switch_and_bad_args():
    r = RiskEngine()
    r.engage_kill_switch("operator")
    assert r.evaluate_order("A", "buy", 1, 1, 1, []).failures[-1].detail == "kill switch engaged (operator)"
    with pytest.raises(ValueError):
        r.engage_kill_switch("")
    with pytest.raises(ValueError, match="ISO date"):
        r.mark_equity(1, "yesterday")
    with pytest.raises(OverflowError):
        r.mark_equity(2**63)


def test_default_engine_matches_reference_shape():
    rep = RiskEngine().evaluate_order("A", "buy", 1, 1, 1, [])
    assert [d.code for d in rep] == [ReasonCode.MAX_ORDER_VALUE, ReasonCode.MAX_POSITION, ReasonCode.ORDER_SIZE]


def test_report_helpers():
    rep = RiskEngine(max_trade_usd=0.0).evaluate_order("A", "buy", 1, 100, EQ, [])
    assert isinstance(rep, RiskReport) and len(rep) == 3
    assert rep.format().splitlines()[2] == "[WARN] Order size: $1.00 > $0.00 max"
    assert isinstance(rep[0], Decision) and rep.to_dicts()[0]["status"] == "PASS"


def test_toml_config(tmp_path):
    text = """
[risk]
max_position_pct = 0.4
max_leverage = 2.0
allow_short = false
max_daily_loss_pct = 0.03
price_collar_bps = 25.0
max_open_orders = 10
restricted_symbols = ["GME", "AMC"]
min_trade_usd = 200
"""
    p = tmp_path / "risk.toml"
    p.write_text(text)
    eng = RiskEngine.from_toml(p)
    c = eng.config
    assert (c.max_position_pct, c.max_leverage, c.allow_short, c.max_open_orders) == (0.4, 2.0, False, 10)
    assert c.restricted_symbols == frozenset({"GME", "AMC"}) and c.min_trade_usd == 200.0
    assert RiskConfig.from_toml(text) == c
    assert RiskConfig.from_mapping(c.to_mapping()) == c
    with pytest.raises(RiskConfigError, match="unknown key 'max_levrage'"):
        RiskConfig.from_toml("[risk]\nmax_levrage = 2.0\n")
    with pytest.raises(RiskConfigError, match="max_leverage must be >= 1.0"):
        RiskConfig.from_toml("[risk]\nmax_leverage = 0.5\n")
    with pytest.raises(TypeError):
        RiskConfig.from_toml("[risk]\nallow_short = 1\n")
    assert RiskConfig.from_toml("[other]\nx = 1\n") == RiskConfig()
    assert RiskConfig.from_toml("[nested.risk]\nmax_leverage = 3.0\n", table="nested.risk").max_leverage == 3.0
