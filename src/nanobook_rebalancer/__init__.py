"""nanobook_rebalancer: target weights -> plan -> risk -> execution, with a write-ahead audit log.

The command-line entry point is :func:`nanobook_rebalancer.cli.main`
(console script ``rebalance``; ``python -m nanobook_rebalancer``).  The
modules below are usable on their own: config and target loading, the pure
plan maths, the audit log and the run lock.
"""
from .audit import AuditLog, client_order_id, new_run_id, read_records, unfinished_runs
from .config import Config, Secret, load_config
from .errors import (
    AuditLogError,
    BrokerCallError,
    ConfigError,
    Interrupted,
    KillSwitchEngaged,
    LockHeldError,
    RebalancerError,
    RecoveryError,
    TargetError,
)
from .lock import RunLock, engage_kill_switch, kill_switch_info, release_kill_switch
from .plan import Plan, PlannedOrder, PlanParams, build_plan, estimate_cost, limit_price, round_to_lot
from .targets import TargetWeights, load_targets

__all__ = [
    "AuditLog",
    "AuditLogError",
    "BrokerCallError",
    "Config",
    "ConfigError",
    "Interrupted",
    "KillSwitchEngaged",
    "LockHeldError",
    "Plan",
    "PlanParams",
    "PlannedOrder",
    "RebalancerError",
    "RecoveryError",
    "RunLock",
    "Secret",
    "TargetError",
    "TargetWeights",
    "build_plan",
    "client_order_id",
    "engage_kill_switch",
    "estimate_cost",
    "kill_switch_info",
    "limit_price",
    "load_config",
    "load_targets",
    "new_run_id",
    "read_records",
    "release_kill_switch",
    "round_to_lot",
    "unfinished_runs",
]
