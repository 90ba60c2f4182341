"""Order-book speed: nanobook (this checkout) against the reference nanobook 0.19.2.

Both sides run in the same invocation: ours in this process, the reference
in a subprocess of the interpreter given by ``--ref-python`` (default:
``$NANOBOOK_REF_PYTHON`` or ``.venv/ref/bin/python``, which ``make bench``
creates with ``pip install nanobook==0.19.2``; the two packages share a name
so they cannot live in one virtualenv).  Prints ns/op per Python call, batch
throughput on a mixed stream, bytes per resting order, and the ratios.

    python benches/bench_engine.py [--n 200000] [--batch 1000000]

The mixed stream only cancels or modifies orders at price levels that have
not traded since they were created: the reference corrupts its queues (and
can hang) when an order behind a fill is cancelled.
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time

# OpenBLAS worker threads spin on the second core after numpy starts; nothing
# here uses BLAS, so keep them from stealing cycles from the timed loops.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402


# ---------------------------------------------------------------------------
# the workloads (run identically on both implementations)
# ---------------------------------------------------------------------------


def ref_env() -> dict:
    """The reference's environment: without PYTHONPATH, which would put this
    checkout's ``nanobook`` ahead of the installed 0.19 (the two share a name)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

def _timed(fn, n):
    gc.collect()
    gc.disable()
    t0 = time.perf_counter_ns()
    fn()
    dt = time.perf_counter_ns() - t0
    gc.enable()
    return dt / n


def _workloads(nb, n):
    """(name, setup) pairs; ``setup()`` builds a fresh book and returns
    ``(timed_loop, calls)``.  Every loop is the same on both sides."""
    rng = np.random.default_rng(7)
    prices = [int(p) for p in 10_000 - 1 - rng.integers(0, 200, n)]   # bids below 10_000
    sells = [int(p) for p in 10_000 + rng.integers(0, 200, n)]
    newp = [p - 1 for p in prices]

    def submit_no_match():
        ex = nb.Exchange()
        sub = ex.submit_limit

        def loop():
            for p in prices:
                sub("buy", p, 10)
        return loop, n

    def submit_match():             # one resting sell per aggressive buy: one trade per call
        ex = nb.Exchange()
        for p in sells:
            ex.submit_limit("sell", p, 10)
        sub = ex.submit_limit

        def loop():
            for _ in range(n):
                sub("buy", 20_000, 10)
        return loop, n

    def ioc_sweep():                # IOC sweeps of 5 levels, 2 orders each, on a deep book
        ex = nb.Exchange()
        m = n // 10
        for i in range(5 * m + 5):
            ex.submit_limit("sell", 10_000 + i, 5)
            ex.submit_limit("sell", 10_000 + i, 5)
        sub = ex.submit_limit

        def loop():
            for i in range(m):
                sub("buy", 10_000 + 5 * i + 4, 50, "ioc")
        return loop, m

    def cancel():
        ex = nb.Exchange()
        ids = [ex.submit_limit("buy", p, 10).order_id for p in prices]
        c = ex.cancel

        def loop():
            for i in ids:
                c(i)
        return loop, n

    def modify():
        ex = nb.Exchange()
        ids = [ex.submit_limit("buy", p, 10).order_id for p in prices]
        mod = ex.modify

        def loop():
            for i, p in zip(ids, newp):
                mod(i, p, 10)
        return loop, n

    def two_sided():
        ex = nb.Exchange()
        for i in range(100):
            ex.submit_limit("buy", 9_999 - i, 10)
            ex.submit_limit("sell", 10_001 + i, 10)
        return ex

    def bba():
        f = two_sided().best_bid_ask

        def loop():
            for _ in range(n):
                f()
        return loop, n

    def depth():
        f = two_sided().depth

        def loop():
            for _ in range(n):
                f(10)
        return loop, n

    return [("submit (no match)", submit_no_match), ("submit (1 fill)", submit_match),
            ("IOC sweep (5 levels)", ioc_sweep), ("cancel", cancel), ("modify", modify),
            ("best_bid_ask", bba), ("depth(10)", depth)]


def per_call(nb, n, repeat=3):
    """ns/op of each Python-level call, best of ``repeat`` runs on fresh books."""
    out = {}
    for name, setup in _workloads(nb, n):
        best = float("inf")
        for _ in range(repeat):
            loop, calls = setup()
            best = min(best, _timed(loop, calls))
        out[name] = best
    return out


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_per_order(nb, n, **kwargs):
    """Resident bytes per resting order for ``n`` orders (RSS delta)."""
    gc.collect()
    before = rss_bytes()
    ex = nb.Exchange(**kwargs)
    sub = ex.submit_limit
    for i in range(n):
        sub("buy", 1_000_000 - (i % 5000), 1)
    after = rss_bytes()
    assert ex.best_bid() is not None
    return (after - before) / n


# ---------------------------------------------------------------------------
# the mixed stream for the batch path (built with our engine, replayed on both)
# ---------------------------------------------------------------------------

def mixed_stream(n, seed=1):
    """``n`` operations as an EVENT_DTYPE array: 55 % passive limits around a
    drifting mid, 15 % marketable (IOC limits and market orders), 25 % cancels,
    5 % modifies; cancels/modifies only target orders at untraded levels."""
    import nanobook as nb
    from nanobook import dtypes as d

    rng = np.random.default_rng(seed)
    ops = np.zeros(n, dtype=d.EVENT_DTYPE)
    ex = nb.Exchange(event_log=False)
    live = []             # (id, side, price) of resting orders at untraded levels
    traded = set()        # (side, price) levels that printed a trade while alive
    mid = 100_000
    u = rng.random(n)
    sides = rng.integers(0, 2, n)
    offs = rng.integers(1, 30, n)
    qtys = rng.integers(1, 100, n)
    for i in range(n):
        if i % 1000 == 0:
            mid += int(rng.integers(-5, 6))
        side = int(sides[i])
        x = u[i]
        op = ops[i]
        if x < 0.55 or not live:
            price = mid - int(offs[i]) if side == 0 else mid + int(offs[i])
            op["kind"], op["side"], op["price"], op["quantity"] = d.SUBMIT_LIMIT, side, price, int(qtys[i])
            r = ex.submit_limit("buy" if side == 0 else "sell", price, int(qtys[i]))
            for t in r.trades:              # a "passive" order can cross a moved book
                traded.add((1 - side, t.price))
            if r.resting_quantity:
                live.append((r.order_id, side, price))
        elif x < 0.70:
            q = int(qtys[i]) * 3
            if x < 0.65:
                price = mid + 3 if side == 0 else mid - 3
                op["kind"], op["side"], op["price"], op["quantity"], op["tif"] = d.SUBMIT_LIMIT, side, price, q, d.IOC
                r = ex.submit_limit("buy" if side == 0 else "sell", price, q, "ioc")
            else:
                op["kind"], op["side"], op["quantity"] = d.SUBMIT_MARKET, side, q
                r = ex.submit_market("buy" if side == 0 else "sell", q)
            for t in r.trades:
                traded.add((1 - side, t.price))
        else:
            j = int(rng.integers(0, len(live)))
            oid, s, p = live[j]
            live[j] = live[-1]
            live.pop()
            o = ex.get_order(oid)
            if o is None or o.status not in ("new",) or (s, p) in traded:
                # not a clean target: submit a passive order instead
                price = mid - int(offs[i]) if side == 0 else mid + int(offs[i])
                op["kind"], op["side"], op["price"], op["quantity"] = d.SUBMIT_LIMIT, side, price, int(qtys[i])
                r = ex.submit_limit("buy" if side == 0 else "sell", price, int(qtys[i]))
                for t in r.trades:
                    traded.add((1 - side, t.price))
                if r.resting_quantity:
                    live.append((r.order_id, side, price))
                continue
            if x < 0.95:
                op["kind"], op["order_id"] = d.CANCEL, oid
                ex.cancel(oid)
            else:
                price = p - 1 if s == 0 else p + 1
                op["kind"], op["order_id"], op["price"], op["quantity"] = d.MODIFY, oid, price, int(qtys[i])
                r = ex.modify(oid, price, int(qtys[i]))
                if r.trades:
                    for t in r.trades:
                        traded.add((1 - s, t.price))
                elif r.new_order_id is not None and (s, price) not in traded:
                    live.append((r.new_order_id, s, price))
        # levels that emptied are fresh again when re-created
        if i % 256 == 0 and traded:
            bids = {lv.price for lv in ex.full_book().bids}
            asks = {lv.price for lv in ex.full_book().asks}
            traded = {(s, p) for (s, p) in traded if p in (bids if s == 0 else asks)}
    return ops


def ours_batch(ops, repeat=3):
    import nanobook as nb
    best = {}
    for log in (True, False):
        times = []
        for _ in range(repeat):
            ex = nb.Exchange(event_log=log)
            gc.collect()
            t0 = time.perf_counter()
            fills = ex.apply(ops)
            times.append(time.perf_counter() - t0)
        best[log] = (min(times), len(fills))
    return best


# ---------------------------------------------------------------------------
# reference side (runs in the reference's virtualenv)
# ---------------------------------------------------------------------------

REF_KIND = {1: "submit_limit", 2: "submit_market", 3: "cancel", 4: "modify"}


def ref_main(args):
    import nanobook as nb
    res = {"version": nb.__version__}
    res["per_call"] = per_call(nb, args.n)
    ops = np.load(args.ops)
    side = ("buy", "sell")
    tif = ("gtc", "ioc", "fok")
    ex = nb.Exchange()
    calls = []
    for op in ops.tolist():
        k, s, t = op[0], op[1], op[2]
        if k == 1:
            calls.append((ex.submit_limit, (side[s], op[6], op[8], tif[t])))
        elif k == 2:
            calls.append((ex.submit_market, (side[s], op[8])))
        elif k == 3:
            calls.append((ex.cancel, (op[5],)))
        else:
            calls.append((ex.modify, (op[5], op[6], op[8])))
    gc.collect()
    t0 = time.perf_counter()
    for f, a in calls:
        f(*a)
    res["loop_s"] = time.perf_counter() - t0
    events = ex.events()
    times = []
    for _ in range(3):
        gc.collect()
        t0 = time.perf_counter()
        again = nb.Exchange.replay(events)
        times.append(time.perf_counter() - t0)
    res["replay_s"] = min(times)
    res["trades"] = len(again.trades())
    json.dump(res, sys.stdout)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="calls per per-call figure")
    ap.add_argument("--batch", type=int, default=1_000_000, help="operations in the mixed stream")
    ap.add_argument("--mem-orders", type=int, default=1_000_000, help="resting orders for the memory figure")
    ap.add_argument("--ref-python", default=os.environ.get("NANOBOOK_REF_PYTHON", ".venv/ref/bin/python"))
    ap.add_argument("--ref", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ops", help=argparse.SUPPRESS)
    ap.add_argument("--memory-worker", choices=["on", "off", "ref"], help=argparse.SUPPRESS)
    ap.add_argument("--calls-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--batch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.calls_worker:
        import nanobook as nb
        json.dump(per_call(nb, args.n), sys.stdout)
        return
    if args.batch_worker:
        json.dump({str(k): v for k, v in ours_batch(np.load(args.ops)).items()}, sys.stdout)
        return
    if args.memory_worker:
        import nanobook as nb
        kw = {"event_log": False} if args.memory_worker == "off" else {}
        print(memory_per_order(nb, args.mem_orders, **kw))
        return
    if args.ref:
        return ref_main(args)

    def memory(python, mode):
        """Bytes per resting order, measured in a fresh process (no reused heap)."""
        env = ref_env() if python == args.ref_python else None
        out = subprocess.run([python, os.path.abspath(__file__), "--memory-worker", mode,
                              "--mem-orders", str(args.mem_orders)],
                             capture_output=True, text=True, cwd=tempfile.gettempdir(), env=env)
        return float(out.stdout) if out.returncode == 0 else float("nan")

    import nanobook as nb
    print(f"building a mixed stream of {args.batch:,} operations ...", flush=True)
    ops = mixed_stream(args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ops.npy")
        np.save(path, ops)
        ref = None
        if os.path.exists(args.ref_python):
            print(f"running the reference ({args.ref_python}) ...", flush=True)
            cmd = [args.ref_python, os.path.abspath(__file__), "--ref", "--ops", path,
                   "--n", str(args.n), "--mem-orders", str(args.mem_orders)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=ref_env())
            if proc.returncode:
                print(proc.stderr)
            else:
                ref = json.loads(proc.stdout)
        else:
            print(f"reference interpreter {args.ref_python} not found: `make bench` creates it")
    print("running nanobook ...", flush=True)
    # our figures in fresh processes, like the reference's: building the
    # stream above leaves this process's heap large and fragmented
    def worker(*extra):
        out = subprocess.run([sys.executable, os.path.abspath(__file__), *extra],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    ours = worker("--calls-worker", "--n", str(args.n))
    mem_on = memory(sys.executable, "on")
    mem_off = memory(sys.executable, "off")
    mem_ref = memory(args.ref_python, "ref") if ref else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ops.npy")
        np.save(path, ops)
        batch = {k == "True": tuple(v) for k, v in worker("--batch-worker", "--ops", path).items()}

    print()
    print(f"nanobook {nb.__version__} vs reference {ref['version'] if ref else '(missing)'}; "
          f"per-call figures over {args.n:,} calls, best of 3")
    print(f"{'operation':<24}{'ours ns/op':>12}{'ref ns/op':>12}{'ours/ref':>10}")
    for k, v in ours.items():
        r = ref["per_call"][k] if ref else float("nan")
        print(f"{k:<24}{v:>12.1f}{r:>12.1f}{v / r:>10.2f}")
    print()
    n = len(ops)
    t_on, fills = batch[True]
    t_off, _ = batch[False]
    print(f"batch: {n:,} mixed operations, {fills:,} trades")
    print(f"  ours Exchange.apply, event log on : {n / t_on / 1e6:8.2f} M ops/s")
    print(f"  ours Exchange.apply, event log off: {n / t_off / 1e6:8.2f} M ops/s")
    if ref:
        print(f"  ref  Exchange.replay(events)      : {n / ref['replay_s'] / 1e6:8.2f} M ops/s "
              f"({ref['trades']:,} trades)  ours/ref time {t_on / ref['replay_s']:.3f}")
        print(f"  ref  Python loop of calls         : {n / ref['loop_s'] / 1e6:8.2f} M ops/s")
    print()
    print(f"memory, {args.mem_orders:,} resting orders (RSS delta per order):")
    print(f"  ours, event log on : {mem_on:6.1f} B/order")
    print(f"  ours, event log off: {mem_off:6.1f} B/order")
    if ref:
        print(f"  ref               : {mem_ref:6.1f} B/order")


if __name__ == "__main__":
    main()
