"""Queue-position models for resting orders on level-2 data.

With L2 data the queue at a price is one number, so where our order stands
in it has to be estimated.  On arrival our order joins the back: ``ahead``
is the visible quantity at its price.  Trades at our price (aggressor on the
other side) advance it one for one, and the part of a trade beyond ``ahead``
fills us.  The models differ in what a *decrease* of the level that is not
explained by trades (a cancel) does:

* :class:`RiskAverse` — nothing: only trades advance us.  ``ahead`` is only
  clipped to the level's size (we cannot be behind more than is there).
* :class:`PowerProb` — the cancelled quantity ``d`` is split between the
  front (``a`` = ahead) and the back (``b`` = level - a) with weight
  ``f(a) / (f(a) + f(b))`` on the front, ``f(x) = x**n``; what the back
  cannot absorb also comes from the front.
* :class:`LogProb` — the same split with ``f(x) = log(1 + x)``.

For L3 (order-level) rows the position is exact whatever model is chosen:
a cancel or execution of an order added before ours advances us by its size.
See ``docs/sim.md`` for the formulas and the literature.

The set of models is closed: each class is a tag (``_kind``, a QUEUE_* code
of ``nanobook/sim/dtypes.py``) that the compiled event loop switches on
without the GIL, once per level update at a price where we rest; calling a
Python method there would take the GIL on the hottest path.  A new model
is a new tag and a new branch in ``nanobook/sim/_core.pyx``, not a subclass.
"""
from __future__ import annotations

import math

from ..validate import real
from .dtypes import QUEUE_LOG, QUEUE_POWER, QUEUE_RISK_AVERSE

__all__ = ["RiskAverse", "PowerProb", "LogProb", "as_queue_model"]


class RiskAverse:
    """Only trades advance the queue position (the most conservative model)."""

    _kind = QUEUE_RISK_AVERSE
    power = 0.0

    def __repr__(self) -> str:
        return "RiskAverse()"


class PowerProb:
    """Cancels come from the front with probability ``a**n / (a**n + b**n)``.

    Parameters
    ----------
    n : float
        Exponent > 0.  ``n = 1`` spreads cancels in proportion to size;
        larger ``n`` sends them to whichever side of us is bigger.
    """

    _kind = QUEUE_POWER

    def __init__(self, n: float = 2.0) -> None:
        real(n, "n", gt=0, finite=True)
        self.power = float(n)

    def __repr__(self) -> str:
        return f"PowerProb({self.power})"


class LogProb:
    """Cancels come from the front with probability
    ``log(1+a) / (log(1+a) + log(1+b))``."""

    _kind = QUEUE_LOG
    power = 0.0

    def __repr__(self) -> str:
        return "LogProb()"


def as_queue_model(x):
    """A queue model from a model instance or its name
    (``"risk_averse"``, ``"power"``, ``"log"``)."""
    if isinstance(x, (RiskAverse, PowerProb, LogProb)):
        return x
    names = {"risk_averse": RiskAverse, "power": PowerProb, "log": LogProb}
    if isinstance(x, str) and x in names:
        return names[x]()
    raise ValueError(f"queue_model must be RiskAverse(), PowerProb(n), LogProb() or one of "
                     f"{sorted(names)}, got {x!r}")
