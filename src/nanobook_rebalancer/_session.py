"""Every broker call of a run goes through :class:`BrokerSession`.

The session writes a ``broker_intent`` record before the call and a
``broker_result`` record after it (with ``ok`` and the result or the error),
maps any broker exception to :class:`~nanobook_rebalancer.errors.BrokerCallError`
(the original is the ``__cause__``), and normalises what the broker returns
(dicts as in the reference's §12, or objects with the same attribute names)
into the small records below.  Order submission and cancellation are logged by
the executor with their own events (``order_intent``/``order_ack``,
``cancel_intent``/``cancel_result``) and go through :meth:`BrokerSession.raw`.
Without an audit log (read-only commands) nothing is written.
"""
from __future__ import annotations

import datetime as _dt
import inspect
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping

from .audit import AuditLog
from .errors import BrokerCallError, TargetError

__all__ = ["Account", "Holding", "Quote", "OrderState", "BrokerSession", "normalize_status"]


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


def _int(value: Any, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, float):
        if not math.isfinite(value):
            return default
        return int(round(value))
    return int(value)


@dataclass(frozen=True)
class Account:
    equity_cents: int
    cash_cents: int
    buying_power_cents: int
    account_id: str = ""


@dataclass(frozen=True)
class Holding:
    symbol: str
    quantity: int
    avg_cost_cents: int = 0


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid_cents: int | None
    ask_cents: int | None
    last_cents: int | None
    age_secs: float | None       # None when the broker gives no timestamp

    @property
    def mid_cents(self) -> int | None:
        """Mid of bid/ask, falling back to bid, ask, then last (all > 0)."""
        b = self.bid_cents if self.bid_cents and self.bid_cents > 0 else None
        a = self.ask_cents if self.ask_cents and self.ask_cents > 0 else None
        if b and a:
            return (b + a) // 2
        for x in (b, a, self.last_cents):
            if x and x > 0:
                return x
        return None


_STATUS = {
    "new": "open", "submitted": "open", "presubmitted": "open", "pendingsubmit": "open",
    "pending": "open", "accepted": "open", "open": "open", "working": "open", "acked": "open",
    "pendingcancel": "open", "apipending": "open",
    "partiallyfilled": "partially_filled", "partially_filled": "partially_filled",
    "partial": "partially_filled", "partialfill": "partially_filled",
    "filled": "filled",
    "cancelled": "cancelled", "canceled": "cancelled", "apicancelled": "cancelled",
    "rejected": "rejected", "inactive": "rejected",
    "expired": "expired",
    # over, but the venue no longer says how it ended (IBKR without a completed-order record)
    "finalunknown": "final_unknown", "final_unknown": "final_unknown",
}
TERMINAL = frozenset({"filled", "cancelled", "rejected", "expired", "final_unknown"})


def normalize_status(raw: Any) -> str:
    """Map a broker status (any spelling, or an enum) to open, partially_filled,
    filled, cancelled, rejected, expired or final_unknown."""
    name = getattr(raw, "value", raw)
    key = str(name).split(".")[-1].replace(" ", "").replace("-", "").lower()
    if key not in _STATUS:
        key = key.replace("_", "")
    return _STATUS.get(key, "open")


@dataclass(frozen=True)
class OrderState:
    order_id: Any
    client_order_id: str | None
    status: str                 # normalised, see normalize_status
    filled_qty: int
    remaining_qty: int | None
    avg_fill_price_cents: int | None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _age(ts: Any) -> float | None:
    if ts is None:
        return None
    now = time.time()
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_dt.timezone.utc)
        return now - ts.timestamp()
    if isinstance(ts, (int, float)):
        t = float(ts)
        if t > 1e17:      # nanoseconds
            t /= 1e9
        elif t > 1e14:    # microseconds
            t /= 1e6
        elif t > 1e11:    # milliseconds
            t /= 1e3
        return now - t
    if isinstance(ts, str):
        try:
            return _age(_dt.datetime.fromisoformat(ts.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _plain(value: Any) -> Any:
    """Something JSON can hold, for the audit log."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (str, int)):
        return value.value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return repr(value)


def _is_unknown_symbol(exc: BaseException) -> bool:
    name = type(exc).__name__.lower()
    text = str(exc).lower()
    return ("symbol" in name or "contract" in name or "unknown symbol" in text
            or "no quote" in text or "unknown contract" in text)


class BrokerSession:
    """Audited, normalised access to a broker (see module docstring)."""

    def __init__(self, broker: Any, audit: AuditLog | None, kind: str = "") -> None:
        self.broker = broker
        self.audit = audit
        self.kind = kind

    # -- the one place broker methods are called ----------------------------
    def raw(self, call: str, fn: Callable[..., Any], *args: Any, log: bool = True,
            **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)``; log intent/result when ``log`` and a log exists."""
        audit = self.audit if log else None
        if audit is not None:
            audit.write("broker_intent", call=call, args=_plain(list(args)),
                             kwargs=_plain(kwargs))
        t0 = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            if audit is not None:
                audit.write("broker_result", call=call, ok=False,
                                 error=f"{type(exc).__name__}: {exc}",
                                 secs=round(time.monotonic() - t0, 6))
            raise BrokerCallError(f"broker {call} failed: {type(exc).__name__}: {exc}") from exc
        if audit is not None:
            audit.write("broker_result", call=call, ok=True, result=_plain(result),
                             secs=round(time.monotonic() - t0, 6))
        return result

    @staticmethod
    def _symbol_kw(fn: Callable[..., Any], symbol: str | None) -> dict[str, Any]:
        """``{"symbol": symbol}`` if ``fn`` takes it (Binance order ids are per pair)."""
        if symbol is None:
            return {}
        try:
            return {"symbol": symbol} if "symbol" in inspect.signature(fn).parameters else {}
        except (TypeError, ValueError):
            return {}

    def cancel(self, order_id: Any, symbol: str | None = None) -> None:
        """``cancel_order`` without its own audit pair (the executor logs cancel_intent/result)."""
        fn = self.broker.cancel_order
        self.raw("cancel_order", fn, order_id, log=False, **self._symbol_kw(fn, symbol))

    def _method(self, *names: str) -> Callable[..., Any] | None:
        for name in names:
            fn = getattr(self.broker, name, None)
            if callable(fn):
                return fn
        return None

    def _require(self, name: str) -> Callable[..., Any]:
        fn = self._method(name)
        if fn is None:
            raise BrokerCallError(f"broker {type(self.broker).__name__} has no {name}() method")
        return fn

    # -- reads --------------------------------------------------------------
    def connect(self) -> None:
        fn = self._method("connect")
        if fn is not None:
            self.raw("connect", fn)

    def disconnect(self) -> None:
        """Disconnect once (later calls are no-ops); errors are logged, not raised."""
        if getattr(self, "_disconnected", False):
            return
        self._disconnected = True
        fn = self._method("disconnect", "close")
        if fn is not None:
            try:
                self.raw("disconnect", fn)
            except BrokerCallError:
                pass

    def account(self) -> Account:
        a = self.raw("account", self._require("account"))
        equity = _int(_get(a, "equity_cents", "net_liquidation_cents"))
        cash = _int(_get(a, "cash_cents"), equity)
        bp = _int(_get(a, "buying_power_cents"), cash)
        acct = str(_get(a, "account_id", "account", "id", default="") or "")
        return Account(equity, cash, bp, acct)

    def positions(self) -> dict[str, Holding]:
        rows = self.raw("positions", self._require("positions"))
        if isinstance(rows, Mapping):
            rows = [{"symbol": s, "quantity": q} for s, q in rows.items()]
        out: dict[str, Holding] = {}
        for r in rows or ():
            sym = str(_get(r, "symbol"))
            qty = _int(_get(r, "quantity", "qty"))
            if qty:
                out[sym] = Holding(sym, qty, _int(_get(r, "avg_cost_cents")))
        return out

    def quote(self, symbol: str, *, unknown_is_target_error: bool = True) -> Quote:
        fn = self._require("quote")
        try:
            q = self.raw("quote", fn, symbol)
        except BrokerCallError as exc:
            cause = exc.__cause__
            if unknown_is_target_error and cause is not None and _is_unknown_symbol(cause):
                raise TargetError(f"unknown symbol {symbol!r}: the broker has no quote for it "
                                  f"({cause})") from cause
            raise
        if q is None:
            raise TargetError(f"unknown symbol {symbol!r}: the broker has no quote for it")

        def px(*names: str) -> int | None:
            v = _get(q, *names)
            return None if v is None else _int(v)

        ts = _get(q, "timestamp", "ts", "time")
        return Quote(symbol, px("bid_cents", "bid"), px("ask_cents", "ask"),
                     px("last_cents", "last"), _age(ts))

    def order_state(self, order: Any) -> OrderState:
        return OrderState(
            order_id=_get(order, "order_id", "id", "broker_order_id"),
            client_order_id=_get(order, "client_order_id", "order_ref"),
            status=normalize_status(_get(order, "status", default="open")),
            filled_qty=_int(_get(order, "filled_quantity", "filled_qty", "filled")),
            remaining_qty=(None if _get(order, "remaining_quantity", "remaining_qty", "remaining") is None
                           else _int(_get(order, "remaining_quantity", "remaining_qty", "remaining"))),
            avg_fill_price_cents=(None if _get(order, "avg_fill_price_cents", "avg_price_cents") is None
                                  else _int(_get(order, "avg_fill_price_cents", "avg_price_cents"))),
        )

    def order_status(self, order_id: Any, symbol: str | None = None) -> OrderState:
        fn = self._require("order_status")
        st = self.order_state(self.raw("order_status", fn, order_id, **self._symbol_kw(fn, symbol)))
        if st.order_id is None:
            st = OrderState(order_id, st.client_order_id, st.status, st.filled_qty,
                            st.remaining_qty, st.avg_fill_price_cents)
        return st

    def find_order(self, client_order_id: str, symbol: str | None = None) -> OrderState | None:
        """The broker's state of the order with this client order id, or ``None``.

        Uses the broker's lookup by client order id; falls back to scanning
        ``open_orders()`` only for brokers that lack one (then a filled or
        cancelled order is reported as not found, which the caller treats as
        "never reached the broker" -- so such brokers are refused).
        """
        fn = self._method("order_by_client_id", "find_order", "get_order_by_client_id")
        if fn is None:
            raise BrokerCallError(
                f"broker {type(self.broker).__name__} cannot look up orders by client order id; "
                "recovery needs it")
        res = self.raw("find_order", fn, client_order_id, **self._symbol_kw(fn, symbol))
        if res is None:
            return None
        st = self.order_state(res)
        if st.client_order_id is None:
            st = OrderState(st.order_id, client_order_id, st.status, st.filled_qty,
                            st.remaining_qty, st.avg_fill_price_cents)
        return st

    def open_orders(self) -> list[OrderState]:
        fn = self._method("open_orders")
        if fn is None:
            return []
        return [self.order_state(o) for o in self.raw("open_orders", fn) or ()]
