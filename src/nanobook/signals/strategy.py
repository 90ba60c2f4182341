"""A market maker that skews and pulls its quotes from the learned signal."""
from __future__ import annotations

import math

import numpy as np

from nanobook.sim import MarketMaker, Sim

from ..validate import integer, real
from .dataset import FeatureConfig, FeatureState

__all__ = ["SignalMarketMaker"]


class SignalMarketMaker(MarketMaker):
    """Inventory-skewed market maker whose reservation price follows the signal.

    At every sample (each local book update, or each ``config.clock_ns``
    timer tick, as the model was trained) the features are updated and the
    streaming step advances; with ``p`` the class probabilities of horizon
    ``horizon`` the signal is ``s = (p_up - p_down) / signal_std`` and::

        reservation = mid - skew * position + signal_shift * s
        bid = min(floor((reservation - half_spread) / tick) * tick, best_bid)
        ask = max(ceil((reservation + half_spread) / tick) * tick, best_ask)

    and the side the signal warns against is not quoted while ``|s| >
    pull`` (no bid when ``s < -pull``, no ask when ``s > pull``).  With
    ``step=None`` the signal is 0 and this is the plain inventory-skewed
    market maker on the same sampling, the comparison run.  Quotes are
    post-only, replaced when their target moves by ``requote`` ticks or
    more (:class:`nanobook.sim.MarketMaker`'s order handling), and not sent before local time ``start_ts`` (warm-up: the
    features and the model state run from the first event).

    Parameters
    ----------
    step : SSMStep or None
    config : FeatureConfig
        The features the model was trained on.
    half_spread, skew, signal_shift, signal_std, pull : float
        Price units (``skew`` per lot); ``signal_std`` > 0.
    qty, max_position, tick, requote, horizon, start_ts : int
    """

    every_book_update = True

    def __init__(self, step, config: FeatureConfig, *, qty: int, max_position: int, tick: int = 1,
                 half_spread: float = 0.0, skew: float = 0.0, signal_shift: float = 1.0,
                 signal_std: float = 1.0, pull: float = math.inf, horizon: int = 0, requote: int = 1,
                 start_ts: int = 0) -> None:
        if not isinstance(config, FeatureConfig):
            raise TypeError(f"config must be a FeatureConfig, got {config!r}")
        super().__init__(half_spread, qty, max_position, skew=skew, requote=requote, tick=tick,
                         timer_interval=config.clock_ns)
        real(signal_shift, "signal_shift", ge=0, finite=True)
        real(signal_std, "signal_std", gt=0, finite=True)
        real(pull, "pull", gt=0, expect="a number > 0 (inf: never)")
        for name, v, lo in (("horizon", horizon, 0), ("start_ts", start_ts, 0)):
            integer(v, name, ge=lo, numpy=True)
        if step is not None and horizon >= step.n_horizons:
            raise ValueError(f"horizon must be < the model's {step.n_horizons} horizons, got {horizon}")
        self.step, self.config = step, config
        self.signal_shift, self.signal_std, self.pull = float(signal_shift), float(signal_std), float(pull)
        self.horizon, self.start_ts = int(horizon), int(start_ts)
        self._out = np.empty((step.n_horizons, 3)) if step is not None else None
        self.signals: list[float] = []

    def on_start(self, sim: Sim) -> None:
        super().on_start(sim)
        self.state = FeatureState(self.config)
        if self.step is not None:
            self.step.reset()
        self.signal = 0.0
        self.signals = []

    def on_trade(self, sim: Sim, trade) -> None:
        if self.step is not None:
            self.state.on_trade(trade.side, trade.qty)

    def _sample(self, sim: Sim) -> None:
        if self.step is not None:
            x = self.state.sample(sim.now, sim.depth(self.config.levels))
            if x is not None:
                d, f, u = self.step.step(x, self._out)[self.horizon].tolist()
                m = max(d, f, u)
                ed, ef, eu = math.exp(d - m), math.exp(f - m), math.exp(u - m)
                self.signal = (eu - ed) / (ed + ef + eu) / self.signal_std
                self.signals.append(self.signal)
        self._quote(sim)

    def on_book(self, sim: Sim) -> None:
        if self.config.clock_ns is None:
            self._sample(sim)

    def on_timer(self, sim: Sim) -> None:
        self._sample(sim)

    def on_fill(self, sim: Sim, fill) -> None:
        self._quote(sim)

    def _quote(self, sim: Sim) -> None:
        if sim.now < self.start_ts:
            return
        b, _, a, _ = sim.bbo()
        if not b or not a or a <= b:
            return
        pos = sim.position
        s = self.signal
        res = 0.5 * (a + b) - self.skew * pos + self.signal_shift * s
        tk = self.tick
        bid = min(math.floor((res - self.half_spread) / tk) * tk, b)
        ask = max(math.ceil((res + self.half_spread) / tk) * tk, a)
        self.bid_id = self._side(sim, self.bid_id, 0, bid, pos < self.max_position and s >= -self.pull)
        self.ask_id = self._side(sim, self.ask_id, 1, ask, -pos < self.max_position and s <= self.pull)
