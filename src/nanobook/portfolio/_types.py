"""Small value types of the backtester: ``BarPrices`` and ``FillPolicy``."""
from __future__ import annotations

from typing import Any

from ._checks import int_arg

__all__ = ["BarPrices", "FillPolicy"]


class BarPrices(tuple):
    """One bar of integer-cent prices: ``open, high, low, close``.

    A 4-tuple (so it unpacks and converts to arrays cheaply) with named
    fields. Not validated at construction (as in the reference);
    ``backtest_weights`` rejects negative components and ``high < low``.
    """

    __slots__ = ()

    def __new__(cls, open: int, high: int, low: int, close: int) -> "BarPrices":  # noqa: A002
        if type(open) is int and type(high) is int and type(low) is int and type(close) is int:
            return tuple.__new__(cls, (open, high, low, close))
        return tuple.__new__(cls, (int_arg(open, "open"), int_arg(high, "high"), int_arg(low, "low"),
                                   int_arg(close, "close")))

    @property
    def open(self) -> int:
        return self[0]

    @property
    def high(self) -> int:
        return self[1]

    @property
    def low(self) -> int:
        return self[2]

    @property
    def close(self) -> int:
        return self[3]

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self) -> str:
        return f"BarPrices(open={self[0]}, high={self[1]}, low={self[2]}, close={self[3]})"


class FillPolicy:
    """At which price a period's target weights are filled.

    * ``FillPolicy.SignalBarClose`` — at the close of the bar that produced
      the signal (same period);
    * ``FillPolicy.NextBarOpen`` — at the next bar's open;
    * ``FillPolicy.NextBarTypical`` — at the next bar's ``(high + low + close) // 3``.

    Use the class attributes or the static constructors
    (``FillPolicy.next_bar_open()``); the strings ``"signal_bar_close"``,
    ``"next_bar_open"``, ``"next_bar_typical"`` are accepted by
    ``backtest_weights`` as well.
    """

    __slots__ = ("_name",)
    SignalBarClose: "FillPolicy"
    NextBarOpen: "FillPolicy"
    NextBarTypical: "FillPolicy"

    def __init__(self, name: str) -> None:
        if name not in ("SignalBarClose", "NextBarOpen", "NextBarTypical"):
            raise ValueError(
                f"fill policy must be SignalBarClose, NextBarOpen or NextBarTypical, got {name!r}"
            )
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @staticmethod
    def signal_bar_close() -> "FillPolicy":
        return FillPolicy.SignalBarClose

    @staticmethod
    def next_bar_open() -> "FillPolicy":
        return FillPolicy.NextBarOpen

    @staticmethod
    def next_bar_typical() -> "FillPolicy":
        return FillPolicy.NextBarTypical

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FillPolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"FillPolicy.{self._name}"

    def __reduce__(self):
        return (FillPolicy, (self._name,))

    @staticmethod
    def coerce(x: Any) -> "FillPolicy":
        """A ``FillPolicy`` from an instance, None (= SignalBarClose) or a name."""
        if x is None:
            return FillPolicy.SignalBarClose
        if isinstance(x, FillPolicy):
            return x
        if isinstance(x, str):
            key = x.replace("_", "").replace("-", "").lower()
            for p in (FillPolicy.SignalBarClose, FillPolicy.NextBarOpen, FillPolicy.NextBarTypical):
                if p._name.lower() == key:
                    return p
            raise ValueError(
                f"fill_policy must be 'signal_bar_close', 'next_bar_open' or 'next_bar_typical', got {x!r}"
            )
        raise TypeError(f"fill_policy must be a FillPolicy, got {type(x).__name__}")


FillPolicy.SignalBarClose = FillPolicy("SignalBarClose")
FillPolicy.NextBarOpen = FillPolicy("NextBarOpen")
FillPolicy.NextBarTypical = FillPolicy("NextBarTypical")
