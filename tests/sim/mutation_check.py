"""Mutation check of the queue, latency and kill-switch comparisons documented in
docs/sim.md: each flip must make tests/sim/test_boundaries.py fail (runner and
usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/sim/mutation_check.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutate import run  # noqa: E402

MUTANTS = [
    ('src/nanobook/sim/_core.pyx', 'fq = self.lots(q - o.ahead)', 'fq = self.lots(q - o.ahead + 1)'),
    ('src/nanobook/sim/_core.pyx', '(passive_side == 0 and o.price > price)', '(passive_side == 0 and o.price >= price)'),
    ('src/nanobook/sim/_core.pyx', 'if o.side == our_side and o.price == price:', 'if o.side == our_side and o.price == price + 1:'),
    ('src/nanobook/sim/_core.pyx', '            if o.ahead > new:', '            if o.ahead < new:'),
    ('src/nanobook/sim/_core.pyx', '            if te == t:', '            if te == t and tr != t:'),
    ('src/nanobook/sim/_core.pyx', '            elif tp == t:', '            elif tp == t and tt != t:'),
    ('src/nanobook/sim/engine.py', 'abs(worst) > self.max_position', 'abs(worst) >= self.max_position'),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ['tests/sim/test_boundaries.py']))
