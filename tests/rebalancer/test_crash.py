"""Crash injection: SIGKILL the run right after each kind of audit record, rerun,
and check that no order reached the broker twice and the account ends at the target."""
from __future__ import annotations

import collections

import pytest

from test_cli import TARGET

TARGET2 = {"AAA": 0.1, "CCC": 0.3, "DDD": 0.2}       # sell AAA, close BBB, buy CCC and DDD
MIN_ORDER_CENTS = 100_000                            # plan.min_order_value_usd in the test config
MIDS = {"AAA": 10_000, "BBB": 5_000, "CCC": 2_000, "DDD": 25_000}


@pytest.mark.parametrize("crash, liquidity, timeout", [
    ("order_intent", 0, 5.0),                        # intent written, order never sent
    ("order_intent#3", 0, 5.0),                      # mid-run, two orders done
    ("order_ack", 0, 5.0),                           # order acknowledged (and filled at the broker)
    ("order_ack#2", 0, 5.0),
    ("order_fill:filled", 0, 5.0),                   # fill recorded, order_done not yet
    ("order_fill:partially_filled", 5, 5.0),         # partial fill, order still working
    ("cancel_intent", 5, 0.3),                       # cancel announced, never sent
    ("cancel_result", 5, 0.3),                       # cancel sent, final status not yet seen
])
def test_crash_then_rerun(work, crash, liquidity, timeout):
    # an initial portfolio, so that the crashing run has sells and buys
    assert work.run("run", str(work.target(TARGET)), "--yes").returncode == 0
    t2 = work.target(TARGET2, "t2.json")
    work.write_config("crashy.toml", liquidity=liquidity, timeout=timeout)
    r = work.run("run", str(t2), "--yes", config="crashy.toml", NANOBOOK_REBALANCE_CRASH_AFTER=crash)
    assert r.returncode == -9, (r.stdout, r.stderr)           # SIGKILL
    crashed = work.audit()[-1]
    event = crash.split(":")[0].split("#")[0]
    assert crashed["event"] == event
    assert not any(x["event"] == "run_finished" and x["run_id"] == crashed["run_id"]
                   for x in work.audit())

    # rerun with the normal config: recovery first, then the rest of the plan
    r = work.run("run", str(t2), "--yes")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert f"resolving unfinished run {crashed['run_id']}" in r.stderr
    recs = work.audit()
    resolved = [x for x in recs if x["event"] == "order_resolved"]
    assert {x["recovered_run_id"] for x in resolved} <= {crashed["run_id"]}
    assert any(x["event"] == "recovered" and x["recovered_run_id"] == crashed["run_id"] for x in recs)
    if event == "order_intent" and crash == "order_intent":
        assert [x["status"] for x in resolved] == ["not_found"]

    # never submitted twice: one intent per client order id, and every broker
    # order carries a client order id the log announced before sending
    intents = collections.Counter(x["client_order_id"] for x in recs if x["event"] == "order_intent")
    assert max(intents.values()) == 1
    broker_cids = [o["client_order_id"] for o in work.broker_orders()]
    assert len(broker_cids) == len(set(broker_cids))
    assert set(broker_cids) <= set(intents)
    # a crashed intent that never reached the broker was not sent later under the same id
    for x in resolved:
        if x["status"] == "not_found":
            assert x["client_order_id"] not in broker_cids

    # the account ends at the target (to within the plan's minimum order value)
    (rec,) = [x for x in recs if x["event"] == "reconcile"][-1:]
    for row in rec["rows"]:
        gap = abs(row["actual_qty"] - row["target_qty"]) * MIDS[row["symbol"]]
        assert gap < MIN_ORDER_CENTS, row
    assert set(work.positions()) == set(TARGET2)
    d = work.run("--dry-run", str(t2))
    assert d.returncode == 0 and "No rebalancing needed" in d.stdout
    assert work.run("recover").stdout.strip() == "No unfinished run in the audit log."


def test_recover_command_resolves_without_trading(work):
    assert work.run("run", str(work.target(TARGET)), "--yes").returncode == 0
    work.write_config("crashy.toml", liquidity=5)
    t2 = work.target(TARGET2, "t2.json")
    r = work.run("run", str(t2), "--yes", config="crashy.toml",
                 NANOBOOK_REBALANCE_CRASH_AFTER="order_fill:partially_filled")
    assert r.returncode == -9
    n_orders = len(work.broker_orders())
    working = [o for o in work.broker_orders() if o["status"] == "PartiallyFilled"]
    assert len(working) == 1
    r = work.run("recover", config="crashy.toml")
    assert r.returncode == 0, r.stderr
    assert len(work.broker_orders()) == n_orders                  # nothing new sent
    last = work.broker_orders()[-1]
    assert last["status"] == "Cancelled" and last["filled"] >= 5
    # (the paper house re-quotes on connect, so more may fill before the cancel)
    assert f"cancelled, filled {last['filled']} ({last['client_order_id']})" in r.stdout
    assert "No unfinished run" in work.run("recover").stdout
    st = work.run("status", "--offline").stdout
    assert "recovered" in st or "completed" in st
