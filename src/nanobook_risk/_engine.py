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
import math
import os
import threading
from dataclasses import dataclass, field, fields
from enum import Enum
from fractions import Fraction
from typing import Any, Iterable, Iterator, Mapping, Sequence

from nanobook.limits import daily_loss_pct_breached, drawdown_breached

from nanobook.validate import (
    as_bool,
    as_float,
    as_i64,
    as_price,
    as_sequence,
    as_side,
    as_symbol,
    as_tuple,
    as_u64,
    as_weight,
)

from ._format import fixed, rust_display

__all__ = [
    "Status",
    "ReasonCode",
    "Decision",
    "RiskReport",
    "RiskConfig",
    "RiskEngine",
    "RiskError",
    "RiskConfigError",
]


# --------------------------------------------------------------------------
# errors


class RiskError(Exception):
    """Root of the exceptions raised by :mod:`nanobook_risk`."""


class RiskConfigError(RiskError, ValueError):
    """An invalid risk configuration (message starts ``invalid RiskConfig:``)."""


# --------------------------------------------------------------------------
# decisions


class Status(str, Enum):
    """Outcome of one check. ``str`` values are the reference's spellings."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


class ReasonCode(str, Enum):
    """Stable machine-readable identifier of a check (never renamed)."""

    MAX_ORDER_VALUE = "max_order_value"
    MAX_POSITION = "max_position"
    ORDER_SIZE = "order_size"
    SHORT_SELLING = "short_selling"
    LEVERAGE = "leverage"
    SHORT_EXPOSURE = "short_exposure"
    MAX_BATCH_VALUE = "max_batch_value"
    MAX_TRADE_SIZE = "max_trade_size"
    ORDER_COUNT = "order_count"
    WEIGHT_ALLOCATION = "weight_allocation"
    # ours
    POST_TRADE_POSITION = "post_trade_position"
    RESTRICTED_SYMBOL = "restricted_symbol"
    PRICE_COLLAR = "price_collar"
    MAX_OPEN_ORDERS = "max_open_orders"
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    KILL_SWITCH = "kill_switch"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


@dataclass(frozen=True)
class Decision:
    """The result of one check.

    Attributes
    ----------
    code : ReasonCode
        Stable identifier of the check.
    name : str
        Human name (the reference's ``"name"`` key, e.g. ``"Max position"``).
    status : Status
        ``PASS``, ``WARN`` or ``FAIL``.
    detail : str
        Readable explanation (the reference's exact wording for its checks).
    symbol : str or None
        The order's symbol for per-order checks.
    """

    code: ReasonCode
    name: str
    status: Status
    detail: str
    symbol: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The reference's dict form ``{"name", "status", "detail"}``."""
        return {"name": self.name, "status": self.status.value, "detail": self.detail}

    def __str__(self) -> str:
        return f"[{self.status.value}] {self.name}: {self.detail}"


@dataclass(frozen=True)
class RiskReport:
    """An ordered, immutable list of decisions."""

    decisions: tuple[Decision, ...] = ()

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.decisions)

    def __len__(self) -> int:
        return len(self.decisions)

    def __getitem__(self, i: int) -> Decision:
        return self.decisions[i]

    @property
    def has_failures(self) -> bool:
        """True if any decision is ``FAIL``."""
        return any(d.status is Status.FAIL for d in self.decisions)

    @property
    def has_warnings(self) -> bool:
        """True if any decision is ``WARN``."""
        return any(d.status is Status.WARN for d in self.decisions)

    @property
    def passed(self) -> bool:
        """True if nothing failed (warnings allowed)."""
        return not self.has_failures

    @property
    def failures(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.status is Status.FAIL)

    @property
    def warnings(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.status is Status.WARN)

    def codes(self, status: Status | str | None = None) -> list[ReasonCode]:
        """Reason codes, optionally only those with the given status."""
        if status is None:
            return [d.code for d in self.decisions]
        st = Status(status)
        return [d.code for d in self.decisions if d.status is st]

    def to_dicts(self) -> list[dict[str, str]]:
        """The reference's list-of-dicts form."""
        return [d.as_dict() for d in self.decisions]

    def format(self) -> str:
        """One ``[STATUS] Name: detail`` line per decision."""
        return "\n".join(str(d) for d in self.decisions)


# --------------------------------------------------------------------------
# configuration


def _fmt(x: float) -> str:
    return rust_display(x)


@dataclass(frozen=True)
class RiskConfig:
    """Validated limits. The first nine fields are the reference's.

    Parameters
    ----------
    max_position_pct : float
        Largest ``|position value| / equity`` (and largest ``|target weight|``), in (0, 1].
    max_leverage : float
        Largest post-trade gross exposure / equity, >= 1.
    max_drawdown_pct : float
        Drawdown from the equity high-water mark that trips the kill switch,
        in [0, 1]. Active only once :meth:`RiskEngine.mark_equity` was called
        (the reference validates it but never uses it).
    allow_short : bool
        Whether orders may leave a negative position.
    max_short_pct : float
        Largest post-trade short exposure / equity, >= 0.
    max_trade_usd : float
        Per-order notional above which a ``WARN`` is issued, in dollars.
    max_order_value_cents : int
        Per-order notional hard cap (0 disables).
    max_batch_value_cents : int
        Batch notional hard cap (0 disables).
    min_trade_usd : float
        Carried for the rebalancer's diff step; not used by any check.
    max_daily_loss_pct : float or None
        Loss since the day's first :meth:`~RiskEngine.mark_equity` that trips
        the kill switch, in [0, 1]. ``None`` disables.
    price_collar_bps : float or None
        Largest distance of an order price from its reference price, in basis
        points (>= 0). ``None`` disables.
    max_open_orders : int or None
        Largest number of open orders after the new ones are placed. ``None`` disables.
    restricted_symbols : frozenset of str
        Symbols that may not be traded at all.
    """

    max_position_pct: float = 0.25
    max_leverage: float = 1.5
    max_drawdown_pct: float = 0.20
    allow_short: bool = True
    max_short_pct: float = 0.30
    max_trade_usd: float = 100000.0
    max_order_value_cents: int = 10_000_000
    max_batch_value_cents: int = 100_000_000
    min_trade_usd: float = 100.0
    max_daily_loss_pct: float | None = None
    price_collar_bps: float | None = None
    max_open_orders: int | None = None
    restricted_symbols: frozenset = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        s = object.__setattr__
        # conversion (TypeError / OverflowError like the reference)
        s(self, "max_position_pct", as_float(self.max_position_pct, "max_position_pct"))
        s(self, "max_leverage", as_float(self.max_leverage, "max_leverage"))
        s(self, "max_drawdown_pct", as_float(self.max_drawdown_pct, "max_drawdown_pct"))
        s(self, "allow_short", as_bool(self.allow_short, "allow_short"))
        s(self, "max_short_pct", as_float(self.max_short_pct, "max_short_pct"))
        s(self, "max_trade_usd", as_float(self.max_trade_usd, "max_trade_usd"))
        s(self, "max_order_value_cents", as_i64(self.max_order_value_cents, "max_order_value_cents"))
        s(self, "max_batch_value_cents", as_i64(self.max_batch_value_cents, "max_batch_value_cents"))
        s(self, "min_trade_usd", as_float(self.min_trade_usd, "min_trade_usd"))
        if self.max_daily_loss_pct is not None:
            s(self, "max_daily_loss_pct", as_float(self.max_daily_loss_pct, "max_daily_loss_pct"))
        if self.price_collar_bps is not None:
            s(self, "price_collar_bps", as_float(self.price_collar_bps, "price_collar_bps"))
        if self.max_open_orders is not None:
            s(self, "max_open_orders", as_u64(self.max_open_orders, "max_open_orders"))
        rs = self.restricted_symbols
        if isinstance(rs, str):
            raise TypeError(f"restricted_symbols must be a collection of symbols, got {rs!r}")
        s(self, "restricted_symbols", frozenset(as_symbol(x, "restricted_symbols") for x in rs))

        # range checks, in the reference's order, then ours
        def bad(msg: str) -> RiskConfigError:
            return RiskConfigError(f"invalid RiskConfig: {msg}")

        x = self.max_position_pct
        if not (0.0 < x <= 1.0):
            raise bad(f"max_position_pct must be in (0, 1], got {_fmt(x)}")
        x = self.max_leverage
        if not (x >= 1.0 and math.isfinite(x)):
            raise bad(f"max_leverage must be >= 1.0 and finite, got {_fmt(x)}")
        x = self.max_drawdown_pct
        if not (0.0 <= x <= 1.0):
            raise bad(f"max_drawdown_pct must be in [0, 1], got {_fmt(x)}")
        x = self.max_short_pct
        if not (x >= 0.0 and math.isfinite(x)):
            raise bad(f"max_short_pct must be >= 0 and finite, got {_fmt(x)}")
        if self.max_order_value_cents < 0:
            raise bad(f"max_order_value_cents must be >= 0, got {self.max_order_value_cents}")
        if self.max_batch_value_cents < 0:
            raise bad(f"max_batch_value_cents must be >= 0, got {self.max_batch_value_cents}")
        x = self.max_trade_usd
        if not (x >= 0.0 and math.isfinite(x)):
            raise bad(f"max_trade_usd must be >= 0 and finite, got {_fmt(x)}")
        x = self.min_trade_usd
        if not (x >= 0.0 and math.isfinite(x)):
            raise bad(f"min_trade_usd must be >= 0 and finite, got {_fmt(x)}")
        dl = self.max_daily_loss_pct
        if dl is not None and not (0.0 <= dl <= 1.0):
            raise bad(f"max_daily_loss_pct must be in [0, 1], got {_fmt(dl)}")
        pc = self.price_collar_bps
        if pc is not None and not (pc >= 0.0 and math.isfinite(pc)):
            raise bad(f"price_collar_bps must be >= 0 and finite, got {_fmt(pc)}")

    # ---- construction from mappings / TOML

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> "RiskConfig":
        """Build from a mapping (e.g. a TOML ``[risk]`` table); unknown keys are rejected."""
        if not isinstance(table, Mapping):
            raise TypeError(f"risk table must be a mapping, got {type(table).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in table if k not in known)
        if unknown:
            raise RiskConfigError(
                f"invalid RiskConfig: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
            )
        return cls(**dict(table))

    @classmethod
    def from_toml(cls, source: str | bytes | "os.PathLike[str]", table: str | None = "risk") -> "RiskConfig":
        """Load from a TOML file path (or TOML text when it contains a newline or ``=``).

        Parameters
        ----------
        source : path or str
            A file path, or TOML text.
        table : str or None
            Dotted name of the table holding the limits (default ``"risk"``);
            ``None`` uses the document root. A missing table gives the defaults.
        """
        try:
            import tomllib  # type: ignore[import-not-found]
        except ModuleNotFoundError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        if isinstance(source, bytes):
            source = source.decode("utf-8")
        if isinstance(source, str) and ("\n" in source or "=" in source):
            doc = tomllib.loads(source)
        else:
            with open(os.fspath(source), "rb") as fh:
                doc = tomllib.load(fh)
        node: Any = doc
        if table:
            for part in table.split("."):
                if not isinstance(node, Mapping):
                    raise RiskConfigError(f"invalid RiskConfig: {table!r} is not a table")
                node = node.get(part, {})
        return cls.from_mapping(node)

    def to_mapping(self) -> dict[str, Any]:
        """Plain dict (TOML-serialisable; ``None`` fields omitted)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, frozenset):
                v = sorted(v)
            out[f.name] = v
        return out


# --------------------------------------------------------------------------
# engine

_SIGN = {"buy": 1, "sell": -1}


def _cmp(status: Status) -> str:
    return "<=" if status is Status.PASS else ">"


def _ratio_or_inf(num: int, equity: int) -> float:
    return float(num) / float(equity) if equity > 0 else math.inf


def _pct1(x: float) -> str:
    return fixed(x * 100.0, 1)


class RiskEngine:
    """Pre-trade risk checks (reference §11) plus collar, loss limits, kill switch.

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
        """Check one order; see :meth:`check_order`. Returns a :class:`RiskReport`."""
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

    def check_order(
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
    ) -> list[dict[str, str]]:
        """Check one order against the limits (reference §11).

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
        list of dict
            ``{"name", "status", "detail"}``: ``Max order value``, ``Max
            position``, ``Order size`` and (short sale when shorting is
            disallowed) ``Short selling``; then our checks when configured.

        Raises
        ------
        ValueError, TypeError, OverflowError
            Malformed arguments only; breaches are reported as ``FAIL``.
        """
        return self.evaluate_order(
            symbol,
            side,
            quantity,
            price_cents,
            equity_cents,
            positions,
            reference_price_cents=reference_price_cents,
            open_orders=open_orders,
        ).to_dicts()

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
            if day_start <= 0:
                d = Decision(
                    ReasonCode.DAILY_LOSS,
                    "Daily loss",
                    Status.FAIL,
                    f"start-of-day equity {day_start} is not positive",
                )
            else:
                loss = float(day_start - equity) / float(day_start)
                breach = daily_loss_pct_breached(day_start, equity, c.max_daily_loss_pct)
                st = Status.FAIL if breach else Status.PASS
                d = Decision(
                    ReasonCode.DAILY_LOSS,
                    "Daily loss",
                    st,
                    f"{_pct1(loss)}% daily loss {_cmp(st)} {_pct1(c.max_daily_loss_pct)}% limit",
                )
            out.append(d)
            if d.status is Status.FAIL:
                trip = f"daily loss: {d.detail}"
        if peak is not None:
            hwm = max(peak, equity)
            if hwm <= 0:
                d = Decision(
                    ReasonCode.DRAWDOWN, "Drawdown", Status.FAIL, f"equity high-water mark {hwm} is not positive"
                )
            else:
                dd = float(hwm - equity) / float(hwm)
                breach = drawdown_breached(hwm, equity, c.max_drawdown_pct)
                st = Status.FAIL if breach else Status.PASS
                d = Decision(
                    ReasonCode.DRAWDOWN,
                    "Drawdown",
                    st,
                    f"{_pct1(dd)}% drawdown {_cmp(st)} {_pct1(c.max_drawdown_pct)}% limit",
                )
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
        """Check a batch; see :meth:`check_batch`. Returns a :class:`RiskReport`."""
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

    def check_batch(
        self,
        orders: Sequence[tuple[str, str, int, int]],
        equity_cents: int,
        positions: Sequence[tuple[str, int]],
        target_weights: Sequence[tuple[str, float]],
        *,
        reference_prices: Mapping[str, int] | Sequence[tuple[str, int]] | None = None,
        open_orders: int = 0,
    ) -> list[dict[str, str]]:
        """Check a batch of orders (reference §11).

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
        list of dict
            The reference's checks in its order (``Max position``,
            ``Leverage``, ``Short selling``/``Short exposure``, ``Max order
            value``*, ``Max batch value``*, ``Max trade size``*, ``Order
            count``, ``Weight allocation``; * only when they fire), with ours
            inserted before ``Order count`` when they fire (``Post-trade
            position``, running ``Short selling``, ``Restricted symbol``,
            ``Price collar``) and appended at the end when configured
            (``Open orders``, ``Daily loss``, ``Drawdown``, ``Kill switch``).
        """
        return self.evaluate_batch(
            orders,
            equity_cents,
            positions,
            target_weights,
            reference_prices=reference_prices,
            open_orders=open_orders,
        ).to_dicts()
