"""`rebalance` against the fake Binance venue under faults (issue 15 §1-§2): after every fault and
every recovery the audit log's fills are the venue's fills, and no client order id reaches the
venue as two orders. Real python-binance client in the CLI subprocess, loopback only."""
from __future__ import annotations

import collections

import pytest

import test_binance_e2e as base  # the venue fixture (real 2024-08-08 quotes) and the fake's module
from conftest import audit_fills

venue = base.venue
fb = base.fb
ORDER = "/api/v3/order"
ENV = {"NANOBOOK_BINANCE_API_KEY": base.KEY, "NANOBOOK_BINANCE_API_SECRET": base.SECRET}
TARGET = {"BTC": 0.2, "ETH": 0.3}  # sells about 0.2 BTC first, then buys ETH


def _config(work, venue) -> None:
    base._config(work, venue)
    p = work.root / "binance.toml"
    p.write_text(p.read_text().replace('quote_asset = "USDT"\n',
                                       'quote_asset = "USDT"\nunknown_outcome_window_secs = 0.3\n'))


def run(work, *args):
    return work.run(*args, config="binance.toml", **ENV)


def assert_log_matches_venue(work, venue) -> None:
    recs = work.audit()
    intents = collections.Counter(x["client_order_id"] for x in recs if x["event"] == "order_intent")
    assert max(intents.values()) == 1
    at_venue = collections.Counter(o.client_id for o in venue.orders.values())
    assert max(at_venue.values()) == 1, at_venue          # never two orders under one id
    assert set(at_venue) <= set(intents)                   # every venue order was announced first
    fills = audit_fills(recs)
    for o in venue.orders.values():
        assert fills.get(o.client_id, 0) == int(o.executed * base.UNIT), (o.client_id, fills)


FAULTS = {
    "5xx before accept": [dict(path=ORDER, kind="http", method="POST", status=503)],
    "5xx after accept": [dict(path=ORDER, kind="accept_then_http", method="POST", status=502)],
    "dropped after accept": [dict(path=ORDER, kind="accept_then_drop", method="POST")],
    "forced 429": [dict(path=ORDER, kind="http", method="POST", status=429, retry_after=1,
                        body={"code": -1015, "msg": "Too many new orders"})],
    "lagging lookup": [dict(path=ORDER, kind="accept_then_http", method="POST", status=503),
                       dict(path=ORDER, kind="lag", method="GET", times=3)],
    # the three lookups of the 0.3 s window fail; allOrders finds the order
    "5xx on lookups": [dict(path=ORDER, kind="accept_then_http", method="POST", status=503),
                       dict(path=ORDER, kind="http", method="GET", status=503, times=3, after_order=True)],
    "delayed lookups": [dict(path=ORDER, kind="accept_then_http", method="POST", status=503),
                        dict(path=ORDER, kind="sleep", method="GET", seconds=0.3, times=2, after_order=True)],
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_on_the_first_order_then_the_run_completes(work, venue, fault):
    _config(work, venue)
    for f in FAULTS[fault]:
        venue.inject(**f)
    r = run(work, "run", str(work.target(TARGET)), "--yes")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "summary: 2 orders sent: 2 filled" in r.stdout
    assert_log_matches_venue(work, venue)
    sell = next(o for o in venue.orders.values() if o.side == "SELL")
    assert sell.status == "FILLED"
    if fault == "5xx before accept":
        cids = [p["newClientOrderId"] for p in venue.requests_to(ORDER, "POST")]
        assert cids[0] == cids[1] == sell.client_id and len(venue.orders) == 2   # resent once: one order
    assert work.audit()[-1]["status"] == "completed"


def test_unknown_outcome_stays_unknown_until_recover_writes_the_fill(work, venue):
    """The issue's §2: the sell is accepted and filled, but neither its answer nor any lookup gets
    through. The run stops (exit 3) with the order unknown in the log -- not rejected, no second
    order -- and `rebalance recover` writes the fill the venue made."""
    _config(work, venue)
    venue.inject(ORDER, "accept_then_http", method="POST", status=503)
    venue.inject(ORDER, "http", method="GET", status=503, times=10_000, after_order=True)
    venue.inject("/api/v3/allOrders", "http", method="GET", status=503, times=10_000, after_order=True)
    t = work.target(TARGET)
    r = run(work, "run", str(t), "--yes")
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "rebalance recover" in r.stderr
    (sell,) = venue.orders.values()                       # the buy was never sent
    assert sell.side == "SELL" and sell.status == "FILLED"
    recs = work.audit()
    mine = [x for x in recs if x.get("client_order_id") == sell.client_id]
    assert [x["event"] for x in mine] == ["order_intent", "order_unknown"]
    assert "OrderOutcomeUnknown" in mine[1]["error"]
    assert recs[-1]["event"] == "run_aborted"
    assert "order_rejected" not in [x["event"] for x in recs]
    # recovery while the venue still fails: the run stays unfinished, nothing is written as resolved
    r = run(work, "recover")
    assert r.returncode == 3 and not any(x["event"] == "order_resolved" for x in work.audit())
    venue.faults.clear()
    r = run(work, "recover")
    assert r.returncode == 0, (r.stdout, r.stderr)
    recs = work.audit()
    fill = [x for x in recs if x["event"] == "order_fill" and x["client_order_id"] == sell.client_id]
    assert len(fill) == 1 and fill[0]["filled_qty"] == int(sell.executed * base.UNIT)
    assert fill[0]["status"] == "filled" and fill[0]["recovered_run_id"] == mine[0]["run_id"]
    (res,) = [x for x in recs if x["event"] == "order_resolved"]
    assert (res["status"], res["filled_qty"]) == ("filled", fill[0]["filled_qty"])
    assert_log_matches_venue(work, venue)
    assert len(venue.requests_to(ORDER, "POST")) == 1     # recovery never resubmits
    # the next run plans from the venue: only the ETH buy is left
    r = run(work, "run", str(t), "--yes")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "summary: 1 order sent: 1 filled" in r.stdout
    assert_log_matches_venue(work, venue)
