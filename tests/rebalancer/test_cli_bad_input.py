"""Bad input to the `rebalance` CLI (issue 11): every case exits 1 with one line naming the file,
the key and the value -- never a traceback -- and leaves every file (config, target, paper account,
audit log, lock) exactly as it was."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import Work

BIG = 2**70


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A work directory with a paper account and an audit log from one completed run."""
    w = Work(tmp_path_factory.mktemp("bad-input"))
    r = w.run("run", str(w.target({"AAA": 0.3, "BBB": 0.2})), "--yes")
    assert r.returncode == 0, r.stderr
    return w


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def deep_json() -> str:
    return '{"targets": ' + "[" * 100_000 + "]" * 100_000 + "}"


# (name, target file name, its content, extra config or None, expected substrings of the message)
CASES = [
    ("nested 100,000 deep", "deep.json", deep_json(), None,
     ["deep.json", "invalid JSON", "nested too deeply"]),
    ("duplicated weight key", "dupw.json", '{"targets": [{"symbol": "AAA", "weight": 0.1, "weight": 0.9}]}',
     None, ["dupw.json", "duplicate key 'weight'", "first 0.1, then 0.9"]),
    ("duplicated targets key", "dupt.json",
     '{"targets": [{"symbol": "AAA", "weight": 0.1}], "targets": [{"symbol": "BBB", "weight": 0.2}]}', None,
     ["dupt.json", "duplicate key 'targets'", '"BBB"']),
    ("duplicated symbol key", "dups.json", '{"targets": [{"symbol": "AAA", "symbol": "BBB", "weight": 0.1}]}',
     None, ["dups.json", "duplicate key 'symbol'", '"AAA"', '"BBB"']),
    ("infinite CSV weight", "inf.csv", "symbol,weight\nAAA,1e999\n", None,
     ["inf.csv", "line 2", "weight must be finite", "inf"]),
    ("missing price file", "ok.json", None, '[paper]\nprice_file = "no-such-prices.csv"\n',
     ["bad.toml", "paper.price_file", "'no-such-prices.csv'", "file not found"]),
    ("initial cash 1e300", "ok.json", None, "[paper]\ninitial_cash_usd = 1e300\n",
     ["bad.toml", "paper.initial_cash_usd", "1e+300", "(0, 1e12]"]),
    ("lot size 2**70", "ok.json", None, f"[plan]\nlot_size = {BIG}\n",
     ["bad.toml", "plan.lot_size", str(BIG), "64-bit"]),
    ("per-symbol lot 2**70", "ok.json", None, f"[plan]\nlot_sizes = {{ AAA = {BIG} }}\n",
     ["bad.toml", "plan.lot_sizes.AAA", str(BIG)]),
    ("liquidity 2**63", "ok.json", None, f"[paper]\nliquidity = {2**63}\n",
     ["bad.toml", "paper.liquidity", str(2**63)]),
    ("ibkr client id 2**40", "ok.json", None, f"[broker]\nkind = 'ibkr'\n[ibkr]\nclient_id = {2**40}\n",
     ["bad.toml", "ibkr.client_id", str(2**40)]),
    ("pause 1e300 s", "ok.json", None, "[execution]\npause_between_orders_secs = 1e300\n",
     ["bad.toml", "execution.pause_between_orders_secs", "1e+300"]),
    ("duplicated TOML key", "ok.json", None, "[plan]\nlot_size = 1\nlot_size = 2\n",
     ["bad.toml", "invalid TOML", "lot_size"]),
]


@pytest.mark.parametrize("name, target, content, toml, needles", CASES, ids=[c[0] for c in CASES])
def test_bad_input_matrix(account, name, target, content, toml, needles):
    w = account
    t = w.root / target
    if content is not None:
        t.write_text(content)
    elif not t.exists():
        t.write_text(json.dumps({"targets": [{"symbol": "AAA", "weight": 0.1}]}))
    config = "rebalance.toml"
    if toml is not None:
        config = "bad.toml"
        (w.root / config).write_text(toml)
    before = snapshot(w.root)
    for args in (("run", str(t), "--yes"), ("--dry-run", str(t))):
        r = w.run(*args, config=config)
        assert r.returncode == 1, (name, args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("rebalance: error: "), r.stderr
        for n in needles:
            assert n in lines[0], (n, lines[0])
    assert snapshot(w.root) == before          # config, target, paper account, audit log: untouched


def test_lot_larger_than_the_trade_is_said_not_silent(work):
    """A lot bigger than the trade: no order, and the plan says why instead of "at target"."""
    work.write_config(extra="")
    cfg = work.root / "rebalance.toml"
    cfg.write_text(cfg.read_text().replace("[plan]\n", "[plan]\nlot_size = 1000000\n"))
    r = work.run("--dry-run", str(work.target({"AAA": 0.3})))
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("│ AAA"))
    assert "below one lot (1000000)" in row
