"""Mutation check of the shared price ladder (``src/nanobook/_ladder.pxd``)
as the feed books use it: each flip must make tests/feeds/test_books.py fail
(runner and usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/feeds/mutation_check.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutate import run  # noqa: E402

MUTANTS = [
    # the touch fast path: an update at the best level must find it, not insert a twin
    ('src/nanobook/_ladder.pxd', 'if n == 0 or s.key[n - 1] < k:', 'if n == 0 or s.key[n - 1] <= k:'),
    # keep the best ``depth`` levels: exactly that many
    ('src/nanobook/_ladder.pxd', 'cdef int64_t drop = s.n - depth', 'cdef int64_t drop = s.n - depth - 1'),
    # setting a level to 0 removes it (L2 feeds' "qty 0 deletes")
    ('src/nanobook/feeds/_books.pyx', """        if q <= 0:
            lad_remove_at(s, i)""", """        if q < 0:
            lad_remove_at(s, i)"""),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ['tests/feeds/test_books.py']))
