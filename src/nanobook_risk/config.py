"""The validated limits of the risk engine (:class:`RiskConfig`), from arguments, a mapping or TOML."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from nanobook.validate import as_bool, as_float, as_i64, as_symbol, as_u64

from nanobook.fmt import display
from .errors import RiskConfigError

__all__ = ["RiskConfig"]


def _fmt(x: float) -> str:
    return display(x)


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
