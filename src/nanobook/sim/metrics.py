"""Prometheus metrics of a running simulation (``prometheus_client``, imported lazily).

Names (all prefixed ``nanobook_sim_``; the label ``symbol`` names the instrument):

==============================  =========  ==========================================
``events_total``                counter    exchange-side market rows processed
``orders_total``                counter    orders sent
``fills_total``                 counter    fills (one per execution)
``filled_qty_total``            counter    filled quantity (quantity units)
``fill_rate``                   gauge      fills / orders sent
``pnl``                         gauge      equity change since the start (currency)
``position``                    gauge      position (quantity units), exchange truth
``fees``                        gauge      fees paid (currency; negative: rebates)
``kill_switch``                 gauge      1 once the kill switch fired
``order_to_ack_seconds``        histogram  order sent -> ack received (local clock)
``tick_to_order_seconds``       histogram  market event at the exchange -> our order
                                           reaching the exchange (feed + decision +
                                           entry latency)
==============================  =========  ==========================================

Times are simulation time; the values are updated at every progress point
of the run (``progress_every`` exchange rows) and at the end, so a scrape
during the run sees the run so far and a scrape after it the final result.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SimMetrics", "METRIC_NAMES"]

METRIC_NAMES = ("events_total", "orders_total", "fills_total", "filled_qty_total", "fill_rate", "pnl",
                "position", "fees", "kill_switch", "order_to_ack_seconds", "tick_to_order_seconds")

_BUCKETS = (1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25,
            0.5, 1.0, 2.5, 5.0)


class SimMetrics:
    """The metric families in their own registry, and an HTTP endpoint on demand."""

    def __init__(self) -> None:
        try:
            import prometheus_client as pc
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("metrics need prometheus_client: pip install 'nanobook[sim]'") from exc
        self._pc = pc
        self.registry = pc.CollectorRegistry()
        r, lab = self.registry, ["symbol"]
        self.events = pc.Counter("nanobook_sim_events", "Exchange-side market rows processed", lab, registry=r)
        self.orders = pc.Counter("nanobook_sim_orders", "Orders sent", lab, registry=r)
        self.fills = pc.Counter("nanobook_sim_fills", "Fills", lab, registry=r)
        self.filled_qty = pc.Counter("nanobook_sim_filled_qty", "Filled quantity", lab, registry=r)
        self.fill_rate = pc.Gauge("nanobook_sim_fill_rate", "Fills per order sent", lab, registry=r)
        self.pnl = pc.Gauge("nanobook_sim_pnl", "Equity change since the start (currency)", lab, registry=r)
        self.position = pc.Gauge("nanobook_sim_position", "Position (quantity units)", lab, registry=r)
        self.fees = pc.Gauge("nanobook_sim_fees", "Fees paid (currency)", lab, registry=r)
        self.kill = pc.Gauge("nanobook_sim_kill_switch", "1 once the kill switch fired", lab, registry=r)
        self.ack = pc.Histogram("nanobook_sim_order_to_ack_seconds", "Order sent -> ack received",
                                lab, buckets=_BUCKETS, registry=r)
        self.t2o = pc.Histogram("nanobook_sim_tick_to_order_seconds",
                                "Market event at the exchange -> our order at the exchange",
                                lab, buckets=_BUCKETS, registry=r)
        self._seen: dict[str, dict] = {}
        self.server = None

    def serve(self, port: int, addr: str = "127.0.0.1"):
        """Expose ``/metrics`` on ``addr:port`` (a daemon thread); returns the server."""
        self.server, _thread = self._pc.start_http_server(port, addr=addr, registry=self.registry)
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def update(self, symbol: str, core) -> None:
        """Bring the metrics of ``symbol`` up to the state of a running ``SimCore``."""
        seen = self._seen.setdefault(symbol, {"events": 0, "orders": 0, "fills": 0, "qty": 0,
                                               "acked": np.zeros(0, bool), "arrived": np.zeros(0, bool)})
        position, _cash, fees, _mid, equity, n_fills = core.account()
        n_ev = core.n_exch_done
        self.events.labels(symbol).inc(n_ev - seen["events"])
        seen["events"] = n_ev
        orders = core.orders_array()
        n = len(orders)
        self.orders.labels(symbol).inc(n - seen["orders"])
        seen["orders"] = n
        if n_fills > seen["fills"]:
            fills = core.fills_array()[seen["fills"]:]
            self.fills.labels(symbol).inc(len(fills))
            q = int(fills["qty"].sum())
            self.filled_qty.labels(symbol).inc(q)
            seen["fills"] = n_fills
        self.fill_rate.labels(symbol).set(n_fills / n if n else 0.0)
        self.pnl.labels(symbol).set(float(equity) if np.isfinite(equity) else 0.0)
        self.position.labels(symbol).set(position)
        self.fees.labels(symbol).set(fees)
        self.kill.labels(symbol).set(1 if core.kill_rule else 0)
        for key, done, lat, hist in (("acked", orders["ack_ts"] >= 0, orders["ack_ts"] - orders["submit_ts"],
                                      self.ack),
                                     ("arrived", (orders["arrive_ts"] >= 0) & (orders["tick_ts"] >= 0),
                                      orders["arrive_ts"] - orders["tick_ts"], self.t2o)):
            old = seen[key]
            new = done.copy()
            new[:len(old)] &= ~old
            h = hist.labels(symbol)
            for v in lat[new]:
                h.observe(float(v) * 1e-9)
            seen[key] = done
