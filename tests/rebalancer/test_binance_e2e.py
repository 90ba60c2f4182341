"""End to end against the broker engineer's fake Binance REST venue (real python-binance
client in the CLI subprocess, loopback only), including a crash and recovery."""
from __future__ import annotations

import collections
import importlib.util
import json
import sys
from decimal import Decimal

import pytest

from conftest import REPO

pytest.importorskip("binance.client")
_FAKE = REPO / "tests" / "broker" / "fakes" / "binance_rest.py"
if not _FAKE.exists():  # pragma: no cover - the fake lives in the broker tests
    pytest.skip("fake Binance server not available", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("_rebalancer_fake_binance", _FAKE)
fb = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fb
_spec.loader.exec_module(fb)

KEY, SECRET = "k3yAAAA-rebalance", "s3cretBBBB-rebalance"
UNIT = 10**8


def _real_quote(stream: str) -> tuple[str, str]:
    # real Binance spot book tickers of 2024-08-08 (tests/data/broker/PROVENANCE.md)
    for line in (REPO / "tests/data/broker/binance_bookticker.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["stream"] == stream:
            return rec["data"]["b"], rec["data"]["a"]
    raise AssertionError(stream)


@pytest.fixture
def venue():
    f = fb.FakeBinance(KEY, SECRET)
    D = Decimal
    f.add_symbol("BTCUSDT", fb.SymbolRules("BTC", "USDT", tick=D("0.01"), step=D("0.00001"),
                                           min_qty=D("0.00001"), min_notional=D("5")),
                 *_real_quote("btcusdt@bookTicker"))
    f.add_symbol("ETHUSDT", fb.SymbolRules("ETH", "USDT", tick=D("0.01"), step=D("0.0001"),
                                           min_qty=D("0.0001"), min_notional=D("10")),
                 *_real_quote("ethusdt@bookTicker"))
    f.set_balance("USDT", "60000")
    f.set_balance("BTC", "0.5")
    with f:
        yield f


def _config(work, venue) -> None:
    (work.root / "binance.toml").write_text(f"""\
[broker]
kind = "binance"
[binance]
testnet = false
base_url = "{venue.base_url}"
quote_asset = "USDT"
[execution]
order_timeout_secs = 5
poll_interval_secs = 0.05
pause_between_orders_secs = 0
[plan]
min_order_value_usd = 20.0
lot_sizes = {{ BTC = 1000, ETH = 10000 }}
[risk]
max_position_pct = 0.5
[files]
audit_log = "logs/audit.jsonl"
""")


def test_binance_run_crash_and_recover(work, venue):
    _config(work, venue)
    env = {"NANOBOOK_BINANCE_API_KEY": KEY, "NANOBOOK_BINANCE_API_SECRET": SECRET}
    t = work.target({"BTC": 0.2, "ETH": 0.3})
    d = work.run("--dry-run", str(t), config="binance.toml", **env)
    assert d.returncode == 0, d.stderr
    assert "sell (decrease long)" in d.stdout and "buy (open long)" in d.stdout
    # crash right after the first order is acknowledged, then rerun
    r = work.run("run", str(t), "--yes", config="binance.toml",
                 NANOBOOK_REBALANCE_CRASH_AFTER="order_ack", **env)
    assert r.returncode == -9, r.stderr
    r = work.run("run", str(t), "--yes", config="binance.toml", **env)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "resolving unfinished run" in r.stderr
    recs = work.audit()
    assert [x["status"] for x in recs if x["event"] == "order_resolved"] == ["filled"]
    intents = collections.Counter(x["client_order_id"] for x in recs if x["event"] == "order_intent")
    assert max(intents.values()) == 1
    posted = [p["newClientOrderId"] for p in venue.requests_to("/api/v3/order", "POST")]
    assert len(posted) == len(set(posted)) and set(posted) <= set(intents)
    # at the target: 20 % BTC, 30 % ETH of equity, to within the minimum order
    rec = [x for x in recs if x["event"] == "reconcile"][-1]
    for row in rec["rows"]:
        assert abs(row["actual_weight"] - row["target_weight"]) < 0.002, row
    text = work.audit_path.read_text()
    assert KEY not in text and SECRET not in text
    assert work.run("--dry-run", str(t), config="binance.toml", **env).returncode == 0
