"""Benchmark ``backtest_weights`` against the reference nanobook 0.19.2 and vectorbt.

Every measurement runs in its own subprocess (so peak memory is per run):
ours with this interpreter, the reference with ``--ref-python`` (default
``$NANOBOOK_REF_PYTHON`` or ``.venv/ref/bin/python``, a virtualenv where nanobook 0.19.2 is installed;
it is run from a temporary directory so it imports the installed package),
vectorbt with ``--vbt-python`` (default ``$NANOBOOK_PEER_PYTHON`` or ``.venv/peers/bin/python``, a
virtualenv with ``pip install vectorbt``; ``--vbt-python ''`` skips it).
Inputs are generated once, saved to an ``.npz`` and loaded by every side;
every row also checks that ours produced the reference's final equity to the
cent (the arithmetic is exact), and that our ``convention="cash_limited"``
ends within 1e-9 of vectorbt's.

vectorbt runs ``Portfolio.from_orders(close, size=w, size_type="targetpercent",
group_by=True, cash_sharing=True, call_seq="auto", fees=...)`` and the timed
call includes ``.value()`` (the equity curve, which ours returns too); its
numba functions are compiled in a warm-up call on a small slice first, so the
time is the simulation, not the JIT.

Cases (daily rebalance unless noted):

* ``momentum``: 12-1 momentum (top 5) on the bundled S&P 100 panel, 20 x 1849,
  monthly targets restated every day (the reference cannot express "hold");
* ``random``: daily random long-only weights on the same panel;
* ``synth-500``: synthetic prices, 500 symbols x 2520 days;
* ``synth-2000``: 2000 symbols x 5040 days (``--large``; the reference needs
  about 20 s and 3 GB).

Our input styles: ``ndarray`` (float currency), ``DataFrame`` and ``lists``
(the reference's tuples and ``BarPrices``), all in the default integer
convention, and ``cash_limited`` (ndarray input, vectorbt's convention). Times are the ``backtest_weights``
call; "build" is the time to build the list inputs (reference only needs them).

Usage::

    python benches/bench_backtest.py [--large] [--repeat 3] [--ref-python PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

COST_BPS = 10.0
CASH_CENTS = 100_000_000


# ----------------------------------------------------------------------------- inputs

def make_case(name: str, folder: str) -> str:
    path = os.path.join(folder, f"{name}.npz")
    if name in ("momentum", "random"):
        from nanobook.datasets import load_sp100
        from nanobook.portfolio.demo import momentum_weights

        close = load_sp100("close")
        syms = list(close.columns)
        cents = np.round(close.to_numpy() * 100.0).astype(np.int64)
        if name == "momentum":
            w = momentum_weights(close, top=5).ffill().fillna(0.0).to_numpy()
        else:
            rng = np.random.default_rng(1)
            w = rng.random(cents.shape)
            w /= w.sum(axis=1, keepdims=True)
    else:
        N, T = {"synth-500": (500, 2520), "synth-2000": (2000, 5040)}[name]
        rng = np.random.default_rng(0)
        px = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (T, N)), axis=0))
        cents = np.round(px * 100.0).astype(np.int64)
        w = rng.random((T, N))
        w /= w.sum(axis=1, keepdims=True)
        syms = [f"S{j:04d}" for j in range(N)]
    np.savez(path, cents=cents, w=w, syms=np.array(syms))
    return path


# ----------------------------------------------------------------------------- workers

def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(side: str, path: str, style: str, repeat: int) -> dict:
    d = np.load(path)
    cents, w, syms = d["cents"], d["w"], [str(s) for s in d["syms"]]
    base_rss = _maxrss_mb()
    if side == "vbt":
        import pandas as pd
        import vectorbt as vbt

        prices = cents / 100.0
        idx = pd.RangeIndex(len(w))

        def call(wv, pv):
            pf = vbt.Portfolio.from_orders(
                pd.DataFrame(pv, index=idx[: len(pv)], columns=syms[: pv.shape[1]]),
                size=pd.DataFrame(wv, index=idx[: len(wv)], columns=syms[: wv.shape[1]]),
                size_type="targetpercent", group_by=True, cash_sharing=True, call_seq="auto",
                fees=COST_BPS / 10000.0, init_cash=CASH_CENTS / 100.0, freq="1D")
            return pf.value().to_numpy()

        call(w[:20, :5] / w[:20, :5].sum(axis=1, keepdims=True), prices[:20, :5])  # numba compile / cache load
        times, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            eq = call(w, prices)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        input_mb = (cents.nbytes + w.nbytes) / 2**20
        return {"build": 0.0, "run": min(times), "cpu": min(cpus), "final": float(eq[-1]) * 100.0,
                "rss_mb": _maxrss_mb(), "base_rss_mb": base_rss, "input_mb": input_mb}
    if side == "ref":
        import nanobook as nb

        t0 = time.perf_counter()
        BP = nb.BarPrices
        ws = [list(zip(syms, row)) for row in w.tolist()]
        ps = [[(s, BP(p, p, p, p)) for s, p in zip(syms, row)] for row in cents.tolist()]
        build = time.perf_counter() - t0
        times, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            r = nb.backtest_weights(ws, ps, CASH_CENTS, nb.CostModel(COST_BPS), nb.FillPolicy.SignalBarClose)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        final = r["equity_curve"][-1]
    else:
        from nanobook.portfolio import BarPrices, CostModel, FillPolicy, backtest_weights

        build = 0.0
        if style == "lists":
            t0 = time.perf_counter()
            ws = [list(zip(syms, row)) for row in w.tolist()]
            ps = [[(s, BarPrices(p, p, p, p)) for s, p in zip(syms, row)] for row in cents.tolist()]
            build = time.perf_counter() - t0
            args = (ws, ps, CASH_CENTS, CostModel(COST_BPS), FillPolicy.SignalBarClose)
        else:
            prices = cents / 100.0
            if style == "DataFrame":
                import pandas as pd

                idx = pd.RangeIndex(len(w))
                args = (pd.DataFrame(w, index=idx, columns=syms), pd.DataFrame(prices, index=idx, columns=syms),
                        CASH_CENTS / 100.0, CostModel(COST_BPS), FillPolicy.SignalBarClose)
            else:
                args = (w, prices, CASH_CENTS / 100.0, CostModel(COST_BPS), FillPolicy.SignalBarClose)
        kw = {} if style != "ndarray" else {"symbols": syms}
        if style == "cash_limited":  # ndarray input, vectorbt's convention
            args = (w, cents / 100.0, CASH_CENTS / 100.0, CostModel(COST_BPS), FillPolicy.SignalBarClose)
            kw = {"symbols": syms, "convention": "cash_limited"}
        times, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            r = backtest_weights(*args, **kw)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        final = r["equity_curve"][-1]
        del r
        traced = None
        if style != "lists":  # Python-object inputs would only measure the interpreter
            import gc
            import tracemalloc

            gc.collect()
            tracemalloc.start()
            r = backtest_weights(*args, **kw)
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    if isinstance(final, float):
        return {"build": build, "run": min(times), "cpu": min(cpus), "final": final, "rss_mb": _maxrss_mb(),
                "base_rss_mb": base_rss, "input_mb": (cents.nbytes + w.nbytes) / 2**20, "traced_mb": traced}
    input_mb = (cents.nbytes + w.nbytes) / 2**20
    return {"build": build, "run": min(times), "cpu": min(cpus), "final": int(final), "rss_mb": _maxrss_mb(),
            "base_rss_mb": base_rss, "input_mb": input_mb, "traced_mb": None if side == "ref" else traced}


def spawn(python: str, side: str, path: str, style: str, repeat: int, cwd: str | None) -> dict:
    env = dict(os.environ)
    if side in ("ref", "vbt"):
        env.pop("PYTHONPATH", None)
    cmd = [python, os.path.abspath(__file__), "--worker", side, "--path", path, "--style", style,
           "--repeat", str(repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{side}/{style} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", choices=["ours", "ref", "vbt"])
    ap.add_argument("--path")
    ap.add_argument("--style", default="ndarray")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large", action="store_true", help="also run 2000 x 5040")
    ap.add_argument("--ref-python", default=os.environ.get("NANOBOOK_REF_PYTHON", ".venv/ref/bin/python"))
    ap.add_argument("--vbt-python", default=os.environ.get("NANOBOOK_PEER_PYTHON", ".venv/peers/bin/python"))
    ap.add_argument("--cases", default="momentum,random,synth-500")
    args = ap.parse_args()
    # the workers run from a temporary folder: relative interpreter paths are the caller's
    args.ref_python = os.path.abspath(args.ref_python) if args.ref_python else args.ref_python
    args.vbt_python = os.path.abspath(args.vbt_python) if args.vbt_python else args.vbt_python
    if args.worker:
        print(json.dumps(worker(args.worker, args.path, args.style, args.repeat)))
        return 0
    cases = args.cases.split(",") + (["synth-2000"] if args.large else [])
    if args.vbt_python and not os.path.exists(args.vbt_python):
        print(f"vectorbt interpreter {args.vbt_python} not found (`make peers` creates it); running without it")
        args.vbt_python = ""
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    print(f"backtest_weights, daily SignalBarClose, {COST_BPS:g} bps; best of {args.repeat}; "
          f"reference = nanobook 0.19.2 ({args.ref_python}); vectorbt from {args.vbt_python or '(skipped)'}")
    hdr = (f"{'case':<11} {'T x N':>11} {'impl/input':<18} {'wall s':>8} {'cpu s':>8} {'ratio':>7} {'build s':>8} "
           f"{'peak MB':>8} {'input MB':>8} {'extra MB':>8} {'vs vbt':>7}  same")
    print(hdr)
    print("-" * len(hdr))
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            path = make_case(case, tmp)
            d = np.load(path)
            shape = f"{d['cents'].shape[0]}x{d['cents'].shape[1]}"
            rep = 1 if case == "synth-2000" else args.repeat
            ref = spawn(args.ref_python, "ref", path, "lists", rep, cwd=tmp)
            print(f"{case:<11} {shape:>11} {'0.19.2 / lists':<18} {ref['run']:8.3f} {ref['cpu']:8.3f} {1.0:7.3f} "
                  f"{ref['build']:8.3f} "
                  f"{ref['rss_mb']:8.0f} {ref['input_mb']:8.1f} {'-':>8}")
            vb = spawn(args.vbt_python, "vbt", path, "vbt", rep, cwd=tmp) if args.vbt_python else None
            if vb is not None:
                print(f"{'':<11} {'':>11} {'vectorbt':<18} {vb['run']:8.3f} {vb['cpu']:8.3f} "
                      f"{vb['cpu'] / ref['cpu']:7.3f} {vb['build']:8.3f} {vb['rss_mb']:8.0f} {vb['input_mb']:8.1f} "
                      f"{'-':>8}")
            for style in ("ndarray", "DataFrame", "lists", "cash_limited"):
                o = spawn(sys.executable, "ours", path, style, rep, cwd=repo)
                if style == "cash_limited":
                    if vb is None:
                        same = ""
                    else:
                        rel = abs(o["final"] - vb["final"]) / abs(vb["final"])
                        same = f"vbt rel {rel:.1e}" + ("" if rel <= 1e-9 else " NO")
                else:
                    same = "yes" if o["final"] == ref["final"] else f"NO ({o['final']} vs {ref['final']})"
                vs = f"{o['cpu'] / vb['cpu']:7.3f}" if vb is not None else f"{'-':>7}"
                tr = f"{o['traced_mb']:8.1f}" if o.get("traced_mb") is not None else f"{'-':>8}"
                print(f"{'':<11} {'':>11} {'ours / ' + style:<18} {o['run']:8.3f} {o['cpu']:8.3f} "
                      f"{o['cpu'] / ref['cpu']:7.3f} "
                      f"{o['build']:8.3f} {o['rss_mb']:8.0f} {o['input_mb']:8.1f} {tr} {vs}  {same}")
            sys.stdout.flush()
    print("ratio = CPU time / the reference's CPU time for the call (lower is better; CPU time because the")
    print("machine is shared, wall times are shown too); vs vbt = our CPU time / vectorbt's;")
    print("peak MB = the process's max RSS (interpreter and inputs included); extra MB = tracemalloc's peak")
    print("during one call (what the call allocates beyond its inputs, result included);")
    print("same = ours ends at the reference's equity to the cent")
    print("(cash_limited: relative difference of the final equity from vectorbt's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
