"""What nanobook_broker offers to ``nanobook.capabilities()``.

Declared as entry points of the group ``nanobook.capabilities`` in
pyproject.toml (``broker_<kind>`` -> one probe here each); the core reads that
group and never names this package.  Each probe only looks the SDK up
(:func:`nanobook_broker.available_brokers`), it imports none.
"""
from . import available_brokers


def broker_paper() -> bool:
    return "paper" in available_brokers()


def broker_ibkr() -> bool:
    return "ibkr" in available_brokers()


def broker_binance() -> bool:
    return "binance" in available_brokers()
