"""The kill switch: fires at the exact exchange event where a limit of
nanobook.limits is crossed (at the limit passes), cancels, flattens, refuses
new orders and is reported with its time; the shared rules agree with
nanobook_risk's."""
from __future__ import annotations

import pytest

from nanobook import limits
from nanobook.sim import Sim, Strategy

from .helpers import DEPTH, stream

# bid 100 / ask 105; we buy 10 at market (fills at 105 at t=5), then the bid
# steps down: mid 102.5 -> 100 (t=10) -> 99.5 (t=20) -> 99 (t=30)
ROWS = [(0, DEPTH, 0, 100, 60), (0, DEPTH, 1, 105, 50),
        (10, DEPTH, 0, 95, 60), (10, DEPTH, 0, 100, 0),
        (20, DEPTH, 0, 94, 60), (20, DEPTH, 0, 95, 0),
        (30, DEPTH, 0, 93, 60), (30, DEPTH, 0, 94, 0),
        (40, DEPTH, 0, 93, 70)]
CAPITAL = 800.0      # equity 800 - 1050 + 10 * mid: 775, 750, 745, 740


class BuyThenQuote(Strategy):
    timer_interval = 7

    def __init__(self):
        self.after_kill = []

    def on_start(self, sim):
        sim.market_buy(10)

    def on_timer(self, sim):
        if sim.killed is not None:
            self.after_kill.append(sim.buy(90, 1))


def run(**ks):
    strat = BuyThenQuote()
    res = Sim(stream(ROWS), entry_latency=5, response_latency=1, record_interval=0,
              initial_capital=CAPITAL, kill_switch=ks).run(strat)
    return res, strat


@pytest.mark.parametrize("pct,fires_at,equity", [
    (0.0625, 20, 745.0),     # limit 50: drawdown exactly 50 at t=10 passes, 55 at t=20 fires
    (0.0687, 20, 745.0),     # 0.0687 * 800 = 54.96 < 55: fires at t=20 too
    (0.06875, 30, 740.0),    # limit exactly 55: t=20 passes, 60 at t=30 fires
    (0.0624, 10, 750.0),     # just below 50/800: fires at t=10
])
def test_drawdown_fires_at_the_exact_event(pct, fires_at, equity):
    res, strat = run(max_drawdown_pct=pct)
    assert res.kill is not None and res.kill["rule"] == "drawdown"
    assert res.kill["exch_ts"] == fires_at
    assert res.kill["equity"] == equity and res.kill["high_water_mark"] == CAPITAL
    # the same verdict from the shared rule, event by event
    for t, e in ((10, 750.0), (20, 745.0), (30, 740.0)):
        assert limits.drawdown_breached(CAPITAL, e, pct) == (t >= fires_at)


def test_kill_flattens_cancels_and_refuses_new_orders():
    res, strat = run(max_drawdown_pct=0.0625)
    assert res.position == 0                           # flattened by a market sell
    flat = res.orders[-1]
    assert flat["side"] == 1 and flat["qty"] == 10 and flat["submit_ts"] == 20 and flat["arrive_ts"] == 25
    assert strat.after_kill and all(x is None for x in strat.after_kill)
    assert res.final["rejected_by_kill"] == len(strat.after_kill)
    s = res.summary()
    assert s["kill_rule"] == "drawdown" and s["kill_ts"] == 20
    assert "killed by drawdown at 20" in repr(res)


@pytest.mark.parametrize("loss,fires_at", [(50.0, 20), (49.99, 10), (50.01, 20), (60.0, None)])
def test_daily_loss_at_below_above(loss, fires_at):
    # day start 800; losses 25 (t=5), 50 (t=10), 55 (t=20), 60 (t=30): strictly above fires
    res, _ = run(max_daily_loss=loss)
    if fires_at is None:
        assert res.kill is None
    else:
        assert res.kill["rule"] == "daily_loss" and res.kill["exch_ts"] == fires_at


@pytest.mark.parametrize("limit,fires", [(10, False), (9, True), (11, False)])
def test_max_position_at_below_above(limit, fires):
    res, _ = run(max_position=limit)
    if fires:
        assert res.kill["rule"] == "max_position" and res.kill["exch_ts"] == 5
    else:
        assert res.kill is None


def test_disabled_kill_switch_never_fires():
    res, _ = run(max_drawdown_pct=0.0, enable_kill_switch=False)
    assert res.kill is None and res.position == 10


def test_first_rule_in_order_wins():
    res, _ = run(max_position=9, max_drawdown_pct=0.0)
    assert res.kill["rule"] == "max_position"


def test_kill_switch_config_is_strict():
    with pytest.raises(ValueError, match="unknown key 'max_loss'"):
        Sim(stream(ROWS), kill_switch={"max_loss": 1.0})
    with pytest.raises(ValueError, match="max_drawdown_pct must be finite and in"):
        Sim(stream(ROWS), initial_capital=1.0, kill_switch={"max_drawdown_pct": 1.5})
    with pytest.raises(TypeError, match="max_position must be an int"):
        Sim(stream(ROWS), kill_switch={"max_position": 1.5})
    with pytest.raises(ValueError, match="initial_capital"):
        Sim(stream(ROWS), kill_switch={"max_drawdown_pct": 0.1})
    with pytest.raises(ValueError, match="initial_capital must be >= 0, got -1.0"):
        Sim(stream(ROWS), initial_capital=-1.0)
    with pytest.raises(ValueError, match="initial_capital must be a finite number, got inf"):
        Sim(stream(ROWS), initial_capital=float("inf"))


def test_daily_loss_resets_at_the_utc_day():
    day = 86_400 * 10**9
    rows = [(day - 100, DEPTH, 0, 100, 60), (day - 100, DEPTH, 1, 105, 50),
            (day - 50, DEPTH, 0, 95, 60), (day - 50, DEPTH, 0, 100, 0),     # loss 50 by day end
            (day + 10, DEPTH, 0, 94, 60), (day + 10, DEPTH, 0, 95, 0),      # new day starts at 750
            (day + 20, DEPTH, 0, 90, 60), (day + 20, DEPTH, 0, 94, 0)]      # 745 -> 725: loss 25
    strat = BuyThenQuote()
    res = Sim(stream(rows), entry_latency=5, record_interval=0, initial_capital=CAPITAL,
              kill_switch={"max_daily_loss": 30.0}).run(strat)
    assert res.kill is not None and res.kill["rule"] == "daily_loss"
    assert res.kill["exch_ts"] == day - 50 and res.kill["day_start"] == CAPITAL
    res = Sim(stream(rows), entry_latency=5, record_interval=0, initial_capital=CAPITAL,
              kill_switch={"max_daily_loss": 50.0}).run(BuyThenQuote())
    assert res.kill is None                            # 50 then 25 after the reset


def test_nanobook_risk_uses_the_same_rules():
    from nanobook_risk import RiskEngine

    def drawdown_fails(equity):
        eng = RiskEngine(max_drawdown_pct=0.0625)
        eng.mark_equity(80_000)
        rep = eng.evaluate_order("A", "buy", 1, 100, equity, [])
        return "drawdown" in [str(c) for c in rep.codes("FAIL")]

    for equity in (75_000, 75_001, 74_999):             # at, just inside, just past the limit
        assert drawdown_fails(equity) == limits.drawdown_breached(80_000, equity, 0.0625) == (equity < 75_000)
