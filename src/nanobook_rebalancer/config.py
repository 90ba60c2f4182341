"""Configuration of the ``rebalance`` command: TOML, strictly validated.

Where the file comes from (first match wins):

1. ``--config PATH`` on the command line;
2. the environment variable ``NANOBOOK_REBALANCE_CONFIG``;
3. the default location ``$XDG_CONFIG_HOME/nanobook/rebalance.toml``
   (``~/.config/nanobook/rebalance.toml``);
4. otherwise the embedded default: the paper broker with a generated account,
   its files under the state directory (``$NANOBOOK_REBALANCE_HOME``, else
   ``$XDG_STATE_HOME/nanobook/rebalance``, else
   ``~/.local/state/nanobook/rebalance``).

Unknown tables and keys are errors.  Relative paths in ``[files]`` and
``[paper]`` resolve against the directory of the config file (the state
directory for the embedded default).  Secrets (the Binance key and secret) come
only from the environment (``NANOBOOK_BINANCE_API_KEY``,
``NANOBOOK_BINANCE_API_SECRET``, which win) or from the config file, which must
then not be readable by group or others.  They are held in :class:`Secret`,
whose ``repr`` and ``str`` never show the value, and never written to the audit
log.
"""
from __future__ import annotations

import math
import os
import stat
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from nanobook.validate import integer, is_int, is_real

from .errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "HOME_ENV",
    "Secret",
    "BrokerSection",
    "PaperSection",
    "IbkrSection",
    "BinanceSection",
    "AccountSection",
    "ExecutionSection",
    "PlanSection",
    "CostSection",
    "FilesSection",
    "MetricsSection",
    "Config",
    "default_config_path",
    "default_state_dir",
    "resolve_config_path",
    "load_config",
    "parse_config",
]

CONFIG_ENV = "NANOBOOK_REBALANCE_CONFIG"
HOME_ENV = "NANOBOOK_REBALANCE_HOME"
BINANCE_KEY_ENV = "NANOBOOK_BINANCE_API_KEY"
BINANCE_SECRET_ENV = "NANOBOOK_BINANCE_API_SECRET"


class Secret:
    """A credential whose value is only available through :meth:`reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value (pass it to the broker SDK, nowhere else)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


# --------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class BrokerSection:
    """``[broker]``: which broker adapter to use."""

    kind: str = "paper"


@dataclass(frozen=True)
class PaperSection:
    """``[paper]``: the paper broker (``nanobook_broker.PaperBroker``).

    ``state_file`` persists cash, positions and orders between runs;
    ``price_file`` is a CSV ``symbol,price`` (dollars) or ``symbol,bid,ask``
    of the symbols it quotes, applied at every connect (empty: the bundled
    sample of 20 S&P 100 stocks at their closes of 2026-05-11).
    ``liquidity`` is the lots shown at bid and ask after each quote (0:
    unlimited; a small value produces partial fills).
    """

    state_file: str = "paper-state.json"
    price_file: str = ""
    initial_cash_usd: float = 100_000.0
    spread_bps: float = 10.0
    commission_bps: float = 0.0
    liquidity: int = 0
    allow_short: bool = True
    leverage: float = 2.0


@dataclass(frozen=True)
class IbkrSection:
    """``[ibkr]``: TWS / IB Gateway connection."""

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    timeout_secs: float = 10.0


@dataclass(frozen=True)
class BinanceSection:
    """``[binance]``: Binance spot; secrets from env or this (0600) file."""

    testnet: bool = True
    quote_asset: str = "USDT"
    base_url: str = ""
    quantity_decimals: int = 8
    unknown_outcome_window_secs: float = 10.0
    api_key: Secret = field(default_factory=lambda: Secret(""))
    api_secret: Secret = field(default_factory=lambda: Secret(""))


@dataclass(frozen=True)
class AccountSection:
    """``[account]``: the expected account (checked against the broker when set)."""

    id: str = ""
    type: str = "margin"


@dataclass(frozen=True)
class ExecutionSection:
    """``[execution]``: how orders are worked."""

    order_type: str = "limit"
    limit_offset_bps: float = 5.0
    order_timeout_secs: float = 30.0
    poll_interval_secs: float = 0.2
    max_orders: int = 50
    pause_between_orders_secs: float = 0.1
    quote_staleness_secs: float = 30.0


@dataclass(frozen=True)
class PlanSection:
    """``[plan]``: how target weights become share counts."""

    lot_size: int = 1
    lot_sizes: Mapping[str, int] = field(default_factory=dict)
    rounding: str = "down"
    min_order_value_usd: float = 100.0
    no_trade_band_bps: float = 0.0
    max_gross_weight: float = 1.0
    tick_size_cents: int = 1


@dataclass(frozen=True)
class CostSection:
    """``[cost]``: the cost model of the plan's estimate (dollars and bps)."""

    commission_per_share: float = 0.0035
    commission_min: float = 0.35
    commission_bps: float = 0.0
    slippage_bps: float = 5.0


@dataclass(frozen=True)
class FilesSection:
    """``[files]``: audit log, lock file and kill-switch file."""

    audit_log: str = "audit.jsonl"
    lock_file: str = "rebalance.lock"
    kill_switch: str = "KILL"


@dataclass(frozen=True)
class MetricsSection:
    """``[metrics]``: Prometheus exporter (``port = 0`` disables it)."""

    port: int = 0
    address: str = "127.0.0.1"


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration.

    ``base_dir`` is where relative paths resolve; ``source`` is the file the
    configuration came from (``None`` for the embedded default).
    """

    base_dir: Path
    source: Path | None = None
    broker: BrokerSection = field(default_factory=BrokerSection)
    paper: PaperSection = field(default_factory=PaperSection)
    ibkr: IbkrSection = field(default_factory=IbkrSection)
    binance: BinanceSection = field(default_factory=BinanceSection)
    account: AccountSection = field(default_factory=AccountSection)
    execution: ExecutionSection = field(default_factory=ExecutionSection)
    plan: PlanSection = field(default_factory=PlanSection)
    cost: CostSection = field(default_factory=CostSection)
    files: FilesSection = field(default_factory=FilesSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    risk: Mapping[str, Any] = field(default_factory=dict)

    # paths -------------------------------------------------------------
    def path(self, value: str) -> Path:
        """Resolve a configured path against :attr:`base_dir`."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def audit_log_path(self) -> Path:
        return self.path(self.files.audit_log)

    @property
    def lock_path(self) -> Path:
        return self.path(self.files.lock_file)

    @property
    def kill_switch_path(self) -> Path:
        return self.path(self.files.kill_switch)

    @property
    def quantity_scale(self) -> int:
        """Quantity units per whole instrument at this broker (10**decimals for Binance)."""
        return 10 ** self.binance.quantity_decimals if self.broker.kind == "binance" else 1

    @property
    def paper_state_path(self) -> Path:
        return self.path(self.paper.state_file)

    def redacted(self) -> dict[str, Any]:
        """The configuration as plain data with every secret removed.

        This is what goes into the audit log's ``run_started`` record.
        """
        out: dict[str, Any] = {"source": str(self.source) if self.source else None}
        for name in _SECTIONS:
            section = getattr(self, name)
            data = {}
            for f in fields(section):
                value = getattr(section, f.name)
                if isinstance(value, Secret):
                    value = "<set>" if value else "<unset>"
                elif isinstance(value, Mapping):
                    value = dict(value)
                data[f.name] = value
            out[name] = data
        out["risk"] = dict(self.risk)
        return out


_SECTIONS: dict[str, type] = {
    "broker": BrokerSection,
    "paper": PaperSection,
    "ibkr": IbkrSection,
    "binance": BinanceSection,
    "account": AccountSection,
    "execution": ExecutionSection,
    "plan": PlanSection,
    "cost": CostSection,
    "files": FilesSection,
    "metrics": MetricsSection,
}
_SECRET_KEYS = {("binance", "api_key"), ("binance", "api_secret")}


# --------------------------------------------------------------------------
# locations
# --------------------------------------------------------------------------
def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/nanobook/rebalance.toml`` (``~/.config`` if unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "nanobook" / "rebalance.toml"


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the embedded default keeps its files (see module docstring)."""
    env = os.environ if env is None else env
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV]).expanduser()
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "state")
    return Path(base) / "nanobook" / "rebalance"


def resolve_config_path(cli_path: str | os.PathLike[str] | None,
                        env: Mapping[str, str] | None = None) -> Path | None:
    """Return the config file to load, or ``None`` for the embedded default.

    Raises
    ------
    ConfigError
        If ``--config`` or the environment variable names a file that does
        not exist (an explicit choice that cannot be honoured is an error).
    """
    env = os.environ if env is None else env
    if cli_path is not None:
        p = Path(cli_path).expanduser()
        if not p.is_file():
            raise ConfigError(f"--config: file not found, got {str(cli_path)!r}")
        return p
    if env.get(CONFIG_ENV):
        p = Path(env[CONFIG_ENV]).expanduser()
        if not p.is_file():
            raise ConfigError(f"{CONFIG_ENV}: file not found, got {env[CONFIG_ENV]!r}")
        return p
    p = default_config_path(env)
    return p if p.is_file() else None


def load_config(cli_path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """Find, read and validate the configuration (see module docstring).

    Raises
    ------
    ConfigError
        Unreadable file, invalid TOML, unknown table or key, wrong type or
        out-of-range value; the message names the key and the value.
    """
    env = os.environ if env is None else env
    path = resolve_config_path(cli_path, env)
    if path is None:
        return parse_config({}, base_dir=default_state_dir(env), source=None, env=env)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"invalid TOML in config file {str(path)!r}: {exc}{_toml_line(raw_bytes, exc)}") from exc
    binance = data.get("binance")
    if isinstance(binance, dict) and any(binance.get(k) for _, k in _SECRET_KEYS):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"config file {str(path)!r} holds secrets but has mode {mode:04o}; "
                f"run: chmod 600 {path}")
    try:
        return parse_config(data, base_dir=path.resolve().parent, source=path, env=env)
    except ConfigError as exc:  # one line naming the file, the key and the value
        raise ConfigError(f"config file {str(path)!r}: {exc}") from exc


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------
def _toml_line(raw: bytes, exc: Exception) -> str:
    """``: 'the offending line'`` for a TOML error that gives its line number, else ``""``."""
    import re

    m = re.search(r"at line (\d+)", str(exc))
    if m is None:
        return ""
    lines = raw.decode("utf-8", "replace").splitlines()
    n = int(m.group(1))
    return f": {lines[n - 1].strip()!r}" if 0 < n <= len(lines) else ""


def _type_name(value: object) -> str:
    return type(value).__name__


def _coerce(table: str, key: str, value: Any, default: Any) -> Any:
    where = f"{table}.{key}"
    if isinstance(default, Secret):
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {_type_name(value)}")
        return Secret(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if not is_int(value):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        if not _I64_MIN <= value <= _I64_MAX:
            raise ConfigError(f"{where} must fit a 64-bit integer (at most {_I64_MAX}), got {value!r}")
        return value
    if isinstance(default, float):
        if not is_real(value):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be finite, got {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if isinstance(default, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        from .targets import SYMBOL_RE

        out = {}
        for sym, lot in value.items():
            if not SYMBOL_RE.match(sym):
                raise ConfigError(f"{where} keys must be symbols (1-8 upper-case letters, digits or "
                                  f"'._/-'), got {sym!r}")
            integer(lot, f"{where}.{sym}", gt=0, le=_I64_MAX, expect=f"a positive integer (at most {_I64_MAX})",
                    error=ConfigError)
            out[str(sym)] = lot
        return out
    raise AssertionError(f"no coercion for {where}")  # pragma: no cover


_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
#: the largest paper account: its cents and every position's value stay far inside int64
MAX_INITIAL_CASH_USD = 1e12


def _check(cond: bool, where: str, rule: str, value: Any) -> None:
    if not cond:
        raise ConfigError(f"{where} must be {rule}, got {value!r}")


def _validate(cfg: Config) -> None:
    _check(cfg.broker.kind in ("paper", "ibkr", "binance"), "broker.kind",
           "one of 'paper', 'ibkr', 'binance'", cfg.broker.kind)
    p = cfg.paper
    _check(0 < p.initial_cash_usd <= MAX_INITIAL_CASH_USD, "paper.initial_cash_usd", "in (0, 1e12]",
           p.initial_cash_usd)
    _check(0 <= p.spread_bps < 10_000, "paper.spread_bps", "in [0, 10000)", p.spread_bps)
    _check(bool(p.state_file), "paper.state_file", "a non-empty path", p.state_file)
    _check(0 <= p.commission_bps < 10_000, "paper.commission_bps", "in [0, 10000)", p.commission_bps)
    _check(p.liquidity >= 0, "paper.liquidity", ">= 0 (0 = unlimited)", p.liquidity)
    _check(1 <= p.leverage <= 100, "paper.leverage", "in [1, 100]", p.leverage)
    if cfg.broker.kind == "paper" and p.price_file and not cfg.path(p.price_file).is_file():
        raise ConfigError(f"paper.price_file {p.price_file!r}: file not found ({cfg.path(p.price_file)})")
    i = cfg.ibkr
    _check(bool(i.host), "ibkr.host", "a non-empty host name", i.host)
    _check(0 < i.port < 65536, "ibkr.port", "in 1..65535", i.port)
    _check(0 < i.timeout_secs <= 3600, "ibkr.timeout_secs", "in (0, 3600]", i.timeout_secs)
    _check(0 <= i.client_id <= 2**31 - 1, "ibkr.client_id", "in 0..2147483647", i.client_id)
    _check(bool(cfg.binance.quote_asset), "binance.quote_asset", "non-empty", cfg.binance.quote_asset)
    _check(0 <= cfg.binance.quantity_decimals <= 18, "binance.quantity_decimals", "in 0..18",
           cfg.binance.quantity_decimals)
    _check(0 <= cfg.binance.unknown_outcome_window_secs <= 600, "binance.unknown_outcome_window_secs",
           "in [0, 600]", cfg.binance.unknown_outcome_window_secs)
    _check(cfg.account.type in ("cash", "margin"), "account.type", "'cash' or 'margin'", cfg.account.type)
    e = cfg.execution
    _check(e.order_type in ("limit", "market"), "execution.order_type", "'limit' or 'market'", e.order_type)
    _check(0 <= e.limit_offset_bps <= 1000, "execution.limit_offset_bps", "in [0, 1000]", e.limit_offset_bps)
    _check(0 < e.order_timeout_secs <= 86_400, "execution.order_timeout_secs", "in (0, 86400]",
           e.order_timeout_secs)
    _check(0 < e.poll_interval_secs <= e.order_timeout_secs, "execution.poll_interval_secs",
           "in (0, order_timeout_secs]", e.poll_interval_secs)
    _check(e.max_orders > 0, "execution.max_orders", "> 0", e.max_orders)
    _check(0 <= e.pause_between_orders_secs <= 3600, "execution.pause_between_orders_secs", "in [0, 3600]",
           e.pause_between_orders_secs)
    _check(0 < e.quote_staleness_secs <= 86_400, "execution.quote_staleness_secs", "in (0, 86400]",
           e.quote_staleness_secs)
    pl = cfg.plan
    _check(pl.lot_size > 0, "plan.lot_size", "> 0", pl.lot_size)
    _check(pl.rounding in ("down", "nearest"), "plan.rounding", "'down' or 'nearest'", pl.rounding)
    _check(pl.min_order_value_usd >= 0, "plan.min_order_value_usd", ">= 0", pl.min_order_value_usd)
    _check(0 <= pl.no_trade_band_bps <= 10_000, "plan.no_trade_band_bps", "in [0, 10000]",
           pl.no_trade_band_bps)
    _check(0 < pl.max_gross_weight <= 10, "plan.max_gross_weight", "in (0, 10]", pl.max_gross_weight)
    _check(pl.tick_size_cents > 0, "plan.tick_size_cents", "> 0", pl.tick_size_cents)
    c = cfg.cost
    for name in ("commission_per_share", "commission_min", "commission_bps", "slippage_bps"):
        _check(getattr(c, name) >= 0, f"cost.{name}", ">= 0", getattr(c, name))
    for name in ("audit_log", "lock_file", "kill_switch"):
        _check(bool(getattr(cfg.files, name)), f"files.{name}", "a non-empty path",
               getattr(cfg.files, name))
    _check(0 <= cfg.metrics.port < 65536, "metrics.port", "in 0..65535 (0 disables)", cfg.metrics.port)
    if cfg.broker.kind == "binance" and not (cfg.binance.api_key and cfg.binance.api_secret):
        raise ConfigError(
            "broker.kind 'binance' needs an API key and secret: set "
            f"{BINANCE_KEY_ENV} and {BINANCE_SECRET_ENV} (or binance.api_key / "
            "binance.api_secret in a 0600 config file)")


def parse_config(data: Mapping[str, Any], *, base_dir: Path, source: Path | None = None,
                 env: Mapping[str, str] | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML data (a dict of tables).

    Raises
    ------
    ConfigError
        On an unknown table or key, a wrong type or an out-of-range value.
    """
    env = os.environ if env is None else env
    known = set(_SECTIONS) | {"risk"}
    for table, value in data.items():
        if table not in known:
            raise ConfigError(
                f"unknown config table [{table}]; known tables: {', '.join(sorted(known))}")
        if not isinstance(value, dict):
            raise ConfigError(f"[{table}] must be a table, got {value!r}")
    kwargs: dict[str, Any] = {}
    for table, cls in _SECTIONS.items():
        raw = dict(data.get(table, {}))
        defaults = cls()
        names = {f.name for f in fields(cls)}
        values = {}
        for key, value in raw.items():
            if key not in names:
                raise ConfigError(
                    f"unknown config key {table}.{key}; known keys: {', '.join(sorted(names))}")
            values[key] = _coerce(table, key, value, getattr(defaults, key))
        if table == "binance":
            if env.get(BINANCE_KEY_ENV):
                values["api_key"] = Secret(env[BINANCE_KEY_ENV])
            if env.get(BINANCE_SECRET_ENV):
                values["api_secret"] = Secret(env[BINANCE_SECRET_ENV])
        kwargs[table] = cls(**values)
    risk = dict(data.get("risk", {}))
    engine = _validate_risk_table(risk)
    if "min_trade_usd" in risk:
        # the reference keeps the minimum trade in [risk]; we keep it in [plan]
        value = float(engine.config.min_trade_usd)
        if "min_order_value_usd" in data.get("plan", {}) and \
                kwargs["plan"].min_order_value_usd != value:
            raise ConfigError(
                f"risk.min_trade_usd ({value!r}) and plan.min_order_value_usd "
                f"({kwargs['plan'].min_order_value_usd!r}) disagree; set only one")
        kwargs["plan"] = replace(kwargs["plan"], min_order_value_usd=value)
    cfg = Config(base_dir=Path(base_dir), source=source, risk=risk, **kwargs)
    _validate(cfg)
    return cfg


def _validate_risk_table(risk: Mapping[str, Any]) -> Any:
    """Validate ``[risk]`` with the risk engine's own loader (unknown keys are errors)."""
    from ._risk import build_risk_engine

    return build_risk_engine(risk)


def _asdict(cfg: Config) -> dict[str, Any]:  # pragma: no cover - debugging aid
    return asdict(cfg)
