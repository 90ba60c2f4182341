"""Mutation check of the documented risk comparisons: each flip must make
tests/risk/test_boundaries.py fail (runner and usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/risk/mutation_check.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutate import run  # noqa: E402

MUTANTS = [
    ('src/nanobook_risk/engine.py', 'notional > c.max_order_value_cents) else', 'notional >= c.max_order_value_cents) else'),
    ('src/nanobook_risk/engine.py', 'st = Status.FAIL if pct > c.max_position_pct', 'st = Status.FAIL if pct >= c.max_position_pct'),
    ('src/nanobook_risk/engine.py', 'if equity > 0 else 0.0', 'if equity >= 0 else 0.0'),
    ('src/nanobook_risk/engine.py', 'Status.WARN if notional > self._max_trade_cents()', 'Status.WARN if notional >= self._max_trade_cents()'),
    ('src/nanobook_risk/engine.py', 'sd == "sell" and post < 0 and not', 'sd == "sell" and post <= 0 and not'),
    ('src/nanobook_risk/engine.py', 'Fraction(dev * 10_000) > Fraction(lim) * ref', 'Fraction(dev * 10_000) >= Fraction(lim) * ref'),
    ('src/nanobook_risk/engine.py', 'Status.FAIL if total > lim', 'Status.FAIL if total >= lim'),
    ('src/nanobook/limits.py', 'return d - _q(equity) > _q(max_daily_loss_pct) * d', 'return d - _q(equity) >= _q(max_daily_loss_pct) * d'),
    ('src/nanobook/limits.py', 'return h - _q(equity) > _q(max_drawdown_pct) * h', 'return h - _q(equity) >= _q(max_drawdown_pct) * h'),
    ('src/nanobook_risk/engine.py', 'Status.FAIL if worst > c.max_position_pct', 'Status.FAIL if worst >= c.max_position_pct'),
    ('src/nanobook_risk/engine.py', 'Status.FAIL if lev > c.max_leverage', 'Status.FAIL if lev >= c.max_leverage'),
    ('src/nanobook_risk/engine.py', 'Status.FAIL if sp > c.max_short_pct', 'Status.FAIL if sp >= c.max_short_pct'),
    ('src/nanobook_risk/engine.py', '0 and notional > c.max_order_value_cents:', '0 and notional >= c.max_order_value_cents:'),
    ('src/nanobook_risk/engine.py', 'batch_value > c.max_batch_value_cents:', 'batch_value >= c.max_batch_value_cents:'),
    ('src/nanobook_risk/engine.py', 'if notional > max_cents:', 'if notional >= max_cents:'),
    ('src/nanobook_risk/config.py', 'if not (0.0 < x <= 1.0):', 'if not (0.0 <= x <= 1.0):'),
    ('src/nanobook_risk/config.py', 'if not (0.0 < x <= 1.0):', 'if not (0.0 < x < 1.0):'),
    ('src/nanobook_risk/config.py', 'if not (x >= 1.0 and math.isfinite(x)):', 'if not (x > 1.0 and math.isfinite(x)):'),
    ('src/nanobook_risk/config.py', 'if not (0.0 <= x <= 1.0):', 'if not (0.0 < x <= 1.0):'),
    ('src/nanobook_risk/config.py', 'if not (0.0 <= x <= 1.0):', 'if not (0.0 <= x < 1.0):'),
    ('src/nanobook_risk/config.py', 'if self.max_order_value_cents < 0:', 'if self.max_order_value_cents <= 0:'),
    ('src/nanobook_risk/config.py', 'if self.max_batch_value_cents < 0:', 'if self.max_batch_value_cents <= 0:'),
    ('src/nanobook_risk/config.py', 'dl is not None and not (0.0 <= dl <= 1.0)', 'dl is not None and not (0.0 < dl <= 1.0)'),
    ('src/nanobook_risk/config.py', 'dl is not None and not (0.0 <= dl <= 1.0)', 'dl is not None and not (0.0 <= dl < 1.0)'),
    ('src/nanobook_risk/config.py', 'pc is not None and not (pc >= 0.0 and', 'pc is not None and not (pc > 0.0 and'),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ['tests/risk/test_boundaries.py']))
