"""Queue position: L2 models (unit cases and the risk-averse <= probabilistic
property) and exact L3 queues against a brute-force FIFO list."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from nanobook.sim import LogProb, PowerProb, RiskAverse, Sim

from .helpers import ADD, CANCEL, DEPTH, EXEC, TRADE, Scripted, stream

BOOK = [(0, DEPTH, 0, 100, 60), (0, DEPTH, 1, 105, 50)]


def run(rows, orders, **kw):
    strat = Scripted(orders)
    res = Sim(stream(rows), record_interval=0, **kw).run(strat)
    return res, strat


def test_join_back_of_visible_queue_and_trades_advance():
    # buy 10 @100 arrives at t=5 behind 60; sells print 50 then 15 at 100
    rows = BOOK + [(10, TRADE, 1, 100, 50), (20, TRADE, 1, 100, 15)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5)
    assert res.fills["qty"].tolist() == [5]          # 65 traded, 60 ahead
    assert res.fills["exch_ts"].tolist() == [20]
    assert res.fills["maker"].tolist() == [1]
    assert res.orders["leaves"][0] == 5 and res.orders["ahead"][0] == 0


def test_trade_through_fills_everything():
    rows = BOOK + [(10, TRADE, 1, 99, 1)]             # a sell printed below our bid
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5)
    assert res.fills["qty"].tolist() == [10] and res.fills["price"].tolist() == [100]


def test_risk_averse_ignores_cancels_but_clips_to_level():
    rows = BOOK + [(10, DEPTH, 0, 100, 50), (20, DEPTH, 0, 100, 20), (30, TRADE, 1, 100, 25)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=RiskAverse())
    # ahead 60 -> clipped to 50 -> 20, the 25 traded fill 5
    assert res.fills["qty"].tolist() == [5]


def test_power_one_splits_cancels_in_proportion():
    # ahead 60 when we join, then 40 more join behind: a 10 lot cancel takes 6 from the front
    rows = BOOK + [(10, DEPTH, 0, 100, 100), (20, DEPTH, 0, 100, 90)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=PowerProb(1))
    assert res.orders["ahead"][0] == 54
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=RiskAverse())
    assert res.orders["ahead"][0] == 60


def test_traded_quantity_is_not_counted_again_as_a_cancel():
    # the trade of 20 is followed by the depth update it explains (60 -> 40)
    rows = BOOK + [(10, TRADE, 1, 100, 20), (10, DEPTH, 0, 100, 40)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=PowerProb(1))
    assert res.orders["ahead"][0] == 40


def test_log_model_advances_between_the_two():
    rows = BOOK + [(10, DEPTH, 0, 100, 100), (20, DEPTH, 0, 100, 80)]
    got = {}
    for name, qm in (("ra", RiskAverse()), ("log", LogProb()), ("p1", PowerProb(1))):
        res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=qm)
        got[name] = int(res.orders["ahead"][0])
    # log(61)/(log(61)+log(41)) = 0.525 of 20 (10.5, rounded to 11) from the front; proportional: 0.6
    assert got == {"ra": 60, "log": 49, "p1": 48}


l2_ops = st.lists(
    st.one_of(
        st.tuples(st.just("depth"), st.integers(0, 200)),
        st.tuples(st.just("trade"), st.integers(1, 80)),
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=150)
@given(ops=l2_ops, arrive=st.integers(0, 40), qty=st.integers(1, 50),
       model=st.sampled_from([PowerProb(1), PowerProb(2), PowerProb(0.5), LogProb()]))
def test_risk_averse_never_fills_earlier_than_probabilistic(ops, arrive, qty, model):
    rows = list(BOOK)
    for i, (k, v) in enumerate(ops):
        t = 10 * (i + 1)
        rows.append((t, DEPTH, 0, 100, v) if k == "depth" else (t, TRADE, 1, 100, v))
    order = [(None, 0, 100, qty, {})]
    ra, _ = run(rows, order, entry_latency=10 * arrive + 5, queue_model=RiskAverse())
    pr, _ = run(rows, order, entry_latency=10 * arrive + 5, queue_model=model)
    times = sorted({r[0] for r in rows})
    for t in times:
        c_ra = ra.fills["qty"][ra.fills["exch_ts"] <= t].sum()
        c_pr = pr.fills["qty"][pr.fills["exch_ts"] <= t].sum()
        assert c_pr >= c_ra, (t, c_ra, c_pr)


# ---------------------------------------------------------------- L3 exact vs brute force

l3_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 50)),
        st.tuples(st.just("cancel"), st.integers(0, 10**6), st.booleans()),
        st.tuples(st.just("exec"), st.integers(1, 60)),
        st.tuples(st.just("exec"), st.integers(1, 60)),
    ),
    min_size=1, max_size=50,
)


def brute_force(initial, ops, join_at, qty):
    """FIFO list of real orders; our order sits at index ``join_at`` of the
    op sequence.  Each data execution is an aggressor that would have hit us
    first once no real order ahead of us is left."""
    queue = [[-1, initial]] if initial else []        # [rank, remaining], FIFO
    rows, fills = [], []
    leaves, joined, rank = qty, False, 0
    our_rank = None
    for i, op in enumerate(ops):
        t = 10 * (i + 1)
        if i == join_at:
            joined, our_rank = True, rank
        if op[0] == "add":
            queue.append([rank, op[1]])
            rows.append((t, ADD, 0, 100, op[1], rank))
            rank += 1
        elif op[0] == "cancel" and queue:
            j = op[1] % len(queue)
            r, rem = queue[j]
            q = rem if op[2] else max(1, rem // 2)
            rows.append((t, CANCEL, 0, 100, q, r))
            queue[j][1] -= q
            if queue[j][1] == 0:
                del queue[j]
        elif op[0] == "exec" and queue:
            r, rem = queue[0]
            q = min(op[1], rem)
            rows.append((t, EXEC, 0, 100, q, r))
            if joined and leaves and not any(x[0] < our_rank for x in queue):
                f = min(leaves, q)
                leaves -= f
                fills.append((t, f))
            queue[0][1] -= q
            if queue[0][1] == 0:
                del queue[0]
    return rows, fills


@settings(max_examples=200)
@given(initial=st.integers(0, 30), ops=l3_ops, join=st.integers(0, 12), qty=st.integers(1, 60))
def test_exact_l3_queue_equals_brute_force(initial, ops, join, qty):
    join = min(join, len(ops))
    rows, expect = brute_force(initial, ops, join, qty)
    head = [(0, DEPTH, 1, 105, 50)] + ([(0, DEPTH, 0, 100, initial)] if initial else [])
    # our order arrives just before op number `join` (op i happens at 10 * (i + 1))
    res, _ = run(head + rows, [(None, 0, 100, qty, {})], entry_latency=10 * join + 5,
                 queue_model=RiskAverse())
    got = list(zip(res.fills["exch_ts"].tolist(), res.fills["qty"].tolist()))
    assert got == expect


def test_l3_cancel_behind_us_does_not_advance():
    rows = [(0, DEPTH, 1, 105, 50), (10, ADD, 0, 100, 30, 0), (20, ADD, 0, 100, 40, 1),
            (30, CANCEL, 0, 100, 40, 1), (40, CANCEL, 0, 100, 10, 0)]
    res, _ = run(rows, [(None, 0, 100, 5, {})], entry_latency=15)   # joins after rank 0
    assert res.orders["ahead"][0] == 20
