"""``BinanceBroker``: Binance spot through ``python-binance`` (imported lazily).

Units
-----
* Symbols are base assets (``"BTC"``); the venue pair is ``symbol + quote_asset``.
* Quantities are integers in units of ``10**-quantity_decimals`` of the base
  asset (default 8 decimals: ``100_000_000`` = 1 BTC), so every Binance lot
  is representable.
* Prices are integer cents of the quote asset. Quotes round the bid down and
  the ask up to a cent (conservative); sub-cent markets lose precision.

Safety
------
* Exchange filters (``PRICE_FILTER``, ``LOT_SIZE``/``MARKET_LOT_SIZE``,
  ``NOTIONAL`` or legacy ``MIN_NOTIONAL``) are applied with ``Decimal`` before
  sending: the quantity is rounded down to the step, a limit price to the
  tick in the direction that never worsens it (buy down, sell up), then
  bounds and notional are checked; a stop price is rounded to the tick away
  from the market (buy up, sell down: it never triggers before the price
  asked for); violations raise
  :class:`~nanobook_broker.errors.InvalidOrder` and nothing is sent. Numbers
  go on the wire as strings, never floats.
* Client order ids are ``[A-Za-z0-9_-]{1,36}`` (characters that sign and
  encode identically); one is generated when none is given.
* The clock offset to the server is measured at ``connect()`` and again after
  a ``-1021`` answer; ``recvWindow`` is 5000 ms.
* Requests are paced from the usage headers (``X-MBX-USED-WEIGHT-1M``,
  ``X-MBX-ORDER-COUNT-10S``/``-1D``) against the limits in ``exchangeInfo``:
  when the next request would take a window past ``pace_fraction`` of its
  limit, the broker waits for the window to roll over instead of provoking a
  429. 429/418 answers are still honoured (``Retry-After``, else exponential
  back-off) and retried a bounded number of times.
* An order POST is never retried blindly. After an ambiguous outcome (a
  timeout, a dropped connection or a 5xx answer: the venue may have accepted
  it) the order is looked up by its client order id with back-off until the
  waits add up to ``unknown_outcome_window`` seconds, because the venue's
  query can lag behind its matching engine. It is sent again (same id) only
  when every one of those lookups answered "does not exist" *and* the pair's
  ``allOrders`` does not list the id *and* ``myTrades`` holds no trade of an
  order ``allOrders`` does not explain. Any other result is either the order
  (its id is returned) or :class:`~nanobook_broker.errors.OrderOutcomeUnknown`.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
import uuid
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Callable

from nanobook.validate import as_float, as_symbol, as_u64

from .base import (
    OPEN_STATUSES,
    SECRET_FILTER,
    OrderRequest,
    OrderStatus,
    install_secret_filter,
    existing_order_id,
    mask,
    validate_order,
)
from .errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    InsufficientFunds,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
)
from .records import Account, Position, Quote, StopOrder

__all__ = ["BinanceBroker"]

log = logging.getLogger("nanobook_broker")

_STATUS = {
    "NEW": OrderStatus.SUBMITTED.value,
    "PENDING_NEW": OrderStatus.PENDING_SUBMIT.value,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED.value,
    "FILLED": OrderStatus.FILLED.value,
    "CANCELED": OrderStatus.CANCELLED.value,
    "PENDING_CANCEL": OrderStatus.PENDING_CANCEL.value,
    "REJECTED": OrderStatus.REJECTED.value,
    "EXPIRED": OrderStatus.CANCELLED.value,
    "EXPIRED_IN_MATCH": OrderStatus.CANCELLED.value,
}

# Binance order type <-> ours. A stop keeps its id and type after it triggers
# (``isWorking`` turns true); ``STOP_LOSS`` then works as a market order,
# ``STOP_LOSS_LIMIT`` as a GTC limit order.
_TYPES = {"market": "MARKET", "limit": "LIMIT", "stop": "STOP_LOSS", "stop_limit": "STOP_LOSS_LIMIT"}
_OUR_TYPE = {v: k for k, v in _TYPES.items()}

_AUTH_CODES = {-1022, -2014, -2015, -1002}
_INVALID_CODES = {-1013, -1111, -1100, -1121, -1116, -1115, -1102, -1106, -1104}


class _Unknown(Exception):
    """Internal: the outcome of a request is unknown (timeout, dropped, 5xx)."""


class BinanceBroker:
    """Binance spot implementing the :class:`~nanobook_broker.Broker` protocol.

    Parameters
    ----------
    api_key, secret_key : str
        Credentials. Prefer :meth:`from_env` or :meth:`from_config`; they are
        never logged nor shown in ``repr``.
    testnet : bool
        Use ``https://testnet.binance.vision``.
    quote_asset : str
        Quote currency appended to symbols (``"BTC"`` -> ``"BTCUSDT"``).
    base_url : str, optional
        REST root (e.g. ``https://api.binance.com``); overrides ``testnet``.
    timeout : float
        Seconds per HTTP request.
    max_retries : int
        Bounded retries for rate limits, transient errors and unknown outcomes.
    quantity_decimals : int
        Decimal places of the integer quantity unit (default 8).
    recv_window_ms : int
        ``recvWindow`` sent with signed requests (<= 60000).
    max_backoff : float
        Longest wait (seconds) after a 429/418 or a transient failure.
    pace_fraction : float or None
        Share of each venue rate limit (request weight per minute, orders per
        10 s and per day) the broker lets itself use before it waits for the
        window to roll over; in (0, 1]. ``None`` disables pacing.
    max_pace_wait : float
        Longest pacing wait (seconds); a longer one (a daily order limit)
        raises :class:`~nanobook_broker.errors.RateLimited` with ``retry_after``.
    unknown_outcome_window : float
        After an ambiguous order POST, the lookups by client order id go on
        with back-off (0.25 s doubling, at most 2 s apart) until their waits
        add up to this many seconds (default 10) before the order's absence
        can be established; see :meth:`submit_order`.
    sleep, clock : callables
        ``time.sleep`` and ``time.time`` by default; injectable for tests.
        ``clock`` plus the measured server offset places the venue's windows.
    """

    TESTNET_URL = "https://testnet.binance.vision"

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        testnet: bool = False,
        quote_asset: str = "USDT",
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        quantity_decimals: int = 8,
        recv_window_ms: int = 5000,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        pace_fraction: float | None = 0.9,
        max_pace_wait: float = 61.0,
        clock: Callable[[], float] = time.time,
        unknown_outcome_window: float = 10.0,
    ) -> None:
        for name, v in (("api_key", api_key), ("secret_key", secret_key)):
            if not isinstance(v, str) or not v:
                raise ValueError(f"{name} must be a non-empty str (got {'an empty str' if v == '' else type(v).__name__})")
        if not isinstance(testnet, bool):
            raise TypeError(f"testnet must be a bool, got {testnet!r}")
        if not isinstance(quote_asset, str) or not quote_asset.isalnum():
            raise ValueError(f"quote_asset must be an alphanumeric asset code, got {quote_asset!r}")
        if base_url is not None and (not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self._key, self._secret = api_key, secret_key
        SECRET_FILTER.add(api_key)
        SECRET_FILTER.add(secret_key)
        install_secret_filter("binance", "binance.base_client", "binance.client", "urllib3.connectionpool")
        self.testnet = testnet
        self.quote_asset = quote_asset.upper()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = as_float(timeout, "timeout")
        if not (0 < self.timeout <= 120):
            raise ValueError(f"timeout must be in (0, 120] seconds, got {timeout!r}")
        self.max_retries = as_u64(max_retries, "max_retries")
        self.quantity_decimals = as_u64(quantity_decimals, "quantity_decimals")
        if self.quantity_decimals > 18:
            raise ValueError(f"quantity_decimals must be <= 18, got {quantity_decimals}")
        self.recv_window_ms = as_u64(recv_window_ms, "recv_window_ms")
        if not (1 <= self.recv_window_ms <= 60000):
            raise ValueError(f"recv_window_ms must be in [1, 60000], got {recv_window_ms}")
        self.max_backoff = as_float(max_backoff, "max_backoff")
        if not callable(sleep):
            raise TypeError(f"sleep must be callable, got {sleep!r}")
        if not callable(clock):
            raise TypeError(f"clock must be callable, got {clock!r}")
        self._sleep = sleep
        self._clock = clock
        self.unknown_outcome_window = as_float(unknown_outcome_window, "unknown_outcome_window")
        if not (0 <= self.unknown_outcome_window <= 600):
            raise ValueError(f"unknown_outcome_window must be in [0, 600] seconds, got {unknown_outcome_window!r}")
        self._pacer: _Pacer | None = None
        if pace_fraction is not None:
            frac = as_float(pace_fraction, "pace_fraction")
            if not (0 < frac <= 1):
                raise ValueError(f"pace_fraction must be in (0, 1] or None, got {pace_fraction!r}")
            wait = as_float(max_pace_wait, "max_pace_wait")
            if not (wait >= 0):
                raise ValueError(f"max_pace_wait must be >= 0 seconds, got {max_pace_wait!r}")
            self._pacer = _Pacer(frac, clock, sleep, wait)
        self._client: Any = None
        self._rules: dict[str, dict[str, Any]] = {}
        self._weight_limit = 6000
        self.used_weight = 0
        self._order_symbol: dict[int, str] = {}  # order id -> pair (ids are per pair at Binance)
        self._cid_symbol: dict[str, str] = {}

    # ------------------------------------------------------------------ construction from secrets

    @classmethod
    def from_env(cls, prefix: str = "NANOBOOK_BINANCE", **kwargs: Any) -> "BinanceBroker":
        """Read ``<prefix>_API_KEY`` and ``<prefix>_SECRET_KEY`` from the environment."""
        names = (f"{prefix}_API_KEY", f"{prefix}_SECRET_KEY")
        vals = [os.environ.get(n) for n in names]
        missing = [n for n, v in zip(names, vals) if not v]
        if missing:
            raise ValueError(f"missing environment variable(s): {', '.join(missing)}")
        return cls(vals[0], vals[1], **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], table: str = "binance", **kwargs: Any) -> "BinanceBroker":
        """Read ``api_key``/``secret_key`` (and optionally ``testnet``, ``quote_asset``,
        ``base_url``) from a TOML table. The file must not be readable by group or others."""
        import stat

        try:
            import tomllib  # type: ignore[import-not-found]
        except ModuleNotFoundError:  # pragma: no cover
            import tomli as tomllib  # type: ignore[no-redef]
        p = os.fspath(path)
        mode = os.stat(p).st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PermissionError(f"credentials file {p!r} is accessible by group/others (mode {oct(mode & 0o777)}); chmod 600 it")
        with open(p, "rb") as fh:
            doc = tomllib.load(fh)
        t = doc.get(table)
        if not isinstance(t, dict):
            raise ValueError(f"credentials file {p!r} has no [{table}] table")
        allowed = {"api_key", "secret_key", "testnet", "quote_asset", "base_url"}
        unknown = sorted(set(t) - allowed)
        if unknown:
            raise ValueError(f"[{table}] in {p!r}: unknown key {unknown[0]!r}")
        args = {k: t[k] for k in ("testnet", "quote_asset", "base_url") if k in t}
        args.update(kwargs)
        if "api_key" not in t or "secret_key" not in t:
            raise ValueError(f"[{table}] in {p!r} needs api_key and secret_key")
        return cls(t["api_key"], t["secret_key"], **args)

    def __repr__(self) -> str:
        return (f"BinanceBroker(api_key={mask(self._key)}, secret_key={mask(self._secret)}, testnet={self.testnet}, "
                f"quote_asset={self.quote_asset!r}, base_url={self.base_url!r})")

    # ------------------------------------------------------------------ transport

    def _pair(self, symbol: str) -> str:
        return symbol + self.quote_asset

    def _unpair(self, pair: str) -> str:
        return pair[: -len(self.quote_asset)] if pair.endswith(self.quote_asset) else pair

    def _require(self) -> Any:
        if self._client is None:
            raise NotConnected()
        return self._client

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        d = retry_after if retry_after is not None else min(self.max_backoff, 0.25 * 2**attempt)
        return max(0.0, d)

    def _server_now_ms(self) -> int:
        """The venue's clock as we estimate it: ``clock()`` plus the measured offset."""
        return int(self._clock() * 1000) + int(getattr(self._client, "timestamp_offset", 0) or 0)

    def _note_headers(self, sent_ms: int | None = None) -> None:
        resp = getattr(self._client, "response", None)
        if resp is None:
            return
        w = resp.headers.get("X-MBX-USED-WEIGHT-1M")
        if w and w.isdigit():
            self.used_weight = int(w)
        if self._pacer is not None and sent_ms is not None:
            self._pacer.observe(resp.headers, sent_ms)

    @property
    def pacing_waits(self) -> list[float]:
        """Seconds slept by proactive pacing so far (empty when pacing is off or never needed)."""
        return list(self._pacer.waits) if self._pacer is not None else []

    def _map_api_error(self, exc: Any) -> BrokerError:
        status = getattr(exc, "status_code", 0)
        code = getattr(exc, "code", None)
        msg = SECRET_FILTER.scrub(str(getattr(exc, "message", exc)))
        text = f"binance error {code} (HTTP {status}): {msg}"
        if status in (429, 418) or code == -1003:
            ra = None
            resp = getattr(exc, "response", None)
            if resp is not None and resp.headers.get("Retry-After", "").isdigit():
                ra = float(resp.headers["Retry-After"])
            return RateLimited(text, code=code, retry_after=ra)
        if code in _AUTH_CODES or status == 401:
            return AuthenticationError(text, code=code)
        if code in (-2013, -2011):
            return OrderNotFound(text, code=code)
        if code in _INVALID_CODES:
            return InvalidOrder(text, code=code)
        if code == -2010 and "insufficient balance" in msg.lower():
            return InsufficientFunds(text, code=code)
        if code in (-2010, -2021, -2022):
            return OrderRejected(text, code=code)
        return BrokerError(text, code=code)

    def _raw(self, fn: Callable[..., Any], **params: Any) -> Any:
        """One SDK call with errors classified: returns, raises _Unknown or a BrokerError."""
        import requests
        from binance.exceptions import BinanceAPIException, BinanceRequestException

        sent_ms = None
        if self._pacer is not None:
            self._pacer.before(_request_weight(fn, params), 1 if getattr(fn, "__name__", "") == "create_order" else 0,
                               self._server_now_ms)
            sent_ms = self._server_now_ms()
        if self._client is not None:
            self._client.response = None  # so a transport failure does not re-read the previous answer
        try:
            out = fn(**params)
        except BinanceAPIException as exc:
            self._note_headers(sent_ms)
            if exc.status_code >= 500:
                raise _Unknown(f"HTTP {exc.status_code}: {exc.message}") from exc
            if exc.code == -1021:
                raise _ClockSkew(str(exc.message)) from exc
            raise self._map_api_error(exc) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise _Unknown(f"{type(exc).__name__}: {SECRET_FILTER.scrub(str(exc))}") from exc
        except BinanceRequestException as exc:
            raise _Unknown(str(exc.message)) from exc
        self._note_headers(sent_ms)
        return out

    def _call(self, fn: Callable[..., Any], **params: Any) -> Any:
        """An idempotent request (query/cancel), retried on rate limits, skew and transient failures."""
        attempt = 0
        while True:
            try:
                return self._raw(fn, **params)
            except RateLimited as exc:
                wait = self._backoff(attempt, exc.retry_after)
                if attempt >= self.max_retries or wait > self.max_backoff:
                    raise
                log.warning("binance rate limited (code %s); sleeping %.2fs", exc.code, wait)
            except _ClockSkew:
                if attempt >= self.max_retries:
                    raise BrokerError("binance keeps rejecting our timestamp (-1021) after resync") from None
                self._sync_time()
                wait = 0.0
            except _Unknown as exc:
                if attempt >= self.max_retries:
                    raise BrokerConnectionError(f"binance request failed: {exc}") from exc
                wait = self._backoff(attempt, None)
                log.warning("binance transient failure (%s); retrying in %.2fs", exc, wait)
            attempt += 1
            if wait:
                self._sleep(wait)

    def _sync_time(self) -> None:
        c = self._require()
        t0 = time.time() * 1000
        server = self._raw(c.get_server_time)["serverTime"]
        t1 = time.time() * 1000
        c.timestamp_offset = int(server - (t0 + t1) / 2)
        log.info("binance clock offset %d ms", c.timestamp_offset)

    # ------------------------------------------------------------------ session

    def connect(self) -> None:
        """Ping, synchronise the clock, load exchange rules and check the credentials.

        Raises
        ------
        AuthenticationError
            The key/secret are rejected (checked with a signed ``account`` call).
        BrokerConnectionError
            The REST endpoint is unreachable.
        """
        if self._client is not None:
            return
        from binance.client import Client

        kwargs: dict[str, Any] = {"requests_params": {"timeout": self.timeout}, "ping": False}
        if self.base_url is None and self.testnet:
            kwargs["testnet"] = True
        client = Client(self._key, self._secret, **kwargs)
        if self.base_url is not None:
            client.API_URL = self.base_url + "/api"
        elif self.testnet:
            client.API_TESTNET_URL = self.TESTNET_URL + "/api"
        client.REQUEST_RECVWINDOW = self.recv_window_ms
        self._client = client
        try:
            self._call(client.ping)
            self._sync_time()
            self._load_rules()
            self._call(client.get_account)
        except BaseException:
            self._client = None
            raise

    def disconnect(self) -> None:
        """Drop the HTTP session (no-op when not connected)."""
        c, self._client = self._client, None
        if c is not None:
            try:
                c.session.close()
            except Exception:  # pragma: no cover
                pass

    def _load_rules(self) -> None:
        info = self._call(self._require().get_exchange_info)
        for rl in info.get("rateLimits", []):
            if rl.get("rateLimitType") == "REQUEST_WEIGHT" and rl.get("interval") == "MINUTE":
                self._weight_limit = int(rl["limit"])
        if self._pacer is not None:
            self._pacer.load_limits(info.get("rateLimits", []))
        rules = {}
        for s in info.get("symbols", []):
            f = {x["filterType"]: x for x in s.get("filters", [])}
            rules[s["symbol"]] = {"status": s.get("status"), "base": s.get("baseAsset"), "quote": s.get("quoteAsset"),
                                  "filters": f, "order_types": s.get("orderTypes")}
        self._rules = rules

    # ------------------------------------------------------------------ conversions

    def _qty_dec(self, qty: int) -> Decimal:
        return Decimal(qty).scaleb(-self.quantity_decimals)

    def _qty_int(self, text: str | Decimal) -> int:
        return int(Decimal(text).scaleb(self.quantity_decimals).to_integral_value(rounding=ROUND_DOWN))

    @staticmethod
    def _cents(text: str | Decimal, rounding: str = ROUND_HALF_UP) -> int:
        return int((Decimal(text) * 100).to_integral_value(rounding=rounding))

    def apply_filters(self, req: OrderRequest, reference_price: Decimal | None = None) -> tuple[Decimal, Decimal | None]:
        """Round and check an order against the pair's filters.

        Returns
        -------
        (quantity, price) : Decimal, Decimal or None
            What will be sent (quantity in base units, limit price in quote
            units); :meth:`apply_stop_filters` also returns the stop price.

        Raises
        ------
        InvalidOrder
        """
        qty, price, _ = self.apply_stop_filters(req, reference_price)
        return qty, price

    def apply_stop_filters(self, req: OrderRequest, reference_price: Decimal | None = None
                           ) -> tuple[Decimal, Decimal | None, Decimal | None]:
        """:meth:`apply_filters` plus the stop price on the PRICE_FILTER grid.

        The stop rounds away from the market (buy up, sell down). The notional
        of a stop-market order is checked at its stop price, that of a
        stop-limit order at its limit.

        Returns
        -------
        (quantity, limit price, stop price) : Decimal, Decimal or None, Decimal or None

        Raises
        ------
        InvalidOrder
        """
        pair = self._pair(req.symbol)
        r = self._rules.get(pair)
        if r is None:
            raise InvalidOrder(f"unknown symbol {req.symbol} ({pair} not listed)")
        if r["status"] not in (None, "TRADING"):
            raise InvalidOrder(f"{pair} is not trading (status {r['status']})")
        f = r["filters"]
        qty = self._qty_dec(req.quantity)
        lot = f.get("LOT_SIZE")
        if req.order_type in ("market", "stop") and f.get("MARKET_LOT_SIZE") and Decimal(f["MARKET_LOT_SIZE"]["stepSize"]) > 0:
            lot = f["MARKET_LOT_SIZE"]
        if lot:
            lo, hi, step = Decimal(lot["minQty"]), Decimal(lot["maxQty"]), Decimal(lot["stepSize"])
            if step > 0:
                qty = lo + ((qty - lo) / step).to_integral_value(rounding=ROUND_DOWN) * step if qty >= lo else qty
            if qty < lo or (hi > 0 and qty > hi):
                raise InvalidOrder(f"{pair} LOT_SIZE: quantity {qty.normalize()} outside [{lo.normalize()}, {hi.normalize()}] "
                                   f"(step {step.normalize()})")
        if qty <= 0:
            raise InvalidOrder(f"{pair}: quantity rounds to zero")
        price = None
        if req.limit_price_cents is not None:
            # a limit never worsens: buy down, sell up
            price = self._tick(pair, f, "price", req.limit_price_cents, ROUND_FLOOR if req.side == "buy" else ROUND_CEILING)
        stop = None
        if req.stop_price_cents is not None:
            # a stop never triggers before the price asked for: buy up, sell down
            stop = self._tick(pair, f, "stop price", req.stop_price_cents,
                              ROUND_CEILING if req.side == "buy" else ROUND_FLOOR)
        ref = price if price is not None else (stop if stop is not None else reference_price)
        nf = f.get("NOTIONAL") or f.get("MIN_NOTIONAL")
        if nf and ref is not None:
            applies = price is not None or nf.get("applyMinToMarket", nf.get("applyToMarket", True))
            mn = Decimal(nf.get("minNotional", "0"))
            if applies and qty * ref < mn:
                raise InvalidOrder(f"{pair} {nf['filterType']}: notional {(qty * ref).normalize()} < {mn.normalize()}")
            mx = nf.get("maxNotional")
            if mx is not None and (price is not None or nf.get("applyMaxToMarket")) and qty * ref > Decimal(mx):
                raise InvalidOrder(f"{pair} NOTIONAL: notional {(qty * ref).normalize()} > {Decimal(mx).normalize()}")
        return qty, price, stop

    @staticmethod
    def _tick(pair: str, f: dict[str, Any], what: str, cents: int, rounding: str) -> Decimal:
        """``cents`` as a quote price on the PRICE_FILTER grid (``rounding`` to the tick), bounds checked."""
        price = Decimal(cents).scaleb(-2)
        pf = f.get("PRICE_FILTER")
        if pf:
            lo, hi, tick = Decimal(pf["minPrice"]), Decimal(pf["maxPrice"]), Decimal(pf["tickSize"])
            if tick > 0:
                price = lo + ((price - lo) / tick).to_integral_value(rounding=rounding) * tick
            if price < lo or (hi > 0 and price > hi):
                raise InvalidOrder(f"{pair} PRICE_FILTER: {what} {price.normalize()} outside "
                                   f"[{lo.normalize()}, {hi.normalize()}]")
        return price

    def _order_record(self, o: dict[str, Any]) -> StopOrder:
        """The record of a venue order (and the pair of its ids, remembered for later lookups)."""
        pair = o["symbol"]
        self._order_symbol[int(o["orderId"])] = pair
        self._cid_symbol[o["clientOrderId"]] = pair
        orig = self._qty_int(o["origQty"])
        filled = self._qty_int(o["executedQty"])
        status = _STATUS.get(o["status"], o["status"])
        quote_qty = Decimal(o.get("cummulativeQuoteQty") or "0")
        executed = Decimal(o["executedQty"])
        avg = int((quote_qty / executed * 100).to_integral_value(rounding=ROUND_DOWN)) if executed > 0 else 0
        typ = _OUR_TYPE.get(o.get("type", "LIMIT"), o.get("type", "LIMIT").lower())
        lim = self._cents(o["price"]) if typ in ("limit", "stop_limit") else None
        is_stop = typ in ("stop", "stop_limit")
        stp = self._cents(o["stopPrice"]) if is_stop and o.get("stopPrice") is not None else None
        return StopOrder(int(o["orderId"]), status, filled, orig - filled if status in OPEN_STATUSES else 0, avg,
                         client_order_id=o["clientOrderId"], symbol=self._unpair(pair), side=o["side"].lower(),
                         quantity=orig, order_type=typ, limit_price_cents=lim, stop_price_cents=stp,
                         # a stop that has triggered is working; its id, type and prices stay the same
                         triggered=bool(o.get("isWorking", True)) if is_stop else None)

    # ------------------------------------------------------------------ queries

    def quote(self, symbol: str) -> dict[str, Any]:
        """Book ticker (bid down / ask up to a cent) plus last price and base volume from the 24 h ticker."""
        sym = as_symbol(symbol, "symbol")
        c = self._require()
        pair = self._pair(sym)
        bt = self._call(c.get_orderbook_ticker, symbol=pair)
        t24 = self._call(c.get_ticker, symbol=pair)
        return Quote(sym, self._cents(bt["bidPrice"], ROUND_FLOOR), self._cents(bt["askPrice"], ROUND_CEILING),
                     self._cents(t24["lastPrice"]), self._qty_int(t24.get("volume", "0"))).to_dict()

    def _balances(self) -> list[tuple[str, Decimal, Decimal]]:
        acct = self._call(self._require().get_account)
        return [(b["asset"], Decimal(b["free"]), Decimal(b["locked"])) for b in acct.get("balances", [])]

    def _mid(self, pair: str) -> Decimal | None:
        if pair not in self._rules:
            return None
        bt = self._call(self._require().get_orderbook_ticker, symbol=pair)
        return (Decimal(bt["bidPrice"]) + Decimal(bt["askPrice"])) / 2

    def positions(self) -> list[dict[str, Any]]:
        """Non-quote balances as long positions valued at the pair's mid.

        Binance keeps no cost basis, so ``avg_cost_cents`` and
        ``unrealized_pnl_cents`` are 0. Assets longer than 8 bytes are skipped.
        """
        out = []
        for asset, free, locked in self._balances():
            total = free + locked
            if asset == self.quote_asset or total <= 0 or len(asset.encode()) > 8:
                continue
            mid = self._mid(self._pair(asset))
            mv = int((total * mid * 100).to_integral_value(rounding=ROUND_DOWN)) if mid is not None else 0
            out.append(Position(asset, self._qty_int(total), 0, mv, 0))
        return [p.to_dict() for p in sorted(out, key=lambda p: p.symbol)]

    def account(self) -> dict[str, int]:
        """Cash = quote-asset balance; equity = cash + positions at mid; buying power = free quote balance."""
        bal = self._balances()
        cash = sum((f + l for a, f, l in bal if a == self.quote_asset), Decimal(0))
        free = sum((f for a, f, l in bal if a == self.quote_asset), Decimal(0))
        gross = 0
        for asset, f, l in bal:
            if asset != self.quote_asset and f + l > 0:
                mid = self._mid(self._pair(asset))
                if mid is not None:
                    gross += int(((f + l) * mid * 100).to_integral_value(rounding=ROUND_DOWN))
        cash_c = int((cash * 100).to_integral_value(rounding=ROUND_FLOOR))
        return Account(cash_c + gross, int((free * 100).to_integral_value(rounding=ROUND_FLOOR)), cash_c, gross).to_dict()

    def open_orders(self) -> list[dict[str, Any]]:
        """Working orders on pairs quoted in ``quote_asset``, ascending id."""
        return [o.to_dict() for o in self._open_orders()]

    def _open_orders(self) -> list[StopOrder]:
        rows = self._call(self._require().get_open_orders)
        out = [self._order_record(o) for o in rows if o["symbol"].endswith(self.quote_asset)]
        return sorted(out, key=lambda o: o.order_id)

    def _pair_of(self, order_id: int, symbol: str | None) -> str:
        if symbol is not None:
            return self._pair(as_symbol(symbol, "symbol"))
        pair = self._order_symbol.get(order_id)
        if pair is None:
            self._open_orders()  # fills the cache for working orders
            pair = self._order_symbol.get(order_id)
        if pair is None:
            raise OrderNotFound(f"order {order_id} is not known to this session; pass symbol=")
        return pair

    def order_status(self, order_id: int, symbol: str | None = None) -> dict[str, Any]:
        """Status of an order (Binance order ids are per pair: pass ``symbol`` for orders
        placed by another process that are no longer open)."""
        oid = as_u64(order_id, "order_id")
        c = self._require()
        pair = self._pair_of(oid, symbol)
        return self._order_record(self._call(c.get_order, symbol=pair, orderId=oid)).to_dict()

    def find_order(self, client_order_id: str, symbol: str | None = None) -> dict[str, Any] | None:
        """The order with this client order id, or ``None``.

        Without ``symbol`` only pairs seen in this session and open orders are searched.
        When the single-order query answers "does not exist", the pair's
        ``allOrders`` (its latest 1000 orders) is searched as well, since that
        query can lag behind the matching engine.
        """
        if not isinstance(client_order_id, str):
            raise TypeError(f"client_order_id must be a str, got {type(client_order_id).__name__}")
        found = self._find(client_order_id, symbol)
        return None if found is None else found.to_dict()

    def _find(self, client_order_id: str, symbol: str | None) -> StopOrder | None:
        c = self._require()
        pairs = [self._pair(as_symbol(symbol, "symbol"))] if symbol is not None else []
        if not pairs:
            if client_order_id in self._cid_symbol:
                pairs = [self._cid_symbol[client_order_id]]
            else:
                for o in self._open_orders():
                    if o.client_order_id == client_order_id:
                        return o
                return None
        for pair in pairs:
            try:
                return self._order_record(self._call(c.get_order, symbol=pair, origClientOrderId=client_order_id))
            except OrderNotFound:
                # the single-order query can lag behind the matching engine: ask the pair's order list too
                hit = [o for o in self._call(c.get_all_orders, symbol=pair, limit=1000)
                       if o.get("clientOrderId") == client_order_id]
                if hit:
                    return self._order_record(max(hit, key=lambda o: int(o["orderId"])))
        return None

    def cancel_order(self, order_id: int, symbol: str | None = None) -> None:
        """Cancel a working order; a no-op when it is already final."""
        oid = as_u64(order_id, "order_id")
        c = self._require()
        pair = self._pair_of(oid, symbol)
        try:
            self._call(c.cancel_order, symbol=pair, orderId=oid)
        except OrderNotFound:
            st = self._call(c.get_order, symbol=pair, orderId=oid)  # raises OrderNotFound if unknown
            if _STATUS.get(st["status"]) in OPEN_STATUSES:
                raise

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
        """Place an order; returns Binance's ``orderId``.

        ``market`` -> ``MARKET``, ``limit`` -> ``LIMIT`` GTC, ``stop`` ->
        ``STOP_LOSS`` (a market order once the last price reaches
        ``stop_price_cents``: a buy stop at or above, a sell stop at or below
        the last price), ``stop_limit`` -> ``STOP_LOSS_LIMIT`` GTC (a limit
        order at ``limit_price_cents`` once triggered). A stop waits as
        ``Submitted`` with ``triggered: False``; once triggered it is the same
        order (same id and type) with ``triggered: True``.

        Raises
        ------
        ValueError, TypeError, OverflowError
            Malformed arguments (nothing sent).
        InvalidOrder
            Unknown pair, an order type the pair does not list in
            ``exchangeInfo``, or a filter violation after rounding (nothing sent).
        ClientOrderIdConflict
            The id is already used by a different order.
        InsufficientFunds, OrderRejected, AuthenticationError, RateLimited
            The venue refused the order (a stop already through the last
            price: ``OrderRejected`` with code -2010, "Stop price would
            trigger immediately.").
        OrderOutcomeUnknown
            The POST's outcome was ambiguous (timeout, dropped connection, 5xx)
            and the lookups over ``unknown_outcome_window`` neither found the
            order nor established its absence (a lookup failed, or
            ``myTrades`` shows trades ``allOrders`` does not explain). Nothing
            was sent again; ``client_order_id`` is set on the exception.

        Notes
        -----
        The ambiguous-outcome rule: the order is sent again (with the same
        client order id, at most ``max_retries`` times) only after its absence
        is established as described in the module docstring. A venue whose
        lookups (single order, ``allOrders`` and ``myTrades``) all lag behind
        its matching engine for longer than ``unknown_outcome_window`` defeats
        this; raise the window for such a venue.
        """
        req = validate_order(symbol, side, quantity, order_type, limit_price_cents, client_order_id, stop_price_cents,
                             allow_dot_in_client_id=False)
        c = self._require()
        pair = self._pair(req.symbol)
        venue_type = _TYPES[req.order_type]
        allowed = self._rules.get(pair, {}).get("order_types")
        if allowed is not None and venue_type not in allowed:
            raise InvalidOrder(f"{pair} does not accept {venue_type} orders (exchangeInfo orderTypes: {', '.join(allowed)})")
        ref = None
        if req.order_type == "market":
            if pair not in self._rules:
                raise InvalidOrder(f"unknown symbol {req.symbol} ({pair} not listed)")
            bt = self._call(c.get_orderbook_ticker, symbol=pair)
            ref = Decimal(bt["askPrice"] if req.side == "buy" else bt["bidPrice"])
        qty, price, stop = self.apply_stop_filters(req, ref)
        sent = (self._qty_int(qty), None if price is None else self._cents(price),
                None if stop is None else self._cents(stop))
        cid = req.client_order_id
        if cid is not None:
            existing = self._lookup_cid(pair, cid)
            if existing is not None:
                return self._same_or_conflict(existing, req, *sent)
        else:
            cid = "nb" + uuid.uuid4().hex[:30]
        params: dict[str, Any] = {"symbol": pair, "side": req.side.upper(), "type": venue_type,
                                  "quantity": format(qty.normalize(), "f"), "newClientOrderId": cid}
        if price is not None:
            params["price"] = format(price.normalize(), "f")
            params["timeInForce"] = "GTC"
        if stop is not None:
            params["stopPrice"] = format(stop.normalize(), "f")
        self._cid_symbol[cid] = pair
        attempt = 0
        while True:
            wait = 0.0
            sent_ms = self._server_now_ms()
            try:
                res = self._raw(c.create_order, **params)
                oid = int(res["orderId"])
                self._order_symbol[oid] = pair
                log.info("binance order %s placed: %s %s %s %s cid=%s", oid, params["side"], params["quantity"], pair,
                         params["type"], cid)
                return oid
            except _Unknown as exc:
                # The venue may have accepted it: establish what it did before anything else.
                log.warning("binance order POST outcome unknown (%s); looking up client order id %s", exc, cid)
                found = self._resolve_ambiguous(pair, cid, req.symbol, sent_ms, exc)
                if found is not None:
                    log.info("binance order with client id %s found after unknown outcome: %s", cid, found["orderId"])
                    return self._same_or_conflict(found, req, *sent)
                if attempt >= self.max_retries:
                    raise OrderOutcomeUnknown(
                        f"order {cid} on {pair}: not accepted after {attempt + 1} attempts ({exc}); the venue "
                        f"does not have it", client_order_id=cid) from exc
                log.warning("binance order %s on %s is established absent; sending it again with the same id",
                            cid, pair)
            except _ClockSkew:
                if attempt >= self.max_retries:
                    raise BrokerError("binance keeps rejecting our timestamp (-1021) after resync") from None
                self._sync_time()  # the order was refused, so sending it again is safe
            except RateLimited as exc:  # refused, not processed: safe to send again after waiting
                wait = self._backoff(attempt, exc.retry_after)
                if attempt >= self.max_retries or wait > self.max_backoff:
                    raise
                log.warning("binance rate limited on order POST; sleeping %.2fs", wait)
            except OrderRejected as exc:
                if exc.code == -2010 and "duplicate" in str(exc).lower():
                    found = self._lookup_cid(pair, cid)
                    if found is not None:
                        return self._same_or_conflict(found, req, *sent)
                raise
            attempt += 1
            if wait:
                self._sleep(wait)

    def _resolve_ambiguous(self, pair: str, cid: str, symbol: str, sent_ms: int,
                           cause: BaseException) -> dict[str, Any] | None:
        """After an ambiguous order POST: the venue's order with ``cid``, or ``None`` once its
        absence is established; otherwise :class:`OrderOutcomeUnknown`.

        Absence is established only when every single-order lookup over the window answered
        -2013, ``allOrders`` for the pair does not list ``cid`` and ``myTrades`` since the
        POST holds no trade of an order that ``allOrders`` does not list.
        """
        c = self._require()
        waited, k, lookups, doubts = 0.0, 0, 0, []
        while True:
            lookups += 1
            try:
                return self._raw(c.get_order, symbol=pair, origClientOrderId=cid)
            except OrderNotFound:
                pass  # "does not exist" -- which a lagging read also says
            except (_Unknown, RateLimited, BrokerError, _ClockSkew) as exc:
                if isinstance(exc, _ClockSkew):
                    try:
                        self._sync_time()
                    except (_Unknown, BrokerError):
                        pass
                doubts.append(f"lookup {lookups}: {type(exc).__name__}: {exc}")
            if waited >= self.unknown_outcome_window:
                break
            d = min(0.25 * 2**k, 2.0, self.unknown_outcome_window - waited)
            self._sleep(d)
            waited += d
            k += 1
        since = max(0, sent_ms - 60_000)  # a minute of margin for the clock offset
        try:
            orders = self._raw(c.get_all_orders, symbol=pair, startTime=since, limit=1000)
            hit = [o for o in orders if o.get("clientOrderId") == cid]
            if hit:
                return max(hit, key=lambda o: int(o["orderId"]))
            known = {int(o["orderId"]) for o in orders}
            trades = self._raw(c.get_my_trades, symbol=pair, startTime=since, limit=1000)
            stray = sorted({int(t["orderId"]) for t in trades} - known)
            if stray:
                doubts.append(f"myTrades shows trades of order(s) {stray} that allOrders does not list")
        except (_Unknown, RateLimited, BrokerError, _ClockSkew) as exc:
            doubts.append(f"allOrders/myTrades: {type(exc).__name__}: {exc}")
        if doubts:
            raise OrderOutcomeUnknown(
                f"order {cid} on {pair}: outcome unknown ({cause}); {lookups} lookup(s) over "
                f"{waited:g} s could not establish whether the venue has it ({'; '.join(doubts)}). "
                f"Nothing was sent again: query find_order({cid!r}, symbol={symbol!r}) later",
                client_order_id=cid) from cause
        return None

    def _lookup_cid(self, pair: str, cid: str) -> dict[str, Any] | None:
        try:
            return self._call(self._require().get_order, symbol=pair, origClientOrderId=cid)
        except OrderNotFound:
            return None

    def _same_or_conflict(self, o: dict[str, Any], req: OrderRequest, qty: int, price: int | None,
                          stop: int | None = None) -> int:
        """The id of ``o`` if it is the instruction ``req`` as rounded for sending, else a conflict
        (:func:`~nanobook_broker.base.existing_order_id`)."""
        sent = dataclasses.replace(req, quantity=qty, limit_price_cents=price, stop_price_cents=stop)
        held = existing_order_id(sent, self._order_record(o))
        assert held is not None  # an order was found
        return held


class _ClockSkew(Exception):
    """Internal: -1021, resynchronise the clock offset and retry."""


# --------------------------------------------------------------------------
# proactive pacing from the venue's usage headers

_INTERVAL_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_LETTER_SECONDS = {"S": 1, "M": 60, "H": 3600, "D": 86400}
_USAGE_HEADER = re.compile(r"X-MBX-(USED-WEIGHT|ORDER-COUNT)-(\d+)([SMHD])", re.IGNORECASE)

# Request weight of each SDK call the broker makes (Binance spot, single symbol).
# An upper estimate used *before* sending; the response header then gives the truth.
_WEIGHTS = {
    "ping": 1, "get_server_time": 1, "get_exchange_info": 20, "get_account": 20,
    "get_orderbook_ticker": 2, "get_ticker": 2, "get_order": 4, "create_order": 1, "cancel_order": 1,
    "get_all_orders": 20, "get_my_trades": 20,
}


def _request_weight(fn: Callable[..., Any], params: dict[str, Any]) -> int:
    name = getattr(fn, "__name__", "")
    if name == "get_open_orders":
        return 6 if params.get("symbol") else 80
    return _WEIGHTS.get(name, 20)


class _Pacer:
    """Keeps each rate-limit window below ``fraction`` of the venue's limit.

    Binance counts request weight (``REQUEST_WEIGHT``, per IP) and new orders
    (``ORDERS``, per account) in fixed windows aligned to the server clock (a
    1-minute window starts every minute) and reports the current counts in
    ``X-MBX-USED-WEIGHT-<n><unit>`` / ``X-MBX-ORDER-COUNT-<n><unit>``. The
    counts are shared with every other client on the IP or account, so the
    headers, not our own tally, are the truth; between two answers our own
    requests are added to the last count.

    Before a request of weight ``w`` (``o`` = 1 for a new order): if
    ``count + w > fraction * limit`` in some window, wait until that window
    ends (plus ``margin`` seconds for clock error) and look again. A wait
    longer than ``max_wait`` raises :class:`RateLimited` with
    ``retry_after`` instead (a daily order limit).
    """

    def __init__(self, fraction: float, clock: Callable[[], float], sleep: Callable[[float], None],
                 max_wait: float, margin: float = 0.25) -> None:
        self.fraction = fraction
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self.margin = margin
        self.limits: dict[tuple[str, int], int] = {}  # ("weight"|"orders", window seconds) -> limit
        self.used: dict[tuple[str, int], tuple[int, int]] = {}  # key -> (window index, count)
        self.waits: list[float] = []  # every pacing wait, in seconds (for logs and tests)

    def load_limits(self, rate_limits: list[dict[str, Any]]) -> None:
        limits = {}
        for rl in rate_limits:
            kind = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}.get(rl.get("rateLimitType", ""))
            secs = _INTERVAL_SECONDS.get(rl.get("interval", ""))
            if kind is None or secs is None:
                continue
            limits[(kind, secs * int(rl.get("intervalNum", 1)))] = int(rl["limit"])
        self.limits = limits

    def observe(self, headers: Any, now_ms: int) -> None:
        """Record the counts the venue reported with an answer received at ``now_ms``."""
        for name, value in headers.items():
            m = _USAGE_HEADER.fullmatch(name)
            if m is None or not str(value).isdigit():
                continue
            kind = "weight" if m.group(1).upper() == "USED-WEIGHT" else "orders"
            secs = int(m.group(2)) * _LETTER_SECONDS[m.group(3).upper()]
            self.used[(kind, secs)] = (now_ms // (secs * 1000), int(value))

    def count(self, key: tuple[str, int], now_ms: int) -> int:
        win, n = self.used.get(key, (None, 0))
        return n if win == now_ms // (key[1] * 1000) else 0

    def before(self, weight: int, orders: int, now_ms: Callable[[], int]) -> None:
        """Block until a request of ``weight`` (and ``orders`` new orders) fits every window."""
        while True:
            now = now_ms()
            wait_ms = 0
            for key, limit in self.limits.items():
                n = weight if key[0] == "weight" else orders
                if n == 0:
                    continue
                have = self.count(key, now)
                if have and have + n > self.fraction * limit:
                    end = (now // (key[1] * 1000) + 1) * key[1] * 1000
                    wait_ms = max(wait_ms, end - now)
            if wait_ms == 0:
                for key in self.limits:
                    n = weight if key[0] == "weight" else orders
                    if n:
                        self.used[key] = (now // (key[1] * 1000), self.count(key, now) + n)
                return
            wait = wait_ms / 1000 + self.margin
            if wait > self.max_wait:
                raise RateLimited(
                    f"binance rate limit nearly used up: next window in {wait:.0f}s (more than max_pace_wait "
                    f"{self.max_wait:.0f}s)", retry_after=wait)
            log.warning("binance pacing: %s; sleeping %.2fs until the window rolls over",
                        ", ".join(f"{k[0]}/{k[1]}s {self.count(k, now)}/{v}" for k, v in sorted(self.limits.items())),
                        wait)
            self.waits.append(wait)
            self.sleep(wait)
