"""The exceptions of :mod:`nanobook_risk`: one small tree rooted in :class:`RiskError`.

A limit breach is never an exception (it is a ``FAIL`` decision, see
:mod:`nanobook_risk.decision`); these are for malformed configuration.
"""
from __future__ import annotations

__all__ = ["RiskError", "RiskConfigError"]


class RiskError(Exception):
    """Root of the exceptions raised by :mod:`nanobook_risk`."""


class RiskConfigError(RiskError, ValueError):
    """An invalid risk configuration (message starts ``invalid RiskConfig:``)."""
