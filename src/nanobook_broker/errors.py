"""The exception tree of :mod:`nanobook_broker`.

Every broker or transport failure is a :class:`BrokerError`, which subclasses
``RuntimeError`` like the reference's ``IbkrBroker`` errors. Argument errors are
plain ``ValueError``/``TypeError``/``OverflowError`` raised before any network
traffic. Venue errors are mapped at the adapter edge with ``raise ... from exc``.

::

    BrokerError (RuntimeError)
    ├── NotConnected                  "not connected"
    ├── BrokerConnectionError         transport failure (refused, reset, timeout)
    │   └── ClientIdInUse             IBKR error 326
    ├── AuthenticationError           bad key / signature / permissions
    ├── RateLimited                   429/418, IBKR pacing (error 100); .retry_after
    ├── OrderNotFound (+LookupError)  unknown order id / client order id
    ├── OrderRejected                 the venue refused the order; .code, .reason
    │   ├── InvalidOrder (+ValueError) violates venue filters (tick, lot, notional)
    │   ├── InsufficientFunds
    │   └── ClientOrderIdConflict     the id is already used by a different order
    └── OrderOutcomeUnknown           submit outcome still unknown after querying
"""
from __future__ import annotations

__all__ = [
    "BrokerError",
    "NotConnected",
    "BrokerConnectionError",
    "ClientIdInUse",
    "AuthenticationError",
    "RateLimited",
    "OrderNotFound",
    "OrderRejected",
    "InvalidOrder",
    "InsufficientFunds",
    "ClientOrderIdConflict",
    "OrderOutcomeUnknown",
]


class BrokerError(RuntimeError):
    """Root of all broker and transport failures.

    Attributes
    ----------
    code : int or str or None
        The venue's error code when there is one (IBKR error code, Binance ``code``).
    """

    def __init__(self, message: str = "", *, code: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code


class NotConnected(BrokerError):
    """A call that needs the venue was made before :meth:`connect` (message ``"not connected"``)."""

    def __init__(self, message: str = "not connected", **kw) -> None:
        super().__init__(message, **kw)


class BrokerConnectionError(BrokerError):
    """The transport failed: refused, reset, timed out, closed by the peer."""


class ClientIdInUse(BrokerConnectionError):
    """IBKR refused the connection because the client id is already connected (error 326)."""


class AuthenticationError(BrokerError):
    """Credentials rejected (bad key, bad signature, missing permission, IP whitelist)."""


class RateLimited(BrokerError):
    """The venue asked us to slow down (HTTP 429/418, IBKR error 100).

    Attributes
    ----------
    retry_after : float or None
        Seconds to wait before the next request, when the venue said so.
    """

    def __init__(self, message: str = "", *, code=None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class OrderNotFound(BrokerError, LookupError):
    """No order with that id (or client order id) at the venue."""


class OrderRejected(BrokerError):
    """The venue refused the order.

    Attributes
    ----------
    order_id : int or None
        The venue's id when the order got one before being rejected (IBKR).
    reason : str
        The venue's explanation.
    """

    def __init__(self, message: str = "", *, code=None, order_id: int | None = None) -> None:
        super().__init__(message, code=code)
        self.order_id = order_id
        self.reason = message


class InvalidOrder(OrderRejected, ValueError):
    """The order violates the venue's instrument rules (tick size, lot size, notional, type)."""


class InsufficientFunds(OrderRejected):
    """Not enough cash / buying power (or shorting not allowed)."""


class ClientOrderIdConflict(OrderRejected):
    """The client order id is already used by an order with different parameters."""


class OrderOutcomeUnknown(BrokerError):
    """A submit timed out or failed with a server error and querying by client
    order id could not establish whether the order exists. Never retry blindly:
    query again with :meth:`Broker.find_order` later.

    Attributes
    ----------
    client_order_id : str
    """

    def __init__(self, message: str = "", *, code=None, client_order_id: str | None = None) -> None:
        super().__init__(message, code=code)
        self.client_order_id = client_order_id
