"""Every broker call of a run goes through :class:`BrokerSession`.

The session writes a ``broker_intent`` record before the call and a
``broker_result`` record after it (with ``ok`` and the result or the error),
maps any broker exception to :class:`~nanobook_rebalancer.errors.BrokerCallError`
(the original is the ``__cause__``), and reads what the broker returns (the
reference's dicts, ``docs/brokers.md`` "The protocol") through the typed
records of :mod:`nanobook_broker.records` (``from_dict``, the inverse of the
``to_dict`` the adapters return), so every field is read by its one name.
A dict that is not such a record is a ``BrokerCallError``.  The run's views
(:class:`Account`, :class:`Quote` with its age, :class:`OrderState` with a
normalised status) are built from those records; positions are the records
themselves.  Order submission and cancellation are logged by
the executor with their own events (``order_intent``/``order_ack``,
``cancel_intent``/``cancel_result``) and go through :meth:`BrokerSession.raw`.
Without an audit log (read-only commands) nothing is written.
"""
from __future__ import annotations

import datetime as _dt
import inspect
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from .audit import AuditLog
from .errors import BrokerCallError, TargetError

if TYPE_CHECKING:  # nanobook_broker is imported when a broker is built, not with the CLI
    from nanobook_broker.records import BrokerOrder, Position

__all__ = ["Account", "Quote", "OrderState", "BrokerSession", "normalize_status"]

_R = TypeVar("_R")


def _record(call: str, kind: type[_R], raw: Any) -> _R:
    """``kind.from_dict(raw)``; a malformed answer is a :class:`BrokerCallError` naming the call."""
    try:
        return kind.from_dict(raw)  # type: ignore[attr-defined,no-any-return]
    except (KeyError, TypeError) as exc:
        raise BrokerCallError(f"broker {call} returned an unexpected answer: {exc}") from exc


@dataclass(frozen=True)
class Account:
    equity_cents: int
    cash_cents: int
    buying_power_cents: int
    account_id: str = ""


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

    def _method(self, name: str) -> Callable[..., Any] | None:
        fn = getattr(self.broker, name, None)
        return fn if callable(fn) else None

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
        fn = self._method("disconnect")
        if fn is not None:
            try:
                self.raw("disconnect", fn)
            except BrokerCallError:
                pass

    def account(self) -> Account:
        from nanobook_broker.records import Account as Summary

        a = _record("account", Summary, self.raw("account", self._require("account")))
        return Account(a.equity_cents, a.cash_cents, a.buying_power_cents)

    def positions(self) -> dict[str, Position]:
        """Non-zero positions by symbol."""
        from nanobook_broker.records import Position

        rows = self.raw("positions", self._require("positions"))
        held = [_record("positions", Position, r) for r in rows or ()]
        return {p.symbol: p for p in held if p.quantity}

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
        from nanobook_broker.records import Quote as Snapshot

        r = _record("quote", Snapshot, q)
        return Quote(symbol, r.bid_cents, r.ask_cents, r.last_cents, _age(r.timestamp))

    def order_state(self, order: Any, call: str = "order") -> OrderState:
        """The run's view of an order dict the broker returned."""
        from nanobook_broker.records import BrokerOrder

        o: BrokerOrder = _record(call, BrokerOrder, order)
        return OrderState(o.order_id, o.client_order_id, normalize_status(o.status), o.filled_quantity,
                          o.remaining_quantity, o.avg_fill_price_cents)

    def order_status(self, order_id: Any, symbol: str | None = None) -> OrderState:
        fn = self._require("order_status")
        return self.order_state(self.raw("order_status", fn, order_id, **self._symbol_kw(fn, symbol)),
                                "order_status")

    def find_order(self, client_order_id: str, symbol: str | None = None) -> OrderState | None:
        """The broker's state of the order with this client order id, or ``None``.

        Uses the broker's ``find_order``; a broker without one is refused (a
        scan of ``open_orders()`` would report a filled or cancelled order as
        not found, which the caller treats as "never reached the broker").
        """
        fn = self._method("find_order")
        if fn is None:
            raise BrokerCallError(
                f"broker {type(self.broker).__name__} cannot look up orders by client order id; "
                "recovery needs it")
        res = self.raw("find_order", fn, client_order_id, **self._symbol_kw(fn, symbol))
        if res is None:
            return None
        st = self.order_state(res, "find_order")
        if st.client_order_id is None:
            st = OrderState(st.order_id, client_order_id, st.status, st.filled_qty,
                            st.remaining_qty, st.avg_fill_price_cents)
        return st

    def open_orders(self) -> list[OrderState]:
        fn = self._method("open_orders")
        if fn is None:
            return []
        return [self.order_state(o, "open_orders") for o in self.raw("open_orders", fn) or ()]
