"""Several instruments on one clock: :class:`MultiSim`."""
from __future__ import annotations

from dataclasses import dataclass

from .dtypes import DECISION_END, DECISION_PAUSE, DECISION_PROGRESS
from .engine import Sim, Strategy, _check_int, _overrides
from .result import SimResult, Summary

__all__ = ["MultiSim", "MultiSimResult", "EachInstrument"]

_NEVER = 2**63 - 1
_HOOKS = ("on_book", "on_trade", "on_fill", "on_order")


class MultiSim:
    """Several instruments, one stream each, replayed on one clock with one strategy.

    Parameters
    ----------
    instruments : dict of str -> Sim
        One :class:`Sim` per instrument, each with its own stream, venue
        rules, latencies, fees and kill switch.  The streams' clocks must be
        the same (e.g. exchange epoch nanoseconds).
    timer_interval : int or None
        One timer for the whole strategy (local time, ns); overrides the
        strategy's attribute.  The instruments' own timers are not used.

    Event order
    -----------
    Every event of every instrument is processed in time order; at equal
    times the instrument listed first goes first, and the timer comes after
    every event of its nanosecond (as in :class:`Sim`).  The strategy's
    hooks receive the instrument's :class:`Sim` (``sim.symbol`` names it;
    ``sim.multi`` is this object, so ``sim.multi["ETH"].bbo()`` reads another
    book); ``on_start``, ``on_timer`` and ``on_end`` receive this object.
    Before a hook runs, every instrument's clock is brought to the current
    time, so an order sent to another instrument leaves now.
    """

    def __init__(self, instruments: dict, *, timer_interval: int | None = None) -> None:
        if not isinstance(instruments, dict) or not instruments:
            raise ValueError(f"instruments must be a non-empty dict of symbol -> Sim, got {instruments!r}")
        for sym, sim in instruments.items():
            if not isinstance(sym, str) or not sym:
                raise ValueError(f"instrument symbols must be non-empty strings, got {sym!r}")
            if not isinstance(sim, Sim):
                raise TypeError(f"instruments[{sym!r}] must be a Sim, got {type(sim).__name__}")
        if len({id(s) for s in instruments.values()}) != len(instruments):
            raise ValueError("each instrument needs its own Sim")
        self.instruments = dict(instruments)
        self.timer_interval = None if timer_interval is None else _check_int("timer_interval", timer_interval, 1)
        self.symbol: str | None = None
        self.now = 0
        for sym, sim in self.instruments.items():
            sim.symbol = sym
            sim.multi = self

    @property
    def symbols(self) -> list[str]:
        return list(self.instruments)

    def __getitem__(self, symbol: str) -> Sim:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise KeyError(f"unknown symbol {symbol!r} (known: {', '.join(self.instruments)})") from None

    def run(self, strategy: Strategy, *, progress=None, progress_every: int = 100_000) -> "MultiSimResult":
        """Replay every instrument on one clock; returns per-instrument and total results.

        ``progress(symbol, sim)`` (optional) is called every ``progress_every``
        exchange rows of an instrument and once per instrument at the end."""
        if not isinstance(strategy, Strategy):
            raise TypeError(f"strategy must be a Strategy, got {strategy!r}")
        interval = self.timer_interval if self.timer_interval is not None else strategy.timer_interval
        if interval is not None:
            interval = _check_int("timer_interval", interval, 1)
        sims = list(self.instruments.values())
        start = min(s._start for s in sims)
        if progress is not None:
            progress_every = _check_int("progress_every", progress_every, 1)
        for s in sims:
            s._begin(Strategy(), start, progress is not None, progress_every, timer=False)
            core = s._core
            core.want_book = _overrides(strategy, "on_book")
            core.want_depth = core.want_book and bool(strategy.every_book_update)
            core.want_trade = _overrides(strategy, "on_trade")
            core.want_fill = _overrides(strategy, "on_fill")
            core.want_order = _overrides(strategy, "on_order")
        cores = [s._core for s in sims]
        want_timer = interval is not None and _overrides(strategy, "on_timer")
        timer_next = start + interval if want_timer else None
        self.now = start
        strategy.on_start(self)
        n = len(cores)
        ended = [False] * n
        while True:
            times = [c.peek() for c in cores]
            t_min, i = _NEVER, -1
            for j, t in enumerate(times):
                if t is not None and t < t_min:
                    t_min, i = t, j
            if i < 0:
                break
            if timer_next is not None and timer_next < t_min:
                if not all(c.data_done for c in cores):
                    self._sync(cores, timer_next)
                    self.symbol = None
                    strategy.on_timer(self)
                timer_next += interval
                continue
            until = _NEVER
            for j in range(n):
                t = times[j]
                if j != i and t is not None:
                    u = t if i < j else t - 1
                    if u < until:
                        until = u
            if timer_next is not None and timer_next < until:
                until = timer_next
            core = cores[i]
            core.until = until
            code = core.advance()
            core.until = _NEVER
            if code == DECISION_END:
                ended[i] = True
            if code == DECISION_PROGRESS:
                progress(sims[i].symbol, sims[i])
            if code in (DECISION_END, DECISION_PROGRESS, DECISION_PAUSE):
                continue
            self._sync(cores, core.now)
            self.symbol = sims[i].symbol
            sims[i]._dispatch(code, strategy)
        for j, c in enumerate(cores):
            while not ended[j] and c.advance():     # a core not yet ended writes its final record
                pass
            if progress is not None:
                progress(sims[j].symbol, sims[j])
        self.symbol = None
        strategy.on_end(self)
        results = {sym: s._finish(Strategy()) for sym, s in self.instruments.items()}
        return MultiSimResult(results)

    def _sync(self, cores, t: int) -> None:
        self.now = t
        for c in cores:
            if c.now < t:
                c.now = t


@dataclass
class MultiSimResult:
    """Per-instrument :class:`SimResult` and the total."""

    results: dict

    def __getitem__(self, symbol: str) -> SimResult:
        return self.results[symbol]

    @property
    def pnl(self) -> float:
        """Total P&L: the sum of the instruments' (each in its own currency units)."""
        return float(sum(r.pnl for r in self.results.values()))

    @property
    def fees(self) -> float:
        return float(sum(r.fees for r in self.results.values()))

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}: {len(r.fills)} fills, pnl {r.pnl:,.6g}" for s, r in self.results.items())
        return f"MultiSimResult({len(self.results)} instruments, pnl {self.pnl:,.6g}; {parts})"

    def summary(self, **kw) -> Summary:
        """Total figures and, per instrument, ``<symbol>.<key>`` of its summary."""
        out = Summary({"pnl": self.pnl, "fees": self.fees,
                       "n_fills": int(sum(len(r.fills) for r in self.results.values())),
                       "n_orders": int(sum(len(r.orders) for r in self.results.values()))})
        for sym, r in self.results.items():
            for k, v in r.summary(**kw).items():
                if k in ("pnl", "fees", "position", "n_fills", "n_orders", "max_inventory", "sharpe",
                         "kill_rule") or k.startswith("markout_"):
                    out[f"{sym}.{k}"] = v
        return out

    def records_frame(self):
        """Equity per instrument (columns) and ``total``, on the union of the
        record times (each instrument's last value carried forward)."""
        import pandas as pd
        cols = {}
        for sym, r in self.results.items():
            df = r.records_frame()
            cols[sym] = df["equity"][~df.index.duplicated(keep="last")]
        out = pd.DataFrame(cols).sort_index().ffill().fillna(0.0)
        out["total"] = out[list(self.results)].sum(axis=1)
        return out


class EachInstrument(Strategy):
    """One single-instrument strategy per symbol, driven by a :class:`MultiSim`.

    Hooks go to the strategy of the instrument concerned; the shared timer
    wakes every strategy (in symbol order) with its own instrument's Sim.
    ``timer_interval`` is the smallest of the strategies' (None if none has one).
    """

    def __init__(self, strategies: dict) -> None:
        if not isinstance(strategies, dict) or not strategies:
            raise ValueError(f"strategies must be a non-empty dict of symbol -> Strategy, got {strategies!r}")
        for sym, st in strategies.items():
            if not isinstance(st, Strategy):
                raise TypeError(f"strategies[{sym!r}] must be a Strategy, got {type(st).__name__}")
        self.strategies = dict(strategies)
        ivs = [s.timer_interval for s in strategies.values() if s.timer_interval is not None]
        self.timer_interval = min(ivs) if ivs else None
        self.every_book_update = any(s.every_book_update for s in strategies.values())

    def on_start(self, multi):
        for sym, st in self.strategies.items():
            st.on_start(multi[sym])

    def on_book(self, sim):
        self.strategies[sim.symbol].on_book(sim)

    def on_trade(self, sim, trade):
        self.strategies[sim.symbol].on_trade(sim, trade)

    def on_fill(self, sim, fill):
        self.strategies[sim.symbol].on_fill(sim, fill)

    def on_order(self, sim, event):
        self.strategies[sim.symbol].on_order(sim, event)

    def on_timer(self, multi):
        for sym, st in self.strategies.items():
            st.on_timer(multi[sym])

    def on_end(self, multi):
        for sym, st in self.strategies.items():
            st.on_end(multi[sym])
