"""Rich tables for the plan, the risk report, positions, outcomes and reconcile."""
from __future__ import annotations

import sys
from typing import Any, Iterable, Mapping, Sequence

from .plan import Plan
from .reconcile import ReconcileRow, tracking_error

__all__ = ["make_console", "money", "plan_table", "risk_table", "positions_table",
           "outcomes_table", "reconcile_table"]


def make_console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(file=stream, width=None if tty else 140, no_color=not tty,
                   highlight=False, soft_wrap=False)


def money(cents: int | None) -> str:
    if cents is None:
        return "-"
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}${c // 100:,}.{c % 100:02d}"


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def order_risk(checks: Iterable[Any]) -> dict[str, str]:
    """Worst status per symbol among the decisions that name one."""
    rank = {"PASS": 0, "WARN": 1, "FAIL": 2}
    out: dict[str, str] = {}
    for d in checks:
        sym = getattr(d, "symbol", None)
        if not sym:
            continue
        st = d.status.value if hasattr(d.status, "value") else str(d.status)
        if rank.get(st, 0) >= rank.get(out.get(sym, "PASS"), 0):
            out[sym] = st
    return out


def plan_table(plan: Plan, title: str = "Rebalance plan", checks: Iterable[Any] = ()) -> Any:
    from rich.table import Table

    risk = order_risk(checks)
    t = Table(title=title, show_footer=True)
    order = {o.symbol: o for o in plan.orders}
    t.add_column("Symbol", footer="Total")
    t.add_column("Cur wt", justify="right")
    t.add_column("Tgt wt", justify="right")
    t.add_column("Held", justify="right")
    t.add_column("Trade", justify="right")
    t.add_column("Limit", justify="right")
    t.add_column("Notional", justify="right",
                 footer=f"buy {money(plan.buy_notional_cents)} / sell {money(plan.sell_notional_cents)}")
    t.add_column("Est. cost", justify="right", footer=money(plan.est_cost_cents))
    t.add_column("Risk")
    t.add_column("Action / note")
    # order rows first (in execution order: sells then buys), then the rest
    rows = {r.symbol: r for r in plan.rows}
    seq = [o.symbol for o in plan.orders] + [r.symbol for r in plan.rows if r.symbol not in order]
    for sym in seq:
        r = rows[sym]
        o = order.get(sym)
        t.add_row(sym, _pct(r.current_weight), _pct(r.target_weight), f"{r.current_qty:,}",
                  f"{r.trade_qty:+,}" if r.trade_qty else "0",
                  money(o.limit_cents) if o else "",
                  money(o.notional_cents) if o else "",
                  money(o.est_cost_cents) if o else "",
                  risk.get(sym, "PASS") if o else "", r.note)
    return t


def risk_table(report: Any) -> Any:
    from rich.table import Table

    t = Table(title="Risk checks")
    t.add_column("Status")
    t.add_column("Code")
    t.add_column("Check")
    t.add_column("Detail")
    for d in report:
        st = d.status.value if hasattr(d.status, "value") else str(d.status)
        style = {"FAIL": "bold red", "WARN": "yellow"}.get(st, "green")
        t.add_row(f"[{style}]{st}[/]", str(d.code.value if hasattr(d.code, "value") else d.code),
                  d.name, d.detail)
    return t


def positions_table(account: Any, holdings: Mapping[str, Any], mids: Mapping[str, int | None],
                    quantity_scale: int = 1) -> Any:
    from rich.table import Table

    t = Table(title=f"Positions (equity {money(account.equity_cents)}, cash {money(account.cash_cents)})")
    for c in ("Symbol", "Quantity", "Mid", "Value", "Weight"):
        t.add_column(c, justify="left" if c == "Symbol" else "right")
    for sym in sorted(holdings):
        q = holdings[sym].quantity
        mid = mids.get(sym)
        value = (q * mid) // quantity_scale if mid else None
        w = value / account.equity_cents if value is not None and account.equity_cents > 0 else None
        t.add_row(sym, f"{q:,}", money(mid), money(value), _pct(w) if w is not None else "-")
    return t


def outcomes_table(outcomes: Iterable[Any]) -> Any:
    from rich.table import Table

    t = Table(title="Orders")
    for c in ("Symbol", "Side", "Qty", "Filled", "Avg price", "Status", "Client order id"):
        t.add_column(c)
    for o in outcomes:
        t.add_row(o.symbol, o.side, f"{o.quantity:,}", f"{o.filled_qty:,}",
                  money(o.avg_fill_price_cents), o.status, o.client_order_id)
    return t


def reconcile_table(rows: Sequence[ReconcileRow]) -> Any:
    from rich.table import Table

    t = Table(title=f"Reconcile (tracking error {tracking_error(rows) * 100:.3f}%)")
    for c in ("Symbol", "Target%", "Actual%", "Diff%", "TargetQty", "ActualQty"):
        t.add_column(c, justify="left" if c == "Symbol" else "right")
    for r in rows:
        t.add_row(r.symbol, _pct(r.target_weight), _pct(r.actual_weight), _pct(r.diff_weight),
                  f"{r.target_qty:,}", f"{r.actual_qty:,}")
    return t
