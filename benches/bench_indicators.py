"""Benchmark: every indicator on 1M points, ours against nanobook 0.19.2.

Both sides run in worker processes started the same way (the reference in
its own virtualenv, ours with this interpreter), each loading the same data
(a seeded random walk written to a temporary .npz file) and keeping it as
Python lists (the reference's calling convention: lists in, lists out) and,
for ours, also as numpy arrays (no list conversion).  The driver then asks
the workers in turn for a small batch of timed calls of one indicator, so the
two sides alternate every few calls and a busy moment on the shared machine
hits both alike; the order of the sides is reversed every round.  The table
reports the median time of all calls per indicator and side, and the
speed-up as the median over rounds of the ratio of the two sides' batch
medians in that round (paired, so a slow drift of the machine's load
cancels out).

    python benches/bench_indicators.py [--n 1000000] [--repeat 2] [--rounds 15]
        [--ref-python PATH]   (default $NANOBOOK_REF_PYTHON or .venv/ref/bin/python,
                               which `make bench` creates with nanobook==0.19.2)

Prints one row per indicator: median ms for the reference, for ours (lists)
and ours (numpy), and the speed-ups ``reference / ours`` (> 1 means we are
faster); ``range`` is the spread (10th-90th percentile) of the per-round
ratios for lists.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

# name -> (input kind, positional parameters)
CASES = {
    "sma": ("c", (20,)), "ema": ("c", (20,)), "rsi": ("c", (14,)), "macd": ("c", (12, 26, 9)),
    "bbands": ("c", (20, 2.0, 2.0)), "atr": ("hlc", (14,)), "natr": ("hlc", (14,)),
    "trange": ("hlc", ()), "stoch": ("hlc", (5, 3, 3)), "stochf": ("hlc", (5, 3)),
    "stochrsi": ("c", (14, 5, 3)), "plus_di": ("hlc", (14,)), "minus_di": ("hlc", (14,)),
    "dx": ("hlc", (14,)), "adx": ("hlc", (14,)), "cci": ("hlc", (14,)), "willr": ("hlc", (14,)),
    "ultosc": ("hlc", (7, 14, 28)), "mom": ("c", (10,)), "roc": ("c", (10,)),
    "rocp": ("c", (10,)), "rocr": ("c", (10,)), "obv": ("cv", ()), "ad": ("hlcv", ()),
    "adosc": ("hlcv", (3, 10)),
}

# One worker per side.  Requests on stdin, one JSON line each:
# [name, "list" | "np", repeat]; reply: a JSON list of per-call seconds.
# The name "_alloc" times ndarray.tolist() of the close series (the cost of
# one Python float per point, for scale).
WORKER = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import nanobook
    data = np.load(sys.argv[1])
    cases = json.loads(sys.argv[2])
    arrays = {k: np.ascontiguousarray(data[k]) for k in "hlcv"}
    lists = {k: a.tolist() for k, a in arrays.items()}
    print("ready", flush=True)
    for line in sys.stdin:
        name, mode, repeat = json.loads(line)
        times = []
        if name == "_alloc":
            a = arrays["c"]
            for _ in range(repeat):
                t = time.perf_counter()
                a.tolist()
                times.append(time.perf_counter() - t)
        else:
            kind, params = cases[name]
            cols = lists if mode == "list" else arrays
            f = getattr(nanobook, "py_" + name)
            args = [cols[k] for k in kind] + list(params)
            for _ in range(repeat):
                t = time.perf_counter()
                f(*args)
                times.append(time.perf_counter() - t)
        print(json.dumps(times), flush=True)
""")


def make_data(n: int) -> dict:
    rng = np.random.default_rng(20240101)
    c = 100.0 + np.cumsum(rng.normal(0, 0.5, n))
    c = np.round(np.abs(c) + 1.0, 2)
    h = np.round(c + np.abs(rng.normal(0, 0.4, n)), 2)
    lo = np.round(c - np.abs(rng.normal(0, 0.4, n)), 2)
    v = np.round(rng.uniform(1e3, 1e6, n))
    return {"h": h, "l": lo, "c": c, "v": v}


class Worker:
    def __init__(self, python: str, data_path: str, cwd: str, *, reference: bool = False):
        # OpenBLAS' idle threads would otherwise spin on the second core
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        if reference:  # this checkout on PYTHONPATH would shadow the installed 0.19
            env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [python, "-c", WORKER, data_path, json.dumps(CASES)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd, env=env,
        )
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise RuntimeError(f"worker {python} failed to start")

    def run(self, name: str, mode: str, repeat: int) -> list:
        self.proc.stdin.write(json.dumps([name, mode, repeat]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2, help="calls per batch")
    ap.add_argument("--rounds", type=int, default=15,
                    help="batches per indicator and side (sides alternate batch by batch)")
    ap.add_argument("--ref-python",
                    default=os.environ.get("NANOBOOK_REF_PYTHON", ".venv/ref/bin/python"))
    args = ap.parse_args(argv)

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ref_python = os.path.abspath(args.ref_python)  # the worker runs in another directory
    have_ref = os.path.exists(ref_python)
    names = ["_alloc"] + list(CASES)
    # samples[side][name] = one list of per-call seconds per round
    samples = {side: {nm: [] for nm in names} for side in ("ref", "list", "np")}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, **make_data(args.n))
        # the reference runs from an empty directory so that it cannot import
        # this checkout; ours runs from the repository root
        ref = Worker(ref_python, path, tmp, reference=True) if have_ref else None
        ours = Worker(sys.executable, path, repo)
        try:
            for rnd in range(max(1, args.rounds)):
                for nm in names:
                    sides = [("ref", ref, "list"), ("list", ours, "list"), ("np", ours, "np")]
                    if nm == "_alloc":
                        sides = sides[:2]
                    if rnd % 2:
                        sides.reverse()
                    for side, worker, mode in sides:
                        if worker is not None:
                            samples[side][nm].append(worker.run(nm, mode, args.repeat))
        finally:
            ours.close()
            if ref is not None:
                ref.close()

    def med(side, nm):
        s = [t for batch in samples[side][nm] for t in batch]
        return statistics.median(s) * 1e3 if s else float("nan")

    def ratios(side, nm):
        """Per-round ratios reference / side of the batch medians, sorted."""
        pairs = zip(samples["ref"][nm], samples[side][nm])
        return sorted(statistics.median(r) / statistics.median(o) for r, o in pairs)

    def speedup(side, nm):
        rs = ratios(side, nm)
        return statistics.median(rs) if rs else float("nan")

    def spread(nm):
        rs = ratios("list", nm)
        if not rs:
            return "n/a"
        lo = rs[int(0.1 * (len(rs) - 1))]
        hi = rs[int(round(0.9 * (len(rs) - 1)))]
        return f"{lo:.2f}-{hi:.2f}"

    count = max(1, args.rounds) * args.repeat
    print(f"indicators on {args.n:,} points, {count} calls per side "
          f"({args.rounds} alternating rounds of {args.repeat}); times are medians; "
          "speed-up = reference / ours (median of the per-round ratios), > 1 means "
          "nanobook is faster")
    hdr = (f"{'indicator':<10} {'ref ms':>8} {'ours ms':>8} {'np ms':>7} "
           f"{'speed-up':>9} {'range':>10} {'np speed-up':>12}")
    print(hdr)
    print("-" * len(hdr))
    slower = []
    for nm in CASES:
        r, ol, oa = med("ref", nm), med("list", nm), med("np", nm)
        sl, sa = speedup("list", nm), speedup("np", nm)
        print(f"{nm:<10} {r:>8.2f} {ol:>8.2f} {oa:>7.2f} {sl:>8.2f}x {spread(nm):>10} {sa:>11.2f}x")
        if have_ref and not sl >= 1.0:
            slower.append(nm)
    if have_ref:
        r, ol = med("ref", "_alloc"), med("list", "_alloc")
        print(f"{'baseline':<10} {r:>8.2f} {ol:>8.2f} {'':>7} {speedup('list', '_alloc'):>8.2f}x "
              "  <- ndarray.tolist() of the close series in each worker")
        print("  (a list result costs one Python float per point: the baseline row is that cost "
              "alone, for scale)")
    if not have_ref:
        print(f"(reference interpreter {args.ref_python} not found: reference column is NaN)")
    elif slower:
        print("slower than the reference (lists): " + ", ".join(slower))
    else:
        print("at least as fast as the reference on every indicator (lists in, lists out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
