"""Result of a simulation run: numpy arrays, summary metrics, pandas views."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .dtypes import BUY, ORDER_MARKET, SELL

__all__ = ["SimResult", "Summary", "markouts", "duration_label"]

_YEAR_NS = 365 * 24 * 3600 * 10**9
#: shortest run whose Sharpe ratio is annualised (shorter runs report per-record figures)
MIN_ANNUALISE_NS = 30 * 24 * 3600 * 10**9


def duration_label(ns: int) -> str:
    """A duration in the largest whole unit: ``1_000_000`` -> ``"1ms"``,
    ``100_000_000`` -> ``"100ms"``, ``1_500`` -> ``"1500ns"``."""
    ns = int(ns)
    for unit, size in (("h", 3600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns and ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


class Summary(dict):
    """The summary metrics: a dict (keys below) that prints as a short table.

    Markout keys are named in time units (``markout_100ms``); the former
    names in nanoseconds (``markout_100000000``) still read the same value."""

    def __missing__(self, key):
        if isinstance(key, str):
            head, _, ns = key.rpartition("_")
            if head in ("markout", "adverse") and ns.isdigit():
                new = f"{head}_{duration_label(int(ns))}"
                if new in self:
                    return self[new]
        raise KeyError(key)

    def __repr__(self) -> str:
        lines = []
        for k, v in self.items():
            if isinstance(v, float):
                txt = "nan" if math.isnan(v) else (f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.2f}")
            else:
                txt = str(v)
            lines.append(f"{k:>22}  {txt}")
        return "\n".join(lines)

    __str__ = __repr__


def _mid_at(bbo: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Exchange mid at times ``t`` (last BBO at or before t; NaN where a
    side is empty or t precedes the data)."""
    if len(bbo) == 0:
        return np.full(len(t), np.nan)
    i = np.searchsorted(bbo["ts"], t, side="right") - 1
    ok = i >= 0
    j = np.where(ok, i, 0)
    b, a = bbo["bid"][j], bbo["ask"][j]
    mid = np.where(ok & (b > 0) & (a > 0), 0.5 * (a + b), np.nan)
    return mid


def markouts(fills: np.ndarray, bbo: np.ndarray, horizons, end_ts: int | None = None) -> dict[int, float]:
    """Quantity-weighted mean markout per horizon, in price units.

    For a fill of side ``s`` (+1 buy, -1 sell) at price ``p`` and exchange
    time ``t``, the markout at horizon ``h`` is ``s * (mid(t + h) - p)``:
    positive when the price moved our way.  Fills whose ``t + h`` is past
    ``end_ts`` (the last market event) are left out; a horizon with no fill
    left gives NaN.
    """
    out = {}
    if len(fills) == 0:
        return {int(h): math.nan for h in horizons}
    sgn = np.where(fills["side"] == BUY, 1.0, -1.0)
    for h in horizons:
        t = fills["exch_ts"] + int(h)
        m = _mid_at(bbo, t)
        ok = np.isfinite(m)
        if end_ts is not None:
            ok &= t <= end_ts
        q = fills["qty"][ok].astype(float)
        out[int(h)] = float((sgn[ok] * (m[ok] - fills["price"][ok]) * q).sum() / q.sum()) if q.sum() else math.nan
    return out


@dataclass
class SimResult:
    """Everything a run produced.

    Attributes
    ----------
    fills : numpy.ndarray
        One row per fill (exchange time, report time, order id, side, price,
        qty, maker flag, fee, position and cash after it, exchange mid).
    orders : numpy.ndarray
        One row per order: request, arrival, ack and end times, status
        (0 pending, 1 open, 2 filled, 3 cancelled, 4 rejected) at the
        exchange and in the local view, leaves, fees, notional, the queue
        position when it ended.
    records : numpy.ndarray
        Equity and inventory sampled every ``record_interval`` ns of
        exchange time, and once at the end: bid, ask, mid, position, cash,
        equity = cash + position * mid * multiplier, fees, volume.
    bbo : numpy.ndarray
        Every change of the exchange-side best bid/ask (ts, bid, ask).
    responses : numpy.ndarray
        Every report sent to the strategy, in delivery order.
    """

    fills: np.ndarray
    orders: np.ndarray
    records: np.ndarray
    bbo: np.ndarray
    responses: np.ndarray
    multiplier: float
    record_interval: int
    n_events: int
    decisions: int
    rejected_by_risk: int
    final: dict = field(default_factory=dict)
    # final: position, cash, fees, volume (exchange truth) and end_ts, the
    # exchange time of the last market event
    initial_capital: float = 0.0
    kill: dict | None = None
    # kill: the kill switch's event (rule, exch_ts, equity, high_water_mark,
    # day_start) or None when it did not fire

    def __repr__(self) -> str:
        dur = self.duration_ns
        ks = "" if self.kill is None else f", killed by {self.kill['rule']} at {self.kill['exch_ts']}"
        return (f"SimResult({self.n_events:,} events over {dur / 1e9:,.1f} s, {len(self.orders):,} orders, "
                f"{len(self.fills):,} fills, position {self.position}, pnl {self.pnl:,.6g}{ks})")

    @property
    def duration_ns(self) -> int:
        """Exchange time covered by the data (last - first market event), ns."""
        a, b = self.final.get("start_ts"), self.final.get("end_ts")
        return int(b - a) if a is not None and b is not None else 0

    @property
    def position(self) -> int:
        """Final position (exchange truth)."""
        return int(self.final["position"])

    @property
    def cash(self) -> float:
        """Final cash (exchange truth), currency."""
        return float(self.final["cash"])

    @property
    def fees(self) -> float:
        """Total fees paid (negative: net rebates), currency."""
        return float(self.final["fees"])

    @property
    def final_mid(self) -> float:
        """Last exchange mid (NaN if never two-sided)."""
        ok = (self.bbo["bid"] > 0) & (self.bbo["ask"] > 0)
        if not ok.any():
            return math.nan
        r = self.bbo[ok][-1]
        return 0.5 * (int(r["bid"]) + int(r["ask"]))

    @property
    def pnl(self) -> float:
        """Final equity: cash + position * last mid * multiplier (start is 0)."""
        if self.position == 0:
            return self.cash
        return self.cash + self.position * self.final_mid * self.multiplier

    def summary(self, horizons=(10**6, 10**8, 10**9), year_ns: int = _YEAR_NS) -> Summary:
        """Summary metrics (a dict that prints as a short table).

        Parameters
        ----------
        horizons : iterable of int
            Markout horizons (ns) for the adverse-selection figures.
        year_ns : int
            Length of a year of trading in ns, to annualise the Sharpe ratio
            (default 365 days of 24 h; 252 * 6.5 h for US equities).

        Returns
        -------
        Summary
            ``pnl``, ``fees``, ``position``, ``max_inventory`` (max
            ``|position|``), ``n_orders``, ``n_fills``, ``filled_qty``,
            ``fill_ratio`` (filled / sent quantity of limit orders),
            ``order_fill_ratio`` (limit orders with any fill / sent),
            ``maker_share`` (of filled quantity), ``turnover`` (traded
            notional, currency), ``duration_s`` (exchange time the data
            covers), ``pnl_per_hour`` (pnl / duration), ``sharpe`` (mean /
            std of the equity changes between records: a per-record figure,
            ``record_interval`` long) and ``sharpe_annual`` (times
            sqrt(year_ns / record_interval)) — **NaN unless the run covers at
            least 30 days**: a few seconds or hours of a market maker's
            P&L say nothing about a year —, ``markout_<h>`` (mean markout in
            price units, positive = favourable; ``h`` in time units, e.g.
            ``markout_100ms``) and ``adverse_<h>`` (its negative) per
            horizon, ``decisions`` (strategy calls), ``rejected_by_risk``,
            ``kill_rule`` and ``kill_ts`` (the kill switch; None if it did
            not fire).
        """
        f, o = self.fills, self.orders
        limit = (o["flags"] & ORDER_MARKET) == 0 if len(o) else np.zeros(0, bool)
        sent = o["qty"][limit].sum() if len(o) else 0
        filled_limit = (o["qty"] - o["leaves"])[limit].sum() if len(o) else 0
        eq = self.records["equity"] if len(self.records) else np.zeros(0)
        d = np.diff(eq)
        sd = float(d.std(ddof=1)) if len(d) > 1 else math.nan
        sharpe = float(d.mean() / sd) if len(d) > 1 and sd > 0 else math.nan
        dur = self.duration_ns
        long_enough = dur >= MIN_ANNUALISE_NS
        ann = math.sqrt(year_ns / self.record_interval) if self.record_interval and long_enough else math.nan
        end_ts = self.final.get("end_ts")
        out = Summary({
            "pnl": self.pnl,
            "fees": self.fees,
            "position": self.position,
            "max_inventory": int(np.abs(f["position"]).max()) if len(f) else 0,
            "n_orders": int(len(o)),
            "n_fills": int(len(f)),
            "filled_qty": int(f["qty"].sum()) if len(f) else 0,
            "fill_ratio": float(filled_limit / sent) if sent else math.nan,
            "order_fill_ratio": float(((o["qty"] > o["leaves"]) & limit).sum() / limit.sum()) if limit.sum() else math.nan,
            "maker_share": float(f["qty"][f["maker"] == 1].sum() / f["qty"].sum()) if len(f) else math.nan,
            "turnover": float((f["price"].astype(float) * f["qty"]).sum() * self.multiplier) if len(f) else 0.0,
            "duration_s": dur / 1e9,
            "pnl_per_hour": self.pnl / (dur / 3.6e12) if dur > 0 else math.nan,
            "sharpe": sharpe,
            "sharpe_annual": sharpe * ann if math.isfinite(sharpe) and math.isfinite(ann) else math.nan,
            "decisions": self.decisions,
            "rejected_by_risk": self.rejected_by_risk,
            "kill_rule": None if self.kill is None else self.kill["rule"],
            "kill_ts": None if self.kill is None else self.kill["exch_ts"],
        })
        for h, m in markouts(f, self.bbo, horizons, end_ts).items():
            lab = duration_label(h)
            out[f"markout_{lab}"] = m
            out[f"adverse_{lab}"] = -m if math.isfinite(m) else math.nan
        return out

    def plot(self, price_scale: float = 1.0):
        """Equity (P&L), inventory, and the fills on the exchange mid (three
        panels sharing the time axis); returns the matplotlib figure.
        ``price_scale`` converts price units for display (e.g. 0.01)."""
        import matplotlib.pyplot as plt
        fig, (a1, a2, a3) = plt.subplots(3, 1, sharex=True, figsize=(9, 7))
        rec = self.records_frame()
        if len(rec):
            a1.plot(rec.index, rec["equity"])
            a2.step(rec.index, rec["position"], where="post")
        a1.set_ylabel("equity (P&L)")
        a2.set_ylabel("position")
        b = self.bbo
        ok = (b["bid"] > 0) & (b["ask"] > 0)
        if ok.any():
            a3.plot(self._time_index(b["ts"][ok]), 0.5 * (b["bid"][ok] + b["ask"][ok]) * price_scale,
                    lw=0.6, color="grey", label="mid")
        f = self.fills
        for side, mk, col, lab in ((BUY, "^", "tab:green", "buy"), (SELL, "v", "tab:red", "sell")):
            m = f["side"] == side
            if m.any():
                a3.scatter(self._time_index(f["exch_ts"][m]), f["price"][m] * price_scale, marker=mk, s=14,
                           color=col, label=lab, zorder=3)
        a3.set_ylabel("price")
        a3.legend(loc="best")
        fig.suptitle(repr(self), fontsize=8)
        return fig

    # ------------------------------------------------------------ pandas views

    @staticmethod
    def _time_index(ns, name: str = "time"):
        import pandas as pd
        return pd.DatetimeIndex(pd.to_datetime(np.asarray(ns), unit="ns", utc=True), name=name)

    def fills_frame(self):
        """Fills as a pandas DataFrame indexed by exchange time (UTC)."""
        import pandas as pd
        df = pd.DataFrame(self.fills)
        df.index = self._time_index(df["exch_ts"])
        return df

    def records_frame(self):
        """Equity/inventory records indexed by exchange time (UTC): bid, ask,
        mid, position, cash, equity (P&L, 0 at the start), fees, volume, and
        ``account`` (initial capital + equity) when a capital was given."""
        import pandas as pd
        df = pd.DataFrame(self.records)
        df.index = self._time_index(df["ts"])
        if self.initial_capital:
            df["account"] = self.initial_capital + df["equity"]
        return df

    def orders_frame(self):
        """Order history as a pandas DataFrame indexed by order id, with the
        order-to-ack latency (``ack_latency_ns`` = ack at the strategy -
        send) and the tick-to-order latency (``tick_to_order_ns`` = arrival
        at the exchange - exchange time of the market event the strategy
        last saw when it sent the order)."""
        import pandas as pd
        df = pd.DataFrame(self.orders).set_index("order_id")
        df["ack_latency_ns"] = np.where(df["ack_ts"] >= 0, df["ack_ts"] - df["submit_ts"], -1)
        df["tick_to_order_ns"] = np.where((df["tick_ts"] >= 0) & (df["arrive_ts"] >= 0),
                                          df["arrive_ts"] - df["tick_ts"], -1)
        return df

    def markouts_frame(self, horizons=(10**6, 10**8, 10**9)):
        """One row per fill (indexed by exchange time, UTC) with its markout
        at each horizon in price units, columns named in time units
        (``markout_1ms``, ``markout_100ms``, ``markout_1s``); NaN where
        ``t + h`` is past the data."""
        import pandas as pd
        f = self.fills
        df = pd.DataFrame({"side": f["side"], "price": f["price"], "qty": f["qty"]},
                          index=self._time_index(f["exch_ts"]))
        sgn = np.where(f["side"] == BUY, 1.0, -1.0)
        end_ts = self.final.get("end_ts")
        for h in horizons:
            t = f["exch_ts"] + int(h)
            m = _mid_at(self.bbo, t)
            v = sgn * (m - f["price"])
            if end_ts is not None:
                v = np.where(t <= end_ts, v, np.nan)
            df[f"markout_{duration_label(h)}"] = v
        return df
