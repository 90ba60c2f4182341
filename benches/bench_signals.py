"""Speed of the learned signal: the streaming step against its FLOP floor,
onnxruntime per tick, and the simulator with the signal on and off.

    python benches/bench_signals.py [--repeat 5] [--ticks 200000]

* The core's rate: the best of ``3 x --repeat`` float32 512x512 matrix products
  on one thread (numpy's BLAS) -- the rate a well-blocked kernel reaches on
  this core.  The floor of a model is ``2 x parameters`` FLOPs at that rate.
* The step per tick: ``SSMStep.run`` over ``--ticks`` random feature rows
  (the nogil loop, what the cost per tick is) and ``SSMStep.step`` called
  from Python once per tick (what a Python strategy pays).
* onnxruntime (1 thread): one call per tick on a window of 32 ticks from a
  zero state (the stateless way to serve a sequence model), and one call
  per tick on a window of 1 tick with the state carried in and out.
* The simulator: ``SignalMarketMaker`` with and without the step on the
  synthetic flow and the bundled Binance sample, market events per second.

The core's rate and the step are the best of ``--repeat`` runs (the same
statistic on both sides of the ratio: the machine is shared and a loaded
run only adds time); the other figures the median,
in CPU time of the benchmark's thread (``time.thread_time``): the machine
is shared, and wall time there measures the other jobs too (printed for
the step as well).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BTC = ROOT / "tests" / "data" / "feeds" / "crypto" / "spot_btcusdt_20240808.head12000.gz"


def core_rate(repeat: int) -> float:
    a = np.random.default_rng(0).normal(size=(512, 512)).astype(np.float32)
    b = a.T.copy()
    a @ b
    best = min(_time(lambda: a @ b) for _ in range(3 * repeat))
    return 2 * 512 ** 3 / best


def _time(f) -> float:
    """CPU time of this thread (the machine is shared: wall time counts the
    other jobs' share of the core too; see ``_wall``)."""
    t = time.thread_time()
    f()
    return time.thread_time() - t


def _wall(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def models():
    import torch

    from nanobook.signals._torch_ssm import SelectiveSSM

    torch.manual_seed(0)
    return {"shipped (d_model 32, d_state 8)": SelectiveSSM(13, 3),
            "~20K (d_model 48, d_state 8)": SelectiveSSM(13, 3, d_model=48)}


def bench_step(repeat: int, ticks: int, rate: float) -> list[tuple]:
    from nanobook.signals import SSMStep

    X = np.random.default_rng(1).normal(size=(ticks, 13))
    rows = []
    for name, m in models().items():
        step = SSMStep(m.step_weights())
        run = min(_time(lambda: step.run(X)) for _ in range(repeat)) / ticks
        wall = min(_wall(lambda: step.run(X)) for _ in range(repeat)) / ticks
        out = np.empty((3, 3))
        few = X[:20_000]

        def loop():
            s = step.step
            for x in few:
                s(x, out)
        py = min(_time(loop) for _ in range(repeat)) / len(few)
        floor = 2 * step.n_params / rate
        rows.append((name, step.n_params, step.flops_per_tick, step.step_flops, floor, run, wall, py))
    return rows


def bench_onnx(repeat: int) -> list[tuple]:
    import onnxruntime as ort

    from nanobook.signals._torch_ssm import export_onnx

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    rows = []
    m = models()["shipped (d_model 32, d_state 8)"]
    with tempfile.TemporaryDirectory() as d:
        for window in (32, 1):
            path = Path(d) / f"w{window}.onnx"
            export_onnx(m, path, window=window)
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            x = np.random.default_rng(2).normal(size=(1, window, 13)).astype(np.float32)
            cs = np.zeros((1, m.d_inner, m.d_conv - 1), np.float32)
            hs = np.zeros((1, m.d_inner, m.d_state), np.float32)
            n = 2000

            def loop():
                c, h = cs, hs
                for _ in range(n):
                    _, c2, h2 = sess.run(None, {"x": x, "conv_state": c, "ssm_state": h})
                    if window == 1:
                        c, h = c2, h2
            t = statistics.median(_time(loop) for _ in range(repeat)) / n
            rows.append((window, t))
    return rows


def bench_sim(repeat: int) -> list[tuple]:
    import nanobook.sim as S
    from nanobook.feeds import synthetic_order_flow
    from nanobook.signals import FeatureConfig, SSMStep
    from nanobook.signals.dataset import default_vpin_bucket
    from nanobook.signals.strategy import SignalMarketMaker

    step = SSMStep(models()["shipped (d_model 32, d_state 8)"].step_weights())
    rows = []
    for name, md, qty in (("synthetic 20,000 events (L3)", S.from_synthetic(synthetic_order_flow(20_000, seed=0)), 10),
                          ("Binance BTCUSDT head (L2)", S.from_binance(BTC, price_decimals=2, qty_decimals=6), 1000)):
        cfg = FeatureConfig(vpin_bucket=default_vpin_bucket(md))
        res = {}
        for label, st in (("with signal", step), ("without", None)):
            def run():
                S.Sim(md, entry_latency=1_000_000, response_latency=1_000_000, record_interval=0).run(
                    SignalMarketMaker(st, cfg, qty=qty, max_position=10 * qty))
            res[label] = len(md) / statistics.median(_time(run) for _ in range(repeat))
        rows.append((name, len(md), res["with signal"], res["without"]))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ticks", type=int, default=200_000)
    args = ap.parse_args(argv)
    rate = core_rate(args.repeat)
    from nanobook.signals._step import KERNEL

    print(f"core rate (float32 512x512 matmul, 1 thread): {rate / 1e9:.1f} GFLOP/s; step compiled for {KERNEL}")
    print()
    print("CPU time of the benchmark thread unless said (wall time includes the other jobs on the core)")
    print()
    print("| model | params | FLOPs/tick (model) | FLOPs/tick (step, folded) | floor 2 x params | step (nogil loop) "
          "| x floor | same, wall | step() from Python | x floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, p, fl, sfl, floor, run, wall, py in bench_step(args.repeat, args.ticks, rate):
        print(f"| {name} | {p:,} | {fl:,} | {sfl:,} | {floor * 1e9:.0f} ns | {run * 1e9:.0f} ns | {run / floor:.1f} "
              f"| {wall * 1e9:.0f} ns | {py * 1e9:.0f} ns | {py / floor:.1f} |")
    print()
    print("| onnxruntime, shipped model, 1 thread | per tick |")
    print("|---|---:|")
    for window, t in bench_onnx(args.repeat):
        what = "window of 32 ticks from a zero state" if window == 32 else "window of 1 tick, state carried"
        print(f"| {what} | {t * 1e6:.1f} us |")
    print()
    print("| simulator, SignalMarketMaker | events | with signal (M ev/s) | without (M ev/s) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, n, on, off in bench_sim(args.repeat):
        print(f"| {name} | {n:,} | {on / 1e6:.2f} | {off / 1e6:.2f} | {on / off:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
