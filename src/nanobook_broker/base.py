"""The ``Broker`` protocol every adapter implements, and what they share.

The surface is the reference's ``IbkrBroker`` (nanobook 0.19; its methods
and dict shapes are in ``docs/brokers.md``, "The protocol") plus
:meth:`Broker.open_orders` and :meth:`Broker.find_order`. Money is integer
cents, quantities are integers, order ids are ``int``.

Dict shapes, each the ``to_dict()`` of a record of
:mod:`nanobook_broker.records` (extra keys may follow the reference's ones):

* ``positions()`` -> ``[{"symbol", "quantity", "avg_cost_cents",
  "market_value_cents", "unrealized_pnl_cents"}]`` sorted by symbol;
* ``account()`` -> ``{"equity_cents", "buying_power_cents", "cash_cents",
  "gross_position_value_cents"}``;
* ``order_status(id)`` / ``open_orders()`` / ``find_order(cid)`` ->
  ``{"id", "status", "filled_quantity", "remaining_quantity",
  "avg_fill_price_cents", "client_order_id", "symbol", "side", "quantity",
  "order_type", "limit_price_cents"}``;
* ``quote(sym)`` -> ``{"symbol", "bid_cents", "ask_cents", "last_cents", "volume"}``
  (``None`` for a price the venue did not send).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from nanobook.validate import as_i64, as_side, as_str, as_symbol, as_u64

from .errors import ClientOrderIdConflict
from .records import BrokerOrder

__all__ = [
    "Broker",
    "OrderStatus",
    "OrderRequest",
    "validate_order",
    "validate_client_order_id",
    "deterministic_client_order_id",
    "existing_order_id",
    "ORDER_TYPES",
    "OPEN_STATUSES",
]

ORDER_TYPES = ("market", "limit", "stop", "stop_limit")


class OrderStatus(str, Enum):
    """Normalised order status (the ``"status"`` value of order dicts)."""

    PENDING_SUBMIT = "PendingSubmit"
    SUBMITTED = "Submitted"
    PARTIALLY_FILLED = "PartiallyFilled"
    PENDING_CANCEL = "PendingCancel"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    #: The order is over (no longer working) but the venue no longer says how it ended:
    #: only its fills are known (IBKR without a completed-order record). Never a guess.
    FINAL_UNKNOWN = "FinalUnknown"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


OPEN_STATUSES = frozenset(
    {OrderStatus.PENDING_SUBMIT.value, OrderStatus.SUBMITTED.value,
     OrderStatus.PARTIALLY_FILLED.value, OrderStatus.PENDING_CANCEL.value}
)


@runtime_checkable
class Broker(Protocol):
    """What the rebalancer and the demo need from a venue.

    All methods block. Any venue/transport failure raises a
    :class:`~nanobook_broker.errors.BrokerError` (a ``RuntimeError``); calls
    other than ``connect``/``disconnect`` raise
    :class:`~nanobook_broker.errors.NotConnected` before ``connect()``.
    """

    def connect(self) -> None:
        """Open the session (idempotent)."""

    def disconnect(self) -> None:
        """Close the session; a no-op when not connected."""

    def positions(self) -> list[dict[str, Any]]:
        """Current positions, sorted by symbol."""

    def account(self) -> dict[str, int]:
        """Equity, buying power, cash and gross position value in cents."""

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
        """Place an order; returns the venue's order id.

        With a ``client_order_id`` the call is idempotent: if the venue
        already has an order with that id and the same parameters, its id is
        returned and nothing is sent; different parameters raise
        :class:`~nanobook_broker.errors.ClientOrderIdConflict`.
        """

    def order_status(self, order_id: int) -> dict[str, Any]:
        """Status of one order (``OrderNotFound`` if unknown)."""

    def cancel_order(self, order_id: int) -> None:
        """Request cancellation (``OrderNotFound`` if unknown; no-op if already final)."""

    def open_orders(self) -> list[dict[str, Any]]:
        """Orders still working at the venue, by ascending id."""

    def find_order(self, client_order_id: str) -> dict[str, Any] | None:
        """The order carrying this client order id, or ``None``."""

    def quote(self, symbol: str) -> dict[str, Any]:
        """A snapshot quote."""


# --------------------------------------------------------------------------
# validation shared by every adapter

_CID_SAFE = re.compile(r"[A-Za-z0-9_.\-]+")


def validate_client_order_id(cid: Any, *, allow_dot: bool = True) -> str:
    """Check a client order id: 1..36 characters of ``[A-Za-z0-9_.-]``.

    ``allow_dot=False`` (Binance) also rejects ``.``.

    Raises
    ------
    ValueError
        ``"order error: client_order_id must be 1..=36 ASCII-safe characters"``
        or ``"order error: client_order_id contains unsafe query characters"``
        (the reference's wording), with the offending value appended.
    """
    s = as_str(cid, "client_order_id")
    if not (1 <= len(s) <= 36) or not s.isascii():
        raise ValueError(f"order error: client_order_id must be 1..=36 ASCII-safe characters (got {s!r})")
    if not _CID_SAFE.fullmatch(s) or (not allow_dot and "." in s):
        allowed = "[A-Za-z0-9_.-]" if allow_dot else "[A-Za-z0-9_-]"
        raise ValueError(f"order error: client_order_id contains unsafe query characters (got {s!r}; allowed {allowed})")
    return s


@dataclass(frozen=True)
class OrderRequest:
    """A validated order (what :func:`validate_order` returns)."""

    symbol: str
    side: str  # "buy" | "sell"
    quantity: int
    order_type: str  # one of ORDER_TYPES
    limit_price_cents: int | None
    stop_price_cents: int | None
    client_order_id: str | None

    def same_order(self, other: BrokerOrder) -> bool:
        """True if a venue's order is the same instruction (for idempotency).

        Fields the venue does not report (``None``) are not compared;
        ``stop_price_cents`` is compared only where the venue reports it.
        """
        if other.symbol != self.symbol or other.side != self.side:
            return False
        if other.quantity != self.quantity:
            return False
        if other.order_type is not None and other.order_type != self.order_type:
            return False
        lim = other.limit_price_cents
        if self.order_type in ("limit", "stop_limit") and lim is not None and lim != self.limit_price_cents:
            return False
        stp = getattr(other, "stop_price_cents", None)
        if self.order_type in ("stop", "stop_limit") and stp is not None and stp != self.stop_price_cents:
            return False
        return True


def existing_order_id(req: OrderRequest, existing: BrokerOrder | None) -> int | None:
    """The idempotent-submit rule: one client order id never yields a second order.

    Every adapter looks ``req.client_order_id`` up at the venue before sending
    and passes what it found here (Binance passes ``req`` as rounded to the
    pair's filters, i.e. as it would be sent).

    Returns
    -------
    int or None
        ``None``: no order carries the id, send it. An ``int``: the venue
        already holds this instruction under the id; that is its order id and
        nothing is sent.

    Raises
    ------
    ClientOrderIdConflict
        The id already names a different instruction; or an order that ended
        without executions in an earlier IBKR session, whose order id the
        venue no longer reports (id 0), so it cannot be returned.

    Notes
    -----
    The same instruction: :meth:`OrderRequest.same_order`. For an order whose
    end the venue no longer reports (``FinalUnknown``: only its fills are
    known, not its quantity nor type) it is the same symbol and side with no
    more filled than ``req`` asks.
    """
    if existing is None:
        return None
    cid = req.client_order_id
    if existing.status == OrderStatus.FINAL_UNKNOWN.value:
        if (existing.symbol, existing.side) == (req.symbol, req.side) and existing.filled_quantity <= req.quantity:
            return existing.order_id
        raise ClientOrderIdConflict(
            f"client_order_id {cid!r} already used by order {existing.order_id} "
            f"({existing.side} {existing.symbol}, {existing.filled_quantity} filled)",
            order_id=existing.order_id)
    if not existing.order_id:
        raise ClientOrderIdConflict(
            f"client_order_id {cid!r} was used by an order of an earlier session that "
            f"ended {existing.status} without executions; IBKR no longer reports its order id",
            order_id=None)
    if req.same_order(existing):
        return existing.order_id
    raise ClientOrderIdConflict(
        f"client_order_id {cid!r} already used by order {existing.order_id} "
        f"({existing.side} {existing.quantity} {existing.symbol} {existing.order_type})",
        order_id=existing.order_id)


def validate_order(
    symbol: Any,
    side: Any,
    quantity: Any,
    order_type: Any = "market",
    limit_price_cents: Any = None,
    client_order_id: Any = None,
    stop_price_cents: Any = None,
    *,
    allow_dot_in_client_id: bool = True,
) -> OrderRequest:
    """Validate ``submit_order`` arguments in the reference's order.

    Order: symbol, side, order type and its required prices (reference
    messages), then ours: quantity must be positive, prices positive, then the
    client order id.

    Raises
    ------
    ValueError, TypeError, OverflowError
    """
    sym = as_symbol(symbol, "symbol")
    sd = as_side(side, "side")
    ot_raw = as_str(order_type, "order_type")
    ot = ot_raw.lower()
    if ot not in ORDER_TYPES:
        raise ValueError(f"Invalid order_type '{ot_raw}'. Use 'market', 'limit', 'stop', or 'stop_limit'.")
    if ot == "limit" and limit_price_cents is None:
        raise ValueError("limit_price_cents required for limit orders")
    if ot == "stop" and stop_price_cents is None:
        raise ValueError("stop_price_cents required for stop orders")
    if ot == "stop_limit":
        if limit_price_cents is None:
            raise ValueError("limit_price_cents required for stop_limit orders")
        if stop_price_cents is None:
            raise ValueError("stop_price_cents required for stop_limit orders")
    qty = as_u64(quantity, "quantity")
    if qty == 0:
        raise ValueError("quantity must be positive, got 0")
    lim = None
    if ot in ("limit", "stop_limit"):
        lim = as_i64(limit_price_cents, "limit_price_cents")
        if lim <= 0:
            raise ValueError(f"limit_price_cents must be positive, got {lim}")
    stp = None
    if ot in ("stop", "stop_limit"):
        stp = as_i64(stop_price_cents, "stop_price_cents")
        if stp <= 0:
            raise ValueError(f"stop_price_cents must be positive, got {stp}")
    cid = None
    if client_order_id is not None:
        cid = validate_client_order_id(client_order_id, allow_dot=allow_dot_in_client_id)
    return OrderRequest(sym, sd, qty, ot, lim, stp, cid)


def deterministic_client_order_id(*parts: Any) -> str:
    """First 32 hex characters of SHA-256 over the ``"|"``-joined parts.

    Fits every venue's client-order-id rules (IBKR ``orderRef``, Binance
    ``newClientOrderId``). Example: ``deterministic_client_order_id(scope,
    symbol, side, qty)``.
    """
    text = "|".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# --------------------------------------------------------------------------
# secrets never reach logs or reprs


class SecretFilter(logging.Filter):
    """A logging filter that replaces registered secrets by ``***``.

    Attach to handlers (or loggers) that may see venue traffic; adapters
    register their key and secret on construction.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        for s in self._secrets:
            if s in text:
                text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003
        if self._secrets:
            try:
                msg = record.getMessage()
            except Exception:  # pragma: no cover - malformed record
                return True
            clean = self.scrub(msg)
            if clean != msg:
                record.msg, record.args = clean, None
        return True


SECRET_FILTER = SecretFilter()
"""Process-wide filter installed on the ``nanobook_broker`` logger and the SDK loggers."""


def install_secret_filter(*logger_names: str) -> None:
    """Attach :data:`SECRET_FILTER` to the named loggers (idempotent)."""
    for name in ("nanobook_broker",) + logger_names:
        lg = logging.getLogger(name)
        if SECRET_FILTER not in lg.filters:
            lg.addFilter(SECRET_FILTER)


def mask(secret: str | None) -> str:
    """What reprs show for a secret."""
    return "***" if secret else "''"
