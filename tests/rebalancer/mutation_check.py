"""Mutation check of the documented rebalancer limits: each flip must make
tests/rebalancer/test_limits.py fail (runner and usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/rebalancer/mutation_check.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutate import run  # noqa: E402

MUTANTS = [
    ('src/nanobook_rebalancer/plan.py', 'if trade and abs(wf - cur_w_exact) < band:', 'if trade and abs(wf - cur_w_exact) <= band:'),
    ('src/nanobook_rebalancer/plan.py', 'elif trade and Fraction(abs(trade) * price, scale) < params.min_order_value_cents:', 'elif trade and Fraction(abs(trade) * price, scale) <= params.min_order_value_cents:'),
    ('src/nanobook_rebalancer/cli.py', '"PASS" if n <= mx else "FAIL"', '"PASS" if n < mx else "FAIL"'),
    ('src/nanobook_rebalancer/targets.py', 'if t.gross > max_gross + 1e-12:', 'if t.gross >= max_gross:'),
    ('src/nanobook_rebalancer/targets.py', 'if abs(w) > 1.0:', 'if abs(w) >= 1.0:'),
    ('src/nanobook_rebalancer/cli.py', 'q.age_secs > cfg.execution.quote_staleness_secs', 'q.age_secs >= cfg.execution.quote_staleness_secs'),
    ('src/nanobook_rebalancer/config.py', '0 < p.initial_cash_usd <= MAX_INITIAL_CASH_USD', '0 < p.initial_cash_usd < MAX_INITIAL_CASH_USD'),
    ('src/nanobook_rebalancer/config.py', '0 <= pl.no_trade_band_bps <= 10_000', '0 <= pl.no_trade_band_bps < 10_000'),
    ('src/nanobook_rebalancer/config.py', '0 < e.poll_interval_secs <= e.order_timeout_secs', '0 < e.poll_interval_secs < e.order_timeout_secs'),
    ('src/nanobook_rebalancer/_risk.py', 'm[key] = m[key] * quantity_scale', 'm[key] = m[key]'),
    ('src/nanobook_rebalancer/config.py', 'if not _I64_MIN <= value <= _I64_MAX:', 'if not _I64_MIN <= value < _I64_MAX:'),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ['tests/rebalancer/test_limits.py']))
