"""``python -m nanobook``: the commands (no network, no account, bundled data by default).

    python -m nanobook            # the main job: 12-1 momentum on the S&P 100 panel
    python -m nanobook backtest   # the same, with its options (--help)
    python -m nanobook book       # synthetic order flow replayed through the Cython book
    python -m nanobook sim        # market-making simulation from a TOML config (--help)
    python -m nanobook signal     # learned short-horizon signals: train | eval (--help)

Each subcommand is one entry of ``COMMANDS``: a name and the dotted path of a
``main(argv) -> int`` function, imported only when that command runs.
"""
from __future__ import annotations

import argparse
import sys
import time


def synthetic_ops(n_events: int, seed: int = 0):
    """The seeded synthetic order flow of ``nanobook.feeds`` as engine operations.

    The generator names orders by its own ids; the engine numbers every
    submission (limit or market) in order, so an add's engine id is its rank
    among submissions, and a cancel is mapped through that table.
    """
    import numpy as np

    from . import dtypes as d
    from .feeds import synthetic_order_flow

    flow = synthetic_order_flow(n_events, seed=seed)
    kind = flow["kind"]
    submits = kind != 1
    engine_id = np.cumsum(submits)                 # id the engine gives each submission
    table = np.zeros(int(flow["order_id"].max()) + 1, dtype=np.uint64)
    adds = kind == 0
    table[flow["order_id"][adds]] = engine_id[adds]
    ops = np.zeros(len(flow), dtype=d.EVENT_DTYPE)
    ops["kind"] = np.select([kind == 0, kind == 1, kind == 2],
                            [d.SUBMIT_LIMIT, d.CANCEL, d.SUBMIT_MARKET])
    ops["side"] = flow["side"]
    ops["price"] = flow["price"]
    ops["quantity"] = flow["qty"]
    cancels = kind == 1
    ops["order_id"][cancels] = table[flow["order_id"][cancels]]
    return ops


def book_demo(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m nanobook book",
                                 description="Replay a synthetic order flow through the order book.")
    ap.add_argument("--events", type=int, default=1_000_000, help="number of events (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.events < 1:
        ap.error(f"--events must be positive, got {args.events}")

    from . import Exchange

    ops = synthetic_ops(args.events, args.seed)
    ex = Exchange()
    t0 = time.perf_counter()
    fills = ex.apply(ops)
    dt = time.perf_counter() - t0
    snap = ex.depth(5)
    print(f"replayed {len(ops):,} events ({(ops['kind'] == 1).sum():,} limit orders, "
          f"{(ops['kind'] == 3).sum():,} cancels, {(ops['kind'] == 2).sum():,} market orders) "
          f"in {dt * 1e3:.1f} ms: {len(ops) / dt / 1e6:.1f} M events/s, {len(fills):,} trades")
    print()
    print(f"{'bid qty':>10} {'bid':>8} | {'ask':<8} {'ask qty':<10}")
    for i in range(max(len(snap.bids), len(snap.asks))):
        b = snap.bids[i] if i < len(snap.bids) else None
        a = snap.asks[i] if i < len(snap.asks) else None
        print(f"{b.quantity if b else '':>10} {b.price if b else '':>8} | "
              f"{a.price if a else '':<8} {a.quantity if a else '':<10}")
    print()
    print(f"spread {snap.spread()}, mid {snap.mid_price()}, imbalance(5) {snap.imbalance():+.3f}, "
          f"last trade {ex.last_trade_price()}")
    print("last trades:", ", ".join(f"{t.quantity}@{t.price}" for t in ex.trades()[-5:]))
    again = Exchange.replay(ex.events_array())
    same = again.full_book().bids[0].price == snap.bids[0].price and len(again.trades()) == len(fills)
    print(f"replay of the event log reproduces the book: {same}")
    return 0


# name -> "module:function" taking argv and returning the exit status.  The
# first entry also runs when no subcommand is given.
COMMANDS = {
    "backtest": "nanobook.portfolio.demo:main",
    "book": "nanobook.__main__:book_demo",
    "sim": "nanobook.sim.cli:main",
    "signal": "nanobook.signals.cli:main",
}


def main(argv=None) -> int:
    import importlib

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    name = argv.pop(0) if argv and argv[0] in COMMANDS else "backtest"
    module, func = COMMANDS[name].split(":")
    return getattr(importlib.import_module(module), func)(argv)


if __name__ == "__main__":
    sys.exit(main())
