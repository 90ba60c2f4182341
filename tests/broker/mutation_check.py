"""Mutation check of the documented broker limits: each flip must make
tests/broker/test_limits.py fail (runner and usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/broker/mutation_check.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutate import run  # noqa: E402

MUTANTS = [
    ('src/nanobook_broker/base.py', 'if not (1 <= len(s) <= 36) or not s.isascii():', 'if not (1 <= len(s) < 36) or not s.isascii():'),
    ('src/nanobook_broker/paper.py', 'return last >= stop if o["side"] == "buy" else last <= stop', 'return last > stop if o["side"] == "buy" else last <= stop'),
    ('src/nanobook_broker/paper.py', 'return last >= stop if o["side"] == "buy" else last <= stop', 'return last >= stop if o["side"] == "buy" else last < stop'),
    ('src/nanobook_broker/binance.py', '            if wait > self.max_wait:', '            if wait >= self.max_wait:'),
    ('src/nanobook_broker/binance.py', '                if attempt >= self.max_retries or wait > self.max_backoff:\n                    raise\n                log.warning("binance rate limited (code', '                if attempt >= self.max_retries or wait >= self.max_backoff:\n                    raise\n                log.warning("binance rate limited (code'),
    ('src/nanobook_broker/binance.py', 'if not (0 <= self.unknown_outcome_window <= 600):', 'if not (0 < self.unknown_outcome_window <= 600):'),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ['tests/broker/test_limits.py']))
