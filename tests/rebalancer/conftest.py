"""Helpers for the end-to-end CLI tests: a work directory with a paper-broker
config, and a runner that executes ``python -m nanobook_rebalancer`` as a
subprocess (real exit codes, captured output)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PRICES = "symbol,price\nAAA,100.00\nBBB,50.00\nCCC,20.00\nDDD,250.00\n"

BASE_CONFIG = """\
[broker]
kind = "paper"

[paper]
state_file = "paper.json"
price_file = "prices.csv"
initial_cash_usd = 100000.0
spread_bps = 10.0
liquidity = {liquidity}

[execution]
order_timeout_secs = {timeout}
poll_interval_secs = 0.02
pause_between_orders_secs = 0
limit_offset_bps = {offset}

[plan]
min_order_value_usd = 1000.0

[risk]
max_position_pct = 0.5

[files]
audit_log = "logs/audit.jsonl"
lock_file = "rebalance.lock"
kill_switch = "KILL"
"""


class Work:
    """A directory with prices, a config and helpers to run the CLI in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "prices.csv").write_text(PRICES)
        self.write_config()

    def write_config(self, name: str = "rebalance.toml", *, liquidity: int = 0,
                     timeout: float = 5.0, offset: float = 5.0, extra: str = "") -> Path:
        p = self.root / name
        p.write_text(BASE_CONFIG.format(liquidity=liquidity, timeout=timeout, offset=offset) + extra)
        p.chmod(0o600)
        return p

    def target(self, weights: dict[str, float], name: str = "target.json") -> Path:
        p = self.root / name
        p.write_text(json.dumps({"targets": [{"symbol": s, "weight": w} for s, w in weights.items()]}))
        return p

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NANOBOOK_")}
        env.update(HOME=str(self.root / "home"), COLUMNS="200")
        env.update(extra)
        return env

    def cmd(self, *args: str, config: str | None = "rebalance.toml") -> list[str]:
        argv = [sys.executable, "-m", "nanobook_rebalancer", *args]
        if config is not None:
            argv += ["--config", str(self.root / config)]
        return argv

    def run(self, *args: str, config: str | None = "rebalance.toml", input: str | None = None,
            timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.cmd(*args, config=config), cwd=self.root, env=self.env(**env),
                              input=input if input is not None else "", capture_output=True,
                              text=True, timeout=timeout)

    def popen(self, *args: str, config: str | None = "rebalance.toml", **env: str) -> subprocess.Popen:
        return subprocess.Popen(self.cmd(*args, config=config), cwd=self.root, env=self.env(**env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    # state -------------------------------------------------------------
    @property
    def audit_path(self) -> Path:
        return self.root / "logs" / "audit.jsonl"

    def audit(self) -> list[dict]:
        if not self.audit_path.exists():
            return []
        return [json.loads(line) for line in self.audit_path.read_text().splitlines() if line.strip()]

    def paper(self) -> dict:
        p = self.root / "paper.json"
        return json.loads(p.read_text()) if p.exists() else {"orders": {}, "positions": {}}

    def positions(self) -> dict[str, int]:
        return {s: p["quantity"] for s, p in self.paper()["positions"].items() if p["quantity"]}

    def broker_orders(self) -> list[dict]:
        return sorted(self.paper()["orders"].values(), key=lambda o: o["id"])


def audit_fills(recs: list[dict]) -> dict[str, int]:
    """Filled quantity per client order id as the audit log has it (the last word of any run:
    ``order_fill``, ``order_done`` or recovery's ``order_resolved``)."""
    out: dict[str, int] = {}
    for r in recs:
        if r["event"] in ("order_fill", "order_done", "order_resolved") and "filled_qty" in r:
            out[r["client_order_id"]] = int(r["filled_qty"])
    return out


@pytest.fixture
def work(tmp_path: Path) -> Work:
    return Work(tmp_path)
