"""The simulator: :class:`Sim` drives the Cython event loop and the strategy."""
from __future__ import annotations

import math
from typing import Callable, Iterable, NamedTuple

import numpy as np

from . import _core
from ._errors import StreamError, UnknownOrderError
from .latency import as_latency
from .queue import as_queue_model
from .result import SimResult
from .stream import EXCH, LOCAL, order_events, validate_stream

__all__ = ["Sim", "Strategy", "StepStrategy", "Fill", "OrderEvent", "Trade", "BUY", "SELL"]

BUY, SELL = 0, 1
_ORDER_EVENTS = {1: "ack", 3: "cancelled", 4: "rejected", 5: "cancel_rejected"}
_STATUS = {0: "pending", 1: "open", 2: "filled", 3: "cancelled", 4: "rejected"}
_MARKET, _IOC, _POST_ONLY = 1, 2, 4


class Fill(NamedTuple):
    """A fill report as the strategy receives it (after the response latency)."""

    order_id: int
    side: int
    price: int
    qty: int
    maker: bool
    fee: float
    exch_ts: int
    local_ts: int


class OrderEvent(NamedTuple):
    """An order report: ``kind`` is ``"ack"``, ``"cancelled"`` (``qty`` = the
    quantity that was still open), ``"rejected"`` (post-only order that
    would have crossed) or ``"cancel_rejected"`` (the order was already done
    when the cancel arrived)."""

    kind: str
    order_id: int
    qty: int
    local_ts: int


class Trade(NamedTuple):
    """A market trade as seen locally; ``side`` is the aggressor side."""

    local_ts: int
    exch_ts: int
    side: int
    price: int
    qty: int


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


def _overrides(obj, name: str) -> bool:
    return getattr(type(obj), name, None) is not getattr(Strategy, name)


def _check_fee(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    return float(v)


def _check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    return int(v)


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
    ) -> None:
        validate_stream(md)
        self.entry_latency = as_latency(entry_latency, "entry_latency")
        self.response_latency = as_latency(response_latency, "response_latency")
        self.feed_latency = None if feed_latency is None else as_latency(feed_latency, "feed_latency")
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
        self.md = md
        self._cols = {name: np.ascontiguousarray(md[name]) for name in
                      ("exch_ts", "local_ts", "price", "qty", "rank", "kind", "side", "flags")}
        self._xi = np.flatnonzero(md["flags"] & EXCH).astype(np.int64)
        self._li = np.flatnonzero(md["flags"] & LOCAL).astype(np.int64)
        self._core = None
        self.rejected_by_risk = 0
        self.rejected_after_end = 0

    # ------------------------------------------------------------ running

    def run(self, strategy: Strategy | Callable) -> SimResult:
        """Replay the whole stream with ``strategy`` and return the result.

        ``strategy`` is a :class:`Strategy` instance or a ``step(sim)``
        function (wrapped in :class:`StepStrategy`).
        """
        if not isinstance(strategy, Strategy):
            if callable(strategy):
                strategy = StepStrategy(strategy)
            else:
                raise TypeError(f"strategy must be a Strategy or a step(sim) callable, got {strategy!r}")
        timer = self.timer_interval if self.timer_interval is not None else strategy.timer_interval
        if timer is not None:
            timer = _check_int("timer_interval", timer, 1)
        md = self.md
        start = 0
        if len(md):
            start = int(min(md["exch_ts"].min(), md["local_ts"].min()))
        core = _core.SimCore()
        core.setup(self._cols, self._xi, self._li, self.entry_latency, self.response_latency,
                   self.queue_model._kind, self.queue_model.power, self.maker_fee_bps,
                   self.taker_fee_bps, self.order_fee, self.multiplier, self.record_interval,
                   timer or 0, start)
        core.want_book = _overrides(strategy, "on_book")
        core.want_depth = core.want_book and bool(strategy.every_book_update)
        core.want_trade = _overrides(strategy, "on_trade")
        core.want_fill = _overrides(strategy, "on_fill")
        core.want_order = _overrides(strategy, "on_order")
        core.want_timer = _overrides(strategy, "on_timer") and timer is not None
        self._core = core
        self.rejected_by_risk = 0
        self.rejected_after_end = 0
        self._decisions = 0
        on_book, on_trade, on_fill = strategy.on_book, strategy.on_trade, strategy.on_fill
        on_order, on_timer = strategy.on_order, strategy.on_timer
        kind_col, side_col, price_col, qty_col = (self._cols["kind"], self._cols["side"],
                                                  self._cols["price"], self._cols["qty"])
        ex_col, lo_col = self._cols["exch_ts"], self._cols["local_ts"]
        strategy.on_start(self)
        advance = core.advance
        n = 0
        while True:
            code = advance()
            if code == 0:
                break
            n += 1
            if code == 1:
                on_book(self)
            elif code == 2:
                k = core.cur_row
                side = int(side_col[k])
                if kind_col[k] == 5:        # EXEC carries the resting side
                    side = 1 - side
                on_trade(self, Trade(int(lo_col[k]), int(ex_col[k]), side, int(price_col[k]), int(qty_col[k])))
            elif code == 3:
                t, _, oid, price, qty, maker, fi = core.response(core.cur_resp)
                f = core.fill_row(fi)
                on_fill(self, Fill(oid, f[0], price, qty, bool(maker), f[1], f[2], t))
            elif code == 4:
                t, kind, oid, _, qty, _, _ = core.response(core.cur_resp)
                on_order(self, OrderEvent(_ORDER_EVENTS[kind], oid, qty, t))
            elif code == 5:
                on_timer(self)
        self._decisions = n
        strategy.on_end(self)
        return SimResult(
            fills=core.fills_array(), orders=core.orders_array(), records=core.records_array(),
            bbo=core.bbo_array(), responses=core.responses_array(), multiplier=self.multiplier,
            record_interval=self.record_interval, n_events=len(md), decisions=n,
            rejected_by_risk=self.rejected_by_risk,
            final=dict(position=core.position, cash=core.cash, fees=core.fees, volume=core.volume,
                       end_ts=int(md["exch_ts"].max()) if len(md) else None),
        )

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
        return self._need().local_depth(_check_int("n", n, 1))

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
                "status": _STATUS[status], "cancel_sent": cts >= 0}

    def _check_id(self, order_id) -> int:
        core = self._need()
        if isinstance(order_id, bool) or not isinstance(order_id, (int, np.integer)) or \
                not 1 <= order_id <= core.n_orders:
            raise UnknownOrderError(f"order_id {order_id!r} was never issued by this simulation")
        return int(order_id)

    # ------------------------------------------------------------ commands

    def submit(self, side: int, price: int, qty: int, *, post_only: bool = False,
               ioc: bool = False, market: bool = False) -> int | None:
        """Send an order now (it reaches the book after the entry latency).

        Returns its id, or None if ``max_position`` refuses it or the market
        data is over (reports still reach the strategy after the last market
        event, but no new order is accepted, so every run ends).

        Raises
        ------
        ValueError
            Side not 0/1, price or qty not a positive int.
        """
        core = self._need()
        if core.data_done:
            # after the last market event nothing could happen to a new order;
            # refusing it also guarantees that the run ends
            self.rejected_after_end += 1
            return None
        if side not in (0, 1) or isinstance(side, bool):
            raise ValueError(f"side must be 0 (buy) or 1 (sell), got {side!r}")
        if isinstance(qty, bool) or not isinstance(qty, (int, np.integer)) or qty <= 0:
            raise ValueError(f"qty must be a positive int, got {qty!r}")
        if market:
            price = 0
        elif isinstance(price, bool) or not isinstance(price, (int, np.integer)) or price <= 0:
            raise ValueError(f"price must be a positive int (ticks), got {price!r}")
        if self.max_position is not None:
            pos = core.local_position
            same = sum(core.order_row(o)[3] for o in core.local_open() if core.order_row(o)[0] == side)
            worst = pos + same + qty if side == 0 else pos - same - qty
            if abs(worst) > self.max_position and abs(worst) > abs(pos):
                self.rejected_by_risk += 1
                return None
        flags = (_MARKET if market else 0) | (_IOC if ioc else 0) | (_POST_ONLY if post_only else 0)
        return core.submit(int(side), int(price), int(qty), flags)

    def buy(self, price: int, qty: int, *, post_only: bool = False, ioc: bool = False) -> int | None:
        """Limit buy (see :meth:`submit`)."""
        return self.submit(0, price, qty, post_only=post_only, ioc=ioc)

    def sell(self, price: int, qty: int, *, post_only: bool = False, ioc: bool = False) -> int | None:
        """Limit sell (see :meth:`submit`)."""
        return self.submit(1, price, qty, post_only=post_only, ioc=ioc)

    def market_buy(self, qty: int) -> int | None:
        """Market buy: takes the visible asks; any rest is cancelled."""
        return self.submit(0, 0, qty, market=True)

    def market_sell(self, qty: int) -> int | None:
        """Market sell: takes the visible bids; any rest is cancelled."""
        return self.submit(1, 0, qty, market=True)

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
