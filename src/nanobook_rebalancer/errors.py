"""The rebalancer's exception tree and its exit codes.

Every error the CLI can meet maps to one exit code through :func:`exit_code_for`.
Business outcomes (a risk check that fails, a plan with nothing to do) are
values, not exceptions; only conditions that stop the program are raised.
"""
from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_INPUT",
    "EXIT_RISK",
    "EXIT_BROKER",
    "EXIT_INTERRUPTED",
    "EXIT_BLOCKED",
    "EXIT_NOTHING_FILLED",
    "RebalancerError",
    "ConfigError",
    "TargetError",
    "AuditLogError",
    "LockHeldError",
    "KillSwitchEngaged",
    "RecoveryError",
    "BrokerCallError",
    "Interrupted",
    "exit_code_for",
]

#: success (also: nothing to do, or the user declined at the prompt)
EXIT_OK = 0
#: usage, configuration or target-file error; nothing was sent
EXIT_INPUT = 1
#: a pre-trade risk check failed; nothing was sent
EXIT_RISK = 2
#: the broker failed (connection, rejection of a read, unknown outcome)
EXIT_BROKER = 3
#: stopped by SIGINT / SIGTERM / the kill-switch file; open orders were cancelled
EXIT_INTERRUPTED = 4
#: refused to start: another run holds the lock, the kill switch is engaged,
#: or an unfinished earlier run could not be resolved automatically
EXIT_BLOCKED = 5
#: orders were sent and not one unit filled (every order timed out or was
#: cancelled); the account is where it was
EXIT_NOTHING_FILLED = 6


class RebalancerError(Exception):
    """Base class of every error raised by :mod:`nanobook_rebalancer`."""

    exit_code = EXIT_INPUT


class ConfigError(RebalancerError, ValueError):
    """The configuration file (or its location) is invalid."""

    exit_code = EXIT_INPUT


class TargetError(RebalancerError, ValueError):
    """The target-weights file is missing, malformed or inconsistent."""

    exit_code = EXIT_INPUT


class AuditLogError(RebalancerError, OSError):
    """The audit log cannot be opened, written, or parsed."""

    exit_code = EXIT_INPUT


class LockHeldError(RebalancerError, RuntimeError):
    """Another rebalance process holds the lock file."""

    exit_code = EXIT_BLOCKED


class KillSwitchEngaged(RebalancerError, RuntimeError):
    """The kill-switch file exists; no order may be sent."""

    exit_code = EXIT_BLOCKED


class RecoveryError(RebalancerError, RuntimeError):
    """An unfinished earlier run could not be resolved automatically."""

    exit_code = EXIT_BLOCKED


class BrokerCallError(RebalancerError, RuntimeError):
    """A broker call failed; the original broker exception is the ``__cause__``."""

    exit_code = EXIT_BROKER


class Interrupted(RebalancerError, RuntimeError):
    """A stop was requested (signal or kill-switch file) during a run."""

    exit_code = EXIT_INTERRUPTED


def exit_code_for(exc: BaseException) -> int:
    """Return the documented process exit code for ``exc``."""
    if isinstance(exc, RebalancerError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_BROKER
