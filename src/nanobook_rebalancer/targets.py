"""Target-weight files: JSON or CSV, validated before anything talks to a broker.

JSON::

    {"targets": [{"symbol": "AAPL", "weight": 0.40}, {"symbol": "SPY", "weight": -0.10}],
     "timestamp": "2026-02-08T15:30:00Z",          # optional
     "metadata": {"id": "sched-2026-02-08"}}       # optional, free-form strings

CSV (header required, ``#`` comments and blank lines ignored)::

    symbol,weight
    AAPL,0.40
    SPY,-0.10

Weights are fractions of equity; negative weights are shorts; a zero weight
means "hold none"; symbols held at the broker but absent from the file are
closed.  An empty target list is refused (an empty file closing every position
is far more often a bug than an intent: list the symbols with weight 0).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from nanobook.validate import is_real

from .errors import TargetError

__all__ = ["SYMBOL_RE", "TargetWeights", "load_targets", "parse_targets_json",
           "parse_targets_csv", "validate_symbol"]

#: accepted symbols: upper-case letters, digits and ``. _ / -``, 1-8 characters
#: (the limit of the order book and the risk engine)
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,7}$")
_MAX_FILE_BYTES = 10 * 1024 * 1024
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_JSON_KEYS = {"targets", "timestamp", "metadata"}
_ENTRY_KEYS = {"symbol", "weight"}


@dataclass(frozen=True)
class TargetWeights:
    """Validated target weights.

    Attributes
    ----------
    weights : dict[str, float]
        Symbol -> weight, in file order.
    source : str
        The file it was read from (or ``"<string>"``).
    digest : str
        SHA-256 of the file bytes, recorded in the audit log.
    metadata : dict[str, str]
        The JSON ``metadata`` object (empty for CSV).
    timestamp : str | None
        The JSON ``timestamp`` if given.
    """

    weights: Mapping[str, float]
    source: str = "<string>"
    digest: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    timestamp: str | None = None

    @property
    def gross(self) -> float:
        """Sum of absolute weights."""
        return math.fsum(abs(w) for w in self.weights.values())

    @property
    def net(self) -> float:
        """Sum of signed weights."""
        return math.fsum(self.weights.values())


def validate_symbol(symbol: object, where: str) -> str:
    """Return ``symbol`` if it is a valid symbol string, else raise TargetError."""
    if not isinstance(symbol, str):
        raise TargetError(f"{where}: symbol must be a string, got {symbol!r}")
    if not SYMBOL_RE.match(symbol):
        raise TargetError(
            f"{where}: symbol must be 1-8 upper-case letters, digits or '._/-', got {symbol!r}")
    return symbol


def _weight(value: object, where: str) -> float:
    if not is_real(value):
        raise TargetError(f"{where}: weight must be a number, got {_short(value)}")
    try:
        w = float(value)
    except OverflowError:  # an integer beyond any float
        raise TargetError(f"{where}: weight must be in [-1, 1], got {_short(value)}") from None
    if not math.isfinite(w):
        raise TargetError(f"{where}: weight must be finite, got {value!r}")
    if abs(w) > 1.0:
        raise TargetError(f"{where}: weight must be in [-1, 1], got {value!r}")
    return w


def _finish(pairs: Iterable[tuple[str, float, str]], *, max_gross: float, source: str,
            digest: str, metadata: Mapping[str, str] | None = None,
            timestamp: str | None = None) -> TargetWeights:
    weights: dict[str, float] = {}
    for symbol, w, where in pairs:
        if symbol in weights:
            raise TargetError(f"{where}: duplicate symbol {symbol!r}")
        weights[symbol] = w
    if not weights:
        raise TargetError(
            f"{source}: no targets; to close every position list the symbols with weight 0")
    t = TargetWeights(weights=weights, source=source, digest=digest,
                      metadata=dict(metadata or {}), timestamp=timestamp)
    if not (max_gross > 0 and math.isfinite(max_gross)):
        raise ValueError(f"max_gross must be positive and finite, got {max_gross!r}")
    if t.gross > max_gross + 1e-12:
        raise TargetError(
            f"{source}: gross weight {t.gross:.6g} exceeds the configured limit "
            f"plan.max_gross_weight = {max_gross:.6g}")
    return t


def parse_targets_json(text: str, *, max_gross: float = 1.0, source: str = "<string>",
                       digest: str = "") -> TargetWeights:
    """Parse and validate the JSON target format (see module docstring).

    Raises
    ------
    TargetError
        Invalid JSON, unknown keys, bad symbols or weights, duplicates, an
        empty list, or a gross weight above ``max_gross``.
    """
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except ValueError as exc:
        raise TargetError(f"{source}: invalid JSON: {exc}") from exc
    except RecursionError:
        raise TargetError(f"{source}: invalid JSON: nested too deeply (a target file is an object "
                          "holding a list of {symbol, weight} objects)") from None
    if not isinstance(data, dict):
        raise TargetError(f"{source}: top level must be an object with 'targets', got {_kind(data)}")
    unknown = set(data) - _JSON_KEYS
    if unknown:
        raise TargetError(f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_JSON_KEYS)}")
    if "targets" not in data:
        raise TargetError(f"{source}: missing key 'targets'")
    entries = data["targets"]
    if not isinstance(entries, list):
        raise TargetError(f"{source}: 'targets' must be a list, got {_kind(entries)}")
    timestamp = data.get("timestamp")
    if timestamp is not None and not isinstance(timestamp, str):
        raise TargetError(f"{source}: 'timestamp' must be a string, got {timestamp!r}")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TargetError(f"{source}: 'metadata' must be an object of strings, got {_short(metadata)}")

    def pairs() -> Iterable[tuple[str, float, str]]:
        for i, entry in enumerate(entries):
            where = f"{source}: targets[{i}]"
            if not isinstance(entry, dict):
                raise TargetError(f"{where} must be an object with symbol and weight, got {entry!r}")
            unknown_e = set(entry) - _ENTRY_KEYS
            if unknown_e:
                raise TargetError(f"{where}: unknown key(s) {sorted(unknown_e)}")
            for key in _ENTRY_KEYS:
                if key not in entry:
                    raise TargetError(f"{where}: missing key {key!r}")
            yield validate_symbol(entry["symbol"], where), _weight(entry["weight"], where), where

    return _finish(pairs(), max_gross=max_gross, source=source, digest=digest,
                   metadata=metadata, timestamp=timestamp)


def parse_targets_csv(text: str, *, max_gross: float = 1.0, source: str = "<string>",
                      digest: str = "") -> TargetWeights:
    """Parse and validate the CSV target format (header ``symbol,weight``).

    Raises
    ------
    TargetError
        Missing or wrong header, wrong number of fields, bad symbols or
        weights, duplicates, no rows, or a gross weight above ``max_gross``.
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise TargetError(f"{source}: empty CSV; expected a header 'symbol,weight'")
    rows = list(csv.reader(io.StringIO("\n".join(line for _, line in lines))))
    header = [c.strip().lower() for c in rows[0]]
    if header != ["symbol", "weight"]:
        raise TargetError(f"{source}: line {lines[0][0]}: header must be 'symbol,weight', got {rows[0]!r}")

    def pairs() -> Iterable[tuple[str, float, str]]:
        for (lineno, _), row in zip(lines[1:], rows[1:]):
            where = f"{source}: line {lineno}"
            if len(row) != 2:
                raise TargetError(f"{where}: expected 2 fields symbol,weight, got {row!r}")
            raw = row[1].strip()
            try:
                if not _DECIMAL.fullmatch(raw) and raw.lower().lstrip("+-") not in ("nan", "inf", "infinity"):
                    raise ValueError(raw)  # float() would also read "0_1" as 1.0 and "١" as 1.0
                value = float(raw)
            except ValueError:
                raise TargetError(f"{where}: weight must be a number (a plain decimal such as 0.25), "
                                  f"got {raw!r}") from None
            yield validate_symbol(row[0].strip(), where), _weight(value, where), where

    return _finish(pairs(), max_gross=max_gross, source=source, digest=digest)


def load_targets(path: str | Path, *, max_gross: float = 1.0, fmt: str | None = None) -> TargetWeights:
    """Read a target file; the format comes from ``fmt`` or the extension.

    ``.json`` -> JSON, ``.csv`` -> CSV, anything else must say ``fmt``.

    Raises
    ------
    TargetError
        Unreadable or oversized file, unknown format, or any validation error.
    """
    p = Path(path)
    if fmt is None:
        suffix = p.suffix.lower()
        fmt = {".json": "json", ".csv": "csv"}.get(suffix)
        if fmt is None:
            raise TargetError(f"target: cannot tell the format of {str(path)!r}; use .json or .csv")
    if fmt not in ("json", "csv"):
        raise TargetError(f"target format must be 'json' or 'csv', got {fmt!r}")
    try:
        if p.stat().st_size > _MAX_FILE_BYTES:
            raise TargetError(f"target: file {str(path)!r} is larger than {_MAX_FILE_BYTES} bytes")
        raw = p.read_bytes()
    except OSError as exc:
        raise TargetError(f"target: cannot read {str(path)!r}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TargetError(f"target: {str(path)!r} is not UTF-8 text") from exc
    digest = hashlib.sha256(raw).hexdigest()
    parse = parse_targets_json if fmt == "json" else parse_targets_csv
    return parse(text, max_gross=max_gross, source=str(path), digest=digest)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique; a repeated key is an error, not "the last one wins"."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} (first {_short(out[key])}, then {_short(value)})")
        out[key] = value
    return out


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list, str, int, float, bool)) or value is None \
        else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid weight")


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)
