"""Threads on one ``ItchBook``: its feed releases the GIL, so every other call
on the book meanwhile (a query, a second feed) raises RuntimeError instead of
reading memory the feed reallocates.  Run in a child interpreter so a crash
is a failed test; ``NANOBOOK_STRESS_ROUNDS`` lengthens the run."""
import os
import subprocess
import sys

import pytest

from .conftest import DATA

ROUNDS = int(os.environ.get("NANOBOOK_STRESS_ROUNDS", "1500"))

STRESS = r"""
import gzip, random, sys, threading, traceback
import numpy as np
from nanobook.feeds.itch_book import ItchBook

sys.setswitchinterval(1e-5)
path, rounds = sys.argv[1], int(sys.argv[2])
raw = gzip.decompress(open(path, "rb").read())
chunks = [raw[i:i + 3001] for i in range(0, len(raw), 3001)]     # splits messages
book = ItchBook(depth=3, lenient=True, record_snapshots=True)
stats = {"ok": 0, "refused": 0}
errors = []
fed = threading.Event()

def refused(exc):
    if "cannot run now" not in str(exc) or "ItchBook" not in str(exc):
        raise exc
    stats["refused"] += 1

def feeder():
    try:
        for c in chunks:
            while True:
                try:
                    book.feed(c)
                    break
                except RuntimeError as exc:
                    refused(exc)
    except BaseException:
        errors.append(traceback.format_exc())
    finally:
        fed.set()

def querier(k):
    r = random.Random(k)
    calls = [lambda: book.n_messages, lambda: book.unknown_refs, lambda: book.n_orders,
             lambda: book.trades, lambda: book.snapshots, lambda: book.symbols(),
             lambda: book.orders(), lambda: book.check(),
             lambda: book.depth_of(r.choice(list(book.symbols().values()) or ["X"]), 3),
             lambda: book.feed(b"")]
    def one():
        try:
            r.choice(calls)()
            stats["ok"] += 1
        except RuntimeError as exc:
            refused(exc)
        except ValueError as exc:          # depth_of before the directory exists
            if "unknown" not in str(exc) and "symbol" not in str(exc):
                raise

    try:
        # at least `rounds` calls, and on while the feeder runs (a feed may
        # hold the book through all of them), then a few with the book free
        done = 0
        while done < rounds or not fed.is_set():
            one()
            done += 1
        for _ in range(20):
            one()
    except BaseException:
        errors.append(traceback.format_exc())

ts = [threading.Thread(target=feeder)] + [threading.Thread(target=querier, args=(k,)) for k in range(3)]
for t in ts: t.start()
for t in ts: t.join()
assert not errors, errors[0]
book.close()
book.check()
one = ItchBook(depth=3, lenient=True, record_snapshots=True).replay(raw)
assert (one.orders() == book.orders()).all() and (one.trades == book.trades).all()
assert (one.snapshots == book.snapshots).all() and one.n_messages == book.n_messages
print(stats["ok"], stats["refused"])
"""


def test_threaded_itch_book(tmp_path):
    """One thread feeds a real ITCH file in 3,001-byte chunks (retrying when
    refused) while three threads call every query and empty feeds: no crash,
    no hang, only the documented RuntimeError, and a book identical to a
    single-threaded replay that passes ``check()``."""
    script = tmp_path / "stress.py"
    script.write_text(STRESS)
    try:
        proc = subprocess.run(
            [sys.executable, str(script), str(DATA / "itch" / "ex20101224.TEST_ITCH_50.gz"),
             str(ROUNDS)], capture_output=True, text=True, timeout=600,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"stress run hung: {exc.stderr!r}")
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-4000:]}"
    ok, refused = map(int, proc.stdout.split())
    assert ok > 0


def test_a_query_from_inside_a_feed_is_refused_and_the_claim_released():
    """Deterministic: the data's ``__len__`` calls back into the book while
    the feed holds it: RuntimeError naming both calls, nothing consumed, and
    the claim is released on that error path (the next feed works)."""
    from nanobook.feeds._books import ItchBookCore

    core = ItchBookCore(lenient=True)

    class Reentrant:
        def __len__(self):
            core.n_orders()
            return 0

    with pytest.raises(RuntimeError, match=r"ItchBook\.n_orders\(\) cannot run now: this "
                                           r"ItchBook is in feed\(\)"):
        core.feed(Reentrant())
    assert core.counters() == (0, 0, 0) and core.n_orders() == 0
    assert core.feed(b"\x00\x0c") == 0 and core.close() == (2, 0)
