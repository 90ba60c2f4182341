"""Audit log, client order ids, run lock and kill switch."""
import os
import stat
import subprocess
import sys

import pytest

from nanobook_rebalancer.audit import (
    AuditLog, client_order_id, new_run_id, read_records, summarize_runs, unfinished_runs,
)
from nanobook_rebalancer.errors import AuditLogError, LockHeldError
from nanobook_rebalancer.lock import (
    RunLock, engage_kill_switch, kill_switch_info, lock_holder, release_kill_switch,
)


def test_log_is_0600_append_only_and_sequenced(tmp_path):
    p = tmp_path / "sub" / "audit.jsonl"
    old = os.umask(0)
    try:
        with AuditLog(p, "r1") as log:
            log.write("run_started", mode="run")
            log.write("order_intent", client_order_id="c1", symbol="A", side="buy", quantity=5)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    with AuditLog(p, "r2") as log:
        rec = log.write("run_started")
    assert rec["seq"] == 3
    recs = read_records(p)
    assert [r["seq"] for r in recs] == [1, 2, 3]
    assert [r["run_id"] for r in recs] == ["r1", "r1", "r2"]
    assert all(r["ts"].endswith("Z") for r in recs)


def test_loose_mode_is_tightened(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("")
    p.chmod(0o644)
    AuditLog(p, "r").close()
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_secrets_are_redacted(tmp_path):
    p = tmp_path / "a.jsonl"
    with AuditLog(p, "r", secrets=["hunter2"]) as log:
        log.write("broker_result", error="auth failed for key hunter2", nested={"k": ["hunter2"]})
    text = p.read_text()
    assert "hunter2" not in text and text.count("***") == 2


def test_corrupt_line_is_an_error_but_a_torn_tail_is_not(tmp_path):
    p = tmp_path / "a.jsonl"
    with AuditLog(p, "r") as log:
        log.write("run_started")
    with open(p, "ab") as f:
        f.write(b'{"seq": 2, "event": "order_in')   # crash mid-write
    assert len(read_records(p)) == 1
    with open(p, "ab") as f:
        f.write(b"\n")
    with pytest.raises(AuditLogError, match="at line 2"):
        read_records(p)


def test_write_after_close_is_an_error(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl", "r")
    log.close()
    with pytest.raises(AuditLogError, match="closed"):
        log.write("x")


def test_client_order_id_is_deterministic_and_venue_safe():
    a = client_order_id("run", "AAPL", "buy", 10)
    assert a == client_order_id("run", "AAPL", "buy", 10)
    assert len(a) == 32 and a.isalnum() and a.startswith("nb")
    others = {client_order_id("run", "AAPL", "sell", 10), client_order_id("run", "AAPL", "buy", 11),
              client_order_id("run2", "AAPL", "buy", 10), client_order_id("run", "MSFT", "buy", 10)}
    assert a not in others and len(others) == 4
    with pytest.raises(ValueError, match="quantity must be a positive integer, got 0"):
        client_order_id("run", "A", "buy", 0)
    assert new_run_id() != new_run_id()


def test_summarize_runs_tracks_order_lifecycle():
    recs = [
        {"run_id": "r1", "event": "run_started"},
        {"run_id": "r1", "event": "order_intent", "client_order_id": "c1", "symbol": "A",
         "side": "buy", "quantity": 10},
        {"run_id": "r1", "event": "order_ack", "client_order_id": "c1", "broker_order_id": 7},
        {"run_id": "r1", "event": "order_fill", "client_order_id": "c1", "filled_qty": 4,
         "status": "partially_filled"},
        {"run_id": "r1", "event": "order_intent", "client_order_id": "c2", "symbol": "B",
         "side": "sell", "quantity": 3},
        {"run_id": "r1", "event": "order_done", "client_order_id": "c2", "status": "filled",
         "filled_qty": 3},
    ]
    (run,) = unfinished_runs(recs)
    assert [o.client_order_id for o in run.open_orders] == ["c1"]
    assert run.orders["c1"].broker_order_id == 7 and run.orders["c1"].filled_qty == 4
    recs.append({"run_id": "r2", "event": "recovered", "recovered_run_id": "r1"})
    assert unfinished_runs(recs) == []
    assert summarize_runs(recs)["r1"].resolved_by == "r2"


def test_crash_hook_kills_after_the_named_record(tmp_path):
    p = tmp_path / "a.jsonl"
    code = ("from nanobook_rebalancer.audit import AuditLog\n"
            f"log = AuditLog({str(p)!r}, 'r')\n"
            "log.write('order_fill', status='partially_filled')\n"
            "log.write('order_fill', status='filled')\n"
            "log.write('never')\n")
    env = dict(os.environ, NANOBOOK_REBALANCE_CRASH_AFTER="order_fill:filled")
    proc = subprocess.run([sys.executable, "-c", code], env=env)
    assert proc.returncode == -9
    assert [r.get("status") for r in read_records(p)] == ["partially_filled", "filled"]


def test_lock_is_exclusive_and_dies_with_its_holder(tmp_path):
    p = tmp_path / "run.lock"
    with RunLock(p).acquire("r1"):
        assert lock_holder(p)["run_id"] == "r1"
        assert lock_holder(p)["pid"] == os.getpid()
        code = ("from nanobook_rebalancer.lock import RunLock\n"
                f"RunLock({str(p)!r}).acquire('r2')\n")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert "LockHeldError" in proc.stderr and f"pid {os.getpid()}" in proc.stderr
    assert lock_holder(p) is None
    # a holder killed by SIGKILL leaves no stale lock
    code = ("import os, signal\nfrom nanobook_rebalancer.lock import RunLock\n"
            f"RunLock({str(p)!r}).acquire('r3')\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == -9
    assert lock_holder(p) is None
    RunLock(p).acquire("r4").release()


def test_lock_held_in_process_raises(tmp_path):
    p = tmp_path / "run.lock"
    a = RunLock(p).acquire("r1")
    try:
        with pytest.raises(LockHeldError, match="another rebalance is running"):
            RunLock(p).acquire("r2")
    finally:
        a.release()


def test_kill_switch_file(tmp_path):
    p = tmp_path / "KILL"
    assert kill_switch_info(p) is None
    engage_kill_switch(p, reason="drill")
    assert kill_switch_info(p)["reason"] == "drill"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert release_kill_switch(p) is True
    assert release_kill_switch(p) is False
