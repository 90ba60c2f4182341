"""What nanobook_risk offers to ``nanobook.capabilities()``.

Declared as entry points of the group ``nanobook.capabilities`` in
pyproject.toml (name -> probe); the core reads that group and never names
this package.
"""


def risk_engine() -> bool:
    """The pre-trade RiskEngine imports and builds with its defaults."""
    from . import RiskEngine

    return RiskEngine() is not None
