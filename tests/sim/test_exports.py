"""The public surface of nanobook.sim, its error tree, and a light import."""
import subprocess
import sys

import nanobook.sim as S

EXPECTED = {
    "Sim", "MultiSim", "MultiSimResult", "EachInstrument", "Strategy", "StepStrategy", "MarketMaker", "TouchQuoter", "SimResult", "Summary", "markouts",
    "duration_label",
    "Fill", "OrderEvent", "Trade", "BUY", "SELL",
    "ConstantLatency", "SeriesLatency", "LogNormalLatency", "UniformLatency",
    "RiskAverse", "PowerProb", "LogProb",
    "MD_DTYPE", "DEPTH", "TRADE", "ADD", "CANCEL", "EXEC", "EXCH", "LOCAL", "HIDDEN",
    "FILL_DTYPE", "ORDER_DTYPE", "RECORD_DTYPE", "BBO_DTYPE",
    "validate_stream", "order_events",
    "from_lobster", "from_binance", "from_itch", "from_synthetic",
    "from_mdp3",
    "SimError", "StreamError", "UnknownOrderError",
}


def test_all_is_pinned():
    assert set(S.__all__) == EXPECTED
    for name in S.__all__:
        assert getattr(S, name) is not None


def test_error_tree():
    assert issubclass(S.StreamError, S.SimError) and issubclass(S.StreamError, ValueError)
    assert issubclass(S.UnknownOrderError, S.SimError) and issubclass(S.UnknownOrderError, KeyError)


def test_import_does_not_pull_heavy_libraries():
    code = "import sys, nanobook.sim; print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_step_strategy_form():
    from .helpers import DEPTH, TRADE, stream
    md = stream([(0, DEPTH, 0, 100, 10), (0, DEPTH, 1, 102, 10), (10, DEPTH, 1, 101, 5),
                 (20, TRADE, 0, 103, 50)])
    sent = []

    def step(sim):
        if sim.best_ask and not sim.open_orders() and not sent:
            sent.append(sim.now)
            return [("sell", sim.best_ask, 3, "post_only")]
        return []

    res = S.Sim(md, record_interval=0).run(step)
    assert res.orders["price"].tolist() == [102] and res.fills["qty"].tolist() == [3]
    # a buyer printing at 103 went through our ask of 102: filled
    assert res.fills["exch_ts"].tolist() == [20]
    df = res.fills_frame()
    assert list(df["qty"]) == [3]
