"""Record RiskEngine outputs of the reference nanobook 0.19.2.

Run with the reference interpreter only:  .venv/ref/bin/python gen_reference_cases.py  (make bench creates .venv/ref)
Writes reference_cases.json next to this file.
"""
import json
import os
import random

import nanobook

assert nanobook.__version__ == "0.19.2", nanobook.__version__
random.seed(20261122)
syms = ["A", "B", "C", "AAPL", "BRK.B"]
cases = []
for i in range(160):
    kw = dict(
        max_position_pct=random.choice([0.1, 0.25, 1.0, 0.333]),
        max_leverage=random.choice([1.0, 1.5, 3.0]),
        allow_short=random.random() < 0.5,
        max_short_pct=random.choice([0.0, 0.3, 0.5]),
        max_trade_usd=random.choice([0.0, 100.0, 100000.0, 1234.5]),
        max_order_value_cents=random.choice([0, 10000, 10000000]),
        max_batch_value_cents=random.choice([0, 100000, 100000000]),
    )
    e = nanobook.RiskEngine(**kw)
    eq = random.choice([0, -5, 1, 100000, 100000000, random.randint(1, 10**9)])
    pos = [(random.choice(syms), random.randint(-10000, 10000)) for _ in range(random.randint(0, 3))]
    order = [random.choice(syms), random.choice(["buy", "sell", "B", "s"]), random.randint(0, 5000), random.randint(-100, 50000)]
    orders = [
        [random.choice(syms), random.choice(["buy", "sell"]), random.randint(0, 3000), random.randint(-100, 50000)]
        for _ in range(random.randint(0, 4))
    ]
    tw = [(random.choice(syms), round(random.uniform(-0.5, 0.5), 4)) for _ in range(random.randint(0, 3))]
    cases.append(
        {
            "config": kw,
            "repr": repr(e),
            "equity_cents": eq,
            "positions": pos,
            "order": order,
            "check_order": e.check_order(*order, eq, pos),
            "orders": orders,
            "target_weights": tw,
            "check_batch": e.check_batch([tuple(o) for o in orders], eq, pos, tw),
        }
    )
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_cases.json"), "w") as fh:
    json.dump(cases, fh, separators=(",", ":"))
