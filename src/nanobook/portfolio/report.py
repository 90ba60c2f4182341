"""Tear-sheet figure (matplotlib) and a self-contained HTML report.

``tear_sheet_figure`` draws four panels: the equity curve, the drawdown
(underwater) curve, the rolling Sharpe ratio and the per-chunk ("monthly",
21 periods, as the reference's tear sheet) returns. ``save_report`` writes a
PNG and an HTML page (metrics table, figure embedded, drawdown episodes).
matplotlib is imported here only, through the object API (no pyplot state,
no display needed).
"""
from __future__ import annotations

import base64
import html
import io
import os
from typing import Any, Mapping

import numpy as np

from .attribution import tear_sheet
from .metrics import Metrics, compute_metrics

__all__ = ["tear_sheet_figure", "save_report", "metrics_table"]


def _equity_and_index(result: Mapping[str, Any]) -> tuple[np.ndarray, Any]:
    scale = getattr(result, "scale", 100.0)
    eq = np.asarray(result["equity_curve"][1:], dtype=np.float64) / scale
    idx = None
    dense = getattr(result, "_dense", None)
    if dense is not None and dense.index is not None:
        idx = dense.index
    if idx is None:
        idx = np.arange(len(eq))
    return eq, idx


def tear_sheet_figure(result: Mapping[str, Any], rolling_window: int = 63, periods_per_year: int = 252,
                      title: str = "") -> Any:
    """A matplotlib ``Figure`` summarising a ``backtest_weights`` result."""
    from matplotlib.figure import Figure

    eq, idx = _equity_and_index(result)
    ts = tear_sheet(result, rolling_window, periods_per_year)
    peak = np.maximum.accumulate(eq) if len(eq) else eq
    with np.errstate(invalid="ignore", divide="ignore"):
        dd = np.where(peak > 0, eq / peak - 1.0, 0.0)
    fig = Figure(figsize=(11, 9), constrained_layout=True)
    axes = fig.subplots(4, 1, gridspec_kw={"height_ratios": [3, 1.3, 1.3, 1.6]})
    ax = axes[0]
    ax.plot(idx, eq, color="#1f4e79", lw=1.4)
    ax.set_ylabel("equity")
    m = result.get("metrics")
    head = title or "Backtest"
    if isinstance(m, Metrics):
        head += (f"  |  total {m.total_return:+.1%}  CAGR {m.cagr:+.1%}  Sharpe {m.sharpe:.2f}"
                 f"  max DD {m.max_drawdown:.1%}")
    ax.set_title(head, fontsize=11)
    ax.grid(alpha=0.3)
    ax = axes[1]
    ax.fill_between(idx, dd, 0.0, color="#c0392b", alpha=0.5, lw=0)
    ax.set_ylabel("drawdown")
    ax.grid(alpha=0.3)
    ax = axes[2]
    ax.plot(idx, ts["rolling_sharpe"], color="#2e7d32", lw=1.0)
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_ylabel(f"Sharpe ({rolling_window})")
    ax.grid(alpha=0.3)
    ax = axes[3]
    chunks = [x for row in ts["monthly_returns"] for x in row]
    colors = ["#2e7d32" if x >= 0 else "#c0392b" for x in chunks]
    ax.bar(np.arange(len(chunks)), chunks, color=colors, width=0.85)
    ax.set_ylabel("21-period return")
    ax.set_xlabel("chunk of 21 periods")
    ax.grid(alpha=0.3, axis="y")
    return fig


def metrics_table(metrics: Metrics | None) -> str:
    """The metrics as an aligned text table (``"no returns"`` when None)."""
    return "no returns" if metrics is None else metrics.table()


def save_report(result: Mapping[str, Any], folder: str | os.PathLike[str], name: str = "tear_sheet",
                rolling_window: int = 63, periods_per_year: int = 252, title: str = "") -> dict[str, str]:
    """Write ``<folder>/<name>.png`` and ``<folder>/<name>.html``; return both paths."""
    os.makedirs(folder, exist_ok=True)
    fig = tear_sheet_figure(result, rolling_window, periods_per_year, title)
    png_path = os.path.join(os.fspath(folder), f"{name}.png")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    data = buf.getvalue()
    with open(png_path, "wb") as f:
        f.write(data)
    m = result.get("metrics")
    if m is None:
        m = compute_metrics(result["returns"], float(periods_per_year))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in (m.to_dict() if m else {}).items()
    )
    ts = tear_sheet(result, rolling_window, periods_per_year)
    dd_rows = "".join(
        f"<tr><td>{e['peak_index']}</td><td>{e['trough_index']}</td><td>{e['recovery_index']}</td>"
        f"<td>{e['drawdown_pct']:.2%}</td><td>{e['underwater_periods']}</td></tr>"
        for e in sorted(ts["drawdown_events"], key=lambda e: -e["drawdown_pct"])[:10]
    )
    ta = ts["trade_analytics"]
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title or name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} th{{background:#f3f3f3}}</style></head>
<body><h1>{html.escape(title or "Backtest tear sheet")}</h1>
<h2>Metrics</h2><table>{rows}</table>
<p>Trades: {ta['trade_count']} ({ta['closed_trade_count']} closed, {ta['open_trade_count']} open).
Final cash: {result['final_cash']} (cents).</p>
<img alt="tear sheet" style="max-width:100%" src="data:image/png;base64,{base64.b64encode(data).decode()}">
<h2>Worst drawdowns</h2><table><tr><th>peak</th><th>trough</th><th>recovery</th><th>depth</th><th>periods</th></tr>
{dd_rows}</table>
<p>Generated by nanobook.portfolio.report.</p></body></html>
"""
    html_path = os.path.join(os.fspath(folder), f"{name}.html")
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(page)
    return {"png": png_path, "html": html_path}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
