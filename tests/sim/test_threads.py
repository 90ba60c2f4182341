"""Issue 11 for the simulator: the event loop runs without the GIL, so every
SimCore method claims the core first; a call from a second thread while the
loop runs raises RuntimeError and never crashes.  Each scenario runs in a
subprocess, so a crash is a failure, not a dead test run."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "feeds" / "crypto" / "spot_btcusdt_20240808.head12000.gz"

SCRIPT = textwrap.dedent("""
    import sys, threading
    import numpy as np
    import nanobook.sim as S

    md = S.from_binance(sys.argv[1], price_decimals=2, qty_decimals=6)
    span = int(md["local_ts"].max() - md["exch_ts"].min()) + 10**9
    md = np.concatenate([md] * 8)
    md["exch_ts"] += np.repeat(np.arange(8) * span, len(md) // 8)
    md["local_ts"] += np.repeat(np.arange(8) * span, len(md) // 8)

    class Quote(S.Strategy):
        timer_interval = 50_000_000
        def on_timer(self, sim):
            b = sim.best_bid
            if b:
                sim.buy(b, 100, post_only=True)

    def make():
        return S.Sim(md, entry_latency=1_000_000, response_latency=1_000_000, record_interval=0)

    want = make().run(Quote())
    sim = make()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("res", sim.run(Quote())))
    t.start()
    busy = ok = 0
    calls = [lambda c: c.local_bbo(), lambda c: c.local_depth(5), lambda c: c.local_open(),
             lambda c: c.orders_array(), lambda c: c.fills_array(), lambda c: c.bbo_array(),
             lambda c: c.exch_level(0, 1), lambda c: c.peek()]
    i = 0
    while t.is_alive():
        core = sim._core
        if core is None:
            continue
        try:
            calls[i % len(calls)](core)
            ok += 1
        except RuntimeError as exc:
            assert "another thread" in str(exc), exc
            busy += 1
        i += 1
    t.join()
    got = out["res"]
    assert np.array_equal(got.fills, want.fills), "the threaded run differs"
    assert np.array_equal(got.orders, want.orders)
    # two threads driving one core: one of them is refused, nothing breaks
    core = make()
    sim2 = make()
    errors = []
    def drive():
        try:
            sim2.run(S.Strategy())
        except RuntimeError as exc:
            errors.append(str(exc))
    sim2._begin(S.Strategy(), None, False, 1)
    c2 = sim2._core
    th = [threading.Thread(target=lambda: [c2.advance() for _ in range(3)]) for _ in range(4)]
    refused = 0
    for x in th:
        x.start()
    for _ in range(2000):
        try:
            c2.advance()
        except RuntimeError:
            refused += 1
    for x in th:
        x.join()
    # every public core method from several threads, thousands of rounds, during a run
    sim3 = make()
    sim3._begin(S.Strategy(), None, False, 1)
    c3 = sim3._core
    ops = [lambda: c3.advance(), lambda: c3.submit(0, 1, 1, 0), lambda: c3.cancel(1), lambda: c3.modify(1, 2, 1),
           lambda: c3.local_bbo(), lambda: c3.local_depth(3), lambda: c3.local_open(), lambda: c3.peek(),
           lambda: c3.account(), lambda: c3.orders_array(), lambda: c3.fills_array(), lambda: c3.records_array(),
           lambda: c3.bbo_array(), lambda: c3.responses_array(), lambda: c3.exch_level(1, 1),
           lambda: c3.order_row(1)]
    counts = {"ok": 0, "busy": 0}
    lock = threading.Lock()
    def hammer(seed):
        import random
        rnd = random.Random(seed)
        for _ in range(1500):
            try:
                rnd.choice(ops)()
                k = "ok"
            except RuntimeError as exc:
                assert "another thread" in str(exc), exc
                k = "busy"
            with lock:
                counts[k] += 1
    c3.submit(0, 1, 1, 0)
    hs = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for x in hs:
        x.start()
    for x in hs:
        x.join()
    while c3.advance():
        pass
    o = c3.orders_array()
    assert len(o) == c3.n_orders and (o["leaves"] >= 0).all() and (o["leaves"] <= o["qty"]).all()
    print(f"busy={busy} ok={ok} refused={refused} hammer={counts}")
    assert busy > 0 and counts["busy"] > 0
""")


@pytest.mark.timeout(300)
def test_second_thread_gets_runtime_error_never_a_crash():
    for _ in range(2):
        p = subprocess.run([sys.executable, "-c", SCRIPT, str(DATA)], capture_output=True, text=True,
                           timeout=240)
        assert p.returncode == 0, (p.returncode, p.stdout[-2000:], p.stderr[-4000:])
        assert "busy=" in p.stdout


def test_no_core_method_runs_python_code_while_it_holds_the_claim():
    """Python code run inside a claimed method is where the GIL can pass to
    another thread, which then finds the core busy (a strategy's own order
    refused).  ``ndarray.view`` of a structured dtype runs numpy Python code:
    the record arrays were copied that way and a run thread's ``submit`` was
    refused about once in ten runs of the test above."""
    import nanobook.sim as S
    from .helpers import DEPTH, TRADE, stream

    md = stream([(0, DEPTH, 0, 100, 10), (0, DEPTH, 1, 102, 10), (10, TRADE, 1, 100, 15),
                 (20, DEPTH, 0, 99, 5), (30, TRADE, 0, 102, 50)])
    sim = S.Sim(md, entry_latency=1, response_latency=1, record_interval=5)

    class Fills(S.Strategy):
        def on_fill(self, sim, fill):
            pass

        def on_order(self, sim, event):
            pass

    sim._begin(Fills(), None, False, 1)
    core = sim._core
    core.submit(0, 100, 5, 0)
    core.submit(1, 102, 5, 0)
    from nanobook.sim.dtypes import DECISION_END, DECISION_FILL
    while core.advance() not in (DECISION_END, DECISION_FILL):     # up to the first fill report
        pass
    held = []

    def probe(frame, event, arg):
        if event == "call":
            try:
                core.local_bbo()
            except RuntimeError:
                held.append(frame.f_code.co_name)

    calls = {
        "orders_array": lambda: core.orders_array(), "fills_array": lambda: core.fills_array(),
        "records_array": lambda: core.records_array(), "bbo_array": lambda: core.bbo_array(),
        "responses_array": lambda: core.responses_array(), "response": lambda: core.response(core.cur_resp),
        "fill_row": lambda: core.fill_row(0), "local_depth": lambda: core.local_depth(3),
        "local_open": lambda: core.local_open(), "peek": lambda: core.peek(),
        "account": lambda: core.account(), "order_row": lambda: core.order_row(1),
        "exch_level": lambda: core.exch_level(0, 100), "submit": lambda: core.submit(0, 99, 1, 0),
        "modify": lambda: core.modify(3, 98, 1), "cancel": lambda: core.cancel(3),
        "advance": lambda: core.advance(),
    }
    for name, call in calls.items():
        sys.setprofile(probe)
        try:
            call()
        finally:
            sys.setprofile(None)
        assert held == [], (name, held)
    assert len(core.fills_array()) >= 1          # the calls above saw a fill, not an empty run
