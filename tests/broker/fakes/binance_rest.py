"""A fake Binance spot REST server on 127.0.0.1 (test infrastructure).

It checks what the real venue checks on signed endpoints (API key header,
HMAC-SHA256 signature over the parameters exactly as sent, timestamp within
recvWindow), applies exchangeInfo filters, rejects duplicate client order ids
among open orders, reports used weight and order counts in headers and
answers 429/418 when asked or when the weight or order-count budget of the
current window is exhausted. Windows are aligned to ``clock()`` like the real
venue's (a 1-minute window starts every minute); ``clock`` is injectable so
tests can jump time while request timestamps are still checked against the
real time the SDK stamps them with. Stop orders (``STOP_LOSS``, ``STOP_LOSS_LIMIT``) wait untriggered (``NEW``,
``isWorking`` false) until the last trade price reaches the stop: a buy when
``last >= stopPrice``, a sell when ``last <= stopPrice``; tests move the last
price with :meth:`FakeBinance.set_last` (a trade printed by someone else) or
through fills after :meth:`FakeBinance.set_book`. A stop that would trigger at
once is refused with ``-2010 Stop price would trigger immediately.``. Once
triggered, the order keeps its id and type and works as a market (expiring
its unfilled rest) or GTC limit order. Faults are injected per path:
HTTP errors (5xx, 429, 418) before anything is processed, dropped
connections, slow answers, "accept then 5xx / timeout / dropped connection"
for order placement (the order exists but the client never sees the answer),
and a lagging read (``lag``): the next N lookups on a path do not see the
orders created after the fault was injected, as when the venue's query
store trails its matching engine. ``allOrders`` and ``myTrades`` are served
from the orders and the trades their fills printed.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

D = Decimal


@dataclass
class SymbolRules:
    base: str
    quote: str
    tick: D = D("0.01")
    min_price: D = D("0.01")
    max_price: D = D("1000000")
    step: D = D("0.00001")
    min_qty: D = D("0.00001")
    max_qty: D = D("9000")
    min_notional: D = D("5")
    legacy_min_notional: bool = False  # MIN_NOTIONAL instead of NOTIONAL
    order_types: tuple = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT")


@dataclass
class FakeOrder:
    symbol: str
    order_id: int
    client_id: str
    side: str
    type: str
    qty: D
    price: D
    executed: D = D(0)
    quote_qty: D = D(0)
    status: str = "NEW"
    time: int = 0
    stop: D = D(0)
    working: bool = True  # False for a stop that has not triggered
    working_time: int = 0

    @property
    def market_like(self) -> bool:
        return self.type in ("MARKET", "STOP_LOSS")

    @property
    def reserve_px(self) -> D:
        """Quote price a buy locks funds at (limit, else stop); 0 for a market order."""
        return self.price if self.type in ("LIMIT", "STOP_LOSS_LIMIT") else self.stop

    def as_json(self) -> dict:
        return {
            "symbol": self.symbol, "orderId": self.order_id, "orderListId": -1,
            "clientOrderId": self.client_id, "price": f"{self.price:.8f}", "origQty": f"{self.qty:.8f}",
            "executedQty": f"{self.executed:.8f}", "cummulativeQuoteQty": f"{self.quote_qty:.8f}",
            "status": self.status, "timeInForce": "GTC",
            "type": self.type, "side": self.side, "stopPrice": f"{self.stop:.8f}", "icebergQty": "0.00000000",
            "time": self.time, "updateTime": self.time, "isWorking": self.working,
            "workingTime": self.working_time if self.working else -1,
            "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "EXPIRE_MAKER",
        }


@dataclass
class Fault:
    path: str  # e.g. "/api/v3/order"
    method: str  # "GET", "POST", "DELETE" or "*"
    kind: str  # "http", "drop", "sleep", "lag", "accept_then_http", "accept_then_sleep", "accept_then_drop"
    status: int = 503
    body: dict | None = None
    seconds: float = 0.0
    retry_after: int | None = None
    remaining: int = 1
    mark: int = 0  # "lag": orders with an id >= mark are invisible to the lagging lookups
    armed: bool = True  # False: waits for the next accepted order (inject(..., after_order=True))


class FakeBinance:
    """State + HTTP server. Use as a context manager; ``base_url`` is the REST root."""

    def __init__(self, api_key: str = "test-key", secret: str = "test-secret", *, skew_ms: int = 0,
                 weight_limit: int = 6000, order_limit_10s: int = 100, order_limit_1d: int = 200000,
                 clock=time.time) -> None:
        self.keys = {api_key: secret}
        self.skew_ms = skew_ms
        self.weight_limit = weight_limit
        self.order_limit_10s = order_limit_10s
        self.order_limit_1d = order_limit_1d
        self.clock = clock
        self.rules: dict[str, SymbolRules] = {}
        self.books: dict[str, tuple[D, D]] = {}
        self.last: dict[str, D] = {}
        self.volume: dict[str, D] = {}
        self.fill_cap: dict[str, D] = {}  # max base quantity filled per match
        self.balances: dict[str, list[D]] = {}  # asset -> [free, locked]
        self.orders: dict[tuple[str, int], FakeOrder] = {}
        self._ids = itertools.count(1000)
        self._next_id = 1000
        self.trades: list[dict] = []  # every fill: {"symbol", "id", "orderId", "price", "qty", ...}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict]] = []  # (method, path, params) of every request
        self.used_weight = 0  # in the current 1-minute window
        self.order_count = 0  # in the current 10-second window
        self.order_count_1d = 0
        self.peak_weight = 0  # highest 1-minute weight reached
        self._windows = (None, None, None)  # (minute, 10 s, day) indexes of the counters above
        self.throttled: list[tuple[str, str, int]] = []  # (method, path, code) of every rate-limit answer
        self.lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------- set-up helpers
    def add_symbol(self, symbol: str, rules: SymbolRules, bid: str, ask: str) -> None:
        with self.lock:
            self.rules[symbol] = rules
            self.books[symbol] = (D(bid), D(ask))
            self.last[symbol] = (D(bid) + D(ask)) / 2
            self.volume.setdefault(symbol, D(0))

    def set_balance(self, asset: str, free: str, locked: str = "0") -> None:
        with self.lock:
            self.balances[asset] = [D(free), D(locked)]

    def set_book(self, symbol: str, bid: str, ask: str) -> None:
        """Move the market; resting orders that are crossed fill (at their limit)."""
        with self.lock:
            self.books[symbol] = (D(bid), D(ask))
            for o in sorted(self.orders.values(), key=lambda o: o.order_id):
                if o.symbol == symbol and o.status in ("NEW", "PARTIALLY_FILLED") and o.working:
                    self._match(o)
            self._trigger_stops(symbol)

    def set_last(self, symbol: str, price: str) -> None:
        """A trade printed at ``price`` by someone else: waiting stops it reaches trigger."""
        with self.lock:
            self.last[symbol] = D(price)
            self._trigger_stops(symbol)

    def inject(self, path: str, kind: str, *, method: str = "*", status: int = 503, body: dict | None = None,
               seconds: float = 0.0, retry_after: int | None = None, times: int = 1,
               after_order: bool = False) -> None:
        """Queue a fault for the next ``times`` requests on ``path`` (and ``method``).

        ``lag``: those requests do not see orders created from now on (a read that trails
        the matching engine); meant for the lookups ``GET /api/v3/order``, ``/allOrders``
        and ``/myTrades``. ``after_order``: the fault waits until the venue accepts the next
        order (so the lookups made before sending it are not affected)."""
        with self.lock:
            self.faults.append(Fault(path, method, kind, status, body, seconds, retry_after, times,
                                     mark=self._next_id, armed=not after_order))

    def requests_to(self, path: str, method: str | None = None) -> list[dict]:
        return [p for m, pa, p in self.log if pa == path and (method is None or m == method)]

    # ------------------------------------------------------------- lifecycle
    def __enter__(self) -> "FakeBinance":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def server_time(self) -> int:
        """Milliseconds the signed-request timestamps are checked against (the real clock + skew)."""
        return int(time.time() * 1000) + self.skew_ms

    def window_time(self) -> int:
        """Milliseconds the rate-limit windows follow (``clock`` + skew)."""
        return int(self.clock() * 1000) + self.skew_ms

    def _roll_windows(self) -> None:
        now = self.window_time()
        m, t, d = now // 60_000, now // 10_000, now // 86_400_000
        pm, pt, pd = self._windows
        if m != pm:
            self.used_weight = 0
        if t != pt:
            self.order_count = 0
        if d != pd:
            self.order_count_1d = 0
        self.peak_weight = 0  # highest 1-minute weight reached
        self._windows = (m, t, d)

    # ------------------------------------------------------------- matching
    @staticmethod
    def _stop_reached(o: FakeOrder, last: D) -> bool:
        return last >= o.stop if o.side == "BUY" else last <= o.stop

    def _trigger_stops(self, symbol: str) -> None:
        """Trigger every waiting stop the last price has reached, in id order; a
        triggered stop's fills move the last price, so look again until none is left."""
        while True:
            due = [o for o in sorted(self.orders.values(), key=lambda o: o.order_id)
                   if o.symbol == symbol and not o.working and o.status == "NEW"
                   and self._stop_reached(o, self.last[symbol])]
            if not due:
                return
            for o in due:
                o.working = True
                o.working_time = self.server_time()
                self._match(o, incoming=True)
                if o.type == "STOP_LOSS" and o.status != "FILLED":
                    self._release(o)
                    o.status = "EXPIRED"

    def _release(self, o: FakeOrder) -> None:
        """Unlock what the unfilled rest of ``o`` holds (cancel, expiry)."""
        r = self.rules[o.symbol]
        left = o.qty - o.executed
        if o.type == "MARKET" or left <= 0:
            return
        if o.side == "BUY":
            q = self.balances[r.quote]
            q[1] -= left * o.reserve_px
            q[0] += left * o.reserve_px
        else:
            b = self.balances[r.base]
            b[1] -= left
            b[0] += left

    def _match(self, o: FakeOrder, incoming: bool | None = None) -> None:
        bid, ask = self.books[o.symbol]
        rules = self.rules[o.symbol]
        left = o.qty - o.executed
        if incoming is None:  # an aggressor takes the touch; a resting order fills at its limit
            incoming = o.time == -1
        if o.side == "BUY":
            cross = o.market_like or o.price >= ask
            px = ask if incoming else o.price
        else:
            cross = o.market_like or o.price <= bid
            px = bid if incoming else o.price
        if not cross or left <= 0:
            return
        q = min(left, self.fill_cap.get(o.symbol, left))
        q = (q / rules.step).to_integral_value(rounding="ROUND_DOWN") * rules.step
        if q <= 0:
            return
        o.executed += q
        o.quote_qty += q * px
        self.trades.append({"symbol": o.symbol, "id": len(self.trades) + 1, "orderId": o.order_id,
                            "orderListId": -1, "price": f"{px:.8f}", "qty": f"{q:.8f}",
                            "quoteQty": f"{q * px:.8f}", "commission": "0.00000000", "commissionAsset": rules.quote,
                            "time": self.server_time(), "isBuyer": o.side == "BUY", "isMaker": not incoming,
                            "isBestMatch": True})
        o.status = "FILLED" if o.executed == o.qty else "PARTIALLY_FILLED"
        self.last[o.symbol] = px
        self.volume[o.symbol] += q
        base, quote = self.balances.setdefault(rules.base, [D(0), D(0)]), self.balances.setdefault(rules.quote, [D(0), D(0)])
        if o.side == "BUY":
            if o.type != "MARKET":
                quote[1] -= q * o.reserve_px  # reserved at the limit (stop for a stop-market)
                quote[0] += q * (o.reserve_px - px)
            else:
                quote[0] -= q * px
            base[0] += q
        else:
            base[1 if o.type != "MARKET" else 0] -= q
            quote[0] += q * px

    # ------------------------------------------------------------- request handling
    def handle(self, method: str, path: str, query: str, body: str, headers) -> tuple[int, dict, dict | list, str | None]:
        """Returns (status, extra headers, json body, special) where special may be 'drop'."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(dict(parse_qsl(body, keep_blank_values=True)))
        with self.lock:
            self.log.append((method, path, params))
            fault = None
            for f in self.faults:
                if f.remaining > 0 and f.armed and f.path == path and f.method in ("*", method):
                    fault = f
                    if f.kind != "lag":  # a lag is used up only by lookups it hides an order from
                        f.remaining -= 1
                    break
        weight = _weight(method, path, params)
        with self.lock:
            self._roll_windows()
            self.used_weight += weight
            self.peak_weight = max(self.peak_weight, self.used_weight)
            hdr = {"X-MBX-USED-WEIGHT-1M": str(self.used_weight)}
        if fault is not None and fault.kind == "http":
            if fault.retry_after is not None:
                hdr["Retry-After"] = str(fault.retry_after)
            body = fault.body or {"code": -1000 if fault.status >= 500 else -1003, "msg": "injected"}
            if fault.status in (429, 418):
                self.throttled.append((method, path, body.get("code", -1003)))
            return fault.status, hdr, body, None
        if fault is not None and fault.kind == "drop":
            return 0, hdr, {}, "drop"
        if fault is not None and fault.kind == "sleep":
            time.sleep(fault.seconds)
        hide = fault if fault is not None and fault.kind == "lag" else None
        if self.used_weight > self.weight_limit:
            hdr["Retry-After"] = "1"
            self.throttled.append((method, path, -1003))
            return 429, hdr, {"code": -1003, "msg": "Too much request weight used; current limit is %d request weight per 1 MINUTE." % self.weight_limit}, None
        if path == "/api/v3/order" and method == "POST":
            with self.lock:
                over = [(n, lim, per) for n, lim, per in ((self.order_count, self.order_limit_10s, "10 SECOND"),
                                                          (self.order_count_1d, self.order_limit_1d, "1 DAY"))
                        if n + 1 > lim]
            if over:
                self.throttled.append((method, path, -1015))
                hdr["Retry-After"] = "1"
                return 429, hdr, {"code": -1015, "msg": "Too many new orders; current limit is %d orders per %s."
                                  % (over[0][1], over[0][2])}, None
        try:
            status, out = self._route(method, path, params, query, body, headers, hide)
        except _ApiError as e:
            status, out = e.status, {"code": e.code, "msg": e.msg}
        if path == "/api/v3/order" and method == "POST" and status == 200:
            with self.lock:
                self.order_count += 1
                self.order_count_1d += 1
                hdr["X-MBX-ORDER-COUNT-10S"] = str(self.order_count)
                hdr["X-MBX-ORDER-COUNT-1D"] = str(self.order_count_1d)
            if fault is not None and fault.kind == "accept_then_http":
                return fault.status, hdr, {"code": -1000, "msg": "An unknown error occurred while processing the request."}, None
            if fault is not None and fault.kind == "accept_then_sleep":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "accept_then_drop":
                return 0, hdr, {}, "drop"
        return status, hdr, out, None

    def _check_signed(self, params: dict, query: str, body: str, headers) -> None:
        key = headers.get("X-MBX-APIKEY")
        if not key:
            raise _ApiError(401, -2014, "API-key format invalid.")
        secret = self.keys.get(key)
        if secret is None:
            raise _ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        # totalParams = query string + request body, exactly as sent, without the signature
        total = query + body
        if "&signature=" not in total and not total.startswith("signature="):
            raise _ApiError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        payload, _, sig = total.rpartition("signature=")
        payload = payload[:-1] if payload.endswith("&") else payload
        sig = sig.split("&")[0]
        want = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            raise _ApiError(400, -1022, "Signature for this request is not valid.")
        try:
            ts = int(params["timestamp"])
        except (KeyError, ValueError):
            raise _ApiError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.") from None
        recv = int(params.get("recvWindow", 5000))
        if recv > 60000:
            raise _ApiError(400, -1131, "recvWindow must be less than 60000")
        now = self.server_time()
        if ts >= now + 1000 or now - ts > recv:
            raise _ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")

    def _route(self, method, path, params, query, body, headers, hide=None):
        if path == "/api/v3/ping":
            return 200, {}
        if path == "/api/v3/time":
            return 200, {"serverTime": self.server_time()}
        if path == "/api/v3/exchangeInfo":
            return 200, self._exchange_info()
        if path == "/api/v3/ticker/bookTicker":
            sym = self._sym(params)
            bid, ask = self.books[sym]
            return 200, {"symbol": sym, "bidPrice": f"{bid:.8f}", "bidQty": "1.00000000", "askPrice": f"{ask:.8f}", "askQty": "1.00000000"}
        if path == "/api/v3/ticker/24hr":
            sym = self._sym(params)
            return 200, {"symbol": sym, "lastPrice": f"{self.last[sym]:.8f}", "volume": f"{self.volume[sym]:.8f}",
                         "bidPrice": f"{self.books[sym][0]:.8f}", "askPrice": f"{self.books[sym][1]:.8f}"}
        signed = {"/api/v3/account", "/api/v3/order", "/api/v3/openOrders", "/api/v3/myTrades", "/api/v3/allOrders"}
        if path not in signed:
            raise _ApiError(404, -1000, f"unknown endpoint {path}")
        self._check_signed(params, query, body, headers)
        with self.lock:
            if path == "/api/v3/account":
                return 200, {"makerCommission": 10, "takerCommission": 10, "canTrade": True, "canWithdraw": True,
                             "canDeposit": True, "accountType": "SPOT", "permissions": ["SPOT"],
                             "balances": [{"asset": a, "free": f"{v[0]:.8f}", "locked": f"{v[1]:.8f}"}
                                          for a, v in sorted(self.balances.items())]}
            if path == "/api/v3/openOrders":
                sym = params.get("symbol")
                return 200, [o.as_json() for o in sorted(self.orders.values(), key=lambda o: o.order_id)
                             if o.status in ("NEW", "PARTIALLY_FILLED") and (sym is None or o.symbol == sym)]
            if path == "/api/v3/order" and method == "GET":
                o = self._find(params)
                if self._hidden(hide, [o.order_id]):
                    raise _ApiError(400, -2013, "Order does not exist.")
                return 200, o.as_json()
            if path == "/api/v3/allOrders":
                sym = self._sym(params)
                rows = [o for o in sorted(self.orders.values(), key=lambda o: o.order_id)
                        if o.symbol == sym and o.time >= int(params.get("startTime", 0))
                        and o.order_id >= int(params.get("orderId", 0))]
                gone = self._hidden(hide, [o.order_id for o in rows])
                rows = [o for o in rows if o.order_id not in gone]
                return 200, [o.as_json() for o in rows[-int(params.get("limit", 500)):]]
            if path == "/api/v3/myTrades":
                sym = self._sym(params)
                rows = [t for t in self.trades if t["symbol"] == sym and t["time"] >= int(params.get("startTime", 0))
                        and ("orderId" not in params or t["orderId"] == int(params["orderId"]))]
                gone = self._hidden(hide, [t["orderId"] for t in rows])
                rows = [t for t in rows if t["orderId"] not in gone]
                return 200, rows[-int(params.get("limit", 500)):]
            if path == "/api/v3/order" and method == "DELETE":
                o = self._find(params, unknown=(-2011, "Unknown order sent."))
                if o.status not in ("NEW", "PARTIALLY_FILLED"):
                    raise _ApiError(400, -2011, "Unknown order sent.")
                o.status = "CANCELED"
                self._release(o)
                return 200, o.as_json()
            if path == "/api/v3/order" and method == "POST":
                return 200, self._new_order(params)
        raise _ApiError(404, -1000, "unknown")

    @staticmethod
    def _hidden(lag: "Fault | None", order_ids: list) -> set:
        """The ids a lagging read does not see yet (orders created after the lag was injected);
        a read that hides something uses up one of the lag's requests."""
        if lag is None or lag.remaining <= 0:
            return set()
        gone = {i for i in order_ids if i >= lag.mark}
        if gone:
            lag.remaining -= 1
        return gone

    def _sym(self, params) -> str:
        sym = params.get("symbol")
        if sym not in self.rules:
            raise _ApiError(400, -1121, "Invalid symbol.")
        return sym

    def _find(self, params, unknown=(-2013, "Order does not exist.")) -> FakeOrder:
        sym = self._sym(params)
        if "orderId" in params:
            o = self.orders.get((sym, int(params["orderId"])))
        elif "origClientOrderId" in params:
            cands = [o for o in self.orders.values() if o.symbol == sym and o.client_id == params["origClientOrderId"]]
            o = max(cands, key=lambda o: o.order_id) if cands else None
        else:
            raise _ApiError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if o is None:
            raise _ApiError(400, *unknown)
        return o

    def _new_order(self, p: dict) -> dict:
        sym = self._sym(p)
        r = self.rules[sym]
        side, typ = p.get("side"), p.get("type")
        if side not in ("BUY", "SELL") or typ not in ("LIMIT", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"):
            raise _ApiError(400, -1116, "Invalid orderType.")
        if typ not in r.order_types:
            raise _ApiError(400, -1013, "Stop loss orders are not supported for this symbol."
                            if typ.startswith("STOP") else "Order type not supported for this symbol.")
        cid = p.get("newClientOrderId") or f"srv{next(self._ids)}"
        import re

        if not re.fullmatch(r"[\.A-Z\:/a-z0-9_-]{1,36}", cid):
            raise _ApiError(400, -1100, "Illegal characters found in parameter 'newClientOrderId'.")
        if any(o.client_id == cid and o.status in ("NEW", "PARTIALLY_FILLED") for o in self.orders.values()):
            raise _ApiError(400, -2010, "Duplicate order sent.")
        try:
            qty = D(p["quantity"])
        except Exception:
            raise _ApiError(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.") from None
        if -qty.as_tuple().exponent > 8:
            raise _ApiError(400, -1111, "Precision is over the maximum defined for this asset.")
        if qty < r.min_qty or qty > r.max_qty or (qty - r.min_qty) % r.step != 0:
            raise _ApiError(400, -1013, "Filter failure: LOT_SIZE")
        bid, ask = self.books[sym]

        def filtered(name: str) -> D:
            try:
                v = D(p[name])
            except Exception:
                raise _ApiError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.") from None
            if v < r.min_price or v > r.max_price or (v - r.min_price) % r.tick != 0:
                raise _ApiError(400, -1013, "Filter failure: PRICE_FILTER")
            return v

        stop = D(0)
        if typ in ("LIMIT", "STOP_LOSS_LIMIT"):
            if p.get("timeInForce") != "GTC":
                raise _ApiError(400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")
            price = filtered("price")
            ref = price
        else:
            price = D(0)
            ref = ask if side == "BUY" else bid
        if typ in ("STOP_LOSS", "STOP_LOSS_LIMIT"):
            stop = filtered("stopPrice")
            if typ == "STOP_LOSS":
                ref = stop
        elif "stopPrice" in p:
            raise _ApiError(400, -1106, "Parameter 'stopPrice' sent when not required.")
        if qty * ref < r.min_notional:
            raise _ApiError(400, -1013, "Filter failure: MIN_NOTIONAL" if r.legacy_min_notional else "Filter failure: NOTIONAL")
        base = self.balances.setdefault(r.base, [D(0), D(0)])
        quote = self.balances.setdefault(r.quote, [D(0), D(0)])
        need = qty * ref if side == "BUY" else qty
        have = quote[0] if side == "BUY" else base[0]
        if need > have:
            raise _ApiError(400, -2010, "Account has insufficient balance for requested action.")
        is_stop = typ in ("STOP_LOSS", "STOP_LOSS_LIMIT")
        if is_stop and self._stop_reached(FakeOrder(sym, 0, cid, side, typ, qty, price, stop=stop), self.last[sym]):
            raise _ApiError(400, -2010, "Stop price would trigger immediately.")
        o = FakeOrder(sym, next(self._ids), cid, side, typ, qty, price, time=-1, stop=stop, working=not is_stop)
        self._next_id = o.order_id + 1
        for f in self.faults:
            f.armed = True
        if typ != "MARKET":  # reserve (a buy stop-market at its stop)
            if side == "BUY":
                quote[0] -= qty * o.reserve_px
                quote[1] += qty * o.reserve_px
            else:
                base[0] -= qty
                base[1] += qty
        self.orders[(sym, o.order_id)] = o
        if o.working:
            self._match(o)
        o.time = self.server_time()
        if o.working:
            o.working_time = o.time
        if typ == "MARKET" and o.status != "FILLED":
            o.status = "EXPIRED" if o.executed == 0 else "EXPIRED"
        out = o.as_json()
        out["transactTime"] = o.time
        out["fills"] = []
        return out

    def _exchange_info(self) -> dict:
        syms = []
        for s, r in sorted(self.rules.items()):
            notional = (
                {"filterType": "MIN_NOTIONAL", "minNotional": f"{r.min_notional:.8f}", "applyToMarket": True, "avgPriceMins": 5}
                if r.legacy_min_notional else
                {"filterType": "NOTIONAL", "minNotional": f"{r.min_notional:.8f}", "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5}
            )
            syms.append({
                "symbol": s, "status": "TRADING", "baseAsset": r.base, "baseAssetPrecision": 8, "quoteAsset": r.quote,
                "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": list(r.order_types),
                "isSpotTradingAllowed": True, "permissions": ["SPOT"],
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": f"{r.min_price:.8f}", "maxPrice": f"{r.max_price:.8f}", "tickSize": f"{r.tick:.8f}"},
                    {"filterType": "LOT_SIZE", "minQty": f"{r.min_qty:.8f}", "maxQty": f"{r.max_qty:.8f}", "stepSize": f"{r.step:.8f}"},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": f"{r.max_qty:.8f}", "stepSize": "0.00000000"},
                    notional,
                ],
            })
        return {"timezone": "UTC", "serverTime": self.server_time(),
                "rateLimits": [
                    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": self.order_limit_10s},
                    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self.order_limit_1d},
                    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}],
                "exchangeFilters": [], "symbols": syms}


def _weight(method: str, path: str, params: dict) -> int:
    """Request weight of the spot endpoints the broker uses (Binance's published figures)."""
    if path in ("/api/v3/ping", "/api/v3/time"):
        return 1
    if path in ("/api/v3/exchangeInfo", "/api/v3/account"):
        return 20
    if path == "/api/v3/ticker/bookTicker":
        return 2 if "symbol" in params else 4
    if path == "/api/v3/ticker/24hr":
        return 2 if "symbol" in params else 80
    if path == "/api/v3/openOrders":
        return 6 if "symbol" in params else 80
    if path == "/api/v3/order":
        return 4 if method == "GET" else 1
    if path in ("/api/v3/allOrders", "/api/v3/myTrades"):
        return 20
    return 2


class _ApiError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBinance
    protocol_version = "HTTP/1.1"

    def log_message(self, *a) -> None:  # silence
        pass

    def setup(self) -> None:
        super().setup()
        import socket

        # headers and body go out in separate writes: without this, Nagle plus the
        # client's delayed ACK add ~40 ms to every keep-alive request on loopback
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        status, hdr, out, special = self.fake.handle(method, parts.path, parts.query, body, self.headers)
        if special == "drop":
            self.close_connection = True
            try:
                import socket

                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        data = json.dumps(out).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in hdr.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")
