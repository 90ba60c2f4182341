"""``IbkrBroker``: Interactive Brokers TWS / IB Gateway through ``ib_async`` (or ``ib_insync``).

The SDK is imported only in :meth:`IbkrBroker.connect`. All SDK work runs on
one private asyncio loop in a daemon thread (no ``nest_asyncio``, no clash with
the caller's loop); the public methods block with bounded timeouts.

Behaviour
---------
* Contracts are US stocks on SMART routing (``Stock(symbol, "SMART",
  currency)``), qualified once and cached.
* Orders: market, limit, stop, stop-limit; ``client_order_id`` travels as the
  order's ``orderRef`` and makes ``submit_order`` idempotent (IBKR itself does
  not de-duplicate on it).
* Snapshot quotes request market-data type 3: live data when subscribed,
  delayed data otherwise (IBKR notice 10167).
* A dropped connection is noticed through ``disconnectedEvent``; the next call
  reconnects (bounded attempts with back-off) and re-synchronises open orders
  (``reqAllOpenOrders``), fills (``reqExecutions``) and final statuses
  (``reqCompletedOrders``), so fills that happened while disconnected are not
  lost and an order that ended while we were away gets its true status.
* An order placed by an earlier process and no longer open is rebuilt from
  its executions and its completed-order record (``reqCompletedOrders``:
  final status, total and filled quantity, type, limit), so one partially
  filled then cancelled reads ``Cancelled`` with its filled quantity, not
  ``Filled``. Without a completed-order record (TWS lists only its current
  session's) such an order reads ``FinalUnknown`` with its filled quantity.
* Requests are throttled below IBKR's 50 messages/second
  (``max_requests_per_sec``, 40 by default); error 100 (pacing) is mapped to
  :class:`~nanobook_broker.errors.RateLimited`.
* Error 326 (client id in use) raises
  :class:`~nanobook_broker.errors.ClientIdInUse` unless a
  ``fallback_client_ids`` entry connects.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import math
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Sequence

from nanobook.validate import as_i64, as_symbol, as_u64

from .base import OPEN_STATUSES, OrderStatus, existing_order_id, validate_order
from .errors import (
    BrokerConnectionError,
    BrokerError,
    ClientIdInUse,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from .records import Account, BrokerOrder, Position, Quote

__all__ = ["IbkrBroker"]

log = logging.getLogger("nanobook_broker")

_STATUS = {
    "PendingSubmit": OrderStatus.PENDING_SUBMIT.value,
    "ApiPending": OrderStatus.PENDING_SUBMIT.value,
    "PreSubmitted": OrderStatus.SUBMITTED.value,
    "Submitted": OrderStatus.SUBMITTED.value,
    "ValidationError": OrderStatus.SUBMITTED.value,
    "PendingCancel": OrderStatus.PENDING_CANCEL.value,
    "ApiCancelled": OrderStatus.CANCELLED.value,
    "Cancelled": OrderStatus.CANCELLED.value,
    "Filled": OrderStatus.FILLED.value,
    "Inactive": OrderStatus.REJECTED.value,
}
_TYPES = {"MKT": "market", "LMT": "limit", "STP": "stop", "STP LMT": "stop_limit"}
_INFO_CODES = frozenset({2104, 2106, 2107, 2108, 2158, 2119, 10167, 399, 404, 10349})
_REJECT_CODES = frozenset({103, 110, 200, 201, 203, 321, 434, 10147})


def _import_sdk() -> Any:
    try:
        import ib_async as sdk
    except ModuleNotFoundError:
        try:
            import ib_insync as sdk  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "IbkrBroker needs ib_async (pip install 'nanobook[ibkr]') or ib_insync"
            ) from None
    return sdk


def _cents(x: float | None) -> int | None:
    if x is None or not isinstance(x, (int, float)) or math.isnan(x) or x < 0 or math.isinf(x):
        return None
    return int((Decimal(repr(float(x))) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _cents0(x: float | None) -> int:
    if x is None or math.isnan(x) or math.isinf(x):
        return 0
    return int((Decimal(repr(float(x))) * 100).to_integral_value(rounding=ROUND_HALF_UP))


class _Loop:
    """A private asyncio loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="nanobook-ibkr", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Any, timeout: float) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class IbkrBroker:
    """Interactive Brokers implementing the :class:`~nanobook_broker.Broker` protocol.

    Parameters
    ----------
    host : str
    port : int
        0..65535 (``OverflowError`` otherwise, like the reference).
    client_id : int
        TWS API client id.
    timeout : float
        Seconds for connecting and for each request.
    account : str, optional
        Account to use when the login manages several.
    currency : str
        Currency of the stock contracts (default ``"USD"``).
    tif : str
        Time in force of submitted orders (default ``"DAY"``).
    max_requests_per_sec : int
        Client-side throttle (IBKR's hard limit is 50/s).
    reconnect : bool
        Reconnect on the next call after a dropped connection.
    max_reconnect_attempts : int
    fallback_client_ids : sequence of int
        Client ids tried in order when TWS answers 326 (id in use).
    """

    def __init__(
        self,
        host: str,
        port: int,
        client_id: int,
        *,
        timeout: float = 10.0,
        account: str | None = None,
        currency: str = "USD",
        tif: str = "DAY",
        max_requests_per_sec: int = 40,
        reconnect: bool = True,
        max_reconnect_attempts: int = 5,
        fallback_client_ids: Sequence[int] = (),
        ack_timeout: float = 5.0,
    ) -> None:
        if not isinstance(host, str):
            raise TypeError(f"'{type(host).__name__}' object is not an instance of 'str' (host)")
        p = as_i64(port, "port")
        if not (0 <= p <= 65535):
            raise OverflowError(f"number too large to fit in target type (port={p})")
        cid = as_i64(client_id, "client_id")
        if not (-(2**31) <= cid < 2**31):
            raise OverflowError(f"number too large to fit in target type (client_id={cid})")
        self.host, self.port, self.client_id = host, p, cid
        self.timeout = float(timeout)
        if not (0 < self.timeout <= 300):
            raise ValueError(f"timeout must be in (0, 300] seconds, got {timeout!r}")
        self.account_id = account
        self.currency = currency
        if tif not in ("DAY", "GTC", "IOC", "OPG"):
            raise ValueError(f"tif must be one of DAY, GTC, IOC, OPG, got {tif!r}")
        self.tif = tif
        self.max_requests_per_sec = as_u64(max_requests_per_sec, "max_requests_per_sec")
        if not (1 <= self.max_requests_per_sec <= 50):
            raise ValueError(f"max_requests_per_sec must be in [1, 50] (IBKR allows 50), got {max_requests_per_sec}")
        self.reconnect = bool(reconnect)
        self.max_reconnect_attempts = as_u64(max_reconnect_attempts, "max_reconnect_attempts")
        self.fallback_client_ids = [as_i64(x, "fallback_client_ids") for x in fallback_client_ids]
        self.ack_timeout = float(ack_timeout)
        self._sdk: Any = None
        self._loop: _Loop | None = None
        self._ib: Any = None
        self._want_connected = False
        self._active_client_id: int | None = None
        self._contracts: dict[str, Any] = {}
        self._errors: collections.deque = collections.deque(maxlen=500)
        self._order_errors: dict[int, list[tuple[int, str]]] = collections.defaultdict(list)
        self._overrides: dict[int, str] = {}  # statuses learned at re-sync
        self._lock = threading.RLock()
        self.reconnects = 0

    def __repr__(self) -> str:
        return f"IbkrBroker(host={self.host!r}, port={self.port}, client_id={self.client_id})"

    # ------------------------------------------------------------------ loop plumbing

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        assert self._loop is not None
        try:
            return self._loop.run(coro, timeout or self.timeout + 1.0)
        except TimeoutError as exc:
            raise BrokerConnectionError(f"IBKR request timed out after {timeout or self.timeout:.1f}s") from exc

    def _on_error(self, req_id: int, code: int, msg: str, *rest: Any) -> None:
        self._errors.append((time.monotonic(), req_id, code, msg))
        if req_id is not None and req_id >= 0:
            self._order_errors[req_id].append((code, msg))

    def _on_disconnected(self) -> None:
        if self._want_connected:
            log.warning("IBKR connection to %s:%s lost", self.host, self.port)

    # ------------------------------------------------------------------ session

    def connect(self) -> None:
        """Connect, synchronise positions/orders/executions, request delayed-if-unsubscribed data.

        Raises
        ------
        ClientIdInUse
            TWS answered 326 for the client id and every fallback id.
        BrokerConnectionError
            Refused, timed out, or closed during start-up.
        """
        with self._lock:
            if self._ib is not None and self._ib.isConnected():
                return
            if self._sdk is None:
                self._sdk = _import_sdk()
            if self._loop is None:
                self._loop = _Loop()
            self._connect_any()
            self._want_connected = True

    def _connect_any(self) -> None:
        ids = [self.client_id] + [c for c in self.fallback_client_ids if c != self.client_id]
        last: BaseException | None = None
        for cid in ids:
            try:
                self._connect_once(cid)
                self._active_client_id = cid
                return
            except ClientIdInUse as exc:
                log.warning("IBKR client id %s in use; %s", cid, "trying the next" if cid != ids[-1] else "giving up")
                last = exc
        assert last is not None
        raise last

    def _connect_once(self, cid: int) -> None:
        sdk = self._sdk

        async def go() -> Any:
            ib = sdk.IB()
            ib.client.MaxRequests = int(self.max_requests_per_sec)
            ib.client.RequestsInterval = 1.0
            ib.errorEvent += self._on_error
            ib.disconnectedEvent += self._on_disconnected
            since = time.monotonic()
            try:
                await ib.connectAsync(self.host, self.port, clientId=cid, timeout=self.timeout,
                                      account=self.account_id or "")
            except BaseException as exc:
                ib.errorEvent -= self._on_error
                return exc, since
            ib.reqMarketDataType(3)
            return ib, since

        res, since = self._run(go(), self.timeout * 3 + 5)
        if isinstance(res, BaseException):
            in_use = any(code == 326 for t, _r, code, _m in self._errors if t >= since)
            if in_use:
                raise ClientIdInUse(f"connection error: client id {cid} is already in use at {self.host}:{self.port}",
                                    code=326) from res
            if isinstance(res, ConnectionRefusedError) or "refused" in str(res).lower():
                raise BrokerConnectionError(
                    f"connection error: failed to connect to {self.host}:{self.port}: Connection refused (os error 111)") from res
            raise BrokerConnectionError(f"connection error: {self.host}:{self.port}: {res!r}") from res
        self._ib = res

    def disconnect(self) -> None:
        """Disconnect (no-op when not connected) and stop the private loop."""
        with self._lock:
            self._want_connected = False
            ib, self._ib = self._ib, None
            if ib is not None and self._loop is not None:
                async def bye() -> None:
                    ib.disconnect()

                try:
                    self._run(bye(), 5)
                except BrokerError:  # pragma: no cover
                    pass
            if self._loop is not None:
                self._loop.stop()
                self._loop = None

    @property
    def connected(self) -> bool:
        return self._ib is not None and self._ib.isConnected()

    def _ensure(self) -> Any:
        """The live IB object, reconnecting and re-synchronising after a drop."""
        with self._lock:
            if not self._want_connected or self._ib is None:
                raise NotConnected()
            if self._ib.isConnected():
                return self._ib
            if not self.reconnect:
                raise BrokerConnectionError("connection error: connection to IBKR lost")
            delay, last = 0.2, None
            for attempt in range(int(self.max_reconnect_attempts)):
                try:
                    old = self._ib
                    self._connect_once(self._active_client_id if self._active_client_id is not None else self.client_id)
                    self._carry_over(old)
                    self._resync()
                    self.reconnects += 1
                    log.info("IBKR reconnected after %d attempt(s)", attempt + 1)
                    return self._ib
                except (BrokerConnectionError, ClientIdInUse) as exc:
                    last = exc
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
            raise BrokerConnectionError(f"connection error: reconnect to {self.host}:{self.port} failed: {last}")

    def _carry_over(self, old: Any) -> None:
        """Keep what the old session knew about our orders (a new IB object starts empty)."""
        new = self._ib
        if old is None or old is new:
            return

        async def merge() -> None:
            for key, trade in old.wrapper.trades.items():
                new.wrapper.trades.setdefault(key, trade)
                if trade.order.permId:
                    new.wrapper.permId2Trade.setdefault(trade.order.permId, trade)
            for exec_id, fill in old.wrapper.fills.items():
                new.wrapper.fills.setdefault(exec_id, fill)

        self._run(merge())

    def _resync(self) -> None:
        """After a reconnect: open orders from every client, then every execution."""
        ib = self._ib

        async def go() -> tuple[set[int], list[Any]]:
            open_trades = await ib.reqAllOpenOrdersAsync()
            await ib.reqExecutionsAsync()
            completed = await ib.reqCompletedOrdersAsync(False)
            return {t.order.orderId for t in open_trades}, completed

        still_open, completed = self._run(go(), self.timeout * 3 + 1)
        final = {t.order.permId: t for t in completed if t.order.permId}
        for trade in list(ib.wrapper.trades.values()):
            oid = trade.order.orderId
            if not oid or trade.order.clientId not in (0, self._active_client_id):
                continue
            if _STATUS.get(trade.orderStatus.status) in OPEN_STATUSES and oid not in still_open:
                done = final.get(trade.order.permId)
                st = _STATUS.get(done.orderStatus.status) if done is not None else None
                if st is not None and st not in OPEN_STATUSES:
                    self._overrides[oid] = st  # what TWS says it ended as
                else:  # not among the completed orders: complete fills say Filled, anything else is not known
                    filled = self._filled(trade)
                    self._overrides[oid] = (OrderStatus.FILLED.value if filled >= trade.order.totalQuantity
                                            else OrderStatus.FINAL_UNKNOWN.value)

    # ------------------------------------------------------------------ helpers

    def _contract(self, symbol: str) -> Any:
        c = self._contracts.get(symbol)
        if c is not None:
            return c
        ib = self._ensure()
        stock = self._sdk.Stock(symbol, "SMART", self.currency)

        async def q() -> Any:
            return await ib.qualifyContractsAsync(stock)

        res = self._run(q())
        if not res or res[0] is None or not getattr(res[0], "conId", 0):
            raise InvalidOrder(f"no security definition for {symbol} (STK SMART {self.currency})", code=200)
        self._contracts[symbol] = res[0]
        return res[0]

    @staticmethod
    def _filled(trade: Any) -> float:
        from_fills = sum(f.execution.shares for f in trade.fills)
        return max(float(trade.orderStatus.filled or 0), from_fills)

    def _trade_record(self, trade: Any) -> BrokerOrder:
        o, st = trade.order, trade.orderStatus
        oid = int(o.orderId)
        qty = int(o.totalQuantity)
        filled = self._filled(trade)
        fills = trade.fills
        if fills:
            shares = sum(f.execution.shares for f in fills)
            avg = sum(f.execution.shares * f.execution.price for f in fills) / shares if shares else 0.0
        else:
            avg = st.avgFillPrice or 0.0
        status = self._overrides.get(oid) or _STATUS.get(st.status, st.status)
        if filled >= qty > 0:
            status = OrderStatus.FILLED.value
        elif status == OrderStatus.SUBMITTED.value and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED.value
        otype = _TYPES.get(o.orderType, o.orderType.lower())
        lim = _cents(o.lmtPrice) if otype in ("limit", "stop_limit") and o.lmtPrice < 1e300 else None
        return BrokerOrder(oid, status, int(filled), qty - int(filled) if status in OPEN_STATUSES else 0,
                           _cents0(avg), client_order_id=o.orderRef or None, symbol=trade.contract.symbol,
                           side="buy" if o.action == "BUY" else "sell", quantity=qty, order_type=otype,
                           limit_price_cents=lim)

    def _my_trades(self) -> list[Any]:
        ib = self._ensure()
        return [t for t in ib.trades() if t.order.clientId in (0, self._active_client_id) or t.order.permId]

    def _trade(self, order_id: int) -> Any:
        # completed-order records carry no order id (0): they are matched through executions instead
        if not order_id:
            return None
        for t in self._ensure().trades():
            if t.order.orderId == order_id and t.order.clientId in (0, self._active_client_id):
                return t
        for t in self._ensure().trades():
            if t.order.orderId == order_id:
                return t
        return None

    def _check_pacing(self, since: float) -> None:
        for t, _r, code, msg in self._errors:
            if t >= since and code == 100:
                raise RateLimited(f"IBKR pacing violation: {msg}", code=100, retry_after=1.0)

    # ------------------------------------------------------------------ queries

    def positions(self) -> list[dict[str, Any]]:
        """Positions (from the positions subscription), valued with the portfolio updates when present."""
        ib = self._ensure()
        pf = {(p.account, p.contract.conId): p for p in ib.portfolio()}
        out = []
        for p in ib.positions():
            if self.account_id and p.account != self.account_id:
                continue
            q = p.position
            if q == 0:
                continue
            item = pf.get((p.account, p.contract.conId))
            out.append(Position(p.contract.symbol, int(q), _cents0(p.avgCost),
                                _cents0(item.marketValue) if item else 0,
                                _cents0(item.unrealizedPNL) if item else 0))
        return [p.to_dict() for p in sorted(out, key=lambda p: p.symbol)]

    def account(self) -> dict[str, int]:
        """NetLiquidation, BuyingPower, TotalCashValue, GrossPositionValue in cents."""
        ib = self._ensure()

        async def go() -> Any:
            return await ib.accountSummaryAsync(self.account_id or "")

        vals = self._run(go())
        acct = self.account_id or (ib.managedAccounts() or [""])[0]
        tags = {v.tag: v.value for v in vals if v.account == acct and v.currency in (self.currency, "BASE", "")}

        def c(tag: str) -> int:
            try:
                return int((Decimal(tags[tag]) * 100).to_integral_value(rounding=ROUND_HALF_UP))
            except (KeyError, ArithmeticError) as exc:
                raise BrokerError(f"IBKR account summary lacks {tag}") from exc

        return Account(c("NetLiquidation"), c("BuyingPower"), c("TotalCashValue"), c("GrossPositionValue")).to_dict()

    def quote(self, symbol: str) -> dict[str, Any]:
        """Snapshot quote (delayed data when not subscribed). Missing prices are ``None``."""
        sym = as_symbol(symbol, "symbol")
        contract = self._contract(sym)
        ib = self._ensure()
        since = time.monotonic()

        async def go() -> Any:
            return await asyncio.wait_for(ib.reqTickersAsync(contract), self.timeout)

        try:
            [t] = self._run(go())
        except (asyncio.TimeoutError, TimeoutError) as exc:
            self._check_pacing(since)
            raise BrokerConnectionError(f"IBKR snapshot for {sym} timed out") from exc
        self._check_pacing(since)
        vol = t.volume if t.volume == t.volume and t.volume is not None and t.volume >= 0 else 0
        return Quote(sym, _cents(t.bid), _cents(t.ask), _cents(t.last), int(vol)).to_dict()

    def open_orders(self) -> list[dict[str, Any]]:
        """Working orders of this client (and of TWS/client 0), ascending id."""
        ib = self._ensure()

        async def go() -> Any:
            return await ib.reqAllOpenOrdersAsync()

        self._run(go())
        out = [self._trade_record(t) for t in ib.trades()]
        return [o.to_dict() for o in sorted((o for o in out if o.status in OPEN_STATUSES), key=lambda o: o.order_id)]

    def order_status(self, order_id: int) -> dict[str, Any]:
        """Status of an order placed by this client id (this or an earlier session).

        An order of an earlier session that is no longer open is found through
        its executions and its completed-order record; one that ended without
        any execution has no order id left at IBKR and is only found by
        :meth:`find_order`.
        """
        oid = as_u64(order_id, "order_id")
        t = self._trade(oid)
        if t is None:
            d = self._finished(order_id=oid) if oid else None
            if d is None:
                raise OrderNotFound(f"order {oid} not found")
            return d.to_dict()
        return self._trade_record(t).to_dict()

    def _completed_orders(self) -> list[Any]:
        """``reqCompletedOrders``: the orders TWS lists as finished (filled, cancelled, inactive)."""
        ib = self._ensure()

        async def go() -> Any:
            return await asyncio.wait_for(ib.reqCompletedOrdersAsync(False), self.timeout)

        try:
            return list(self._run(go()))
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise BrokerConnectionError("IBKR completed-orders request timed out") from exc

    def _finished(self, *, order_id: int | None = None, client_order_id: str | None = None) -> BrokerOrder | None:
        """An order not working in this session (an earlier process placed it and it ended).

        Executions give the order id, the permId and the fills; the completed
        order with that permId (or, without executions, with that orderRef)
        gives the final status, the total quantity, the type and the limit.
        Completed orders carry no order id, so one that ended without any
        execution is reported with ``id`` 0. When TWS no longer lists the
        order as completed (the list covers its current session), only the
        executions are left: ``FinalUnknown`` with the executed quantity (as
        both ``filled_quantity`` and ``quantity``), never an invented ``Filled``.
        """
        ib = self._ensure()
        if order_id is not None:
            fills = [f for f in ib.fills()
                     if f.execution.orderId == order_id and f.execution.clientId in (0, self._active_client_id)]
        else:
            fills = [f for f in ib.fills() if f.execution.orderRef == client_order_id]
            if fills:  # the latest order carrying that reference
                perm = max(f.execution.permId for f in fills)
                fills = [f for f in fills if f.execution.permId == perm]
        completed = self._completed_orders()
        if fills:
            perm = fills[0].execution.permId
            done = next((t for t in completed if t.order.permId == perm), None)
        else:
            cands = [t for t in completed if client_order_id is not None and t.order.orderRef == client_order_id]
            done = max(cands, key=lambda t: t.order.permId) if cands else None
        if not fills and done is None:
            return None
        shares = sum(f.execution.shares for f in fills)
        avg = sum(f.execution.shares * f.execution.price for f in fills) / shares if shares else 0.0
        oid = int(fills[0].execution.orderId) if fills else 0
        if done is None:
            # The venue no longer says how the order ended (TWS lists completed orders of its current
            # session only): it is over -- not working in this session -- and its fills are all that is
            # known. Its total quantity is unknown too, so "quantity" is the filled quantity.
            e0 = fills[0].execution
            log.warning("IBKR order %s is not among the completed orders; reporting it FinalUnknown with its "
                        "executed quantity %s", oid, shares)
            return BrokerOrder(oid, OrderStatus.FINAL_UNKNOWN.value, int(shares), 0, _cents0(avg),
                               client_order_id=e0.orderRef or None, symbol=fills[0].contract.symbol,
                               side="buy" if e0.side == "BOT" else "sell", quantity=int(shares))
        o = done.order
        qty = int(o.totalQuantity)
        fq = o.filledQuantity if isinstance(o.filledQuantity, (int, float)) and 0 <= o.filledQuantity < 1e300 else 0
        filled = int(max(shares, float(fq)))
        status = _STATUS.get(done.orderStatus.status, done.orderStatus.status)
        if filled >= qty > 0:
            status = OrderStatus.FILLED.value
        otype = _TYPES.get(o.orderType, o.orderType.lower())
        lim = _cents(o.lmtPrice) if otype in ("limit", "stop_limit") and o.lmtPrice < 1e300 else None
        return BrokerOrder(oid, status, filled, qty - filled if status in OPEN_STATUSES else 0, _cents0(avg),
                           client_order_id=o.orderRef or None, symbol=done.contract.symbol,
                           side="buy" if o.action == "BUY" else "sell", quantity=qty, order_type=otype,
                           limit_price_cents=lim)

    def find_order(self, client_order_id: str) -> dict[str, Any] | None:
        """The order whose ``orderRef`` is ``client_order_id``: working or seen in this
        session, else finished in an earlier one (executions and completed orders;
        ``id`` 0 when it ended without an execution, see :meth:`_finished`)."""
        if not isinstance(client_order_id, str):
            raise TypeError(f"client_order_id must be a str, got {type(client_order_id).__name__}")
        found = self._find(client_order_id)
        return None if found is None else found.to_dict()

    def _find(self, client_order_id: str) -> BrokerOrder | None:
        for t in sorted(self._ensure().trades(), key=lambda t: t.order.orderId):
            if t.order.orderId and t.order.orderRef == client_order_id:
                return self._trade_record(t)
        return self._finished(client_order_id=client_order_id)

    # ------------------------------------------------------------------ orders

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
        """Place an order and wait for TWS to acknowledge it; returns the order id.

        Raises
        ------
        ValueError, TypeError, OverflowError
            Malformed arguments (validated before any connection check).
        NotConnected
        ClientOrderIdConflict
        InvalidOrder
            Unknown contract.
        OrderRejected
            TWS rejected the order (e.g. 201, 434, 110); ``order_id`` is set.
        """
        req = validate_order(symbol, side, quantity, order_type, limit_price_cents, client_order_id, stop_price_cents)
        ib = self._ensure()
        if req.client_order_id is not None:
            held = existing_order_id(req, self._find(req.client_order_id))
            if held is not None:
                return held
        contract = self._contract(req.symbol)
        sdk = self._sdk
        action = "BUY" if req.side == "buy" else "SELL"
        lim = None if req.limit_price_cents is None else req.limit_price_cents / 100
        stp = None if req.stop_price_cents is None else req.stop_price_cents / 100
        if req.order_type == "market":
            order = sdk.MarketOrder(action, req.quantity)
        elif req.order_type == "limit":
            order = sdk.LimitOrder(action, req.quantity, lim)
        elif req.order_type == "stop":
            order = sdk.StopOrder(action, req.quantity, stp)
        else:
            order = sdk.StopLimitOrder(action, req.quantity, lim, stp)
        order.tif = self.tif
        # orderRef carries the client order id (one is generated so every order can be found again)
        order.orderRef = req.client_order_id or "nb" + uuid.uuid4().hex[:30]
        if self.account_id:
            order.account = self.account_id

        async def place() -> Any:
            trade = ib.placeOrder(contract, order)
            deadline = time.monotonic() + self.ack_timeout
            while time.monotonic() < deadline and ib.isConnected():
                if trade.orderStatus.status not in ("PendingSubmit", "ApiPending", ""):
                    break
                if self._order_errors.get(trade.order.orderId):
                    break
                await asyncio.sleep(0.01)
            return trade

        since = time.monotonic()
        trade = self._run(place(), self.ack_timeout + self.timeout)
        oid = int(trade.order.orderId)
        self._check_pacing(since)
        if trade.orderStatus.status in ("PendingSubmit", "ApiPending", "") and not self._order_errors.get(oid):
            # No acknowledgement (connection lost or TWS silent): the order may exist. Never resend
            # blindly; the caller retries with the same client order id, which is looked up first.
            raise OrderOutcomeUnknown(
                f"order {oid} ({order.orderRef}): no acknowledgement from IBKR within {self.ack_timeout:.1f}s"
                f"{'' if ib.isConnected() else ' (connection lost)'}; resubmit with the same client_order_id "
                f"or query find_order({order.orderRef!r})", client_order_id=order.orderRef)
        errs = [(c, m) for c, m in self._order_errors.get(oid, []) if c not in _INFO_CODES]
        st = trade.orderStatus.status
        if errs and (st in ("Cancelled", "Inactive", "ApiCancelled", "PendingSubmit") or errs[-1][0] in _REJECT_CODES):
            code, msg = errs[-1]
            exc_cls = InvalidOrder if code in (110, 200, 434) else OrderRejected
            raise exc_cls(f"order {oid} rejected by IBKR: {code} {msg}", code=code, order_id=oid)
        if st == "Inactive":
            raise OrderRejected(f"order {oid} is inactive at IBKR", order_id=oid)
        log.info("IBKR order %s: %s %s %s %s ref=%s -> %s", oid, action, req.quantity, req.symbol, req.order_type,
                 req.client_order_id, st)
        return oid

    def cancel_order(self, order_id: int) -> None:
        """Cancel a working order and wait for TWS to confirm; no-op if already final."""
        oid = as_u64(order_id, "order_id")
        t = self._trade(oid)
        if t is None:
            # not working in this session: an earlier session's finished order is a no-op
            if oid and self._finished(order_id=oid) is not None:
                return
            raise OrderNotFound(f"order {oid} not found")
        if self._trade_record(t).status not in OPEN_STATUSES:
            return
        ib = self._ensure()

        async def go() -> None:
            ib.cancelOrder(t.order)
            deadline = time.monotonic() + self.ack_timeout
            while time.monotonic() < deadline and not t.isDone():
                if any(c == 10148 for c, _m in self._order_errors.get(oid, [])):
                    break
                await asyncio.sleep(0.01)

        self._run(go(), self.ack_timeout + self.timeout)
