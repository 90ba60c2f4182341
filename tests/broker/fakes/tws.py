"""A fake TWS / IB Gateway speaking the TWS socket protocol on 127.0.0.1 (test infrastructure).

Wire format: after the client's ``b"API\\0"`` greeting, every message in both
directions is ``be32(length)`` + NUL-terminated text fields. The server
answers the version range with ``[serverVersion, connTime]`` (capped at
``max_version``, 176 by default, which keeps any client in text mode), the
client sends ``startApi``, the server sends ``managedAccounts`` and
``nextValidId`` plus the usual 2104/2106/2158 notices.

It implements positions, account updates and summaries, executions with
commission reports, contract details, snapshot market data (delayed data with
10167 when the symbol is not "subscribed"), orders (placement, partial and
full fills, cancels, rejections) with the order lifecycle real TWS emits,
completed orders (``reqCompletedOrders``: one ``completedOrder`` message per
finished order, without an order id as in the real protocol), the
error codes 100/103/135/200/201/202/326/354/434/10148, a per-connection pacing
limit, duplicate client ids, and injected disconnects.
"""
from __future__ import annotations

import asyncio
import struct
import threading
import time
from dataclasses import dataclass, field

UNSET = ""


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, float):
        return repr(x) if x != int(x) else str(int(x)) if abs(x) < 1e15 else repr(x)
    return str(x)


@dataclass
class Stock:
    symbol: str
    con_id: int
    primary: str = "NASDAQ"
    currency: str = "USD"
    bid: float = 0.0
    ask: float = 0.0
    last: float = 0.0
    volume: int = 0
    live: bool = False  # "subscribed" to live data

    def c11(self) -> list:
        # conId, symbol, secType, ltd, strike, right, multiplier, exchange, currency, localSymbol, tradingClass
        return [self.con_id, self.symbol, "STK", "", 0.0, "", "", "SMART", self.currency, self.symbol, "NMS"]


@dataclass
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    account: str
    symbol: str
    action: str  # BUY / SELL
    qty: float
    order_type: str  # MKT, LMT, STP, STP LMT
    lmt: float | None
    aux: float | None
    tif: str
    order_ref: str
    status: str = "PreSubmitted"
    filled: float = 0.0
    value: float = 0.0
    completed_time: str = ""
    completed_status: str = ""

    def complete(self, status: str, why: str) -> None:
        self.status = status
        self.completed_time = time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime())
        self.completed_status = why

    @property
    def remaining(self) -> float:
        return self.qty - self.filled

    @property
    def avg(self) -> float:
        return self.value / self.filled if self.filled else 0.0


@dataclass
class Execution:
    exec_id: str
    order: FakeOrder
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    time: str
    commission: float


@dataclass
class Session:
    writer: asyncio.StreamWriter
    client_id: int | None = None
    version: int = 176
    md_type: int = 1
    positions_sub: bool = False
    account_sub: str | None = None
    msg_times: list[float] = field(default_factory=list)


class FakeTWS:
    """State and asyncio server; runs its own event loop in a thread. Use as a context manager."""

    def __init__(self, accounts=("DU1234567",), *, max_version: int = 176, min_version: int = 157,
                 next_order_id: int = 1, pacing_limit: int = 50, commission_per_share: float = 0.005) -> None:
        self.accounts = list(accounts)
        self.max_version = max_version
        self.min_version = min_version
        self.next_order_id = next_order_id
        self.pacing_limit = pacing_limit
        self.commission_per_share = commission_per_share
        self.stocks: dict[str, Stock] = {}
        self.cash: dict[str, float] = {a: 1_000_000.0 for a in self.accounts}
        self.positions: dict[tuple[str, str], list[float]] = {}  # (acct, sym) -> [qty, avgCost]
        self.orders: dict[int, FakeOrder] = {}
        self.executions: list[Execution] = []
        self.fill_cap: dict[str, float] = {}
        self.reject_next: list[tuple[int, str]] = []
        self.drop_after_fills = 0  # close every connection after this many fills (0: never)
        self.drop_after_place = False  # accept the next order, then close before acknowledging it
        # False: reqCompletedOrders answers with its end marker only, like a TWS restarted since the
        # orders ended (it lists the completed orders of its current session only)
        self.report_completed = True
        self.sessions: list[Session] = []
        self.received: list[list[str]] = []  # every client message (fields)
        self.pacing_violations = 0
        self._perm = 500_000
        self._exec_seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self.port = 0
        self.accepting = True

    # ----------------------------------------------------------------- set-up
    def add_stock(self, symbol: str, con_id: int, bid: float, ask: float, last: float, volume: int = 0,
                  live: bool = False, primary: str = "NASDAQ") -> None:
        self.stocks[symbol] = Stock(symbol, con_id, primary, "USD", bid, ask, last, volume, live)

    def set_position(self, symbol: str, qty: float, avg_cost: float, account: str | None = None) -> None:
        self.positions[(account or self.accounts[0], symbol)] = [qty, avg_cost]

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the server loop and wait (thread-safe mutation helper)."""
        fut = asyncio.run_coroutine_threadsafe(self._acall(fn, *args), self._loop)
        return fut.result(10)

    async def _acall(self, fn, *args):
        return fn(*args)

    def set_quote(self, symbol: str, bid: float, ask: float, last: float | None = None) -> None:
        """Move the market (from the test thread); crossed resting orders fill."""
        self.call(self._set_quote, symbol, bid, ask, last)

    def drop_connections(self) -> None:
        """Close every client socket (a gateway restart)."""
        self.call(self._drop_all)

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> "FakeTWS":
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)

            async def start():
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()

            self._loop.run_until_complete(start())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def stop():
            self._drop_all()
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # ----------------------------------------------------------------- wire
    @staticmethod
    def _frame(fields) -> bytes:
        payload = "".join(_fmt(f) + "\0" for f in fields).encode()
        return struct.pack(">I", len(payload)) + payload

    def _send(self, s: Session, *fields) -> None:
        if not s.writer.is_closing():
            s.writer.write(self._frame(fields))

    def _drop_all(self) -> None:
        for s in list(self.sessions):
            s.writer.close()
        self.sessions.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        s = Session(writer)
        try:
            if not self.accepting:
                return
            if await reader.readexactly(4) != b"API\0":
                return
            n = struct.unpack(">I", await reader.readexactly(4))[0]
            hello = (await reader.readexactly(n)).decode()
            lo, hi = hello.split()[0].lstrip("v").split("..")
            version = min(int(hi), self.max_version)
            if version < max(int(lo), self.min_version):
                return
            s.version = version
            self._send(s, version, time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime()))
            await writer.drain()
            self.sessions.append(s)
            while True:
                n = struct.unpack(">I", await reader.readexactly(4))[0]
                fields = (await reader.readexactly(n)).decode().split("\0")[:-1]
                self.received.append(fields)
                if not self._pace(s):
                    continue
                keep = self._dispatch(s, fields)
                await writer.drain()
                if keep is False:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if s in self.sessions:
                self.sessions.remove(s)
            writer.close()

    def _pace(self, s: Session) -> bool:
        now = time.monotonic()
        s.msg_times = [t for t in s.msg_times if now - t < 1.0] + [now]
        if len(s.msg_times) > self.pacing_limit:
            self.pacing_violations += 1
            self._send(s, 4, 2, -1, 100,
                       f"Max rate of messages per second has been exceeded:max={self.pacing_limit} rcvd={len(s.msg_times)}.", "")
            return False
        return True

    def _error(self, s: Session, req_id: int, code: int, msg: str) -> None:
        self._send(s, 4, 2, req_id, code, msg, "")

    # ----------------------------------------------------------------- requests
    def _dispatch(self, s: Session, f: list[str]):
        mid = int(f[0])
        if mid == 71:  # startApi
            cid = int(f[2])
            if any(o.client_id == cid for o in self.sessions if o is not s):
                self._error(s, -1, 326, "Unable to connect as the client id is already in use. Retry with a unique client id.")
                return False
            s.client_id = cid
            self._send(s, 15, 1, ",".join(self.accounts))
            self._send(s, 9, 1, self.next_order_id)
            for code, m in ((2104, "Market data farm connection is OK:usfarm"),
                            (2106, "HMDS data farm connection is OK:ushmds"),
                            (2158, "Sec-def data farm connection is OK:secdefnj")):
                self._error(s, -1, code, m)
        elif mid == 61:  # reqPositions
            s.positions_sub = True
            for (acct, sym), (q, c) in sorted(self.positions.items()):
                self._send(s, 61, 3, acct, *self.stocks[sym].c11(), q, c)
            self._send(s, 62, 1)
        elif mid == 64:
            s.positions_sub = False
        elif mid in (5, 16):  # reqOpenOrders / reqAllOpenOrders
            for o in sorted(self.orders.values(), key=lambda o: o.order_id):
                if o.status in ("PreSubmitted", "Submitted") and (mid == 16 or o.client_id == s.client_id):
                    self._open_order(s, o)
                    self._order_status(s, o)
            self._send(s, 53, 1)
        elif mid == 99:  # reqCompletedOrders [apiOnly]; every order here came through the API
            for o in sorted(self.orders.values(), key=lambda o: o.perm_id):
                if o.status in ("Filled", "Cancelled", "Inactive") and self.report_completed:
                    self._completed_order(s, o)
            self._send(s, 102)
        elif mid == 6:  # reqAccountUpdates
            acct = f[3]
            if f[2] == "1":
                s.account_sub = acct
                self._account_updates(s, acct)
            else:
                s.account_sub = None
        elif mid == 76:  # reqAccountUpdatesMulti
            req_id, acct = int(f[2]), f[3]
            for k, v in self._account_values(acct).items():
                self._send(s, 73, 1, req_id, acct, "", k, v, "USD")
            self._send(s, 74, 1, req_id)
        elif mid == 62:  # reqAccountSummary
            req_id, tags = int(f[2]), f[4].split(",")
            for acct in self.accounts:
                vals = self._account_values(acct)
                for t in tags:
                    if t in vals:
                        self._send(s, 63, 1, req_id, acct, t, vals[t], "USD")
            self._send(s, 64, 1, req_id)
        elif mid == 7:  # reqExecutions
            req_id, cid = int(f[2]), int(f[3] or 0)
            for e in self.executions:
                if cid in (0, e.order.client_id):
                    self._exec(s, req_id, e)
                    self._commission(s, e)
            self._send(s, 55, 1, req_id)
        elif mid == 8:  # reqIds
            self._send(s, 9, 1, self._next_id())
        elif mid == 49:
            self._send(s, 49, 1, int(time.time()))
        elif mid == 59:  # reqMarketDataType
            s.md_type = int(f[2])
        elif mid == 9:  # reqContractDetails
            req_id, sym, sec = int(f[2]), f[4], f[5]
            st = self.stocks.get(sym)
            if st is None or sec not in ("STK", ""):
                self._error(s, req_id, 200, "No security definition has been found for the request")
            else:
                self._send(s, 10, req_id, st.symbol, "STK", "", 0.0, "", "SMART", "USD", st.symbol, "NMS", "NMS",
                           st.con_id, 0.01, "", "ACTIVETIM,LMT,MKT,STP,STPLMT", "SMART,NASDAQ,NYSE", 1, 0,
                           f"{st.symbol} INC", st.primary, "", "Technology", "", "", "US/Eastern", "", "", "", "",
                           0, 1, "", "", "26", "", "COMMON", 1, 1, 1)
                self._send(s, 52, 1, req_id)
        elif mid == 1:  # reqMktData
            self._mkt_data(s, f)
        elif mid == 2:
            pass
        elif mid == 3:
            self._place(s, f)
        elif mid == 4:
            self._cancel(s, int(f[2]))
        elif mid == 58:  # reqGlobalCancel
            for o in list(self.orders.values()):
                if o.status in ("PreSubmitted", "Submitted"):
                    self._cancel(s, o.order_id)
        elif mid in (15, 17, 63, 77, 2):
            if mid == 17:
                self._send(s, 15, 1, ",".join(self.accounts))
        return True

    def _next_id(self) -> int:
        return max([self.next_order_id] + [o + 1 for o in self.orders])

    def _account_values(self, acct: str) -> dict[str, str]:
        gross = net = 0.0
        for (a, sym), (q, _c) in self.positions.items():
            if a == acct:
                st = self.stocks[sym]
                mark = (st.bid + st.ask) / 2
                gross += abs(q) * mark
                net += q * mark
        cash = self.cash[acct]
        nlv = cash + net
        return {"NetLiquidation": f"{nlv:.2f}", "TotalCashValue": f"{cash:.2f}", "BuyingPower": f"{4 * nlv - gross:.2f}",
                "GrossPositionValue": f"{gross:.2f}", "AccountType": "INDIVIDUAL"}

    def _account_updates(self, s: Session, acct: str) -> None:
        for k, v in self._account_values(acct).items():
            self._send(s, 6, 2, k, v, "USD", acct)
        for (a, sym), (q, c) in sorted(self.positions.items()):
            if a != acct:
                continue
            st = self.stocks[sym]
            mark = (st.bid + st.ask) / 2
            self._send(s, 7, 8, st.con_id, sym, "STK", "", 0.0, "", "", st.primary, "USD", sym, "NMS",
                       q, mark, q * mark, c, q * mark - q * c, 0.0, acct)
        self._send(s, 8, 1, time.strftime("%H:%M", time.gmtime()))
        self._send(s, 54, 1, acct)

    def _mkt_data(self, s: Session, f: list[str]) -> None:
        req_id, sym = int(f[2]), f[4]
        snapshot = f[17] == "1" if len(f) > 17 else False
        st = self.stocks.get(sym)
        if st is None:
            self._error(s, req_id, 200, "No security definition has been found for the request")
            return
        if st.live:
            typ, ticks = 1, (1, 2, 4, 8)
        elif s.md_type in (3, 4):
            self._error(s, req_id, 10167, "Requested market data is not subscribed. Displaying delayed market data.")
            typ, ticks = 3, (66, 67, 68, 74)
        else:
            self._error(s, req_id, 354, "Requested market data is not subscribed.")
            return
        self._send(s, 58, 1, req_id, typ)
        bid_t, ask_t, last_t, vol_t = ticks
        self._send(s, 1, 6, req_id, bid_t, st.bid, 100, 0)
        self._send(s, 1, 6, req_id, ask_t, st.ask, 100, 0)
        self._send(s, 1, 6, req_id, last_t, st.last, 10, 0)
        self._send(s, 2, 6, req_id, vol_t, st.volume)
        if snapshot:
            self._send(s, 57, 1, req_id)

    # ----------------------------------------------------------------- orders
    def _open_order(self, s: Session, o: FakeOrder) -> None:
        st = self.stocks[o.symbol]
        fields = [5, o.order_id, st.con_id, o.symbol, "STK", "", 0.0, "", "", "SMART", "USD", o.symbol, "NMS",
                  o.action, o.qty, o.order_type, o.lmt if o.lmt is not None else "", o.aux if o.aux is not None else "",
                  o.tif, "", o.account, "O", 0, o.order_ref, o.client_id, o.perm_id, 0, 0, 0, "", "", "", "", ""]
        if s.version < 177:
            fields.append("")  # faProfile
        fields += ["", "", "", "", "", 0, "", "", 0, "", "", "", "", "", 0, 0, 0, 0, "", 0, 0, 0, 0, 0, 0, "", 0,
                   "", ""]  # modelCode .. deltaNeutralAuxPrice (deltaNeutralOrderType empty)
        fields += [0, 0, "", "", "", "", ""]  # continuousUpdate .. comboLegsDescrip
        fields += [0, 0, 0]  # combo legs, order combo legs, smart combo params
        fields += ["", "", ""]  # scale init/subs level size, price increment (unset)
        fields += [""]  # hedgeType
        fields += [0, "", "", 0, 0]  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, dncPresent
        fields += [""]  # algoStrategy
        fields += [0, 0, o.status] + [""] * 9 + ["", "", "", "", ""] + [0, 0]  # solicited .. randomizePrice
        fields += [0]  # conditions
        fields += ["", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0]  # adjustedOrderType .. usePriceMgmtAlgo
        fields += ["", "", 0]  # duration, postToAts, autoCancelParent
        fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
        self._send(s, *fields)

    def _completed_order(self, s: Session, o: FakeOrder) -> None:
        """``completedOrder`` (101), field for field as ib_async's decoder reads it.

        Unlike ``openOrder`` it has no order id and no client id: the
        permId and the orderRef are what identify the order.
        """
        st = self.stocks[o.symbol]
        fields = [101, *st.c11(),
                  o.action, o.qty, o.order_type, o.lmt if o.lmt is not None else "",
                  o.aux if o.aux is not None else "", o.tif, "", o.account, "O", 0, o.order_ref, o.perm_id,
                  0, 0, 0, "", "", "", ""]  # outsideRth, hidden, discretionaryAmt, goodAfterTime, faGroup/Method/Pct
        if s.version < 177:
            fields.append("")  # faProfile
        fields += ["", "", "", "", "", 0, "", "", "", "", "", "", "", "", 0, 0, "", 0, 0, "", 0, "", ""]
        # ^ modelCode .. deltaNeutralAuxPrice (deltaNeutralOrderType empty)
        fields += [0, 0, "", "", ""]  # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, legs descr
        fields += [0, 0, 0]  # combo legs, order combo legs, smart combo params
        fields += ["", "", ""]  # scale init/subs level size, price increment (unset)
        fields += [""]  # hedgeType
        fields += ["", "", 0, 0]  # clearingAccount, clearingIntent, notHeld, dncPresent
        fields += [""]  # algoStrategy
        fields += [0, o.status, 0, 0]  # solicited, status, randomizeSize, randomizePrice
        fields += [0]  # conditions
        fields += ["", "", "", 0, 0, "", o.filled, 0, 0, "", 0, 0, "", o.completed_time, o.completed_status]
        # ^ trailStopPrice, lmtPriceOffset, cashQty, dontUseAutoPriceForHedge, isOmsContainer, autoCancelDate,
        #   filledQuantity, refFuturesConId, autoCancelParent, shareholder, imbalanceOnly, routeMarketableToBbo,
        #   parentPermId, completedTime, completedStatus
        if s.version >= 170:
            fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
        self._send(s, *fields)

    def _order_status(self, s: Session, o: FakeOrder) -> None:
        last = self.executions[-1].price if self.executions else 0.0
        self._send(s, 3, o.order_id, o.status, o.filled, o.remaining, o.avg, o.perm_id, 0, last, o.client_id, "", 0.0)

    def _exec(self, s: Session, req_id: int, e: Execution) -> None:
        o = e.order
        st = self.stocks[o.symbol]
        self._send(s, 11, req_id, o.order_id, *st.c11(), e.exec_id, e.time, o.account, "ISLAND",
                   "BOT" if o.action == "BUY" else "SLD", e.shares, e.price, o.perm_id, o.client_id, 0,
                   e.cum_qty, e.avg_price, o.order_ref, "", "", "", 1, *([0] if s.version >= 178 else []))

    def _commission(self, s: Session, e: Execution) -> None:
        self._send(s, 59, 1, e.exec_id, e.commission, "USD", "", "", "")

    def _owner(self, o: FakeOrder) -> list[Session]:
        return [x for x in self.sessions if x.client_id == o.client_id]

    def _place(self, s: Session, f: list[str]) -> None:
        oid = int(f[1])
        sym, action, qty, otype = f[3], f[16], float(f[17] or 0), f[18]
        lmt = float(f[19]) if f[19] else None
        aux = float(f[20]) if f[20] else None
        tif, acct, ref = f[21], f[23] or self.accounts[0], f[26]
        if oid in self.orders:
            existing = self.orders[oid]
            if existing.status not in ("PreSubmitted", "Submitted"):
                self._error(s, oid, 103, "Duplicate order id")
                return
            # modification of a working order: not used by the adapter
            self._error(s, oid, 103, "Duplicate order id")
            return
        if sym not in self.stocks:
            self._error(s, oid, 200, "No security definition has been found for the request")
            return
        if qty <= 0:
            self._error(s, oid, 434, "The order size cannot be zero.")
            return
        self._perm += 1
        o = FakeOrder(oid, s.client_id or 0, self._perm, acct, sym, action, qty, otype, lmt, aux, tif or "DAY", ref)
        self.next_order_id = max(self.next_order_id, oid + 1)
        if self.reject_next:
            code, msg = self.reject_next.pop(0)
            self.orders[oid] = o
            o.complete("Inactive", f"Rejected: {msg}")
            self._error(s, oid, code, msg)
            return
        self.orders[oid] = o
        if self.drop_after_place:
            self.drop_after_place = False
            o.status = "Submitted"
            self._drop_all()
            return
        for status in ("PreSubmitted", "Submitted"):
            o.status = status
            self._open_order(s, o)
            self._order_status(s, o)
        self._try_fill(o, aggressor=True)

    def _try_fill(self, o: FakeOrder, aggressor: bool) -> None:
        if o.status not in ("PreSubmitted", "Submitted") or o.remaining <= 0:
            return
        st = self.stocks[o.symbol]
        typ = o.order_type
        if typ in ("STP", "STP LMT"):
            trig = st.last >= o.aux if o.action == "BUY" else st.last <= o.aux
            if not trig:
                return
            typ = "MKT" if typ == "STP" else "LMT"
        if o.action == "BUY":
            cross = typ == "MKT" or o.lmt >= st.ask
            px = st.ask if (aggressor or typ == "MKT") else o.lmt
        else:
            cross = typ == "MKT" or o.lmt <= st.bid
            px = st.bid if (aggressor or typ == "MKT") else o.lmt
        if not cross:
            return
        q = min(o.remaining, self.fill_cap.get(o.symbol, o.remaining))
        if q <= 0:
            return
        self._fill(o, q, px)

    def _fill(self, o: FakeOrder, q: float, px: float) -> None:
        o.filled += q
        o.value += q * px
        if o.remaining <= 0:
            o.complete("Filled", f"Filled Size: {_fmt(o.filled)}")
        else:
            o.status = "Submitted"
        self._exec_seq += 1
        comm = max(1.0, q * self.commission_per_share)
        e = Execution(f"0000e0d5.{self._exec_seq:08x}.01.01", o, q, px, o.filled, o.avg,
                      time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime()), comm)
        self.executions.append(e)
        sign = 1 if o.action == "BUY" else -1
        key = (o.account, o.symbol)
        pos = self.positions.setdefault(key, [0.0, 0.0])
        q0, c0 = pos
        q1 = q0 + sign * q
        if q0 == 0 or (q0 > 0) == (sign > 0):
            pos[1] = (q0 * c0 + sign * q * px) / q1 if q1 else 0.0
        elif q1 != 0 and (q1 > 0) != (q0 > 0):
            pos[1] = px
        pos[0] = q1
        self.cash[o.account] -= sign * q * px + comm
        self.stocks[o.symbol].last = px
        self.stocks[o.symbol].volume += int(q)
        for s in self._owner(o):
            self._exec(s, -1, e)
            self._order_status(s, o)
            self._open_order(s, o)
            self._commission(s, e)
        for s in self.sessions:
            if s.positions_sub:
                self._send(s, 61, 3, o.account, *self.stocks[o.symbol].c11(), pos[0], pos[1])
            if s.account_sub == o.account:
                self._account_updates(s, o.account)
        if self.drop_after_fills:
            self.drop_after_fills -= 1
            if self.drop_after_fills == 0:
                self._drop_all()

    def _cancel(self, s: Session, oid: int) -> None:
        o = self.orders.get(oid)
        if o is None:
            self._error(s, oid, 135, f"Can't find order with id ={oid}")
            return
        if o.status not in ("PreSubmitted", "Submitted"):
            self._error(s, oid, 10148, f"OrderId {oid} that needs to be cancelled cannot be cancelled, state: {o.status}.")
            return
        o.complete("Cancelled", "Cancelled by Trader" if not o.filled else
                   f"Partially filled ({_fmt(o.filled)} of {_fmt(o.qty)}), then cancelled by Trader")
        for x in self._owner(o) or [s]:
            self._error(x, oid, 202, "Order Canceled - reason:")
            self._order_status(x, o)

    def _set_quote(self, sym: str, bid: float, ask: float, last: float | None) -> None:
        st = self.stocks[sym]
        st.bid, st.ask = bid, ask
        if last is not None:
            st.last = last
        for o in sorted(self.orders.values(), key=lambda o: o.order_id):
            if o.symbol == sym:
                self._try_fill(o, aggressor=False)

