"""Event-driven market-making backtester: latency, queue position, fees.

A market-data stream (:data:`MD_DTYPE`, built from LOBSTER, Binance, ITCH or
synthetic flow by the ``from_*`` adapters) is replayed by a Cython event
loop that keeps two books — the exchange's, against which our orders queue
and fill, and the strategy's delayed local view — and returns to Python only
at the strategy's decision points.  See ``docs/sim.md``.
"""
from ._errors import SimError, StreamError, UnknownOrderError
from .engine import BUY, SELL, Fill, OrderEvent, Sim, StepStrategy, Strategy, Trade
from .multi import EachInstrument, MultiSim, MultiSimResult
from .latency import ConstantLatency, LogNormalLatency, SeriesLatency, UniformLatency
from .queue import LogProb, PowerProb, RiskAverse
from .result import SimResult, Summary, duration_label, markouts
from .strategies import MarketMaker, TouchQuoter
from .stream import (
    ADD, CANCEL, DEPTH, EXCH, EXEC, HIDDEN, LOCAL, MD_DTYPE, TRADE,
    from_binance, from_itch, from_lobster, from_synthetic, order_events, validate_stream,
)
from .stream import from_mdp3
from ._core import BBO_DTYPE, FILL_DTYPE, ORDER_DTYPE, RECORD_DTYPE

__all__ = [
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
]
