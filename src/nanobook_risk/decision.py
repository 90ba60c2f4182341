"""What a check produces: :class:`Decision` values collected in a :class:`RiskReport`.

Each decision has a :class:`Status` (``PASS``/``WARN``/``FAIL``) and a stable
:class:`ReasonCode`; ``as_dict``/``to_dicts`` give the reference's
``{"name", "status", "detail"}`` form.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterator

__all__ = ["Status", "ReasonCode", "Decision", "RiskReport"]


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
