"""Account limits shared by the pre-trade risk engine and the simulator's kill switch.

One definition of each loss/position rule, in the core package, so that the
pre-trade risk engine (the risk package, one layer up, which calls these
functions) and ``nanobook.sim`` (the core) trip on exactly the same
comparison; the core never imports the layer above.

Rules (names are the risk engine's reason codes and the ``rule`` of a
simulation's kill event; every comparison is strict and exact, so a value
exactly at its limit passes):

=================  =========================================================
``max_position``   ``|position| > max_position`` (quantity units)
``drawdown``       ``hwm - equity > max_drawdown_pct * hwm`` (hwm = the
                   equity high-water mark, this value included)
``daily_loss``     ``day_start - equity > max_daily_loss`` (currency; the
                   start of day is the equity at the day's first mark) or,
                   as a fraction, ``day_start - equity > pct * day_start``
=================  =========================================================

Numbers are compared as exact rationals (:class:`fractions.Fraction` of the
given ints or floats), never after a rounding.  The config keys of a
``[risk]`` table are those of the seed configuration: ``max_position``,
``max_drawdown_pct``, ``max_daily_loss``, ``enable_kill_switch``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from .validate import is_int, is_real

__all__ = [
    "MAX_POSITION", "DRAWDOWN", "DAILY_LOSS", "KILL_SWITCH", "RULES", "CONFIG_KEYS",
    "position_breached", "drawdown_breached", "daily_loss_breached", "daily_loss_pct_breached",
    "KillSwitchLimits",
]

MAX_POSITION = "max_position"
DRAWDOWN = "drawdown"
DAILY_LOSS = "daily_loss"
KILL_SWITCH = "kill_switch"
#: rule names in the order they are evaluated (the first that fails fires)
RULES = (MAX_POSITION, DRAWDOWN, DAILY_LOSS)
#: keys of a ``[risk]`` table read by :meth:`KillSwitchLimits.from_mapping`
CONFIG_KEYS = ("max_position", "max_drawdown_pct", "max_daily_loss", "enable_kill_switch")


def _q(x):
    """Exact rational of an int or float (fractions is imported on first use:
    ``import nanobook`` stays light)."""
    from fractions import Fraction
    return Fraction(x)


def position_breached(position: int, max_position: int) -> bool:
    """``|position| > max_position``: at the limit passes."""
    return abs(position) > max_position


def drawdown_breached(hwm, equity, max_drawdown_pct) -> bool:
    """``hwm - equity > max_drawdown_pct * hwm``, exactly (at the limit passes)."""
    h = _q(hwm)
    return h - _q(equity) > _q(max_drawdown_pct) * h


def daily_loss_breached(day_start, equity, max_daily_loss) -> bool:
    """``day_start - equity > max_daily_loss`` (currency), exactly."""
    return _q(day_start) - _q(equity) > _q(max_daily_loss)


def daily_loss_pct_breached(day_start, equity, max_daily_loss_pct) -> bool:
    """``day_start - equity > max_daily_loss_pct * day_start``, exactly."""
    d = _q(day_start)
    return d - _q(equity) > _q(max_daily_loss_pct) * d


def _number(name: str, v, *, integer: bool = False, lo: float = 0.0, hi: float | None = None):
    if v is None:
        return None
    if not (is_int(v) if integer else is_real(v)):
        kind = "an int" if integer else "a number"
        raise TypeError(f"{name} must be {kind}, got {v!r}")
    if not math.isfinite(v) or v < lo or (hi is not None and v > hi):
        rng = f"[{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"
        raise ValueError(f"{name} must be finite and in {rng}, got {v!r}")
    return v


@dataclass(frozen=True)
class KillSwitchLimits:
    """The kill switch's limits; ``None`` disables a rule.

    Parameters
    ----------
    max_position : int or None
        Largest ``|position|`` (quantity units), >= 0.
    max_drawdown_pct : float or None
        Largest drawdown from the equity high-water mark, in [0, 1].
    max_daily_loss : float or None
        Largest loss since the start of the UTC day (currency), >= 0.
    enable_kill_switch : bool
        False keeps the limits for reporting but never fires.
    """

    max_position: int | None = None
    max_drawdown_pct: float | None = None
    max_daily_loss: float | None = None
    enable_kill_switch: bool = True

    def __post_init__(self) -> None:
        _number("max_position", self.max_position, integer=True, hi=2**63 - 1)
        _number("max_drawdown_pct", self.max_drawdown_pct, hi=1.0)
        _number("max_daily_loss", self.max_daily_loss)
        if not isinstance(self.enable_kill_switch, bool):
            raise TypeError(f"enable_kill_switch must be a bool, got {self.enable_kill_switch!r}")

    @property
    def active(self) -> bool:
        """True when enabled and at least one limit is set."""
        return self.enable_kill_switch and any(
            v is not None for v in (self.max_position, self.max_drawdown_pct, self.max_daily_loss))

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "risk") -> "KillSwitchLimits":
        """From a ``[risk]`` table; an unknown key raises ``ValueError`` naming it."""
        if not isinstance(table, Mapping):
            raise TypeError(f"[{where}] must be a table, got {type(table).__name__}")
        for k in table:
            if k not in CONFIG_KEYS:
                raise ValueError(f"[{where}] unknown key {k!r} (known: {', '.join(CONFIG_KEYS)})")
        try:
            return cls(**dict(table))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"[{where}] {exc}") from None

    def breached(self, position: int, hwm, day_start, equity) -> str | None:
        """The first rule of :data:`RULES` that fails for these values, or None."""
        if not self.enable_kill_switch:
            return None
        if self.max_position is not None and position_breached(position, self.max_position):
            return MAX_POSITION
        if self.max_drawdown_pct is not None and drawdown_breached(hwm, equity, self.max_drawdown_pct):
            return DRAWDOWN
        if self.max_daily_loss is not None and daily_loss_breached(day_start, equity, self.max_daily_loss):
            return DAILY_LOSS
        return None
