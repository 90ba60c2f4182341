"""The run's tables and a one-file HTML report (matplotlib, imported lazily)."""
from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np

from .dtypes import BUY, SELL
from .result import SimResult, duration_label

__all__ = ["write_tables", "write_report", "PANELS"]

#: the report's panels, in order
PANELS = ("Equity and P&L", "Inventory", "Fills on the price path", "Order-to-ack latency",
          "Fill report latency", "Queue position at fill", "Markouts")

_HORIZONS = (10**6, 10**7, 10**8, 10**9, 10 * 10**9)


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(v) else float(v)
    return v


def write_tables(res: SimResult, out: Path, prefix: str = "") -> list[Path]:
    """fills.csv, orders.csv, records.csv, markouts.csv and summary.json in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in (("fills", res.fills_frame()), ("orders", res.orders_frame()),
                     ("records", res.records_frame()), ("markouts", res.markouts_frame(_HORIZONS))):
        p = out / f"{prefix}{name}.csv"
        df.to_csv(p)
        paths.append(p)
    p = out / f"{prefix}summary.json"
    s = {k: _jsonable(v) for k, v in res.summary().items()}
    s["kill"] = res.kill
    p.write_text(json.dumps(s, indent=2))
    paths.append(p)
    return paths


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _figures(res: SimResult, price_scale: float) -> list[tuple[str, str]]:
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    rec, f, o = res.records_frame(), res.fills, res.orders
    out = []
    fig, ax = plt.subplots(figsize=(9, 3))
    if len(rec):
        ax.plot(rec.index, rec["equity"], label="equity (P&L)")
        ax.plot(rec.index, -rec["fees"], label="-fees", alpha=0.7)
        ax.legend()
    ax.set_ylabel("currency")
    out.append((PANELS[0], _png(fig)))
    fig, ax = plt.subplots(figsize=(9, 2.5))
    if len(rec):
        ax.step(rec.index, rec["position"], where="post")
    ax.set_ylabel("position")
    out.append((PANELS[1], _png(fig)))
    fig, ax = plt.subplots(figsize=(9, 3.5))
    b = res.bbo
    ok = (b["bid"] > 0) & (b["ask"] > 0)
    if ok.any():
        t = SimResult._time_index(b["ts"][ok])
        ax.plot(t, 0.5 * (b["bid"][ok] + b["ask"][ok]) * price_scale, lw=0.6, color="grey", label="mid")
    for side, mk, col, lab in ((BUY, "^", "tab:green", "buy fills"), (SELL, "v", "tab:red", "sell fills")):
        m = f["side"] == side
        if m.any():
            ax.scatter(SimResult._time_index(f["exch_ts"][m]), f["price"][m] * price_scale, marker=mk, s=14,
                       color=col, label=lab, zorder=3)
    ax.legend(loc="best")
    ax.set_ylabel("price")
    out.append((PANELS[2], _png(fig)))
    for title, v in ((PANELS[3], (o["ack_ts"] - o["submit_ts"])[o["ack_ts"] >= 0]),
                     (PANELS[4], f["local_ts"] - f["exch_ts"])):
        fig, ax = plt.subplots(figsize=(4.5, 2.5))
        if len(v):
            ax.hist(np.asarray(v) / 1e6, bins=40)
        ax.set_xlabel("ms")
        out.append((title, _png(fig)))
    fig, ax = plt.subplots(figsize=(4.5, 2.5))
    filled = o[(o["qty"] > o["leaves"]) & (o["ahead0"] >= 0)]
    if len(filled):
        ax.hist(filled["ahead0"], bins=40)
    ax.set_xlabel("quantity ahead when the order joined the queue (filled orders)")
    out.append((PANELS[5], _png(fig)))
    fig, ax = plt.subplots(figsize=(4.5, 2.5))
    mk = res.markouts_frame(_HORIZONS)
    cols = [c for c in mk.columns if c.startswith("markout_")]
    if len(mk):
        w = mk["qty"].to_numpy(float)
        vals = [np.nansum(mk[c] * w) / w[np.isfinite(mk[c])].sum() if np.isfinite(mk[c]).any() else np.nan
                for c in cols]
        ax.plot([c[len("markout_"):] for c in cols], np.asarray(vals) * price_scale, marker="o")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("mean markout (price, + = our way)")
    out.append((PANELS[6], _png(fig)))
    return out


def write_report(res: SimResult, path: Path, *, title: str = "nanobook.sim run", config_text: str = "",
                 price_scale: float = 1.0) -> Path:
    """A self-contained HTML page: summary table, the :data:`PANELS`, the config."""
    s = res.summary(_HORIZONS)
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in s.items())
    figs = "".join(f'<figure><figcaption>{html.escape(t)}</figcaption><img src="data:image/png;base64,{b}"></figure>'
                   for t, b in _figures(res, price_scale))
    kill = "" if res.kill is None else (f"<p><b>Kill switch fired</b>: rule <code>{res.kill['rule']}</code> at "
                                        f"exchange time {res.kill['exch_ts']} (equity {res.kill['equity']:.6g}).</p>")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:2px 8px;text-align:left}}figure{{display:inline-block;margin:1em}}</style>
</head><body><h1>{html.escape(title)}</h1><p>{html.escape(repr(res))}</p>{kill}
<h2>Summary</h2><p>Markout horizons: {", ".join(duration_label(h) for h in _HORIZONS)}.</p><table>{rows}</table>
<h2>Panels</h2>{figs}<h2>Configuration</h2><pre>{html.escape(config_text)}</pre></body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path
