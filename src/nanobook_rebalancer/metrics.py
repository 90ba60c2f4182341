"""Optional Prometheus metrics (``[metrics] port``; 0 disables).

Counters ``nanobook_rebalance_orders_sent_total``,
``nanobook_rebalance_orders_rejected_total``,
``nanobook_rebalance_filled_quantity_total`` and the histogram
``nanobook_rebalance_order_latency_seconds`` (submit to final state), served by
``prometheus_client`` on ``address:port`` for the life of the process.
"""
from __future__ import annotations

from typing import Any

from .errors import ConfigError

__all__ = ["Metrics", "start_metrics"]


class Metrics:
    """No-op unless built by :func:`start_metrics` with a port."""

    def __init__(self) -> None:
        self._sent: Any = None
        self._rejected: Any = None
        self._filled: Any = None
        self._latency: Any = None

    def sent(self) -> None:
        if self._sent is not None:
            self._sent.inc()

    def rejected(self) -> None:
        if self._rejected is not None:
            self._rejected.inc()

    def filled(self, quantity: int) -> None:
        if self._filled is not None and quantity > 0:
            self._filled.inc(quantity)

    def latency(self, secs: float) -> None:
        if self._latency is not None:
            self._latency.observe(secs)


def start_metrics(port: int, address: str = "127.0.0.1") -> Metrics:
    """Start the exporter (``port > 0``) and return live metrics; no-op for 0.

    Raises
    ------
    ConfigError
        If ``prometheus_client`` is not installed or the port cannot be bound.
    """
    m = Metrics()
    if not port:
        return m
    try:
        import prometheus_client as pc
    except ImportError as exc:
        raise ConfigError("metrics.port is set but prometheus_client is not installed; "
                          "pip install 'nanobook[rebalancer]'") from exc
    reg = pc.CollectorRegistry()
    m._sent = pc.Counter("nanobook_rebalance_orders_sent", "Orders sent", registry=reg)
    m._rejected = pc.Counter("nanobook_rebalance_orders_rejected", "Orders rejected", registry=reg)
    m._filled = pc.Counter("nanobook_rebalance_filled_quantity", "Filled quantity", registry=reg)
    m._latency = pc.Histogram("nanobook_rebalance_order_latency_seconds",
                              "Submit to final state", registry=reg)
    try:
        pc.start_http_server(port, addr=address, registry=reg)
    except OSError as exc:
        raise ConfigError(f"metrics.port: cannot listen on {address}:{port}: {exc.strerror}") from exc
    return m
