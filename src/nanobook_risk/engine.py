"""Pre-trade risk checks: the reference's eight checks plus ours.

Every check produces a :class:`Decision` (``PASS``/``WARN``/``FAIL`` with a
stable :class:`ReasonCode` and a readable detail). A breach is a value, never an
exception; exceptions are reserved for malformed arguments.

All money and quantity arithmetic is done on Python integers, so nothing wraps
(the reference wraps on i64 overflow). Ratios are computed as
``float(numerator) / float(denominator)`` exactly as the reference does, so the
detail strings agree with it on every input it handles without overflow.
"""
from __future__ import annotations

import datetime as _dt
import functools
import inspect
import math
import threading
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, ParamSpec, Sequence

from nanobook.limits import daily_loss_pct_breached, drawdown_breached

from nanobook.validate import (
    as_i64,
    as_price,
    as_sequence,
    as_side,
    as_symbol,
    as_tuple,
    as_u64,
    as_weight,
)
from .config import RiskConfig, _fmt
from .decision import Decision, ReasonCode, RiskReport, Status

from nanobook.fmt import fixed

__all__ = ["RiskEngine"]


_SIGN = {"buy": 1, "sell": -1}


def _cmp(status: Status) -> str:
    return "<=" if status is Status.PASS else ">"


def _ratio_or_inf(num: int, equity: int) -> float:
    return float(num) / float(equity) if equity > 0 else math.inf


def _pct1(x: float) -> str:
    return fixed(x * 100.0, 1)


def _loss_decision(code: ReasonCode, name: str, base_name: str, base: int, equity: int, limit: float,
                   breached: Callable[[int, int, float], bool]) -> Decision:
    """A loss limit: the loss from ``base`` (start-of-day equity, high-water mark) to ``equity`` as a
    fraction of ``base``, ``FAIL`` when ``breached`` (exact, ``nanobook.limits``) or ``base <= 0``."""
    if base <= 0:
        return Decision(code, name, Status.FAIL, f"{base_name} {base} is not positive")
    loss = float(base - equity) / float(base)
    st = Status.FAIL if breached(base, equity, limit) else Status.PASS
    return Decision(code, name, st, f"{_pct1(loss)}% {name.lower()} {_cmp(st)} {_pct1(limit)}% limit")


_P = ParamSpec("_P")


def _reference_form(evaluate: Callable[_P, RiskReport], name: str) -> Callable[_P, list[dict[str, str]]]:
    """The reference's form of an ``evaluate_*`` method: the same parameters, ``to_dicts()`` of its report.

    The parameters are written once (on the ``evaluate_*`` method); the
    wrapper's signature and docstring say what it returns instead.
    """
    doc = f"""The reference's form of :meth:`{evaluate.__name__}` (same parameters, same checks).

        Returns
        -------
        list of dict
            ``{{"name", "status", "detail"}}`` per decision of
            :meth:`{evaluate.__name__}`, in its order.
        """

    @functools.wraps(evaluate)
    def check(*args: _P.args, **kwargs: _P.kwargs) -> list[dict[str, str]]:
        return evaluate(*args, **kwargs).to_dicts()

    check.__name__ = name
    check.__qualname__ = f"RiskEngine.{name}"
    check.__doc__ = doc
    check.__annotations__ = {**evaluate.__annotations__, "return": "list[dict[str, str]]"}
    check.__signature__ = inspect.signature(evaluate).replace(  # type: ignore[attr-defined]
        return_annotation="list[dict[str, str]]"
    )
    return check


class RiskEngine:
    """Pre-trade risk checks (the reference's, listed in ``docs/risk.md``) plus collar, loss limits, kill switch.

    Parameters
    ----------
    max_position_pct, max_leverage, max_drawdown_pct, allow_short, max_short_pct,
    max_trade_usd, max_order_value_cents, max_batch_value_cents
        The reference's limits (see :class:`RiskConfig`).
    max_daily_loss_pct, price_collar_bps, max_open_orders, restricted_symbols
        Our extra limits, keyword-only, all disabled by default so that the
        default engine's output equals the reference's.

    Raises
    ------
    RiskConfigError
        (a ``ValueError``) ``"invalid RiskConfig: <reason>"`` for out-of-range limits.

    Notes
    -----
    The engine is stateless except for the equity marks
    (:meth:`mark_equity`) and the kill switch. It is thread-safe.
    """

    def __init__(
        self,
        max_position_pct: float = 0.25,
        max_leverage: float = 1.5,
        max_drawdown_pct: float = 0.20,
        allow_short: bool = True,
        max_short_pct: float = 0.30,
        max_trade_usd: float = 100000.0,
        max_order_value_cents: int = 10_000_000,
        max_batch_value_cents: int = 100_000_000,
        *,
        max_daily_loss_pct: float | None = None,
        price_collar_bps: float | None = None,
        max_open_orders: int | None = None,
        restricted_symbols: Iterable[str] = (),
        min_trade_usd: float = 100.0,
    ) -> None:
        cfg = RiskConfig(
            max_position_pct=max_position_pct,
            max_leverage=max_leverage,
            max_drawdown_pct=max_drawdown_pct,
            allow_short=allow_short,
            max_short_pct=max_short_pct,
            max_trade_usd=max_trade_usd,
            max_order_value_cents=max_order_value_cents,
            max_batch_value_cents=max_batch_value_cents,
            min_trade_usd=min_trade_usd,
            max_daily_loss_pct=max_daily_loss_pct,
            price_collar_bps=price_collar_bps,
            max_open_orders=max_open_orders,
            restricted_symbols=(frozenset(restricted_symbols) if not isinstance(restricted_symbols, str)
                                else restricted_symbols),  # type: ignore[arg-type]  # a str is rejected by RiskConfig
        )
        self._init_state(cfg)

    def _init_state(self, cfg: RiskConfig) -> None:
        self._cfg = cfg
        self._lock = threading.Lock()
        self._peak: int | None = None
        self._day: _dt.date | None = None
        self._day_start: int | None = None
        self._kill_reason: str | None = None

    # ---- construction helpers

    @classmethod
    def from_config(cls, config: RiskConfig) -> "RiskEngine":
        """An engine using an already validated :class:`RiskConfig`."""
        if not isinstance(config, RiskConfig):
            raise TypeError(f"config must be a RiskConfig, got {type(config).__name__}")
        eng = cls.__new__(cls)
        eng._init_state(config)
        return eng

    @classmethod
    def from_toml(cls, source: Any, table: str | None = "risk") -> "RiskEngine":
        """An engine from a TOML file or text (see :meth:`RiskConfig.from_toml`)."""
        return cls.from_config(RiskConfig.from_toml(source, table))

    @property
    def config(self) -> RiskConfig:
        """The validated limits (immutable)."""
        return self._cfg

    def __repr__(self) -> str:
        c = self._cfg
        return (
            f"RiskEngine(max_position_pct={_fmt(c.max_position_pct)}, "
            f"max_leverage={_fmt(c.max_leverage)}, allow_short={'true' if c.allow_short else 'false'})"
        )

    # ---- equity marks and kill switch

    def mark_equity(self, equity_cents: int, day: _dt.date | str | None = None) -> None:
        """Record an equity observation for the daily-loss and drawdown limits.

        The first mark of a ``day`` (default: today, UTC) becomes that day's
        start equity; every mark raises the high-water mark if higher.

        Parameters
        ----------
        equity_cents : int
            Current account equity in cents.
        day : datetime.date or ISO date str, optional
        """
        eq = as_i64(equity_cents, "equity_cents")
        if day is None:
            d = _dt.datetime.now(_dt.timezone.utc).date()
        elif isinstance(day, _dt.datetime):
            d = day.date()
        elif isinstance(day, _dt.date):
            d = day
        elif isinstance(day, str):
            try:
                d = _dt.date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"day must be an ISO date (YYYY-MM-DD), got {day!r}") from None
        else:
            raise TypeError(f"day must be a date or ISO date string, got {type(day).__name__}")
        with self._lock:
            if self._day != d:
                self._day = d
                self._day_start = eq
            if self._peak is None or eq > self._peak:
                self._peak = eq

    @property
    def high_water_mark_cents(self) -> int | None:
        """Highest marked equity, or ``None`` before the first mark."""
        return self._peak

    @property
    def day_start_equity_cents(self) -> int | None:
        """Equity of the current day's first mark."""
        return self._day_start

    @property
    def kill_switch_engaged(self) -> bool:
        """True once a loss limit was breached (or :meth:`engage_kill_switch` called)."""
        return self._kill_reason is not None

    @property
    def kill_switch_reason(self) -> str | None:
        return self._kill_reason

    def engage_kill_switch(self, reason: str = "engaged manually") -> None:
        """Stop all trading: every later check FAILs with ``KILL_SWITCH``."""
        if not isinstance(reason, str) or not reason:
            raise ValueError(f"reason must be a non-empty str, got {reason!r}")
        with self._lock:
            if self._kill_reason is None:
                self._kill_reason = reason

    def reset_kill_switch(self) -> None:
        """Re-enable trading (an explicit operator action)."""
        with self._lock:
            self._kill_reason = None

    # ---- argument parsing

    @staticmethod
    def _positions(positions: Any, first_wins: bool) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in as_sequence(positions, "positions"):
            sym, qty = as_tuple(item, 2, "positions")
            sym = as_symbol(sym, "positions")
            q = as_i64(qty, "positions")
            if first_wins and sym in out:
                continue
            out[sym] = q
        return out

    @staticmethod
    def _prices(reference_prices: Any) -> dict[str, int]:
        if reference_prices is None:
            return {}
        items = reference_prices.items() if isinstance(reference_prices, Mapping) else as_sequence(
            reference_prices, "reference_prices"
        )
        out: dict[str, int] = {}
        for item in items:
            sym, px = as_tuple(tuple(item) if isinstance(reference_prices, Mapping) else item, 2, "reference_prices")
            sym = as_symbol(sym, "reference_prices")
            out[sym] = as_price(px, f"reference_prices[{sym!r}]")
        return out

    # ---- single order

    def evaluate_order(
        self,
        symbol: str,
        side: str,
        quantity: int,
        price_cents: int,
        equity_cents: int,
        positions: Sequence[tuple[str, int]],
        *,
        reference_price_cents: int | None = None,
        open_orders: int = 0,
    ) -> RiskReport:
        """Check one order against the limits.

        Parameters
        ----------
        symbol : str
            At most 8 UTF-8 bytes.
        side : str
            ``"buy"``/``"b"``/``"sell"``/``"s"``, any case.
        quantity : int
            Unsigned 64-bit.
        price_cents : int
            Order (limit or expected) price in cents.
        equity_cents : int
            Account equity in cents.
        positions : sequence of (symbol, qty) tuples
            Current signed positions; the first entry for a symbol is used.
        reference_price_cents : int, optional
            Reference (e.g. mid) price for the price collar.
        open_orders : int
            Orders already working at the broker (for ``max_open_orders``).

        Returns
        -------
        RiskReport
            ``Max order value``, ``Max position``, ``Order size`` and (short
            sale when shorting is disallowed) ``Short selling``, in the
            reference's order (``docs/risk.md``); then our checks when
            configured. :meth:`check_order` gives it as the reference's list
            of dicts.

        Raises
        ------
        ValueError, TypeError, OverflowError
            Malformed arguments only; breaches are reported as ``FAIL``.
        """
        sym = as_symbol(symbol, "symbol")
        sd = as_side(side, "side")
        qty = as_u64(quantity, "quantity")
        price = as_price(price_cents, "price_cents")
        equity = as_i64(equity_cents, "equity_cents")
        pos = self._positions(positions, first_wins=True)
        ref = None if reference_price_cents is None else as_price(reference_price_cents, "reference_price_cents")
        n_open = as_u64(open_orders, "open_orders")

        out = self._order_checks(sym, sd, qty, price, equity, pos.get(sym, 0))
        c = self._cfg
        if c.restricted_symbols:
            out.append(self._restricted(sym, prefix=False, always=True))
        if c.price_collar_bps is not None:
            out.append(self._collar(sym, price, ref, prefix=False))
        if c.max_open_orders is not None:
            out.append(self._open_orders(n_open, 1))
        out.extend(self._account_checks(equity))
        return RiskReport(tuple(out))

    check_order = _reference_form(evaluate_order, "check_order")

    def _order_checks(self, sym: str, sd: str, qty: int, price: int, equity: int, current: int) -> list[Decision]:
        c = self._cfg
        out: list[Decision] = []
        notional = qty * price
        st = Status.FAIL if (c.max_order_value_cents > 0 and notional > c.max_order_value_cents) else Status.PASS
        out.append(
            Decision(
                ReasonCode.MAX_ORDER_VALUE,
                "Max order value",
                st,
                f"${fixed(float(notional) / 100.0, 0)} {_cmp(st)} "
                f"${fixed(float(c.max_order_value_cents) / 100.0, 0)} max_order_value_cents",
                sym,
            )
        )
        post = current + _SIGN[sd] * qty
        pct = float(abs(post) * price) / float(equity) if equity > 0 else 0.0
        st = Status.FAIL if pct > c.max_position_pct else Status.PASS
        out.append(
            Decision(
                ReasonCode.MAX_POSITION,
                "Max position",
                st,
                f"{_pct1(pct)}% ({sym}) {_cmp(st)} {_pct1(c.max_position_pct)}% limit",
                sym,
            )
        )
        st = Status.WARN if notional > self._max_trade_cents() else Status.PASS
        out.append(
            Decision(
                ReasonCode.ORDER_SIZE,
                "Order size",
                st,
                f"${fixed(float(notional) / 100.0, 2)} {_cmp(st)} ${fixed(c.max_trade_usd, 2)} max",
                sym,
            )
        )
        if sd == "sell" and post < 0 and not c.allow_short:
            out.append(
                Decision(ReasonCode.SHORT_SELLING, "Short selling", Status.FAIL, "short selling not allowed", sym)
            )
        return out

    def _max_trade_cents(self) -> float | int:
        x = self._cfg.max_trade_usd * 100.0
        return math.inf if math.isinf(x) else math.trunc(x)

    # ---- extras

    def _restricted(self, sym: str, prefix: bool, always: bool) -> Decision:
        hit = sym in self._cfg.restricted_symbols
        st = Status.FAIL if hit else Status.PASS
        detail = f"{sym} is restricted" if hit else f"{sym} is not restricted"
        return Decision(ReasonCode.RESTRICTED_SYMBOL, "Restricted symbol", st, detail, sym)

    def _collar(self, sym: str, price: int, ref: int | None, prefix: bool) -> Decision:
        lim = self._cfg.price_collar_bps
        assert lim is not None
        pre = f"{sym}: " if prefix else ""
        if ref is None or ref <= 0:
            what = "no reference price" if ref is None else f"reference price {ref} is not positive"
            return Decision(
                ReasonCode.PRICE_COLLAR, "Price collar", Status.FAIL, f"{pre}{what} for {sym}", sym
            )
        # exact: |p - r| / r * 1e4 > lim  <=>  |p - r| * 1e4 > lim * r
        dev = abs(price - ref)
        breach = Fraction(dev * 10_000) > Fraction(lim) * ref
        st = Status.FAIL if breach else Status.PASS
        bps = float(dev) * 10_000.0 / float(ref)
        return Decision(
            ReasonCode.PRICE_COLLAR,
            "Price collar",
            st,
            f"{pre}{fixed(bps, 1)} bps from reference {ref} {_cmp(st)} {fixed(lim, 1)} bps collar",
            sym,
        )

    def _open_orders(self, n_open: int, n_new: int) -> Decision:
        lim = self._cfg.max_open_orders
        assert lim is not None
        total = n_open + n_new
        st = Status.FAIL if total > lim else Status.PASS
        return Decision(
            ReasonCode.MAX_OPEN_ORDERS, "Open orders", st, f"{total} open orders {_cmp(st)} {lim} max_open_orders"
        )

    def _account_checks(self, equity: int) -> list[Decision]:
        """Daily loss, drawdown (active after :meth:`mark_equity`) and the kill switch."""
        c = self._cfg
        out: list[Decision] = []
        trip: str | None = None
        with self._lock:
            day_start, peak = self._day_start, self._peak
        if c.max_daily_loss_pct is not None and day_start is not None:
            d = _loss_decision(ReasonCode.DAILY_LOSS, "Daily loss", "start-of-day equity", day_start, equity,
                               c.max_daily_loss_pct, daily_loss_pct_breached)
            out.append(d)
            if d.status is Status.FAIL:
                trip = f"daily loss: {d.detail}"
        if peak is not None:
            d = _loss_decision(ReasonCode.DRAWDOWN, "Drawdown", "equity high-water mark", max(peak, equity), equity,
                               c.max_drawdown_pct, drawdown_breached)
            out.append(d)
            if d.status is Status.FAIL and trip is None:
                trip = f"drawdown: {d.detail}"
        if trip is not None:
            self.engage_kill_switch(trip)
        reason = self._kill_reason
        if reason is not None:
            out.append(
                Decision(ReasonCode.KILL_SWITCH, "Kill switch", Status.FAIL, f"kill switch engaged ({reason})")
            )
        return out

    # ---- batch

    def evaluate_batch(
        self,
        orders: Sequence[tuple[str, str, int, int]],
        equity_cents: int,
        positions: Sequence[tuple[str, int]],
        target_weights: Sequence[tuple[str, float]],
        *,
        reference_prices: Mapping[str, int] | Sequence[tuple[str, int]] | None = None,
        open_orders: int = 0,
    ) -> RiskReport:
        """Check a batch of orders.

        Parameters
        ----------
        orders : sequence of (symbol, side, quantity, price_cents) tuples
        equity_cents : int
        positions : sequence of (symbol, qty) tuples
            Current signed positions; a later entry for a symbol wins.
        target_weights : sequence of (symbol, weight) tuples
        reference_prices : mapping or sequence of (symbol, price_cents), optional
            Reference prices for the price collar.
        open_orders : int
            Orders already working at the broker.

        Returns
        -------
        RiskReport
            The reference's checks in its order (``Max position``,
            ``Leverage``, ``Short selling``/``Short exposure``, ``Max order
            value``*, ``Max batch value``*, ``Max trade size``*, ``Order
            count``, ``Weight allocation``; * only when they fire), with ours
            inserted before ``Order count`` when they fire (``Post-trade
            position``, running ``Short selling``, ``Restricted symbol``,
            ``Price collar``) and appended at the end when configured
            (``Open orders``, ``Daily loss``, ``Drawdown``, ``Kill switch``).
            :meth:`check_batch` gives it as the reference's list of dicts.
        """
        c = self._cfg
        parsed: list[tuple[str, str, int, int]] = []
        for i, item in enumerate(as_sequence(orders, "orders")):
            sym, sd, qty, px = as_tuple(item, 4, "orders")
            parsed.append(
                (as_symbol(sym, "orders"), as_side(sd, "orders"), as_u64(qty, "orders"),
                 as_price(px, f"orders[{i}] price_cents"))
            )
        equity = as_i64(equity_cents, "equity_cents")
        current = self._positions(positions, first_wins=False)
        targets: list[tuple[str, float]] = []
        for i, item in enumerate(as_sequence(target_weights, "target_weights")):
            sym, w = as_tuple(item, 2, "target_weights")
            targets.append((as_symbol(sym, "target_weights"), as_weight(w, f"target_weights[{i}] weight")))
        refs = self._prices(reference_prices)
        n_open = as_u64(open_orders, "open_orders")

        out: list[Decision] = []
        # 1. Max position on target weights (first maximum; "?" if none > 0)
        worst, worst_sym = 0.0, "?"
        for sym, w in targets:
            if abs(w) > worst:
                worst, worst_sym = abs(w), sym
        st = Status.FAIL if worst > c.max_position_pct else Status.PASS
        out.append(
            Decision(
                ReasonCode.MAX_POSITION,
                "Max position",
                st,
                f"{_pct1(worst)}% ({worst_sym}) {_cmp(st)} {_pct1(c.max_position_pct)}% limit",
                None if worst_sym == "?" else worst_sym,
            )
        )
        # 2. Leverage on post-trade quantities, valued at each symbol's last order price
        post = dict(current)
        last_px: dict[str, int] = {}
        for sym, sd, qty, px in parsed:
            post[sym] = post.get(sym, 0) + _SIGN[sd] * qty
            last_px[sym] = px
        gross = sum(abs(q) * abs(last_px.get(s, 0)) for s, q in post.items())
        lev = _ratio_or_inf(gross, equity)
        st = Status.FAIL if lev > c.max_leverage else Status.PASS
        out.append(
            Decision(
                ReasonCode.LEVERAGE, "Leverage", st, f"{fixed(lev, 2)}x {_cmp(st)} {fixed(c.max_leverage, 2)}x limit"
            )
        )
        # 3. Short selling / short exposure
        has_shorts = any(sd == "sell" for _, sd, _, _ in parsed) and any(q < 0 for q in post.values())
        short_fail = has_shorts and not c.allow_short
        if short_fail:
            out.append(Decision(ReasonCode.SHORT_SELLING, "Short selling", Status.FAIL, "short selling not allowed"))
        else:
            short = sum(abs(q) * abs(last_px.get(s, 0)) for s, q in post.items() if q < 0)
            sp = _ratio_or_inf(short, equity)
            st = Status.FAIL if sp > c.max_short_pct else Status.PASS
            out.append(
                Decision(
                    ReasonCode.SHORT_EXPOSURE,
                    "Short exposure",
                    st,
                    f"{_pct1(sp)}% {_cmp(st)} {_pct1(c.max_short_pct)}% limit",
                )
            )
        # 4. per-order value cap, 5. batch value cap
        batch_value = 0
        for sym, _sd, qty, px in parsed:
            notional = qty * abs(px)
            batch_value += notional
            if c.max_order_value_cents > 0 and notional > c.max_order_value_cents:
                out.append(
                    Decision(
                        ReasonCode.MAX_ORDER_VALUE,
                        "Max order value",
                        Status.FAIL,
                        f"{sym}: ${fixed(float(notional) / 100.0, 0)} > "
                        f"${fixed(float(c.max_order_value_cents) / 100.0, 0)} max_order_value_cents",
                        sym,
                    )
                )
        if c.max_batch_value_cents > 0 and batch_value > c.max_batch_value_cents:
            out.append(
                Decision(
                    ReasonCode.MAX_BATCH_VALUE,
                    "Max batch value",
                    Status.FAIL,
                    f"${fixed(float(batch_value) / 100.0, 0)} > "
                    f"${fixed(float(c.max_batch_value_cents) / 100.0, 0)} max_batch_value_cents",
                )
            )
        # 6. trade size warnings
        max_cents = self._max_trade_cents()
        for sym, _sd, qty, px in parsed:
            notional = qty * abs(px)
            if notional > max_cents:
                out.append(
                    Decision(
                        ReasonCode.MAX_TRADE_SIZE,
                        "Max trade size",
                        Status.WARN,
                        f"{sym}: ${fixed(float(notional) / 100.0, 0)} > ${fixed(c.max_trade_usd, 0)} max_trade_usd",
                        sym,
                    )
                )
        # ours: every order must pass alone against the running exposure
        running = dict(current)
        for sym, sd, qty, px in parsed:
            if qty == 0:
                continue  # a zero-quantity pseudo-order changes no exposure
            for d in self._order_checks(sym, sd, qty, abs(px), equity, running.get(sym, 0)):
                if d.status is not Status.FAIL or d.code is ReasonCode.MAX_ORDER_VALUE:
                    continue  # order value caps are reported above (with |price|)
                if d.code is ReasonCode.SHORT_SELLING:
                    if short_fail:
                        continue  # already reported for the batch
                    detail = f"{sym}: short selling not allowed (running position {running.get(sym, 0)})"
                    out.append(Decision(ReasonCode.SHORT_SELLING, "Short selling", Status.FAIL, detail, sym))
                else:  # MAX_POSITION of the order against running exposure
                    out.append(
                        Decision(ReasonCode.POST_TRADE_POSITION, "Post-trade position", Status.FAIL, f"{sym}: {d.detail}", sym)
                    )
            running[sym] = running.get(sym, 0) + _SIGN[sd] * qty
        if c.restricted_symbols:
            for sym, _sd, _q, _p in parsed:
                if sym in c.restricted_symbols:
                    out.append(self._restricted(sym, prefix=True, always=False))
        if c.price_collar_bps is not None:
            for sym, _sd, _q, px in parsed:
                d = self._collar(sym, px, refs.get(sym), prefix=True)
                if d.status is Status.FAIL:
                    out.append(d)
        # 7. order count, 8. weight allocation (later duplicates win)
        out.append(Decision(ReasonCode.ORDER_COUNT, "Order count", Status.PASS, f"{len(parsed)} orders"))
        tmap: dict[str, float] = {}
        for sym, w in targets:
            tmap[sym] = w
        long_sum = -0.0
        short_sum = -0.0
        for w in tmap.values():
            if w > 0.0:
                long_sum += w
        for w in tmap.values():
            if w < 0.0:
                short_sum += abs(w)
        out.append(
            Decision(
                ReasonCode.WEIGHT_ALLOCATION,
                "Weight allocation",
                Status.PASS,
                f"{_pct1(long_sum)}% long, {_pct1(short_sum)}% short, {_pct1(1.0 - long_sum)}% cash",
            )
        )
        if c.max_open_orders is not None:
            out.append(self._open_orders(n_open, len(parsed)))
        out.extend(self._account_checks(equity))
        return RiskReport(tuple(out))

    check_batch = _reference_form(evaluate_batch, "check_batch")
