"""The simulator: :class:`Sim` drives the Cython event loop and the strategy."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np

from .. import limits
from ..validate import integer, is_int, real
from . import _core
from ._errors import StreamError, UnknownOrderError
from .latency import as_latency
from .queue import as_queue_model
from .result import SimResult
from .dtypes import (
    BUY, DECISION_BOOK, DECISION_END, DECISION_FILL, DECISION_ORDER, DECISION_PROGRESS,
    DECISION_TIMER, DECISION_TRADE, EXCH, EXEC, KILL_RULE_NAMES, LOCAL, MD_DTYPE, ORDER_EVENT_NAMES,
    ORDER_FOK, ORDER_IOC, ORDER_MARKET, ORDER_POST_ONLY, SELL, STATUS_NAMES,
)
from .stream import order_events, validate_stream

__all__ = ["Sim", "Strategy", "StepStrategy", "Fill", "OrderEvent", "Trade", "BUY", "SELL"]


class Fill(NamedTuple):
    """A fill report as the strategy receives it (after the response latency)."""

    order_id: int       # our order's id (from 1)
    side: int           # BUY (0) or SELL (1): our order's side
    price: int          # ticks (the stream's price unit)
    qty: int            # the stream's quantity units
    maker: bool         # our order was resting (False: it took liquidity)
    fee: float          # currency; negative is a rebate
    exch_ts: int        # ns, exchange clock: when the fill happened
    local_ts: int       # ns, local clock: when the report reached the strategy


class OrderEvent(NamedTuple):
    """An order report: ``kind`` is ``"ack"``, ``"cancelled"`` (``qty`` = the
    quantity that was still open), ``"rejected"`` (post-only order that
    would have crossed), ``"cancel_rejected"`` (the order was already done
    when the cancel arrived), ``"modified"`` (``qty`` = the new open
    quantity) or ``"modify_rejected"`` (the order was done, or a post-only
    order's new price would have crossed; the order stands as it was)."""

    kind: str           # one of ORDER_EVENT_NAMES (nanobook/sim/dtypes.py)
    order_id: int       # our order's id (from 1)
    qty: int            # quantity units (see the kinds above)
    local_ts: int       # ns, local clock: when the report reached the strategy


class Trade(NamedTuple):
    """A market trade as seen locally; ``side`` is the aggressor side."""

    local_ts: int       # ns, local clock: when the strategy sees the trade
    exch_ts: int        # ns, exchange clock: when it happened
    side: int           # the aggressor: BUY (0) lifted asks, SELL (1) hit bids
    price: int          # ticks
    qty: int            # quantity units


class Strategy:
    """Base class of callback strategies; override the hooks you need.

    Only the hooks a subclass overrides are called, so a strategy that does
    not define ``on_trade`` costs nothing per trade.  ``on_book`` is called
    when the local best bid or ask price changes, or on every local book row
    when the class attribute ``every_book_update`` is True.  ``on_timer`` is
    called every ``timer_interval`` ns of local time (class attribute or
    :class:`Sim` argument).  Every hook receives the running :class:`Sim`,
    whose methods (``buy``, ``sell``, ``cancel``, ...) send orders.
    """

    every_book_update = False
    timer_interval: int | None = None

    def on_start(self, sim: "Sim") -> None:
        """Before the first event (the local book is still empty)."""

    def on_book(self, sim: "Sim") -> None:
        """The local book changed (see the class docstring)."""

    def on_trade(self, sim: "Sim", trade: Trade) -> None:
        """A market trade reached the strategy."""

    def on_fill(self, sim: "Sim", fill: Fill) -> None:
        """One of our orders was (partly) filled; ``sim.position`` already includes it."""

    def on_order(self, sim: "Sim", event: OrderEvent) -> None:
        """An ack, cancel confirmation or rejection reached the strategy."""

    def on_timer(self, sim: "Sim") -> None:
        """The timer fired."""

    def on_end(self, sim: "Sim") -> None:
        """After the last event."""


class StepStrategy(Strategy):
    """The ``step(sim) -> actions`` form: one function called at every
    decision point (book change, fill, order report, timer).

    Actions are tuples: ``("buy", price, qty)``, ``("sell", price, qty)``
    (post-only limit orders with ``("buy", price, qty, "post_only")``),
    ``("market_buy", qty)``, ``("market_sell", qty)``, ``("cancel",
    order_id)`` and ``("cancel_all",)``.
    """

    def __init__(self, step: Callable[["Sim"], Iterable[tuple] | None], timer_interval: int | None = None):
        if not callable(step):
            raise TypeError(f"step must be callable, got {step!r}")
        self.step = step
        self.timer_interval = timer_interval

    def _act(self, sim: "Sim") -> None:
        actions = self.step(sim)
        if actions is None:
            return
        for a in actions:
            if not isinstance(a, tuple) or not a:
                raise ValueError(f"an action must be a non-empty tuple, got {a!r}")
            name = a[0]
            if name in ("buy", "sell"):
                if len(a) not in (3, 4) or (len(a) == 4 and a[3] != "post_only"):
                    raise ValueError(f"action must be ({name!r}, price, qty[, 'post_only']), got {a!r}")
                getattr(sim, name)(a[1], a[2], post_only=len(a) == 4)
            elif name in ("market_buy", "market_sell") and len(a) == 2:
                getattr(sim, name)(a[1])
            elif name == "cancel" and len(a) == 2:
                sim.cancel(a[1])
            elif name == "cancel_all" and len(a) == 1:
                sim.cancel_all()
            else:
                raise ValueError(f"unknown action {a!r}")

    def on_book(self, sim):
        self._act(sim)

    def on_fill(self, sim, fill):
        self._act(sim)

    def on_order(self, sim, event):
        self._act(sim)

    def on_timer(self, sim):
        self._act(sim)


#: widest price range (price units) the books index directly (O(1) updates;
#: memory is touched only where levels are); prices outside it stay in sorted arrays
_LADDER_MAX = 1 << 24


def _ladder_window(md: np.ndarray, plo: int, phi: int) -> tuple[int, int]:
    """The price range the books index directly (the rest stays in sorted
    arrays): every price of the stream when it spans less than the limit;
    otherwise the central 98% of the stream's prices widened by half their
    span on each side (far levels of deep snapshots stay outside), at most
    the limit wide."""
    if phi - plo < _LADDER_MAX:
        return plo, phi
    px = md["price"][:: max(1, len(md) // 200_000)]
    q0, q1 = (int(x) for x in np.quantile(px, [0.01, 0.99]))
    pad = max((q1 - q0) // 2, 1)
    lo, hi = max(plo, q0 - pad), min(phi, q1 + pad)
    if hi - lo >= _LADDER_MAX:
        c = (q0 + q1) // 2
        lo, hi = max(plo, c - _LADDER_MAX // 2), min(phi, c + _LADDER_MAX // 2 - 1)
    return lo, hi


@dataclass(frozen=True)
class CoreParams:
    """The parameters of one run, read once by ``SimCore.setup`` (validated
    by :class:`Sim`; units as its arguments)."""

    entry_latency: Any          # a nanobook.sim.latency model
    response_latency: Any       # a nanobook.sim.latency model
    queue_model: int            # QUEUE_* tag of the nanobook.sim.queue model
    queue_power: float          # its exponent (PowerProb), else 0
    maker_fee_bps: float
    taker_fee_bps: float
    order_fee: float            # currency per order that reaches the exchange
    multiplier: float
    record_interval: int        # ns of exchange time (0: no records)
    timer_interval: int         # ns of local time (0: no timer)
    start: int                  # the clock at the start (ns)
    maker_fee_per_qty: float = 0.0      # currency per quantity unit
    taker_fee_per_qty: float = 0.0
    fee_per_fill: float = 0.0           # currency per fill
    lot: int = 1                # queue-model fills in whole lots of this size
    round_nearest: bool = True  # nearest number of lots, else floor
    ks_enabled: bool = False    # the kill switch; each limit < 0 is off
    ks_max_position: int = -1
    ks_max_drawdown_pct: float = -1.0
    ks_max_daily_loss: float = -1.0
    capital: float = 0.0        # initial capital (currency)
    progress_every: int = 0     # a DECISION_PROGRESS every this many exchange rows (0: off)


def _overrides(obj, name: str) -> bool:
    return getattr(type(obj), name, None) is not getattr(Strategy, name)


def _check_fee(name: str, v) -> float:
    return real(v, name, finite=True, numpy=True)


#: largest price, quantity, latency or time step accepted (2**53: exact in a
#: float64 notional, and any timestamp plus it stays inside int64)
MAX_UNITS = 2**53


def _check_int(name: str, v, lo: int, hi: int = MAX_UNITS) -> int:
    return integer(v, name, ge=lo, le=hi, numpy=True, expect=f"an int in [{lo}, 2**53]" if hi == MAX_UNITS else None)


class Sim:
    """Event-driven market-making backtest on one instrument.

    Parameters
    ----------
    md : numpy.ndarray of :data:`~nanobook.sim.MD_DTYPE`
        The market-data stream (see :mod:`nanobook.sim.stream` for the
        adapters from LOBSTER, Binance, ITCH and synthetic flow).
    entry_latency, response_latency : int or latency model, default 0
        Local send -> matching engine; matching engine -> local report (ns).
    feed_latency : int, latency model or None, default None
        Exchange event -> strategy.  None keeps the stream's ``local_ts``.
    queue_model : RiskAverse, PowerProb, LogProb or name, default "risk_averse"
        Queue position on L2 rows (L3 rows are exact).
    maker_fee_bps, taker_fee_bps : float, default 0
        Fees in basis points of notional; negative is a rebate.
    order_fee : float, default 0
        Fixed currency fee per order that reaches the exchange.
    multiplier : float, default 1
        Currency value of one price unit times one quantity unit
        (e.g. 1e-4 for LOBSTER prices in 1e-4 dollars and sizes in shares).
    max_position : int or None
        Risk limit of the order helpers: an order that could take
        ``|position|`` (local view, counting every open order on that side)
        beyond it is refused (the helper returns None).
    record_interval : int, default 1_000_000_000
        Equity/inventory sampling step in exchange time (ns); 0 disables.
    timer_interval : int or None
        Timer step in local time (ns); overrides the strategy's attribute.
    tick_size, lot_size : int, default 1
        Venue grid in price / quantity units: an order whose price is not a
        multiple of ``tick_size`` or whose quantity is not a multiple of
        ``lot_size`` raises ``ValueError``.  Queue-model fills are whole lots
        (see ``fill_rounding``); a taker takes whole lots of each level.
    min_notional : float, default 0
        Smallest ``price * qty * multiplier`` of a limit order (currency);
        below it ``ValueError``.  Market orders are not checked (no price).
    fill_rounding : {"nearest", "floor"}, default "nearest"
        How the part of a trade beyond our queue position becomes whole
        lots: the nearest number of lots (half a lot or more fills one lot,
        as hftbacktest rounds) or the whole lots below it.  The fraction
        left over is not carried to the next trade.
    maker_fee_per_qty, taker_fee_per_qty, fee_per_fill : float, default 0
        Flat fees in currency per quantity unit (per contract on futures
        venues) and per fill, added to the basis-point fees.
    initial_capital : float, default 0
        Equity at the start (currency); equity = initial_capital + cash +
        position * mid * multiplier in the kill switch and the records.
    kill_switch : KillSwitchLimits, mapping or None
        Limits of :mod:`nanobook.limits` (``max_position``,
        ``max_drawdown_pct``, ``max_daily_loss``, ``enable_kill_switch``)
        checked after every exchange-side event; when one is crossed every
        open order is cancelled, a market order flattens the position (sized
        when it arrives), and no new order is accepted.  The result's
        ``kill`` says which rule fired, when, and at what equity.

    Notes
    -----
    :meth:`run` can be called again: every run starts from a fresh state, and
    with the same inputs (and seeds) gives identical results.
    """

    def __init__(
        self,
        md: np.ndarray,
        *,
        entry_latency=0,
        response_latency=0,
        feed_latency=None,
        queue_model="risk_averse",
        maker_fee_bps: float = 0.0,
        taker_fee_bps: float = 0.0,
        order_fee: float = 0.0,
        multiplier: float = 1.0,
        max_position: int | None = None,
        record_interval: int = 1_000_000_000,
        timer_interval: int | None = None,
        tick_size: int = 1,
        lot_size: int = 1,
        min_notional: float = 0.0,
        fill_rounding: str = "nearest",
        maker_fee_per_qty: float = 0.0,
        taker_fee_per_qty: float = 0.0,
        fee_per_fill: float = 0.0,
        initial_capital: float = 0.0,
        kill_switch=None,
    ) -> None:
        if not isinstance(md, np.ndarray) or md.dtype != MD_DTYPE or md.ndim != 1:
            validate_stream(md)          # raises, naming what is wrong
        self._bind(md)
        self.tick_size = _check_int("tick_size", tick_size, 1)
        self.lot_size = _check_int("lot_size", lot_size, 1)
        self.min_notional = _check_fee("min_notional", min_notional)
        if self.min_notional < 0:
            raise ValueError(f"min_notional must be >= 0, got {min_notional!r}")
        if fill_rounding not in ("nearest", "floor"):
            raise ValueError(f"fill_rounding must be 'nearest' or 'floor', got {fill_rounding!r}")
        self.fill_rounding = fill_rounding
        self.maker_fee_per_qty = _check_fee("maker_fee_per_qty", maker_fee_per_qty)
        self.taker_fee_per_qty = _check_fee("taker_fee_per_qty", taker_fee_per_qty)
        self.fee_per_fill = _check_fee("fee_per_fill", fee_per_fill)
        self.initial_capital = _check_fee("initial_capital", initial_capital)
        if self.initial_capital < 0:
            raise ValueError(f"initial_capital must be >= 0, got {initial_capital!r}")
        if kill_switch is None or isinstance(kill_switch, limits.KillSwitchLimits):
            self.kill_switch = kill_switch
        elif isinstance(kill_switch, dict):
            self.kill_switch = limits.KillSwitchLimits.from_mapping(kill_switch, "kill_switch")
        else:
            raise TypeError(f"kill_switch must be a KillSwitchLimits, a dict or None, got {kill_switch!r}")
        if self.kill_switch is not None and self.kill_switch.active and \
                self.kill_switch.max_drawdown_pct is not None and self.initial_capital <= 0:
            raise ValueError(f"kill_switch max_drawdown_pct needs initial_capital > 0 (a drawdown is a "
                             f"fraction of equity), got initial_capital={initial_capital!r}")
        self.entry_latency = as_latency(entry_latency, "entry_latency")
        self.response_latency = as_latency(response_latency, "response_latency")
        self.feed_latency = None if feed_latency is None else as_latency(feed_latency, "feed_latency")
        for name, lat in (("entry_latency", self.entry_latency), ("response_latency", self.response_latency),
                          ("feed_latency", self.feed_latency)):
            if lat is not None and lat.max_ns() > MAX_UNITS:
                raise ValueError(f"{name} {lat!r} can reach {lat.max_ns():.6g} ns, above the limit of 2**53 ns "
                                 f"(104 days)")
        self.queue_model = as_queue_model(queue_model)
        self.maker_fee_bps = _check_fee("maker_fee_bps", maker_fee_bps)
        self.taker_fee_bps = _check_fee("taker_fee_bps", taker_fee_bps)
        self.order_fee = _check_fee("order_fee", order_fee)
        self.multiplier = _check_fee("multiplier", multiplier)
        if self.multiplier <= 0:
            raise ValueError(f"multiplier must be > 0, got {multiplier!r}")
        self.max_position = None if max_position is None else _check_int("max_position", max_position, 0)
        self.record_interval = _check_int("record_interval", record_interval, 0)
        self.timer_interval = None if timer_interval is None else _check_int("timer_interval", timer_interval, 1)
        if self.feed_latency is not None:
            md = md.copy()
            md["local_ts"] = _core.feed_latency(np.ascontiguousarray(md["exch_ts"]), self.feed_latency)
            ex = (md["flags"] & EXCH) != 0
            lo = (md["flags"] & LOCAL) != 0
            # FIFO feed: a later exchange event is never seen before an earlier one
            if lo.any():
                md["local_ts"][lo] = np.maximum.accumulate(md["local_ts"][lo])
            if not (ex == lo).all():
                raise StreamError("feed_latency needs a stream whose rows are both EXCH and LOCAL; "
                                  "pass the stream before order_events splits it")
            md = order_events(md)
            self._bind(md)
        self._core = None
        self.rejected_by_risk = 0
        self.rejected_after_end = 0
        self.rejected_by_kill = 0

    def _bind(self, md: np.ndarray) -> None:
        """Keep the (C-contiguous) stream with its row indexes and ranges (one pass)."""
        md = np.ascontiguousarray(md)
        scan = _core.scan_stream(md)
        if not scan.ok:
            validate_stream(md)          # names the row and the rule
            raise StreamError("the stream breaks a rule of validate_stream")  # pragma: no cover
        self.md = md
        self._xi, self._li = scan.exch_rows, scan.local_rows
        self._start, self._first, self._end = int(scan.t_start), scan.first_exch, scan.last_exch
        # the price window the books index directly (use_window); None: sorted ladders only
        self._ladder = _ladder_window(md, int(scan.price_lo), int(scan.price_hi)) if len(md) else None

    # ------------------------------------------------------------ running

    def run(self, strategy: Strategy | Callable, *, progress: Callable[[int, int], None] | None = None,
            progress_every: int = 100_000) -> SimResult:
        """Replay the whole stream with ``strategy`` and return the result.

        ``strategy`` is a :class:`Strategy` instance or a ``step(sim)``
        function (wrapped in :class:`StepStrategy`).  ``progress(done,
        total)`` (optional) is called every ``progress_every`` exchange rows
        and at the end, with the rows processed and their total.
        """
        strategy = self._begin(strategy, None, progress is not None, progress_every)
        core = self._core
        advance = core.advance
        dispatch = self._dispatch
        total = len(self._xi)
        while True:
            code = advance()
            if code == DECISION_END:
                break
            if code == DECISION_PROGRESS:
                progress(core.n_exch_done, total)
            else:
                dispatch(code, strategy)
        if progress is not None:
            progress(core.n_exch_done, total)
        return self._finish(strategy)

    def _begin(self, strategy, start, with_progress: bool, progress_every: int, timer=True):
        """Fresh core bound to the stream; returns the strategy (wrapped if a function)."""
        if not isinstance(strategy, Strategy):
            if callable(strategy):
                strategy = StepStrategy(strategy)
            else:
                raise TypeError(f"strategy must be a Strategy or a step(sim) callable, got {strategy!r}")
        if with_progress:
            progress_every = _check_int("progress_every", progress_every, 1)
        t_int = self.timer_interval if self.timer_interval is not None else strategy.timer_interval
        if t_int is not None:
            t_int = _check_int("timer_interval", t_int, 1)
        if not timer:
            t_int = None
        if start is None:
            start = self._start
        ks = self.kill_switch
        on = ks is not None and ks.active
        core = _core.SimCore()
        core.setup(self.md, self._xi, self._li, CoreParams(
            entry_latency=self.entry_latency, response_latency=self.response_latency,
            queue_model=self.queue_model._kind, queue_power=self.queue_model.power,
            maker_fee_bps=self.maker_fee_bps, taker_fee_bps=self.taker_fee_bps,
            order_fee=self.order_fee, multiplier=self.multiplier,
            record_interval=self.record_interval, timer_interval=t_int or 0, start=start,
            maker_fee_per_qty=self.maker_fee_per_qty, taker_fee_per_qty=self.taker_fee_per_qty,
            fee_per_fill=self.fee_per_fill, lot=self.lot_size,
            round_nearest=self.fill_rounding == "nearest", ks_enabled=on,
            ks_max_position=-1 if not on or ks.max_position is None else ks.max_position,
            ks_max_drawdown_pct=-1.0 if not on or ks.max_drawdown_pct is None else ks.max_drawdown_pct,
            ks_max_daily_loss=-1.0 if not on or ks.max_daily_loss is None else ks.max_daily_loss,
            capital=self.initial_capital, progress_every=progress_every if with_progress else 0))
        if self._ladder is not None:
            core.use_window(*self._ladder)
        core.want_book = _overrides(strategy, "on_book")
        core.want_depth = core.want_book and bool(strategy.every_book_update)
        core.want_trade = _overrides(strategy, "on_trade")
        core.want_fill = _overrides(strategy, "on_fill")
        core.want_order = _overrides(strategy, "on_order")
        core.want_timer = _overrides(strategy, "on_timer") and t_int is not None
        self._core = core
        self.rejected_by_risk = 0
        self.rejected_after_end = 0
        self.rejected_by_kill = 0
        self._decisions = 0
        strategy.on_start(self)
        return strategy

    def _dispatch(self, code: int, strategy) -> None:
        """Call the strategy hook of one decision point."""
        core = self._core
        self._decisions += 1
        if code == DECISION_BOOK:
            strategy.on_book(self)
        elif code == DECISION_TRADE:
            row = self.md[core.cur_row]
            side = int(row["side"])
            if row["kind"] == EXEC:      # EXEC carries the resting side
                side = 1 - side
            strategy.on_trade(self, Trade(int(row["local_ts"]), int(row["exch_ts"]), side,
                                          int(row["price"]), int(row["qty"])))
        elif code == DECISION_FILL:
            r = core.response(core.cur_resp)
            f = core.fill_row(r.fill)
            strategy.on_fill(self, Fill(r.order_id, f[0], r.price, r.qty, bool(r.maker), f[1], f[2], r.t))
        elif code == DECISION_ORDER:
            r = core.response(core.cur_resp)
            strategy.on_order(self, OrderEvent(ORDER_EVENT_NAMES[r.kind], r.order_id, r.qty, r.t))
        elif code == DECISION_TIMER:
            strategy.on_timer(self)

    def _finish(self, strategy) -> SimResult:
        core = self._core
        md = self.md
        strategy.on_end(self)
        kill = None
        if core.kill_rule:
            kill = {"rule": KILL_RULE_NAMES[core.kill_rule], "exch_ts": int(core.kill_ts),
                    "equity": float(core.kill_equity), "high_water_mark": float(core.hwm),
                    "day_start": float(core.day_start)}
        return SimResult(
            fills=core.fills_array(), orders=core.orders_array(), records=core.records_array(),
            bbo=core.bbo_array(), responses=core.responses_array(), multiplier=self.multiplier,
            record_interval=self.record_interval, n_events=len(md), decisions=self._decisions,
            rejected_by_risk=self.rejected_by_risk,
            final=dict(position=core.position, cash=core.cash, fees=core.fees, volume=core.volume,
                       end_ts=self._end, start_ts=self._first,
                       rejected_by_kill=self.rejected_by_kill),
            initial_capital=self.initial_capital, kill=kill,
        )

    @property
    def killed(self) -> dict | None:
        """While running: None, or the kill switch's event once it fired
        (``rule``, ``exch_ts``, ``equity``)."""
        core = self._need()
        if not core.kill_rule:
            return None
        return {"rule": KILL_RULE_NAMES[core.kill_rule], "exch_ts": int(core.kill_ts),
                "equity": float(core.kill_equity)}

    # ------------------------------------------------------------ strategy view

    def _need(self):
        if self._core is None:
            raise RuntimeError("the simulation is not running: call Sim.run(strategy)")
        return self._core

    @property
    def now(self) -> int:
        """Current local time (ns)."""
        return self._need().now

    @property
    def best_bid(self) -> int:
        """Best bid price of the local book (0 when empty)."""
        return self._need().local_bbo()[0]

    @property
    def best_ask(self) -> int:
        """Best ask price of the local book (0 when empty)."""
        return self._need().local_bbo()[2]

    def bbo(self) -> tuple[int, int, int, int]:
        """(bid, bid_qty, ask, ask_qty) of the local book (0 for an empty side)."""
        return self._need().local_bbo()

    @property
    def mid(self) -> float:
        """Local mid price (NaN when a side is empty)."""
        b, _, a, _ = self._need().local_bbo()
        return 0.5 * (a + b) if a and b else math.nan

    def depth(self, n: int = 5) -> np.ndarray:
        """Top ``n`` local levels: int64 array (4, n) of bid px, bid qty, ask px, ask qty."""
        return self._need().local_depth(_check_int("n", n, 1, 1_000_000))

    @property
    def position(self) -> int:
        """Position as the strategy knows it (fills reported so far)."""
        return self._need().local_position

    @property
    def cash(self) -> float:
        """Cash as the strategy knows it (currency)."""
        return self._need().local_cash

    @property
    def fees(self) -> float:
        """Fees reported so far (currency)."""
        return self._need().local_fees

    def open_orders(self) -> list[int]:
        """Ids of orders the strategy believes pending or open."""
        return self._need().local_open()

    def order(self, order_id: int) -> dict:
        """Local view of an order: side, price, qty, leaves, status, cancel_sent."""
        core = self._need()
        oid = self._check_id(order_id)
        side, price, qty, leaves, status, cts = core.order_row(oid)
        return {"order_id": oid, "side": side, "price": price, "qty": qty, "leaves": leaves,
                "status": STATUS_NAMES[status], "cancel_sent": cts >= 0}

    def _check_id(self, order_id) -> int:
        core = self._need()
        if not is_int(order_id, numpy=True) or not 1 <= order_id <= core.n_orders:
            raise UnknownOrderError(f"order_id {order_id!r} was never issued by this simulation")
        return int(order_id)

    # ------------------------------------------------------------ commands

    def submit(self, side: int, price: int, qty: int, *, post_only: bool = False,
               ioc: bool = False, market: bool = False, fok: bool = False,
               gtx: bool = False) -> int | None:
        """Send an order now (it reaches the book after the entry latency).

        Time in force: the default rests (GTC); ``ioc`` cancels what does
        not fill on arrival; ``fok`` fills completely on arrival (against
        the visible liquidity up to the limit) or is cancelled whole;
        ``post_only`` (``gtx``, Binance's name for it) is rejected if it
        would take.

        Returns its id, or None if ``max_position`` refuses it, the kill
        switch has fired, or the market data is over (reports still reach
        the strategy after the last market event, but no new order is
        accepted, so every run ends).

        Raises
        ------
        ValueError
            Side not 0/1, price or qty not a positive int, a price off the
            ``tick_size`` grid, a quantity off the ``lot_size`` grid, a limit
            order below ``min_notional``, or contradictory flags.
        """
        core = self._need()
        if side not in (0, 1) or isinstance(side, bool):
            raise ValueError(f"side must be 0 (buy) or 1 (sell), got {side!r}")
        for name, v in (("post_only", post_only), ("ioc", ioc), ("market", market), ("fok", fok), ("gtx", gtx)):
            if not isinstance(v, bool):
                raise TypeError(f"{name} must be a bool, got {v!r}")
        post_only = post_only or gtx
        if post_only and (ioc or fok or market):
            raise ValueError("post_only (gtx) cannot be combined with ioc, fok or market")
        if ioc and fok:
            raise ValueError("ioc and fok are exclusive")
        self._check_qty(qty)
        if market:
            price = 0
        else:
            self._check_price(price, qty)
        if core.data_done:
            # after the last market event nothing could happen to a new order;
            # refusing it also guarantees that the run ends
            self.rejected_after_end += 1
            return None
        if core.kill_rule:
            self.rejected_by_kill += 1
            return None
        if self.max_position is not None and self._over_limit(core, side, qty):
            self.rejected_by_risk += 1
            return None
        flags = (ORDER_MARKET if market else 0) | (ORDER_IOC if ioc else 0) | \
            (ORDER_POST_ONLY if post_only else 0) | (ORDER_FOK if fok else 0)
        return core.submit(int(side), int(price), int(qty), flags)

    def _check_qty(self, qty) -> None:
        integer(qty, "qty", gt=0, le=MAX_UNITS, numpy=True, expect="a positive int <= 2**53")
        if qty % self.lot_size:
            raise ValueError(f"qty {qty} is not a multiple of lot_size {self.lot_size}")

    def _check_price(self, price, qty) -> None:
        integer(price, "price", gt=0, le=MAX_UNITS, numpy=True, expect="a positive int (ticks) <= 2**53")
        if price % self.tick_size:
            raise ValueError(f"price {price} is not a multiple of tick_size {self.tick_size}")
        notional = float(price) * float(qty) * self.multiplier
        if notional < self.min_notional:
            raise ValueError(f"order notional {notional:g} (price {price} x qty {qty} x multiplier "
                             f"{self.multiplier:g}) is below min_notional {self.min_notional:g}")

    def _over_limit(self, core, side: int, qty: int, exclude: int | None = None) -> bool:
        pos = core.local_position
        same = 0
        for o in core.local_open():
            row = core.order_row(o)
            if row[0] == side and o != exclude:
                same += row[3]
        worst = pos + same + qty if side == BUY else pos - same - qty
        return abs(worst) > self.max_position and abs(worst) > abs(pos)

    def buy(self, price: int, qty: int, *, post_only: bool = False, ioc: bool = False,
            fok: bool = False, gtx: bool = False) -> int | None:
        """Limit buy (see :meth:`submit`)."""
        return self.submit(BUY, price, qty, post_only=post_only, ioc=ioc, fok=fok, gtx=gtx)

    def sell(self, price: int, qty: int, *, post_only: bool = False, ioc: bool = False,
             fok: bool = False, gtx: bool = False) -> int | None:
        """Limit sell (see :meth:`submit`)."""
        return self.submit(SELL, price, qty, post_only=post_only, ioc=ioc, fok=fok, gtx=gtx)

    def market_buy(self, qty: int) -> int | None:
        """Market buy: takes the visible asks; any rest is cancelled."""
        return self.submit(BUY, 0, qty, market=True)

    def market_sell(self, qty: int) -> int | None:
        """Market sell: takes the visible bids; any rest is cancelled."""
        return self.submit(SELL, 0, qty, market=True)

    def modify(self, order_id: int, price: int | None = None, qty: int | None = None) -> bool:
        """Send a modify (cancel-replace) now: a new price and/or a new open
        quantity.  It travels like an order (entry latency, FIFO with orders
        and cancels) and is applied when it arrives.

        Queue rule: the order keeps its place when the price is unchanged
        and the quantity does not grow; a new price or a larger quantity
        sends it to the back of the queue at its (new) price, as a new order
        would be.  A new price that crosses takes liquidity like a new
        order (remainder cancelled); for a post-only order it is refused
        (``modify_rejected``) and the order stands.  A modify that arrives
        after the order is done is refused likewise.

        Returns False (nothing sent) when the strategy already knows the
        order is done or has sent a cancel for it.

        Raises
        ------
        UnknownOrderError
            ``order_id`` was never issued.
        ValueError
            Off-grid price or quantity, below ``min_notional``, or neither
            ``price`` nor ``qty`` given.
        """
        core = self._need()
        oid = self._check_id(order_id)
        side, cur_price, _, leaves, _, _ = core.order_row(oid)
        if price is None and qty is None:
            raise ValueError("modify needs a new price or a new qty, got neither")
        if cur_price == 0:
            raise ValueError(f"order {oid} is a market order: it cannot be modified")
        new_qty = leaves if qty is None else qty
        self._check_qty(new_qty)
        new_price = cur_price if price is None else price
        self._check_price(new_price, new_qty)
        if core.kill_rule or core.data_done:
            return False
        if self.max_position is not None and self._over_limit(core, side, new_qty, exclude=oid):
            self.rejected_by_risk += 1
            return False
        return core.modify(oid, int(new_price), int(new_qty))

    def cancel(self, order_id: int) -> bool:
        """Send a cancel now.  False when the strategy already knows the
        order is done or already sent a cancel for it.

        Raises
        ------
        UnknownOrderError
            ``order_id`` was never issued.
        """
        return self._need().cancel(self._check_id(order_id))

    def cancel_all(self) -> int:
        """Cancel every open order; returns how many cancels were sent."""
        core = self._need()
        return sum(1 for o in core.local_open() if core.cancel(o))
