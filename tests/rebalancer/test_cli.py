"""End-to-end CLI tests on the paper broker: subprocesses, real exit codes."""
from __future__ import annotations

import json
import signal
import stat
import time

import pytest

from nanobook_rebalancer import cli
from nanobook_rebalancer.lock import RunLock

TARGET = {"AAA": 0.3, "BBB": 0.2, "CCC": 0.1}


def expected_qty(equity_usd: float, prices: dict[str, float], weights: dict[str, float]) -> dict:
    return {s: int(equity_usd * w // prices[s]) for s, w in weights.items()}


def test_dry_run_works_out_of_the_box(work):
    """No config at all: the embedded default paper broker with the bundled prices."""
    t = work.root / "t.csv"
    t.write_text("symbol,weight\nAAPL,0.2\nMSFT,0.2\nKO,0.1\n")
    r = work.run("--dry-run", str(t), config=None)
    assert r.returncode == 0, r.stderr
    assert "Rebalance plan" in r.stdout and "AAPL" in r.stdout and "buy (open long)" in r.stdout
    assert "[DRY RUN] No orders submitted." in r.stdout
    state = work.root / "home/.local/state/nanobook/rebalance"
    assert not (state / "audit.jsonl").exists()          # read-only: no audit, no orders
    paper = json.loads((state / "paper-state.json").read_text())
    assert paper["orders"] == {} and paper["cash_cents"] == 10_000_000


def test_run_reaches_the_target_and_logs_every_call(work):
    t = work.target(TARGET)
    r = work.run("run", str(t), "--yes", NANOBOOK_BINANCE_API_KEY="sekrit-key-123",
                 NANOBOOK_BINANCE_API_SECRET="sekrit-secret-456")
    assert r.returncode == 0, r.stderr
    assert work.positions() == expected_qty(100_000, {"AAA": 100, "BBB": 50, "CCC": 20}, TARGET)
    assert "Reconcile (tracking error" in r.stdout
    # audit log: 0600, no credentials, intents before results, sequence increasing
    assert stat.S_IMODE(work.audit_path.stat().st_mode) == 0o600
    text = work.audit_path.read_text()
    assert "sekrit" not in text
    recs = work.audit()
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    assert recs[0]["event"] == "run_started" and recs[-1]["event"] == "run_finished"
    assert recs[-1]["status"] == "completed"
    events = [r["event"] for r in recs]
    for i, e in enumerate(events):
        if e == "broker_intent":
            assert events[i + 1] == "broker_result" and recs[i + 1]["call"] == recs[i]["call"]
    intents = [r for r in recs if r["event"] == "order_intent"]
    assert [i["side"] for i in intents] == ["buy"] * 3
    for it in intents:
        after = [r for r in recs if r.get("client_order_id") == it["client_order_id"]]
        assert [a["event"] for a in after][:2] == ["order_intent", "order_ack"]
        assert after[-1]["event"] == "order_done" and after[-1]["status"] == "filled"
    # the broker saw exactly these client order ids, once each
    cids = [o["client_order_id"] for o in work.broker_orders()]
    assert sorted(cids) == sorted(i["client_order_id"] for i in intents)
    # a second run has nothing to do
    r2 = work.run("run", str(t), "--yes")
    assert r2.returncode == 0 and "No rebalancing needed" in r2.stdout
    assert len(work.broker_orders()) == 3


def test_sells_go_before_buys_and_unlisted_holdings_are_closed(work):
    assert work.run("run", str(work.target(TARGET)), "--yes").returncode == 0
    r = work.run("run", str(work.target({"AAA": 0.1, "DDD": 0.3}, "t2.json")), "--yes")
    assert r.returncode == 0, r.stderr
    new = [o for o in work.broker_orders()][3:]
    assert [(o["symbol"], o["side"]) for o in new] == [
        ("AAA", "sell"), ("BBB", "sell"), ("CCC", "sell"), ("DDD", "buy")]
    assert set(work.positions()) == {"AAA", "DDD"}


def test_non_terminal_stdin_needs_yes(work):
    r = work.run("run", str(work.target(TARGET)))
    assert r.returncode == 1
    assert "pass --yes" in r.stderr
    assert work.broker_orders() == [] and not work.audit_path.exists()


def test_prompt_decline_sends_nothing(work, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "no")
    monkeypatch.chdir(work.root)
    code = cli.main(["run", str(work.target(TARGET)), "--config", str(work.root / "rebalance.toml")])
    assert code == 0
    assert "Aborted: nothing sent." in capsys.readouterr().out
    assert work.broker_orders() == []
    recs = work.audit()
    assert any(r["event"] == "confirmation" and r["approved"] is False for r in recs)
    assert recs[-1]["event"] == "run_finished" and recs[-1]["status"] == "declined"


def test_prompt_accept_sends(work, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "yes")
    code = cli.main(["run", str(work.target(TARGET)), "--config", str(work.root / "rebalance.toml")])
    assert code == 0 and len(work.broker_orders()) == 3


def test_risk_failure_exits_2_and_sends_nothing(work):
    t = work.target({"AAA": 0.6})          # max_position_pct = 0.5 in the test config
    for args in (("run", str(t), "--yes"), ("--dry-run", str(t)), ("plan", str(t))):
        r = work.run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "FAIL" in r.stdout and "max_position" in r.stdout
        plan_row = next(line for line in r.stdout.splitlines() if line.startswith("│ AAA"))
        assert "FAIL" in plan_row                       # the order's own risk column
    assert work.broker_orders() == []
    assert work.audit()[-1]["status"] == "risk_failed"


def test_max_orders_is_a_risk_failure(work):
    work.write_config(extra="")
    cfg = (work.root / "rebalance.toml").read_text().replace(
        "[execution]\n", "[execution]\nmax_orders = 2\n")
    (work.root / "rebalance.toml").write_text(cfg)
    r = work.run("run", str(work.target(TARGET)), "--yes")
    assert r.returncode == 2 and "execution.max_orders" in r.stdout
    assert work.broker_orders() == []


@pytest.mark.parametrize("content, suffix, needle", [
    ("{not json", ".json", "invalid JSON"),
    ('{"targets": [{"symbol": "AAA", "weight": NaN}]}', ".json", "NaN"),
    ('{"targets": [{"symbol": "AAA", "weight": 0.7}, {"symbol": "BBB", "weight": 0.7}]}', ".json",
     "exceeds the configured limit"),
    ('{"targets": [{"symbol": "ZZZ", "weight": 0.1}]}', ".json", "unknown symbol 'ZZZ'"),
    ('{"targets": [], "x": 1}', ".json", "unknown key"),
    ("symbol,weight\nAAA,abc\n", ".csv", "weight must be a number"),
    ("symbol;weight\nAAA;0.1\n", ".csv", "header must be"),
    ("symbol,weight\nAAA,0.1\nAAA,0.1\n", ".csv", "duplicate symbol"),
    ("symbol,weight\n", ".csv", "no targets"),
])
def test_bad_target_matrix(work, content, suffix, needle):
    t = work.root / f"bad{suffix}"
    t.write_text(content)
    for args in (("run", str(t), "--yes"), ("--dry-run", str(t))):
        r = work.run(*args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert needle in r.stderr
    assert work.broker_orders() == []


@pytest.mark.parametrize("toml, needle", [
    ("[broker]\nkind = 'paper'\nflavour = 1\n", "unknown config key broker.flavour"),
    ("[nope]\n", "unknown config table [nope]"),
    ("[execution]\nlimit_offset_bps = -1\n", "execution.limit_offset_bps"),
    ("[risk]\nmax_leverage = 'high'\n", "[risk]"),
    ("[broker]\nkind = 'binance'\n", "needs an API key"),
    ("not toml at all [", "invalid TOML"),
])
def test_bad_config_matrix(work, toml, needle):
    (work.root / "bad.toml").write_text(toml)
    r = work.run("run", str(work.target(TARGET)), "--yes", config="bad.toml")
    assert r.returncode == 1 and needle in r.stderr, r.stderr
    assert work.broker_orders() == []


def test_usage_errors_exit_1_and_help_exits_0(work):
    assert work.run("run", "--bogus", config=None).returncode == 1
    assert work.run(config=None).returncode == 1
    assert work.run("run", str(work.root / "missing.json"), "--yes").returncode == 1
    for sub in cli.COMMANDS:
        r = work.run(sub, "--help", config=None)
        assert r.returncode == 0 and "exit codes" in r.stdout, sub
    assert "COMMAND" in work.run("--help", config=None).stdout


def test_kill_switch_blocks_runs_until_released(work):
    t = work.target(TARGET)
    assert work.run("kill", "--reason", "drill").returncode == 0
    r = work.run("run", str(t), "--yes")
    assert r.returncode == 5 and "kill switch engaged" in r.stderr and "drill" in r.stderr
    assert "ENGAGED" in work.run("status", "--offline").stdout
    assert work.run("unkill").returncode == 0
    assert work.run("run", str(t), "--yes").returncode == 0


def test_lock_blocks_a_second_run(work):
    lock = RunLock(work.root / "rebalance.lock").acquire("other-run")
    try:
        r = work.run("run", str(work.target(TARGET)), "--yes")
    finally:
        lock.release()
    assert r.returncode == 5 and "other-run" in r.stderr
    assert work.broker_orders() == []


def test_order_timeout_cancels(work):
    # offset 0: the limit sits at the mid, below the ask, so it rests and times out
    work.write_config(timeout=0.3, offset=0.0)
    r = work.run("run", str(work.target({"AAA": 0.3})), "--yes")
    # issue 15 §3: a run that filled nothing has its own exit code and says so, not "completed"
    assert r.returncode == 6, r.stderr
    (o,) = work.broker_orders()
    assert o["status"] == "Cancelled" and o["filled"] == 0
    assert ("summary: 1 order sent: 0 filled, 0 partially filled, 1 timed out, 0 cancelled, 0 rejected; "
            "nothing filled") in r.stdout
    assert "nothing filled: 1 order(s) sent, none filled (1 timed out, 0 cancelled)" in r.stderr
    recs = work.audit()
    events = [x["event"] for x in recs]
    assert events.index("cancel_intent") < events.index("cancel_result") < events.index("order_done")
    assert recs[events.index("order_done")]["timed_out"] is True
    last = recs[-1]
    assert (last["event"], last["status"], last["exit_code"]) == ("run_finished", "nothing_filled", 6)
    assert last["summary"] == {"filled": 0, "partially_filled": 0, "timed_out": 1, "cancelled": 0,
                               "rejected": 0, "unknown": 0}


def test_partly_filled_run_exits_0_with_its_summary(work):
    """The house shows 5 shares: the order fills 5 of 300, then times out. Something was done, so
    exit 0 and status completed, and the summary says what."""
    work.write_config(timeout=0.3, liquidity=5)
    r = work.run("run", str(work.target({"AAA": 0.3})), "--yes")
    assert r.returncode == 0, r.stderr
    assert ("summary: 1 order sent: 0 filled, 1 partially filled, 0 timed out, 0 cancelled, 0 rejected"
            in r.stdout) and "nothing filled" not in r.stdout + r.stderr
    (o,) = work.broker_orders()
    assert o["status"] == "Cancelled" and 0 < o["filled"] < 300
    assert work.audit()[-1]["status"] == "completed"


def _wait_for(work, event: str, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if any(r["event"] == event for r in work.audit()):
            return
        time.sleep(0.05)
    raise AssertionError(f"{event} never logged")


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "kill"])
def test_stop_during_execution_cancels_and_exits_4(work, how):
    work.write_config(timeout=30, offset=0.0)           # first order rests
    p = work.popen("run", str(work.target(TARGET)), "--yes")
    try:
        _wait_for(work, "order_ack")
        if how == "kill":
            assert work.run("kill", "--reason", "test").returncode == 0
        else:
            p.send_signal(getattr(signal, how))
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 4, err
    orders = work.broker_orders()
    assert len(orders) == 1 and orders[0]["status"] == "Cancelled"   # no new orders, open one cancelled
    last = work.audit()[-1]
    assert last["event"] == "run_finished" and last["status"] == "interrupted"


def test_positions_status_reconcile(work):
    t = work.target(TARGET)
    assert work.run("run", str(t), "--yes").returncode == 0
    r = work.run("positions")
    assert r.returncode == 0 and "AAA" in r.stdout and "Positions (equity" in r.stdout
    r = work.run("status")
    assert r.returncode == 0 and "broker OK" in r.stdout and "completed" in r.stdout
    r = work.run("reconcile", str(t))
    assert r.returncode == 0 and "Tracking error".lower() in r.stdout.lower()
    assert "TargetQty" in r.stdout
    assert work.run("recover").stdout.strip() == "No unfinished run in the audit log."


def test_broker_error_exits_3(work):
    (work.root / "paper.json").write_text("{corrupt")
    r = work.run("run", str(work.target(TARGET)), "--yes")
    assert r.returncode == 3 and "corrupt" in r.stderr
    assert work.run("--dry-run", str(work.target(TARGET))).returncode == 3


def test_broker_rejection_is_recorded_and_exits_3(work):
    cfg = work.root / "rebalance.toml"
    cfg.write_text(cfg.read_text().replace("liquidity = 0\n", "liquidity = 0\nallow_short = false\n"))
    r = work.run("run", str(work.target({"AAA": -0.1, "BBB": 0.1})), "--yes")
    assert r.returncode == 3, r.stderr
    assert "1 order(s) rejected" in r.stderr
    recs = work.audit()
    (rej,) = [x for x in recs if x["event"] == "order_rejected"]
    assert rej["symbol"] == "AAA" and "short selling not allowed" in rej["error"]
    assert work.positions() == {"BBB": 200}                 # the next order still went
    assert recs[-1]["event"] == "run_finished" and recs[-1]["status"] == "completed_with_rejections"
