"""Typed records of what a broker reports: positions, the account, quotes, orders, fills.

Every adapter builds these frozen records from the venue's answers. The
public :class:`~nanobook_broker.Broker` methods return ``record.to_dict()``:
nanobook 0.19 returned plain dicts there (``docs/brokers.md``, "The
protocol"), and code written for it indexes them (``o["status"]``), so the
dict shape stays the reference's, key for key, with our extra keys after the
reference's ones. Code of ours that reads broker answers (the rebalancer)
turns such a dict back into its record once with ``from_dict`` and reads
typed fields.

``from_dict`` reads the keys ``to_dict`` writes and nothing else (no
aliases). The reference's keys are required (``KeyError`` naming a missing
one), except a quote's ``volume``, which only informs; a missing key of ours
takes the field's default.
"""
from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, fields
from typing import Any, Mapping

__all__ = ["Position", "Account", "Quote", "BrokerOrder", "StopOrder", "PaperOrder", "Fill"]


def _pick(d: Mapping[str, Any], required: tuple[str, ...], optional: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``required`` keys (``KeyError`` naming a missing one) and of ``optional``
    keys (their default when missing), for a record's constructor."""
    if not isinstance(d, Mapping):
        raise TypeError(f"a broker record must be a mapping, got {type(d).__name__}")
    out: dict[str, Any] = {}
    for k in required:
        if k not in d:
            raise KeyError(f"broker record lacks {k!r} (has {sorted(d)})")
        out[k] = d[k]
    for k, default in optional.items():
        out[k] = d.get(k, default)
    return out


@dataclass(slots=True, frozen=True)
class Position:
    """One holding: ``positions()`` returns these (as dicts) sorted by symbol.

    ``quantity`` is signed (negative: short); money in integer cents.
    """

    symbol: str
    quantity: int
    avg_cost_cents: int = 0
    market_value_cents: int = 0
    unrealized_pnl_cents: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"symbol", "quantity", "avg_cost_cents", "market_value_cents", "unrealized_pnl_cents"}``."""
        return {"symbol": self.symbol, "quantity": self.quantity, "avg_cost_cents": self.avg_cost_cents,
                "market_value_cents": self.market_value_cents, "unrealized_pnl_cents": self.unrealized_pnl_cents}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Position":
        return cls(**_pick(d, tuple(f.name for f in fields(cls)), {}))


@dataclass(slots=True, frozen=True)
class Account:
    """The account summary in integer cents (``account()``)."""

    equity_cents: int
    buying_power_cents: int
    cash_cents: int
    gross_position_value_cents: int

    def to_dict(self) -> dict[str, int]:
        """``{"equity_cents", "buying_power_cents", "cash_cents", "gross_position_value_cents"}``."""
        return {"equity_cents": self.equity_cents, "buying_power_cents": self.buying_power_cents,
                "cash_cents": self.cash_cents, "gross_position_value_cents": self.gross_position_value_cents}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Account":
        return cls(**_pick(d, ("equity_cents", "buying_power_cents", "cash_cents",
                                "gross_position_value_cents"), {}))


@dataclass(slots=True, frozen=True)
class Quote:
    """A snapshot quote (``quote(symbol)``); a price the venue did not send is ``None``.

    ``timestamp`` (not in the reference's shape, so in ``to_dict`` only when
    set) is when the venue stamped the quote: a ``datetime``, epoch seconds /
    milliseconds / microseconds / nanoseconds, or an ISO 8601 string.
    """

    symbol: str
    bid_cents: int | None
    ask_cents: int | None
    last_cents: int | None
    volume: int = 0
    timestamp: Any = None

    def to_dict(self) -> dict[str, Any]:
        """``{"symbol", "bid_cents", "ask_cents", "last_cents", "volume"}`` (+ ``"timestamp"`` when set)."""
        out = {"symbol": self.symbol, "bid_cents": self.bid_cents, "ask_cents": self.ask_cents,
               "last_cents": self.last_cents, "volume": self.volume}
        if self.timestamp is not None:
            out["timestamp"] = self.timestamp
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Quote":
        return cls(**_pick(d, ("symbol", "bid_cents", "ask_cents", "last_cents"), {"volume": 0, "timestamp": None}))


_ORDER_REF = ("id", "status", "filled_quantity", "remaining_quantity", "avg_fill_price_cents")


@dataclass(slots=True, frozen=True)
class BrokerOrder:
    """An order as the venue reports it (``order_status``, ``open_orders``, ``find_order``).

    The first five fields are the reference's order dict (``order_id`` is its
    ``"id"``); ``status`` is an :class:`~nanobook_broker.OrderStatus` value.
    The rest are ours, keyword-only; ``None`` where the venue does not say (an
    IBKR order known only from its fills has no type nor limit).
    """

    order_id: int
    status: str
    filled_quantity: int
    remaining_quantity: int
    avg_fill_price_cents: int
    _: KW_ONLY  # ours by name
    client_order_id: str | None = None
    symbol: str | None = None
    side: str | None = None
    quantity: int | None = None
    order_type: str | None = None
    limit_price_cents: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The reference's keys ``{"id", "status", "filled_quantity", "remaining_quantity",
        "avg_fill_price_cents"}``, then ``client_order_id``, ``symbol``, ``side``, ``quantity``,
        ``order_type``, ``limit_price_cents`` (then a subclass's own fields)."""
        return {
            "id": self.order_id,
            "status": self.status,
            "filled_quantity": self.filled_quantity,
            "remaining_quantity": self.remaining_quantity,
            "avg_fill_price_cents": self.avg_fill_price_cents,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "order_type": self.order_type,
            "limit_price_cents": self.limit_price_cents,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "BrokerOrder":
        """The record of an order dict; a dict carrying a subclass's keys gives that subclass."""
        kind: type[BrokerOrder] = cls
        if cls is BrokerOrder and isinstance(d, Mapping):
            kind = PaperOrder if "commission_cents" in d else StopOrder if "triggered" in d else BrokerOrder
        got = _pick(d, _ORDER_REF, {f.name: f.default for f in fields(kind)[len(_ORDER_REF):]})
        got["order_id"] = got.pop("id")
        return kind(**got)


@dataclass(slots=True, frozen=True)
class StopOrder(BrokerOrder):
    """An order of a venue that reports stop prices and triggers (Binance)."""

    _: KW_ONLY
    stop_price_cents: int | None = None
    #: ``None`` for a non-stop order; a stop waits with ``False`` and works once ``True``.
    triggered: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out = BrokerOrder.to_dict(self)
        out["stop_price_cents"] = self.stop_price_cents
        out["triggered"] = self.triggered
        return out


@dataclass(slots=True, frozen=True)
class PaperOrder(StopOrder):
    """A paper order: also its commission so far and why it was rejected, if it was."""

    _: KW_ONLY
    commission_cents: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = BrokerOrder.to_dict(self)
        out["commission_cents"] = self.commission_cents
        out["stop_price_cents"] = self.stop_price_cents
        out["triggered"] = self.triggered
        out["reason"] = self.reason
        return out


@dataclass(slots=True, frozen=True)
class Fill:
    """One paper fill (``PaperBroker.fills()``); ``ts_ns`` is wall-clock nanoseconds."""

    order_id: int
    symbol: str
    side: str
    quantity: int
    price_cents: int
    commission_cents: int
    ts_ns: int

    def to_dict(self) -> dict[str, Any]:
        """``{"order_id", "symbol", "side", "quantity", "price_cents", "commission_cents", "ts_ns"}``."""
        return {"order_id": self.order_id, "symbol": self.symbol, "side": self.side, "quantity": self.quantity,
                "price_cents": self.price_cents, "commission_cents": self.commission_cents, "ts_ns": self.ts_ns}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Fill":
        return cls(**_pick(d, tuple(f.name for f in fields(cls)), {}))
