"""Mutation check of the documented engine comparisons: each flip must make
tests/engine/test_boundaries.py fail (runner and usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/engine/mutation_check.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutate import run  # noqa: E402

MUTANTS = [
    ('src/nanobook/_engine_book.pxi', 'if (s.stop_price <= p) if s.side == BUY else', 'if (s.stop_price < p) if s.side == BUY else'),
    ('src/nanobook/_engine_book.pxi', 'if s.side == BUY else (s.stop_price >= p):', 'if s.side == BUY else (s.stop_price > p):'),
    ('src/nanobook/_engine_book.pxi', '(s.side == BUY and self.last_price >= s.stop_price)', '(s.side == BUY and self.last_price > s.stop_price)'),
    ('src/nanobook/_engine_book.pxi', '(s.side == SELL and self.last_price <= s.stop_price)', '(s.side == SELL and self.last_price < s.stop_price)'),
    ('src/nanobook/_engine_book.pxi', 'while rounds < MAX_STOP_ROUNDS:', 'while rounds <= MAX_STOP_ROUNDS:'),
    ('src/nanobook/_engine_book.pxi', 'self.crossing_quantity(side, price, qty) < qty', 'self.crossing_quantity(side, price, qty) <= qty'),
    ('src/nanobook/_engine_book.pxi', 'if (o.price < best.price) if o.side == BUY else', 'if (o.price <= best.price) if o.side == BUY else'),
    ('src/nanobook/_engine_book.pxi', 'if o.side == BUY else (o.price > best.price):', 'if o.side == BUY else (o.price >= best.price):'),
    ('src/nanobook/_engine_multi.pxi', 'if len(symbol.encode("utf-8")) > _SYMBOL_MAX_BYTES:', 'if len(symbol.encode("utf-8")) >= _SYMBOL_MAX_BYTES:'),
    ('src/nanobook/_engine_args.pxi', '        if x < 0:\n            raise ValueError(f"{name} must be {what}', '        if x < -1:\n            raise ValueError(f"{name} must be {what}'),
    ('src/nanobook/_engine_args.pxi', '    if q == 0:\n        raise ValueError(f"{name} must be positive, got 0")', '    if q == 0 and False:\n        raise ValueError(f"{name} must be positive, got 0")'),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ['tests/engine/test_boundaries.py']))
