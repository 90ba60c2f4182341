"""The TOML configuration of ``python -m nanobook sim``: strict, every error names its key.

Sections (the first four are those of the seed configuration; every key is
optional unless stated, unknown sections and keys are errors):

``[trading]``  ``live_enabled`` (must be false: the simulator never trades
live), ``symbols`` (list of names, one per ``--data`` file), ``initial_capital``
(currency, > 0), ``max_position`` (quantity units; refuses orders beyond it),
``max_order_size`` (quantity units; the strategy's order size may not exceed it).

``[latency]``  ``order_latency_ns`` (local -> exchange, also exchange ->
local unless ``response_latency_ns`` is given), ``market_data_latency_ns``
(exchange -> local for market data; omitted: the stream's own local
timestamps), ``jitter_ns`` (each order/report delay is drawn uniformly in
``latency ± jitter``), ``response_latency_ns``, ``seed``.

``[risk]``  the kill switch (:class:`nanobook.limits.KillSwitchLimits`):
``max_position``, ``max_drawdown_pct``, ``max_daily_loss``, ``enable_kill_switch``.

``[fees]``  ``maker_fee``, ``taker_fee``, ``exchange_fee`` and ``unit``:
``"per_contract"`` (default, the seed's CME convention: currency per
quantity unit of the stream, the exchange fee added to both sides) or
``"bps"`` (crypto venues: basis points of notional, negative = rebate; the
exchange fee, if any, added to both).

``[venue]``  ``tick_size``, ``lot_size`` (price / quantity units),
``min_notional`` (currency), ``multiplier`` (currency per price unit per
quantity unit), and for Binance captures ``price_decimals``, ``qty_decimals``,
``market`` (``"spot"`` or ``"futures"``).

``[queue]``  ``model`` (``"risk_averse"``, ``"power"``, ``"log"``), ``power``,
``fill_rounding`` (``"nearest"``, ``"floor"``).

``[strategy]``  ``name`` (``"market_maker"`` or ``"touch"``: one post-only
order per side at the touch, re-checked every ``timer_interval_ns``),
``order_size``, ``half_spread``, ``skew``, ``requote``, ``timer_interval_ns``.

``[run]``  ``record_interval_ns``, ``speed`` (0: as fast as possible; ``s``:
``s`` times wall-clock speed), ``progress_every`` (exchange rows).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..limits import KillSwitchLimits
from ..validate import is_int, is_real

__all__ = ["SimConfig", "ConfigError", "load_config"]


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the file, section and key."""


_MAX = 2**53       # the simulator's largest price, quantity or nanosecond step


def _int(sec, key, v, lo=0, hi=_MAX):
    if not is_int(v):
        raise ConfigError(f"[{sec}] {key} must be an integer, got {v!r}")
    if v < lo:
        raise ConfigError(f"[{sec}] {key} must be >= {lo}, got {v!r}")
    if v > hi:
        raise ConfigError(f"[{sec}] {key} must be <= {'2**53' if hi == _MAX else hi}, got {v!r}")
    return v


def _num(sec, key, v, lo=None, strict=False, hi=float(_MAX)):
    if not is_real(v):
        raise ConfigError(f"[{sec}] {key} must be a number, got {v!r}")
    if not math.isfinite(v):
        raise ConfigError(f"[{sec}] {key} must be finite, got {v!r}")
    if abs(v) > hi:
        raise ConfigError(f"[{sec}] {key} must be at most {hi:g} in size, got {v!r}")
    if lo is not None and (v <= lo if strict else v < lo):
        raise ConfigError(f"[{sec}] {key} must be {'>' if strict else '>='} {lo}, got {v!r}")
    return float(v)


def _choice(sec, key, v, options):
    if v not in options:
        raise ConfigError(f"[{sec}] {key} must be one of {', '.join(map(repr, options))}, got {v!r}")
    return v


_SCHEMA: dict[str, dict[str, Any]] = {
    "trading": {"live_enabled": False, "symbols": None, "initial_capital": 0.0, "max_position": None,
                "max_order_size": None},
    "latency": {"order_latency_ns": 0, "market_data_latency_ns": None, "jitter_ns": 0,
                "response_latency_ns": None, "seed": 0},
    "risk": {k: None for k in ("max_position", "max_drawdown_pct", "max_daily_loss")} | {"enable_kill_switch": True},
    "fees": {"maker_fee": 0.0, "taker_fee": 0.0, "exchange_fee": 0.0, "unit": "per_contract"},
    "venue": {"tick_size": 1, "lot_size": 1, "min_notional": 0.0, "multiplier": None, "price_decimals": 2,
              "qty_decimals": 3, "market": "spot"},
    "queue": {"model": "risk_averse", "power": 2.0, "fill_rounding": "nearest"},
    "strategy": {"name": "market_maker", "order_size": None, "half_spread": 0.0, "skew": 0.0, "requote": 1,
                 "timer_interval_ns": 100_000_000},
    "run": {"record_interval_ns": 1_000_000_000, "speed": 0.0, "progress_every": 100_000},
}


@dataclass
class SimConfig:
    """A validated configuration (``sections`` holds every key with its default filled in)."""

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<config>"

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.sections[name]

    @property
    def kill_switch(self) -> KillSwitchLimits | None:
        r = self.sections["risk"]
        ks = KillSwitchLimits(**r)
        return ks if ks.active else None


def load_config(path_or_text: str | Path, *, text: bool = False) -> SimConfig:
    """Load and validate a TOML file (or TOML text with ``text=True``).

    Raises
    ------
    ConfigError
        Malformed TOML, unknown section or key, wrong type or range; the
        message names the file, the section and the key.
    """
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    src = "<text>" if text else str(path_or_text)
    try:
        if text:
            doc = tomllib.loads(str(path_or_text))
        else:
            with open(path_or_text, "rb") as fh:
                doc = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{src}: cannot read the config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{src}: not valid TOML: {exc}") from None
    try:
        return SimConfig(_validate(doc), src)
    except ConfigError as exc:
        raise ConfigError(f"{src}: {exc}") from None


def _validate(doc: dict) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for sec in doc:
        if sec not in _SCHEMA:
            raise ConfigError(f"unknown section [{sec}] (known: {', '.join(_SCHEMA)})")
        if not isinstance(doc[sec], dict):
            raise ConfigError(f"{sec} must be a table [{sec}], got {doc[sec]!r}")
    for sec, defaults in _SCHEMA.items():
        table = doc.get(sec, {})
        for k in table:
            if k not in defaults:
                raise ConfigError(f"[{sec}] unknown key {k!r} (known: {', '.join(defaults)})")
        out[sec] = {**defaults, **table}
    t, lat, fees, venue = out["trading"], out["latency"], out["fees"], out["venue"]
    q, st, run = out["queue"], out["strategy"], out["run"]
    if not isinstance(t["live_enabled"], bool):
        raise ConfigError(f"[trading] live_enabled must be a bool, got {t['live_enabled']!r}")
    if t["live_enabled"]:
        raise ConfigError("[trading] live_enabled = true: the simulator never trades live; set it to false")
    sy = t["symbols"]
    if sy is not None and (not isinstance(sy, list) or not sy or not all(isinstance(x, str) and x for x in sy)
                           or len(set(sy)) != len(sy)):
        raise ConfigError(f"[trading] symbols must be a non-empty list of distinct names, got {sy!r}")
    t["initial_capital"] = _num("trading", "initial_capital", t["initial_capital"], 0, hi=1e15)
    if t["max_position"] is not None:
        _int("trading", "max_position", t["max_position"])
    if t["max_order_size"] is not None:
        _int("trading", "max_order_size", t["max_order_size"], 1)
    for k in ("order_latency_ns", "jitter_ns", "seed"):
        _int("latency", k, lat[k])
    for k in ("market_data_latency_ns", "response_latency_ns"):
        if lat[k] is not None:
            _int("latency", k, lat[k])
    if lat["seed"] >= 2**53:
        raise ConfigError(f"[latency] seed must be < 2**53, got {lat['seed']!r}")
    for k in ("order_latency_ns", "response_latency_ns"):
        v = lat[k] if lat[k] is not None else lat["order_latency_ns"]
        if lat["jitter_ns"] > v:
            raise ConfigError(f"[latency] jitter_ns {lat['jitter_ns']} exceeds {k} {v} (a delay cannot be negative)")
    try:
        ks = KillSwitchLimits(**out["risk"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[risk] {exc}") from None
    if ks.active and ks.max_drawdown_pct is not None and t["initial_capital"] <= 0:
        raise ConfigError("[risk] max_drawdown_pct needs [trading] initial_capital > 0")
    for k in ("maker_fee", "taker_fee", "exchange_fee"):
        fees[k] = _num("fees", k, fees[k])
    _choice("fees", "unit", fees["unit"], ("per_contract", "bps"))
    _int("venue", "tick_size", venue["tick_size"], 1)
    _int("venue", "lot_size", venue["lot_size"], 1)
    venue["min_notional"] = _num("venue", "min_notional", venue["min_notional"], 0)
    if venue["multiplier"] is not None:
        venue["multiplier"] = _num("venue", "multiplier", venue["multiplier"], 0, strict=True)
    _int("venue", "price_decimals", venue["price_decimals"])
    _int("venue", "qty_decimals", venue["qty_decimals"])
    if venue["price_decimals"] > 12 or venue["qty_decimals"] > 12:
        raise ConfigError(f"[venue] price_decimals and qty_decimals must be <= 12, got "
                          f"{venue['price_decimals']}, {venue['qty_decimals']}")
    _choice("venue", "market", venue["market"], ("spot", "futures"))
    _choice("queue", "model", q["model"], ("risk_averse", "power", "log"))
    q["power"] = _num("queue", "power", q["power"], 0, strict=True)
    _choice("queue", "fill_rounding", q["fill_rounding"], ("nearest", "floor"))
    _choice("strategy", "name", st["name"], ("market_maker", "touch"))
    if st["order_size"] is None:
        st["order_size"] = venue["lot_size"]
    _int("strategy", "order_size", st["order_size"], 1)
    if st["order_size"] % venue["lot_size"]:
        raise ConfigError(f"[strategy] order_size {st['order_size']} is not a multiple of [venue] lot_size "
                          f"{venue['lot_size']}")
    if t["max_order_size"] is not None and st["order_size"] > t["max_order_size"]:
        raise ConfigError(f"[strategy] order_size {st['order_size']} exceeds [trading] max_order_size "
                          f"{t['max_order_size']}")
    st["half_spread"] = _num("strategy", "half_spread", st["half_spread"], 0)
    st["skew"] = _num("strategy", "skew", st["skew"], 0)
    _int("strategy", "requote", st["requote"], 1)
    _int("strategy", "timer_interval_ns", st["timer_interval_ns"], 1)
    _int("run", "record_interval_ns", run["record_interval_ns"])
    run["speed"] = _num("run", "speed", run["speed"], 0)
    _int("run", "progress_every", run["progress_every"], 1)
    return out
