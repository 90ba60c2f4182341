"""Brokers for nanobook: one :class:`Broker` protocol, several transports.

* :class:`PaperBroker` fills against ``nanobook.MultiExchange`` books and
  persists the account to a file;
* ``IbkrBroker`` talks to TWS / IB Gateway through ``ib_async`` (or ``ib_insync``);
* ``BinanceBroker`` talks to Binance spot through ``python-binance``.

Every adapter builds typed frozen records (:mod:`nanobook_broker.records`) and
returns their ``to_dict()``, the reference's dict shape; one rule,
:func:`existing_order_id`, makes a client order id idempotent everywhere.

The SDKs are optional and imported only when an adapter is constructed, so
``import nanobook_broker`` works without them; :func:`available_brokers` says
which adapters this install can use.
"""
from __future__ import annotations

import importlib.util

from .base import (
    OPEN_STATUSES,
    ORDER_TYPES,
    Broker,
    OrderRequest,
    OrderStatus,
    deterministic_client_order_id,
    existing_order_id,
    validate_client_order_id,
    validate_order,
)
from .errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    ClientIdInUse,
    ClientOrderIdConflict,
    InsufficientFunds,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from .records import Account, BrokerOrder, Fill, PaperOrder, Position, Quote, StopOrder
from .binance import BinanceBroker
from .ibkr import IbkrBroker
from .paper import PaperBroker


def _has(module: str, submodule: str | None = None) -> bool:
    """Whether a top-level package (and optionally one of its modules) is installed, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if submodule is None:
        return True
    import os

    for loc in spec.submodule_search_locations or ():
        if os.path.exists(os.path.join(loc, submodule + ".py")):
            return True
    return False


def available_brokers() -> list[str]:
    """Names of the broker adapters usable in this install, always starting with ``"paper"``.

    ``"ibkr"`` needs ``ib_async`` (or ``ib_insync``); ``"binance"`` needs
    ``python-binance``. Nothing is imported: the probe only looks the
    packages up, so it is cheap enough for ``nanobook.capabilities()``.
    """
    out = ["paper"]
    if _has("ib_async") or _has("ib_insync"):
        out.append("ibkr")
    if _has("binance", "client"):
        out.append("binance")
    return out


__all__ = [
    "Account",
    "AuthenticationError",
    "BinanceBroker",
    "Broker",
    "BrokerConnectionError",
    "BrokerError",
    "BrokerOrder",
    "ClientIdInUse",
    "ClientOrderIdConflict",
    "Fill",
    "IbkrBroker",
    "InsufficientFunds",
    "InvalidOrder",
    "NotConnected",
    "OPEN_STATUSES",
    "ORDER_TYPES",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "OrderRequest",
    "OrderStatus",
    "PaperBroker",
    "PaperOrder",
    "Position",
    "Quote",
    "RateLimited",
    "StopOrder",
    "available_brokers",
    "deterministic_client_order_id",
    "existing_order_id",
    "validate_client_order_id",
    "validate_order",
]
