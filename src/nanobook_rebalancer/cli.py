"""The ``rebalance`` command line.

::

    rebalance [run] TARGET [--dry-run] [--yes] [--config PATH]
    rebalance plan TARGET            # same as run --dry-run
    rebalance positions | status [--offline] | reconcile TARGET
    rebalance kill [--reason TEXT] | unkill | recover

Exit codes: 0 ok (also: nothing to do, declined at the prompt), 1 usage,
configuration or target error, 2 a risk check failed (nothing sent), 3 broker
error, 4 interrupted (SIGINT/SIGTERM/kill switch; open orders cancelled),
5 blocked (another run holds the lock, the kill switch is engaged, or an
unfinished run could not be resolved), 6 nothing filled (orders were sent,
every one timed out or was cancelled without a fill).

Library log records (ib_async, python-binance, urllib3, nanobook_broker) go to
the audit log (``log`` records) and stay off the console unless ``--verbose``.

Commands that can change the broker's state (``run``, ``recover``) take the
run lock and write every broker call to the audit log; read-only commands
(``plan``/``--dry-run``, ``positions``, ``status``, ``reconcile``) do neither.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from . import errors as E
from .audit import AuditLog, new_run_id, read_records, summarize_runs, unfinished_runs
from .config import Config, load_config
from .errors import (
    BrokerCallError, ConfigError, Interrupted, KillSwitchEngaged, RebalancerError, TargetError,
)
from .lock import RunLock, engage_kill_switch, kill_switch_info, lock_holder, release_kill_switch
from .plan import Plan, PlanParams, build_plan
from .targets import TargetWeights, load_targets

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ("run", "plan", "positions", "status", "reconcile", "kill", "unkill", "recover")

EPILOG = """exit codes:
  0  ok (also: nothing to do, or declined at the prompt)
  1  usage, configuration or target-file error (nothing sent)
  2  a risk check failed (nothing sent)
  3  broker error
  4  interrupted by SIGINT/SIGTERM or the kill-switch file (open orders cancelled)
  5  blocked: lock held by another run, kill switch engaged, or unresolved earlier run
  6  nothing filled: orders were sent and every one timed out or was cancelled unfilled

config: --config PATH, else $NANOBOOK_REBALANCE_CONFIG, else
~/.config/nanobook/rebalance.toml, else the embedded paper-broker default."""


class UsageError(RebalancerError, ValueError):
    exit_code = E.EXIT_INPUT


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 1, not argparse's 2 (2 means "risk failed")
        self.print_usage(sys.stderr)
        self.exit(E.EXIT_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="PATH",
                        help="config file (default: $NANOBOOK_REBALANCE_CONFIG, then "
                             "~/.config/nanobook/rebalance.toml, then the embedded default)")
    common.add_argument("--verbose", "-v", action="store_true",
                        help="also print library log lines (ib_async, python-binance, ...) on stderr; "
                             "the audit log keeps them either way")
    p = _Parser(prog="rebalance", description="Move a broker account to target weights: plan, "
                "risk-check, confirm, execute, reconcile; every broker call write-ahead logged.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.set_defaults(func=func)
        return sp

    r = add("run", "plan, check, confirm and execute a rebalance (the default command)", cmd_run)
    r.add_argument("target", help="target weights file (.json or .csv)")
    r.add_argument("--dry-run", action="store_true", help="print the plan and risk checks; send nothing")
    r.add_argument("--yes", "-y", action="store_true",
                   help="do not prompt (required when stdin is not a terminal)")
    r.add_argument("--format", choices=("json", "csv"), help="target format (default: from extension)")
    pl = add("plan", "print the plan and risk checks for TARGET; send nothing (= run --dry-run)", cmd_run)
    pl.add_argument("target", help="target weights file (.json or .csv)")
    pl.add_argument("--format", choices=("json", "csv"), help="target format (default: from extension)")
    add("positions", "print the account and its positions", cmd_positions)
    st = add("status", "print configuration, lock, kill switch, recent runs and broker health", cmd_status)
    st.add_argument("--offline", action="store_true", help="do not contact the broker")
    rc = add("reconcile", "compare actual holdings with TARGET (weights, shares, tracking error)",
             cmd_reconcile)
    rc.add_argument("target", help="target weights file (.json or .csv)")
    rc.add_argument("--format", choices=("json", "csv"), help="target format (default: from extension)")
    k = add("kill", "engage the kill switch: no run starts, a running one stops between orders",
            cmd_kill)
    k.add_argument("--reason", default="", help="recorded in the kill-switch file")
    add("unkill", "release the kill switch", cmd_unkill)
    add("recover", "resolve unfinished runs from the audit log by asking the broker about every "
        "order intent (never resubmits)", cmd_recover)
    return p


def _with_default_command(argv: list[str]) -> list[str]:
    """Insert ``run`` when the first positional argument is not a command."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            return argv
        if a == "--config":
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return argv if a in COMMANDS else ["run", *argv]
    return argv if not argv else ["run", *argv]


# --------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------
@dataclass
class _Check:
    """A rebalancer-level check shown with the risk engine's decisions."""

    code: str
    name: str
    status: str
    detail: str


def plan_params(cfg: Config) -> PlanParams:
    pl, ex, c = cfg.plan, cfg.execution, cfg.cost
    return PlanParams(lot_size=pl.lot_size, lot_sizes=dict(pl.lot_sizes), rounding=pl.rounding,
                      min_order_value_cents=int(round(pl.min_order_value_usd * 100)),
                      no_trade_band_bps=pl.no_trade_band_bps, tick_size_cents=pl.tick_size_cents,
                      order_type=ex.order_type, limit_offset_bps=ex.limit_offset_bps,
                      commission_per_share=c.commission_per_share, commission_min=c.commission_min,
                      commission_bps=c.commission_bps, slippage_bps=c.slippage_bps,
                      quantity_scale=cfg.quantity_scale)


def _load_targets(cfg: Config, args: argparse.Namespace) -> TargetWeights:
    t = load_targets(args.target, max_gross=cfg.plan.max_gross_weight, fmt=getattr(args, "format", None))
    if cfg.account.type == "cash":
        shorts = sorted(s for s, w in t.weights.items() if w < 0)
        if shorts:
            raise TargetError(f"{t.source}: account.type is 'cash' but {shorts} have negative weights")
    return t


def _secrets(cfg: Config) -> list[str]:
    return [s.reveal() for s in (cfg.binance.api_key, cfg.binance.api_secret) if s]


def _open_session(cfg: Config, audit: AuditLog | None) -> Any:
    from ._brokers import open_broker
    from ._session import BrokerSession

    try:
        broker = open_broker(cfg)
    except ConfigError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(f"broker.kind {cfg.broker.kind!r}: {exc}") from exc
    except RuntimeError as exc:
        raise BrokerCallError(f"cannot create the {cfg.broker.kind} broker: {exc}") from exc
    return BrokerSession(broker, audit, cfg.broker.kind)


@dataclass
class Snapshot:
    account: Any
    holdings: dict[str, Any]
    mids: dict[str, int]

    @property
    def positions(self) -> dict[str, int]:
        return {s: h.quantity for s, h in self.holdings.items()}


def take_snapshot(session: Any, cfg: Config, symbols: Sequence[str], audit: AuditLog | None) -> Snapshot:
    """Account, positions and a fresh mid for every target and held symbol."""
    account = session.account()
    if cfg.account.id and account.account_id and account.account_id != cfg.account.id:
        raise ConfigError(f"account.id is {cfg.account.id!r} but the broker reports "
                          f"{account.account_id!r}")
    if account.equity_cents <= 0:
        raise BrokerCallError(f"account equity is {account.equity_cents} cents; cannot size a plan")
    holdings = session.positions()
    mids: dict[str, int] = {}
    targeted = set(symbols)
    for sym in sorted(targeted | set(holdings)):
        q = session.quote(sym, unknown_is_target_error=sym in targeted and sym not in holdings)
        mid = q.mid_cents
        if mid is None:
            if sym in targeted and sym not in holdings:
                raise TargetError(f"unknown symbol {sym!r}: the broker has no price for it")
            raise BrokerCallError(f"no price for held symbol {sym!r}")
        if q.age_secs is not None and q.age_secs > cfg.execution.quote_staleness_secs:
            raise BrokerCallError(f"stale quote for {sym}: {q.age_secs:.0f} s old > "
                                  f"execution.quote_staleness_secs = {cfg.execution.quote_staleness_secs:g}")
        mids[sym] = mid
    if audit is not None:
        audit.write("snapshot", equity_cents=account.equity_cents, cash_cents=account.cash_cents,
                    positions={s: h.quantity for s, h in holdings.items()}, mids=mids)
    return Snapshot(account, holdings, mids)


def _equity_marks(records: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(int(r["equity_cents"]), str(r["ts"])[:10]) for r in records
            if r.get("event") == "snapshot" and "equity_cents" in r]


def plan_and_check(cfg: Config, snap: Snapshot, targets: TargetWeights,
                   records: Sequence[dict[str, Any]], open_orders: int) -> tuple[Plan, list[Any], bool]:
    from ._risk import build_risk_engine, check_plan

    plan = build_plan(snap.account.equity_cents, snap.positions, snap.mids, targets.weights,
                      plan_params(cfg))
    engine = build_risk_engine(cfg.risk, cfg.quantity_scale)
    report = check_plan(engine, plan, snap.positions, targets.weights, open_orders=open_orders,
                        quantity_scale=cfg.quantity_scale, equity_marks=_equity_marks(records))
    checks: list[Any] = list(report)
    n, mx = len(plan.orders), cfg.execution.max_orders
    checks.append(_Check("max_orders", "Orders per run", "PASS" if n <= mx else "FAIL",
                         f"{n} orders {'<=' if n <= mx else '>'} {mx} execution.max_orders"))
    passed = not any(_status(c) == "FAIL" for c in checks)
    return plan, checks, passed


def _status(check: Any) -> str:
    s = check.status
    return s.value if hasattr(s, "value") else str(s)


def _checks_plain(checks: Sequence[Any]) -> list[dict[str, str]]:
    return [{"code": str(getattr(c.code, "value", c.code)), "name": c.name, "status": _status(c),
             "detail": c.detail} for c in checks]


def _orders_plain(plan: Plan) -> list[dict[str, Any]]:
    return [{"symbol": o.symbol, "side": o.side, "quantity": o.quantity, "mid_cents": o.mid_cents,
             "limit_cents": o.limit_cents, "notional_cents": o.notional_cents,
             "est_cost_cents": o.est_cost_cents, "current_qty": o.current_qty,
             "target_qty": o.target_qty, "action": o.action} for o in plan.orders]


def _print_plan(console: Any, plan: Plan, checks: Sequence[Any]) -> None:
    from .render import money, plan_table, risk_table

    console.print(plan_table(plan, checks=checks))
    console.print(f"Equity {money(plan.equity_cents)}; {len(plan.orders)} orders; "
                  f"estimated cost {money(plan.est_cost_cents)}; "
                  f"post-trade gross {plan.post_gross_weight * 100:.2f}%")
    console.print(risk_table(checks))


class _AuditLogHandler(logging.Handler):
    """Library log records (INFO and up) as ``log`` records of the audit log."""

    def __init__(self, audit: AuditLog) -> None:
        super().__init__(logging.INFO)
        self.audit = audit

    def emit(self, record: logging.LogRecord) -> None:
        if self.audit.closed:
            return
        try:
            self.audit.write("log", level=record.levelname, logger=record.name,
                             message=record.getMessage())
        except Exception:  # noqa: BLE001 - a log line must never break the run
            self.handleError(record)


class _library_logs:
    """While a run holds the audit log, library log records are written to it."""

    def __init__(self, audit: AuditLog) -> None:
        self.handler = _AuditLogHandler(audit)

    def __enter__(self) -> "_library_logs":
        logging.getLogger().addHandler(self.handler)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.handler)


class _console_logs:
    """Library logs on stderr only with ``--verbose``; otherwise nowhere on the console (without
    this, Python's last-resort handler prints every WARNING and ERROR, e.g. ib_async's
    ``Error 202 ... Order Canceled`` and ``Canceled order: Trade(...)``)."""

    def __init__(self, verbose: bool) -> None:
        if verbose:
            self.handler: logging.Handler = logging.StreamHandler(sys.stderr)
            self.handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        else:
            self.handler = logging.NullHandler()
        self.level = logging.INFO

    def __enter__(self) -> "_console_logs":
        root = logging.getLogger()
        self._old_level = root.level
        root.setLevel(min(root.level or logging.WARNING, self.level))
        root.addHandler(self.handler)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self._old_level)


class _Signals:
    """SIGINT/SIGTERM: raise :class:`Interrupted` until orders start, then only set the stop flag."""

    def __init__(self, stop: Any) -> None:
        self.stop = stop
        self.executing = False
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.executing:
            self.stop.request(f"stopped by {name}")
        else:
            raise Interrupted(f"stopped by {name} before any order was sent")

    def __enter__(self) -> "_Signals":
        for s in (signal.SIGINT, signal.SIGTERM):
            self._old[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


def _confirm(console: Any, plan: Plan, cfg: Config) -> bool:
    from .render import money

    console.print(f"Send {len(plan.orders)} orders (buy {money(plan.buy_notional_cents)}, "
                  f"sell {money(plan.sell_notional_cents)}) to the {cfg.broker.kind} broker? "
                  "Type 'yes' to confirm: ", end="")
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# --------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from .render import make_console

    console = make_console()
    err = make_console(stderr=True)
    cfg = load_config(args.config)
    targets = _load_targets(cfg, args)
    dry = args.command == "plan" or getattr(args, "dry_run", False)
    if dry:
        return _dry_run(cfg, targets, console, err)
    ks = kill_switch_info(cfg.kill_switch_path)
    if ks is not None:
        raise KillSwitchEngaged(f"kill switch engaged ({cfg.kill_switch_path}: "
                                f"{ks.get('reason') or 'no reason given'}); `rebalance unkill` releases it")
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("stdin is not a terminal, so there is nobody to confirm; "
                         "pass --yes to run unattended")
    from ._risk import build_risk_engine
    from .metrics import start_metrics

    build_risk_engine(cfg.risk)
    metrics = start_metrics(cfg.metrics.port, cfg.metrics.address)
    run_id = new_run_id()
    with RunLock(cfg.lock_path).acquire(run_id), \
            AuditLog(cfg.audit_log_path, run_id, secrets=_secrets(cfg)) as audit, _library_logs(audit):
        return _live_run(cfg, targets, run_id, audit, metrics, args.yes, console, err)


def _dry_run(cfg: Config, targets: TargetWeights, console: Any, err: Any) -> int:
    records = read_records(cfg.audit_log_path)
    for run in unfinished_runs(records):
        err.print(f"[yellow]warning:[/] run {run.run_id} did not finish; the next `rebalance run` "
                  "(or `rebalance recover`) resolves it first")
    session = _open_session(cfg, None)
    session.connect()
    try:
        snap = take_snapshot(session, cfg, list(targets.weights), None)
        plan, checks, passed = plan_and_check(cfg, snap, targets, records, len(session.open_orders()))
    finally:
        session.disconnect()
    _print_plan(console, plan, checks)
    if not passed:
        err.print("[bold red]Risk checks failed[/]: nothing would be sent.")
        return E.EXIT_RISK
    if not plan.orders:
        console.print("No rebalancing needed: the portfolio matches the target.")
    console.print("[DRY RUN] No orders submitted.")
    return E.EXIT_OK


def _live_run(cfg: Config, targets: TargetWeights, run_id: str, audit: AuditLog, metrics: Any,
              yes: bool, console: Any, err: Any) -> int:
    from .execute import ExecutionReport, StopFlag, execute_plan
    from .reconcile import reconcile, tracking_error
    from .recovery import resolve_run
    from .render import outcomes_table, reconcile_table

    records = read_records(cfg.audit_log_path)
    pending = unfinished_runs(records)
    stop = StopFlag(cfg.kill_switch_path)
    state: dict[str, Any] = {"inflight": False}
    report = ExecutionReport()

    def finish(status: str, code: int, **extra: Any) -> int:
        if "session" in state:
            state["session"].disconnect()       # logged before the run's last record
        if report.outcomes and any(o.status not in ("filled", "cancelled", "rejected", "expired",
                                                    "final_unknown")
                                   for o in report.outcomes) or state["inflight"]:
            # an order's outcome is unknown: leave the run unfinished for `recover`
            audit.write("run_aborted", status=status, **extra)
            err.print(f"run {run_id} left an order in an unknown state; run `rebalance recover`")
            return code
        audit.write("run_finished", status=status, exit_code=code, **extra)
        return code

    session = state["session"] = _open_session(cfg, audit)  # a bad broker config: nothing logged yet
    with _Signals(stop) as sig:
        audit.write("run_started", mode="run", pid=os.getpid(), broker=cfg.broker.kind,
                    target={"source": targets.source, "sha256": targets.digest,
                            "weights": dict(targets.weights), "metadata": dict(targets.metadata)},
                    config=cfg.redacted(), unfinished_runs=[r.run_id for r in pending])
        try:
            session.connect()
            for run in pending:
                err.print(f"resolving unfinished run {run.run_id} ...")
                res = resolve_run(session, audit, run, poll_secs=cfg.execution.poll_interval_secs)
                for o in res.orders:
                    err.print(f"  {o['symbol']} {o['side']} {o['quantity']}: {o['status']}, "
                              f"filled {o['filled_qty']} ({o['client_order_id']})")
            records = read_records(cfg.audit_log_path)
            snap = take_snapshot(session, cfg, list(targets.weights), audit)
            plan, checks, passed = plan_and_check(cfg, snap, targets, records,
                                                  len(session.open_orders()))
            audit.write("plan", equity_cents=plan.equity_cents, orders=_orders_plain(plan),
                        est_cost_cents=plan.est_cost_cents)
            audit.write("risk", passed=passed, checks=_checks_plain(checks))
            _print_plan(console, plan, checks)
            if not passed:
                err.print("[bold red]Risk checks failed[/]: nothing sent.")
                return finish("risk_failed", E.EXIT_RISK)
            if not plan.orders:
                console.print("No rebalancing needed: the portfolio matches the target.")
                return finish("nothing_to_do", E.EXIT_OK)
            if yes:
                audit.write("confirmation", approved=True, via="--yes")
            else:
                ok = _confirm(console, plan, cfg)
                audit.write("confirmation", approved=ok, via="prompt")
                if not ok:
                    console.print("Aborted: nothing sent.")
                    return finish("declined", E.EXIT_OK)
            sig.executing = True

            def progress(o: Any) -> None:
                err.print(f"  {o.side} {o.quantity} {o.symbol}: {o.status}, filled {o.filled_qty}")

            state["inflight"] = True
            report = execute_plan(session, audit, run_id, plan, cfg.execution, stop, metrics,
                                  on_done=progress)
            state["inflight"] = False
            console.print(outcomes_table(report.outcomes))
            # final reconcile
            snap2 = take_snapshot(session, cfg, list(targets.weights), audit)
            rows = reconcile(snap2.account.equity_cents, snap2.positions, snap2.mids,
                             targets.weights, plan_params(cfg))
            te = tracking_error(rows)
            audit.write("reconcile", tracking_error=te,
                        rows=[{"symbol": r.symbol, "target_weight": r.target_weight,
                               "actual_weight": r.actual_weight, "target_qty": r.target_qty,
                               "actual_qty": r.actual_qty} for r in rows])
            console.print(reconcile_table(rows))
            counts = {s: report.count(s) for s in ("filled", "cancelled", "rejected")}
            summary = report.categories()
            console.print(report.summary_line())
            if report.interrupted:
                err.print(f"interrupted: {report.interrupted}; remaining orders not sent")
                return finish("interrupted", E.EXIT_INTERRUPTED, reason=report.interrupted,
                              summary=summary, **counts)
            if report.rejected:
                err.print(f"{report.rejected} order(s) rejected by the broker")
                return finish("completed_with_rejections", E.EXIT_BROKER, summary=summary, **counts)
            if report.filled_nothing:
                err.print(f"nothing filled: {len(report.outcomes)} order(s) sent, none filled "
                          f"({summary['timed_out']} timed out, {summary['cancelled']} cancelled)")
                return finish("nothing_filled", E.EXIT_NOTHING_FILLED, summary=summary, **counts)
            return finish("completed", E.EXIT_OK, summary=summary, **counts)
        except Interrupted as exc:
            err.print(f"interrupted: {exc}")
            return finish("interrupted", E.EXIT_INTERRUPTED, reason=str(exc))
        except RebalancerError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            if isinstance(exc, BrokerCallError):
                return finish("broker_error", exc.exit_code, error=str(exc))
            return finish("error", exc.exit_code, error=str(exc))
        finally:
            session.disconnect()


def cmd_recover(args: argparse.Namespace) -> int:
    from .recovery import resolve_run
    from .render import make_console

    console = make_console()
    cfg = load_config(args.config)
    records = read_records(cfg.audit_log_path)
    pending = unfinished_runs(records)
    if not pending:
        console.print("No unfinished run in the audit log.")
        return E.EXIT_OK
    run_id = new_run_id()
    with RunLock(cfg.lock_path).acquire(run_id), \
            AuditLog(cfg.audit_log_path, run_id, secrets=_secrets(cfg)) as audit, _library_logs(audit):
        session = _open_session(cfg, audit)
        audit.write("run_started", mode="recover", pid=os.getpid(), broker=cfg.broker.kind,
                    config=cfg.redacted(), unfinished_runs=[r.run_id for r in pending])
        try:
            session.connect()
            for run in unfinished_runs(read_records(cfg.audit_log_path)):
                if run.run_id == run_id:
                    continue
                res = resolve_run(session, audit, run, poll_secs=cfg.execution.poll_interval_secs)
                console.print(f"run {run.run_id}: {len(res.orders)} order(s) resolved")
                for o in res.orders:
                    console.print(f"  {o['symbol']} {o['side']} {o['quantity']}: {o['status']}, "
                                  f"filled {o['filled_qty']} ({o['client_order_id']})")
        except BrokerCallError as exc:
            audit.write("run_finished", status="broker_error", error=str(exc))
            raise
        finally:
            session.disconnect()
        audit.write("run_finished", status="completed", exit_code=0)
    return E.EXIT_OK


def cmd_positions(args: argparse.Namespace) -> int:
    from .render import make_console, positions_table

    console = make_console()
    cfg = load_config(args.config)
    session = _open_session(cfg, None)
    session.connect()
    try:
        account = session.account()
        holdings = session.positions()
        mids = {s: session.quote(s, unknown_is_target_error=False).mid_cents for s in holdings}
    finally:
        session.disconnect()
    console.print(positions_table(account, holdings, mids, cfg.quantity_scale))
    return E.EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from .reconcile import reconcile
    from .render import make_console, reconcile_table

    console = make_console()
    cfg = load_config(args.config)
    targets = _load_targets(cfg, args)
    session = _open_session(cfg, None)
    session.connect()
    try:
        snap = take_snapshot(session, cfg, list(targets.weights), None)
    finally:
        session.disconnect()
    rows = reconcile(snap.account.equity_cents, snap.positions, snap.mids, targets.weights,
                     plan_params(cfg))
    console.print(reconcile_table(rows))
    return E.EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from .render import make_console, money

    console = make_console()
    cfg = load_config(args.config)
    console.print(f"config: {cfg.source or 'embedded default'}")
    console.print(f"broker: {cfg.broker.kind}")
    console.print(f"audit log: {cfg.audit_log_path}")
    holder = lock_holder(cfg.lock_path)
    console.print(f"lock: {'held by pid %s (run %s)' % (holder.get('pid'), holder.get('run_id')) if holder else 'free'}")
    ks = kill_switch_info(cfg.kill_switch_path)
    console.print(f"kill switch: {'ENGAGED (%s)' % (ks.get('reason') or 'no reason') if ks is not None else 'off'}")
    runs = summarize_runs(read_records(cfg.audit_log_path))
    for run in list(runs.values())[-5:]:
        mode = (run.started or {}).get("mode", "?")
        state = (run.finished or {}).get("status") or ("recovered" if run.resolved_by else "UNFINISHED")
        console.print(f"run {run.run_id} ({mode}): {state}")
    if getattr(args, "offline", False):
        return E.EXIT_OK
    session = _open_session(cfg, None)
    session.connect()
    try:
        acct = session.account()
    finally:
        session.disconnect()
    console.print(f"broker OK: equity {money(acct.equity_cents)}, cash {money(acct.cash_cents)}")
    return E.EXIT_OK


def cmd_kill(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    p = engage_kill_switch(cfg.kill_switch_path, reason=args.reason)
    holder = lock_holder(cfg.lock_path)
    print(f"kill switch engaged: {p}")
    if holder:
        print(f"running rebalance (pid {holder.get('pid')}) will stop before its next order")
    return E.EXIT_OK


def cmd_unkill(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    existed = release_kill_switch(cfg.kill_switch_path)
    print("kill switch released" if existed else "kill switch was not engaged")
    return E.EXIT_OK


# --------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rebalance`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        parser.print_help(sys.stderr)
        return E.EXIT_INPUT
    args = parser.parse_args(_with_default_command(argv))
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return E.EXIT_INPUT
    try:
        with _console_logs(getattr(args, "verbose", False)):
            return args.func(args)
    except RebalancerError as exc:
        print(f"rebalance: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("rebalance: interrupted", file=sys.stderr)
        return E.EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
