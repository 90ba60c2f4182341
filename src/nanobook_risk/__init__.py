"""Pre-trade risk checks for nanobook: decisions as values, never exceptions.

>>> from nanobook_risk import RiskEngine
>>> eng = RiskEngine(max_position_pct=0.25)
>>> eng.check_order("AAPL", "buy", 100, 15000, 100_000_000, [])[1]["status"]
'PASS'
"""
from .config import RiskConfig
from .decision import Decision, ReasonCode, RiskReport, Status
from .engine import RiskEngine
from .errors import RiskConfigError, RiskError

__all__ = [
    "Decision",
    "ReasonCode",
    "RiskConfig",
    "RiskConfigError",
    "RiskEngine",
    "RiskError",
    "RiskReport",
    "Status",
]
