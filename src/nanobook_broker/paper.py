"""``PaperBroker``: a simulated account that fills against ``nanobook.MultiExchange`` books.

Each quoted symbol has a book holding two "house" orders, a bid and an ask of
``liquidity`` lots (unlimited by default) at the quoted prices. Our market
orders take the house's liquidity; our limit orders that do not cross rest in
the book and fill when a later quote moves the house across them (at our
limit price, the resting price). Stop and stop-limit orders wait in the
account (not in the book) until the trigger price crosses their stop, then
enter the book as a market or limit order. Everything is integers: cents and lots.

The account (cash, positions, orders, fills, quotes) is persisted to a JSON
file after every change with an atomic replace under an exclusive file lock,
and reloaded whenever another process changed it, so a later process (or a
concurrent one) sees the same account.
"""
from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import tempfile
import threading
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Iterator, Mapping

from nanobook.validate import as_float, as_i64, as_symbol, as_u64

from .base import OPEN_STATUSES, OrderRequest, OrderStatus, existing_order_id, validate_order
from .errors import (
    BrokerError,
    InsufficientFunds,
    NotConnected,
    OrderNotFound,
    OrderRejected,
)
from .records import Account, Fill, PaperOrder, Position, Quote

__all__ = ["PaperBroker"]

log = logging.getLogger("nanobook_broker")

_FORMAT = "nanobook-paper/1"
_UNLIMITED = 10**15
_STOP_TRIGGERS = ("last", "quote")
_STOP_TYPES = ("stop", "stop_limit")


def _round_half_away(x: Fraction) -> int:
    n = abs(x)
    r = int(n + Fraction(1, 2))
    return r if x >= 0 else -r


def _dollars_to_cents(text: str, what: str) -> int:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal number of dollars, got {text!r}") from None
    if not d.is_finite():
        raise ValueError(f"{what} must be finite, got {text!r}")
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class PaperBroker:
    """A persistent simulated broker implementing the :class:`~nanobook_broker.Broker` protocol.

    Parameters
    ----------
    state_path : str or os.PathLike or None
        JSON file holding the account. Created on first ``connect()`` when
        missing; ``None`` keeps the account in memory only.
    initial_cash_cents : int
        Cash of a new account (ignored when the state file exists).
    prices : mapping, optional
        ``{symbol: price_cents}`` (a quote ``price ± spread/2`` is built) or
        ``{symbol: (bid_cents, ask_cents)}``; applied on ``connect()``.
    price_file : path, optional
        CSV with a ``symbol`` column and either ``price`` or ``bid``/``ask``
        (optional ``last``) columns in **dollars**; applied on ``connect()``.
    spread_bps : float
        Full bid/ask spread built around a single price (>= 0; at least one cent each side).
    commission_bps : float
        Commission per fill on its notional, rounded half away from zero.
    min_commission_cents : int
        Minimum commission charged on an order's first fill.
    liquidity : int or None
        Lots the house shows at bid and ask after each quote (``None``: unlimited).
        A finite value produces partial fills.
    allow_short : bool
        Whether sells may take a position below zero.
    leverage : float
        Buying power is ``equity * leverage - gross position value`` (1 = cash account).
    stop_trigger : {"last", "quote"}
        What triggers stop and stop-limit orders. ``"last"`` (default, as in
        ``nanobook.Exchange``): the last price, buy stops when ``last >= stop``,
        sell stops when ``last <= stop``; the last price comes from quotes that
        carry one and from paper fills. ``"quote"``: the touch, buy stops when
        ``ask >= stop``, sell stops when ``bid <= stop``.

    Notes
    -----
    Market, limit, stop and stop-limit orders are supported. A stop waits
    (status ``Submitted``, ``triggered=False``) until the trigger price crosses
    its stop, then executes as a market order (remainder cancelled) or rests
    as a limit order. A rejected order raises (no order id is created); see
    the ``errors`` module.
    """

    def __init__(
        self,
        state_path: str | os.PathLike[str] | None = None,
        *,
        initial_cash_cents: int = 100_000_000,
        prices: Mapping[str, Any] | None = None,
        price_file: str | os.PathLike[str] | None = None,
        spread_bps: float = 10.0,
        commission_bps: float = 0.0,
        min_commission_cents: int = 0,
        liquidity: int | None = None,
        allow_short: bool = True,
        leverage: float = 1.0,
        stop_trigger: str = "last",
    ) -> None:
        self._path = None if state_path is None else os.fspath(state_path)
        self._initial_cash = as_i64(initial_cash_cents, "initial_cash_cents")
        if self._initial_cash < 0:
            raise ValueError(f"initial_cash_cents must be >= 0, got {self._initial_cash}")
        self._spread_bps = as_float(spread_bps, "spread_bps")
        if not (self._spread_bps >= 0 and self._spread_bps < 10_000):
            raise ValueError(f"spread_bps must be in [0, 10000), got {spread_bps!r}")
        self._commission_bps = as_float(commission_bps, "commission_bps")
        if not (0 <= self._commission_bps < 10_000):
            raise ValueError(f"commission_bps must be in [0, 10000), got {commission_bps!r}")
        self._min_commission = as_i64(min_commission_cents, "min_commission_cents")
        if self._min_commission < 0:
            raise ValueError(f"min_commission_cents must be >= 0, got {min_commission_cents!r}")
        if liquidity is not None:
            liquidity = as_u64(liquidity, "liquidity")
            if liquidity == 0:
                raise ValueError("liquidity must be positive or None, got 0")
        self._liquidity = _UNLIMITED if liquidity is None else liquidity
        if not isinstance(allow_short, bool):
            raise TypeError(f"allow_short must be a bool, got {allow_short!r}")
        self._allow_short = allow_short
        self._leverage = as_float(leverage, "leverage")
        if not (1.0 <= self._leverage <= 100.0):
            raise ValueError(f"leverage must be in [1, 100], got {leverage!r}")
        if not isinstance(stop_trigger, str) or stop_trigger not in _STOP_TRIGGERS:
            raise ValueError(f"stop_trigger must be 'last' or 'quote', got {stop_trigger!r}")
        self._stop_trigger = stop_trigger
        self._seed_quotes: dict[str, tuple[int, int, int | None]] = {}
        if prices is not None:
            if not isinstance(prices, Mapping):
                raise TypeError(f"prices must be a mapping symbol -> cents or (bid, ask), got {type(prices).__name__}")
            for sym, v in prices.items():
                self._seed_quotes[as_symbol(sym, "prices")] = self._parse_price(sym, v)
        if price_file is not None:
            self._seed_quotes.update(self._read_price_file(price_file))
        self._lock = threading.RLock()
        self._connected = False
        self._state: dict[str, Any] | None = None
        self._loaded_version = -1
        self._book: Any = None
        # book order ids are per symbol (one Exchange per symbol): key by (symbol, id)
        self._book2ours: dict[tuple[str, int], int] = {}
        self._ours2book: dict[int, tuple[str, int]] = {}
        self._house: dict[tuple[str, int], str] = {}  # (symbol, book id) -> "bid"|"ask"

    def __repr__(self) -> str:
        return f"PaperBroker(state_path={self._path!r}, connected={self._connected})"

    # ------------------------------------------------------------------ prices

    def _parse_price(self, sym: str, v: Any) -> tuple[int, int, int | None]:
        if isinstance(v, tuple):
            if len(v) not in (2, 3):
                raise ValueError(f"prices[{sym!r}] must be (bid, ask) or (bid, ask, last), got {v!r}")
            bid = as_i64(v[0], f"prices[{sym!r}] bid")
            ask = as_i64(v[1], f"prices[{sym!r}] ask")
            last = as_i64(v[2], f"prices[{sym!r}] last") if len(v) == 3 and v[2] is not None else None
        else:
            px = as_i64(v, f"prices[{sym!r}]")
            if px <= 0:
                raise ValueError(f"prices[{sym!r}] must be positive cents, got {px}")
            half = max(1, _round_half_away(Fraction(px) * Fraction(self._spread_bps) / 20_000))
            bid, ask, last = px - half, px + half, px
        if bid <= 0 or ask <= bid:
            raise ValueError(f"quote for {sym!r} must have 0 < bid < ask, got bid={bid} ask={ask}")
        return bid, ask, last

    def _read_price_file(self, path: Any) -> dict[str, tuple[int, int, int | None]]:
        out: dict[str, tuple[int, int, int | None]] = {}
        with open(os.fspath(path), newline="") as fh:
            rows = csv.DictReader(fh)
            cols = set(rows.fieldnames or ())
            if "symbol" not in cols or not ({"price"} <= cols or {"bid", "ask"} <= cols):
                raise ValueError(
                    f"price_file {os.fspath(path)!r} needs columns symbol and price (or bid, ask), got {sorted(cols)}"
                )
            for i, row in enumerate(rows, start=2):
                sym = as_symbol(row["symbol"].strip(), "price_file symbol")
                if "bid" in cols and row.get("bid"):
                    bid = _dollars_to_cents(row["bid"], f"price_file line {i} bid")
                    ask = _dollars_to_cents(row["ask"], f"price_file line {i} ask")
                    last = _dollars_to_cents(row["last"], f"price_file line {i} last") if row.get("last") else None
                    out[sym] = self._parse_price(sym, (bid, ask, last))
                else:
                    out[sym] = self._parse_price(sym, _dollars_to_cents(row["price"], f"price_file line {i} price"))
        return out

    # ------------------------------------------------------------------ persistence

    def _new_state(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": 0,
            "cash_cents": self._initial_cash,
            "initial_cash_cents": self._initial_cash,
            "next_order_id": 1,
            "positions": {},
            "quotes": {},
            "orders": {},
            "fills": [],
        }

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._path is None:
            yield
            return
        import fcntl

        d = os.path.dirname(os.path.abspath(self._path))
        os.makedirs(d, exist_ok=True)
        fd = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_file(self) -> dict[str, Any] | None:
        assert self._path is not None
        try:
            with open(self._path, encoding="utf-8") as fh:
                st = json.load(fh)
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BrokerError(f"paper state file {self._path!r} is corrupt: {exc}") from exc
        if not isinstance(st, dict) or st.get("format") != _FORMAT:
            raise BrokerError(f"paper state file {self._path!r} is not a {_FORMAT} file")
        return st

    def _write_file(self, st: dict[str, Any]) -> None:
        assert self._path is not None
        d = os.path.dirname(os.path.abspath(self._path))
        fd, tmp = tempfile.mkstemp(prefix=".paper-", suffix=".tmp", dir=d)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(st, fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):
            dfd = os.open(d, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    @contextlib.contextmanager
    def _txn(self, write: bool) -> Iterator[dict[str, Any]]:
        """Lock, refresh from disk if another process wrote, run, save if ``write``."""
        with self._lock:
            if not self._connected:
                raise NotConnected()
            with self._file_lock():
                if self._path is not None:
                    st = self._read_file()
                    if st is None:
                        raise BrokerError(f"paper state file {self._path!r} disappeared")
                    if st["version"] != self._loaded_version:
                        self._install(st)
                assert self._state is not None
                snapshot = json.dumps(self._state, sort_keys=True) if write else None
                try:
                    yield self._state
                except BaseException:
                    if snapshot is not None:  # leave state unchanged on any error
                        self._install(json.loads(snapshot))
                    raise
                if write:
                    self._state["version"] += 1
                    self._loaded_version = self._state["version"]
                    if self._path is not None:
                        self._write_file(self._state)

    def _install(self, st: dict[str, Any]) -> None:
        self._state = st
        self._loaded_version = st["version"]
        self._rebuild_books()

    # ------------------------------------------------------------------ books

    def _rebuild_books(self) -> None:
        from nanobook import MultiExchange

        st = self._state
        assert st is not None
        self._book = MultiExchange()
        self._book2ours.clear()
        self._ours2book.clear()
        self._house.clear()
        for sym in sorted(st["quotes"]):
            self._post_house(sym, reseed=False)
        for oid in sorted(st["orders"], key=int):
            o = st["orders"][oid]
            if o["status"] in OPEN_STATUSES and self._in_book(o):
                res = self._book.submit_limit(o["symbol"], o["side"], o["limit_price_cents"], o["quantity"] - o["filled"])
                self._link(o["symbol"], res.order_id, o["id"])
                self._apply_trades(o["symbol"], res.trades)

    @staticmethod
    def _in_book(o: dict[str, Any]) -> bool:
        """A working order that rests in the book: a limit, or a triggered stop-limit."""
        return o["order_type"] == "limit" or (o["order_type"] == "stop_limit" and bool(o.get("triggered")))

    def _link(self, sym: str, book_id: int, our_id: int) -> None:
        self._book2ours[(sym, book_id)] = our_id
        self._ours2book[our_id] = (sym, book_id)

    def _post_house(self, sym: str, reseed: bool) -> None:
        st = self._state
        assert st is not None
        q = st["quotes"][sym]
        if reseed:
            q["house_bid_qty"] = self._liquidity
            q["house_ask_qty"] = self._liquidity
        for key in [k for k in self._house if k[0] == sym]:
            self._book.cancel(sym, key[1])
            del self._house[key]
        if q["house_bid_qty"] > 0:
            res = self._book.submit_limit(sym, "buy", q["bid"], q["house_bid_qty"])
            self._house[(sym, res.order_id)] = "bid"
            self._apply_trades(sym, res.trades)
        if q["house_ask_qty"] > 0:
            res = self._book.submit_limit(sym, "sell", q["ask"], q["house_ask_qty"])
            self._house[(sym, res.order_id)] = "ask"
            self._apply_trades(sym, res.trades)

    def _apply_trades(self, sym: str, trades: list[Any]) -> None:
        st = self._state
        assert st is not None
        for t in trades:
            qty, px = int(t.quantity), int(t.price)
            if qty == 0:
                continue
            for book_id in (t.aggressor_order_id, t.passive_order_id):
                k = (sym, int(book_id))
                if k in self._house:
                    key = "house_bid_qty" if self._house[k] == "bid" else "house_ask_qty"
                    st["quotes"][sym][key] = max(0, st["quotes"][sym][key] - qty)
                elif k in self._book2ours:
                    self._fill(self._book2ours[k], qty, px)
            st["quotes"][sym]["last"] = px
            st["quotes"][sym]["traded_volume"] = st["quotes"][sym].get("traded_volume", 0) + qty

    def _fill(self, our_id: int, qty: int, px: int) -> None:
        st = self._state
        assert st is not None
        o = st["orders"][str(our_id)]
        notional = qty * px
        comm = _round_half_away(Fraction(notional) * Fraction(self._commission_bps) / 10_000)
        if o["filled"] == 0:
            comm = max(comm, self._min_commission)
        o["filled"] += qty
        o["fill_value_cents"] += notional
        o["commission_cents"] += comm
        if o["filled"] >= o["quantity"]:
            o["status"] = OrderStatus.FILLED.value
        elif o["status"] in OPEN_STATUSES:
            o["status"] = OrderStatus.PARTIALLY_FILLED.value
        sign = 1 if o["side"] == "buy" else -1
        st["cash_cents"] += -sign * notional - comm
        p = st["positions"].setdefault(o["symbol"], {"quantity": 0, "cost_cents": 0, "realized_pnl_cents": 0})
        q0, cost = p["quantity"], p["cost_cents"]
        dq = sign * qty
        if q0 == 0 or (q0 > 0) == (dq > 0):
            p["quantity"], p["cost_cents"] = q0 + dq, cost + dq * px
        else:
            closing = min(qty, abs(q0))
            removed = int(Fraction(cost * closing, abs(q0)))  # truncates toward zero
            realized = closing * px * (1 if q0 > 0 else -1) - removed
            q1 = q0 + sign * closing
            cost1 = cost - removed
            left = qty - closing
            p["quantity"], p["cost_cents"] = q1 + sign * left, cost1 + sign * left * px
            p["realized_pnl_cents"] += realized
        if p["quantity"] == 0:
            p["cost_cents"] = 0
        st["fills"].append(Fill(our_id, o["symbol"], o["side"], qty, px, comm, time.time_ns()).to_dict())
        log.debug("paper fill order=%s %s %s@%s", our_id, o["side"], qty, px)

    # ------------------------------------------------------------------ session

    def connect(self) -> None:
        """Load (or create) the account and apply the seed prices."""
        with self._lock:
            if self._connected:
                return
            with self._file_lock():
                st = self._read_file() if self._path is not None else None
                if st is None:
                    st = self._new_state()
                self._install(st)
                changed = self._path is not None and not os.path.exists(self._path)
                for sym, (bid, ask, last) in sorted(self._seed_quotes.items()):
                    self._set_quote_locked(sym, bid, ask, last, 0)
                    changed = True
                if changed:
                    st["version"] += 1
                    self._loaded_version = st["version"]
                    if self._path is not None:
                        self._write_file(st)
            self._connected = True

    def disconnect(self) -> None:
        """End the session (state is already on disk). No-op when not connected."""
        with self._lock:
            self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    # ------------------------------------------------------------------ market

    def set_quote(
        self,
        symbol: str,
        bid_cents: int,
        ask_cents: int | None = None,
        last_cents: int | None = None,
        volume: int = 0,
    ) -> None:
        """Move the market for ``symbol``: the house re-quotes and crossed orders fill.

        With ``ask_cents=None``, ``bid_cents`` is taken as a single price and
        the quote is built with ``spread_bps``.
        """
        sym = as_symbol(symbol, "symbol")
        if ask_cents is None:
            bid, ask, last = self._parse_price(sym, bid_cents)
            last = last if last_cents is None else as_i64(last_cents, "last_cents")
        else:
            bid, ask, last = self._parse_price(sym, (bid_cents, ask_cents, last_cents))
        vol = as_u64(volume, "volume")
        with self._txn(write=True):
            self._set_quote_locked(sym, bid, ask, last, vol)

    def _set_quote_locked(self, sym: str, bid: int, ask: int, last: int | None, vol: int) -> None:
        st = self._state
        assert st is not None
        q = st["quotes"].get(sym)
        if q is None:
            q = st["quotes"][sym] = {"bid": bid, "ask": ask, "last": last, "volume": vol,
                                     "house_bid_qty": 0, "house_ask_qty": 0, "traded_volume": 0}
        q.update(bid=bid, ask=ask, volume=vol, ts_ns=time.time_ns())
        if last is not None:
            q["last"] = last
        self._post_house(sym, reseed=True)
        self._process_stops(sym)

    def quote(self, symbol: str) -> dict[str, Any]:
        """``{"symbol", "bid_cents", "ask_cents", "last_cents", "volume"}`` (volume includes paper fills)."""
        sym = as_symbol(symbol, "symbol")
        with self._txn(write=False) as st:
            q = st["quotes"].get(sym)
            if q is None:
                raise BrokerError(f"no quote for {sym}")
            return Quote(sym, q["bid"], q["ask"], q["last"], q["volume"] + q.get("traded_volume", 0)).to_dict()

    # ------------------------------------------------------------------ account

    def _mark(self, st: dict[str, Any], sym: str) -> int | None:
        q = st["quotes"].get(sym)
        if q is None:
            return None
        return (q["bid"] + q["ask"]) // 2

    def positions(self) -> list[dict[str, Any]]:
        """Non-zero positions by ascending symbol, valued at the quote mid."""
        with self._txn(write=False) as st:
            return [p.to_dict() for p in self._positions(st)]

    def _positions(self, st: dict[str, Any]) -> list[Position]:
        out = []
        for sym in sorted(st["positions"]):
            p = st["positions"][sym]
            q = p["quantity"]
            if q == 0:
                continue
            mark = self._mark(st, sym)
            mv = q * mark if mark is not None else 0
            out.append(Position(sym, q, abs(p["cost_cents"]) // abs(q), mv,
                                mv - p["cost_cents"] if mark is not None else 0))
        return out

    def account(self) -> dict[str, int]:
        """``{"equity_cents", "buying_power_cents", "cash_cents", "gross_position_value_cents"}``."""
        with self._txn(write=False) as st:
            return self._account(st).to_dict()

    def _account(self, st: dict[str, Any]) -> Account:
        pos = self._positions(st)
        mv = sum(p.market_value_cents for p in pos)
        gross = sum(abs(p.market_value_cents) for p in pos)
        equity = st["cash_cents"] + mv
        bp = max(0, int(Fraction(equity) * Fraction(self._leverage)) - gross)
        return Account(equity, bp, st["cash_cents"], gross)

    def fills(self) -> list[dict[str, Any]]:
        """Every fill so far (order id, symbol, side, quantity, price, commission, time)."""
        with self._txn(write=False) as st:
            return [Fill.from_dict(f).to_dict() for f in st["fills"]]

    # ------------------------------------------------------------------ orders

    @staticmethod
    def _record(o: dict[str, Any]) -> PaperOrder:
        """The record of an order of the state file."""
        filled = o["filled"]
        final = o["status"] not in OPEN_STATUSES
        return PaperOrder(
            o["id"], o["status"], filled, 0 if final else o["quantity"] - filled,
            o["fill_value_cents"] // filled if filled else 0,
            client_order_id=o["client_order_id"], symbol=o["symbol"], side=o["side"], quantity=o["quantity"],
            order_type=o["order_type"], limit_price_cents=o["limit_price_cents"],
            stop_price_cents=o.get("stop_price_cents"),
            triggered=o.get("triggered") if o["order_type"] in _STOP_TYPES else None,
            commission_cents=o["commission_cents"], reason=o.get("reason"),
        )

    def _exposure_increase(self, st: dict[str, Any], sym: str, side: str, qty: int) -> int:
        pos = st["positions"].get(sym, {"quantity": 0})["quantity"]
        if side == "buy":
            return max(0, qty - max(0, -pos))
        return max(0, qty - max(0, pos))

    @staticmethod
    def _reserve_px(o: dict[str, Any]) -> int:
        """Price at which a working order reserves buying power (limit, else stop)."""
        return o["limit_price_cents"] or o.get("stop_price_cents") or 0

    def _check_funds(self, st: dict[str, Any], sym: str, side: str, qty: int, est_px: int,
                     exclude: int | None = None) -> None:
        """Raise ``InsufficientFunds`` if the order cannot be carried (shorting, buying power).

        ``exclude``: an order id whose own reservation is not counted (a stop being triggered).
        """
        pos = st["positions"].get(sym, {"quantity": 0})["quantity"]
        if side == "sell" and not self._allow_short and qty > max(0, pos):
            raise InsufficientFunds(f"short selling not allowed: sell {qty} {sym} with position {pos}")
        need = self._exposure_increase(st, sym, side, qty) * est_px
        reserved = 0
        for o in st["orders"].values():
            if o["status"] in OPEN_STATUSES and o["id"] != exclude:
                reserved += self._exposure_increase(st, o["symbol"], o["side"], o["quantity"] - o["filled"]) * (
                    self._reserve_px(o))
        if need:
            comm = max(self._min_commission, _round_half_away(Fraction(need) * Fraction(self._commission_bps) / 10_000))
            bp = self._account(st).buying_power_cents
            if need + comm > bp - reserved:
                raise InsufficientFunds(
                    f"insufficient buying power: need {need + comm} cents, have {bp - reserved} "
                    f"({bp} less {reserved} reserved by open orders)"
                )

    def submit_order(
        self,
        symbol: str,
        side: str,
        quantity: int,
        order_type: str = "market",
        limit_price_cents: int | None = None,
        client_order_id: str | None = None,
        stop_price_cents: int | None = None,
    ) -> int:
        """Place a market, limit, stop or stop-limit order; returns the paper order id.

        A stop (``order_type="stop"``) or stop-limit order waits, status
        ``Submitted`` with ``triggered=False``, until the trigger price
        (``stop_trigger``) crosses ``stop_price_cents``: a buy stop when it
        rises to the stop or above, a sell stop when it falls to it or below.
        It is checked on submission and after every quote and fill. Then a
        stop becomes a market order (filled at the touch, remainder
        cancelled) and a stop-limit a limit order at ``limit_price_cents``
        (filled if marketable, otherwise resting); the order keeps its id.

        Raises
        ------
        ValueError, TypeError, OverflowError
            Malformed arguments (nothing changes).
        InsufficientFunds
            The order's exposure increase exceeds buying power less what open
            orders reserve, or it would go short when shorting is disallowed.
            Limit and stop-limit orders are costed at their limit, pending
            stops at ``max(stop, ask)`` for buys and at the stop for sells,
            market orders at the touch.
        ClientOrderIdConflict
            ``client_order_id`` already names a different order.
        OrderRejected
            No quote for the symbol.
        """
        req = validate_order(symbol, side, quantity, order_type, limit_price_cents, client_order_id, stop_price_cents)
        with self._txn(write=True) as st:
            return self._submit_locked(st, req)

    def _submit_locked(self, st: dict[str, Any], req: OrderRequest) -> int:
        if req.client_order_id is not None:
            held = existing_order_id(req, self._find_locked(st, req.client_order_id))
            if held is not None:
                return held
        q = st["quotes"].get(req.symbol)
        if q is None:
            raise OrderRejected(f"no quote for {req.symbol}")
        if req.limit_price_cents is not None:  # limit, stop_limit
            est_px = req.limit_price_cents
        elif req.order_type == "stop":
            assert req.stop_price_cents is not None
            est_px = max(req.stop_price_cents, q["ask"]) if req.side == "buy" else req.stop_price_cents
        else:
            est_px = q["ask"] if req.side == "buy" else q["bid"]
        self._check_funds(st, req.symbol, req.side, req.quantity, est_px)
        oid = st["next_order_id"]
        st["next_order_id"] = oid + 1
        o = {
            "id": oid, "client_order_id": req.client_order_id, "symbol": req.symbol, "side": req.side,
            "quantity": req.quantity, "order_type": req.order_type, "limit_price_cents": req.limit_price_cents,
            "stop_price_cents": req.stop_price_cents,
            "status": OrderStatus.SUBMITTED.value, "filled": 0, "fill_value_cents": 0, "commission_cents": 0,
            "created_ns": time.time_ns(),
        }
        if req.order_type in _STOP_TYPES:
            o["triggered"] = False
        st["orders"][str(oid)] = o
        if req.order_type not in _STOP_TYPES:
            self._enter_book(o)
        # this order's trades may have moved the last price; a new stop may trigger at once
        self._process_stops(req.symbol)
        log.info("paper order %s: %s %s %s %s -> %s", oid, req.side, req.quantity, req.symbol, req.order_type, o["status"])
        return oid

    def _enter_book(self, o: dict[str, Any]) -> None:
        """Send a market or limit order (or a triggered stop as one) to the book."""
        sym = o["symbol"]
        if o["order_type"] in ("market", "stop"):
            res = self._book.submit_market(sym, o["side"], o["quantity"])
            self._link(sym, res.order_id, o["id"])
            self._apply_trades(sym, res.trades)
            if o["status"] in OPEN_STATUSES:  # remainder of a market order is cancelled
                o["status"] = OrderStatus.CANCELLED.value
        else:
            res = self._book.submit_limit(sym, o["side"], o["limit_price_cents"], o["quantity"])
            self._link(sym, res.order_id, o["id"])
            self._apply_trades(sym, res.trades)

    def _stop_triggers(self, st: dict[str, Any], o: dict[str, Any]) -> bool:
        q = st["quotes"][o["symbol"]]
        stop = o["stop_price_cents"]
        if self._stop_trigger == "quote":
            return q["ask"] >= stop if o["side"] == "buy" else q["bid"] <= stop
        last = q.get("last")
        if last is None:
            return False
        return last >= stop if o["side"] == "buy" else last <= stop

    def _process_stops(self, sym: str) -> None:
        """Trigger the pending stops of ``sym`` whose condition holds, in submission order.

        Like ``Exchange`` stop processing: all stops that trigger at the
        current price are triggered together, then executed by ascending id;
        if their fills moved the price, the next round looks again. Each stop
        triggers at most once, so this ends.
        """
        st = self._state
        assert st is not None
        while True:
            due = [o for o in st["orders"].values()
                   if o["symbol"] == sym and o["order_type"] in _STOP_TYPES and not o.get("triggered")
                   and o["status"] in OPEN_STATUSES and self._stop_triggers(st, o)]
            if not due:
                return
            due.sort(key=lambda o: o["id"])
            for o in due:
                o["triggered"] = True
                o["triggered_ns"] = time.time_ns()
            for o in due:
                q = st["quotes"][sym]
                if o["order_type"] == "stop_limit":
                    est_px = o["limit_price_cents"]
                else:
                    est_px = q["ask"] if o["side"] == "buy" else q["bid"]
                try:
                    self._check_funds(st, sym, o["side"], o["quantity"], est_px, exclude=o["id"])
                except InsufficientFunds as exc:
                    o["status"] = OrderStatus.REJECTED.value
                    o["reason"] = str(exc)
                    log.warning("paper stop order %s rejected on trigger: %s", o["id"], exc)
                    continue
                self._enter_book(o)
                log.info("paper stop order %s triggered -> %s", o["id"], o["status"])

    def order_status(self, order_id: int) -> dict[str, Any]:
        """Status dict of a paper order (``OrderNotFound`` if unknown)."""
        oid = as_u64(order_id, "order_id")
        with self._txn(write=False) as st:
            o = st["orders"].get(str(oid))
            if o is None:
                raise OrderNotFound(f"order {oid} not found")
            return self._record(o).to_dict()

    def cancel_order(self, order_id: int) -> None:
        """Cancel a working order; a no-op for an order already final."""
        oid = as_u64(order_id, "order_id")
        with self._txn(write=True) as st:
            o = st["orders"].get(str(oid))
            if o is None:
                raise OrderNotFound(f"order {oid} not found")
            if o["status"] not in OPEN_STATUSES:
                return
            key = self._ours2book.get(oid)
            if key is not None:
                self._book.cancel(key[0], key[1])
            o["status"] = OrderStatus.CANCELLED.value

    def open_orders(self) -> list[dict[str, Any]]:
        """Working orders, ascending id."""
        with self._txn(write=False) as st:
            return [self._record(o).to_dict() for _k, o in sorted(st["orders"].items(), key=lambda kv: int(kv[0]))
                    if o["status"] in OPEN_STATUSES]

    def find_order(self, client_order_id: str) -> dict[str, Any] | None:
        """The order with this client order id, or ``None``."""
        if not isinstance(client_order_id, str):
            raise TypeError(f"client_order_id must be a str, got {type(client_order_id).__name__}")
        with self._txn(write=False) as st:
            found = self._find_locked(st, client_order_id)
            return None if found is None else found.to_dict()

    def _find_locked(self, st: dict[str, Any], cid: str) -> PaperOrder | None:
        for o in st["orders"].values():
            if o["client_order_id"] == cid:
                return self._record(o)
        return None
