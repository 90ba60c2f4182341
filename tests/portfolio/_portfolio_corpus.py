"""Loading and comparing conformance records (format: SCHEMA.md, SCHEMA-analytics.md)."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data" / "portfolio"

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def load(name: str) -> list[dict[str, Any]]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def decode(v: Any) -> Any:
    """Decode an argument: non-finite strings, ``$tuple`` and ``$ndarray`` markers."""
    if isinstance(v, str):
        return _NONFINITE.get(v, v)
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if "$tuple" in v:
            return tuple(decode(x) for x in v["$tuple"])
        if "$ndarray" in v:
            return np.array(decode(v["$ndarray"]), dtype=v.get("dtype", "float64"))
        return {k: decode(x) for k, x in v.items()}
    return v


def to_plain(v: Any) -> Any:
    """Turn a result into JSON-like values (Metrics -> dict with $type, tuples -> lists)."""
    from nanobook.portfolio.metrics import Metrics

    if isinstance(v, Metrics):
        d = {"$type": "Metrics"}
        d.update(v.to_dict())
        return d
    if isinstance(v, (list, tuple)):
        return [to_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: to_plain(x) for k, x in v.items()}
    return v


def mismatch(expect: Any, got: Any, path: str = "$", key_order: bool = True) -> str | None:
    """First difference under the corpus rules (bit-equal floats, NaN == NaN, types kept)."""
    if isinstance(expect, str) and expect in _NONFINITE:
        expect = _NONFINITE[expect]
    if isinstance(expect, bool) or expect is None or isinstance(expect, str):
        return None if (got == expect and type(got) is type(expect)) else f"{path}: expected {expect!r}, got {got!r}"
    if isinstance(expect, int):
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)) or int(got) != expect:
            return f"{path}: expected int {expect!r}, got {got!r}"
        return None
    if isinstance(expect, float):
        if isinstance(got, bool) or not isinstance(got, (float, np.floating)):
            return f"{path}: expected float {expect!r}, got {got!r} ({type(got).__name__})"
        g = float(got)
        if math.isnan(expect) and math.isnan(g):
            return None
        if g == expect and math.copysign(1.0, g) == math.copysign(1.0, expect):
            return None
        return f"{path}: expected {expect!r}, got {g!r}"
    if isinstance(expect, list):
        if not isinstance(got, (list, tuple)) or len(got) != len(expect):
            return f"{path}: expected list of {len(expect)}, got {type(got).__name__} {got if not isinstance(got, (list, tuple)) else len(got)}"
        for i, (e, g) in enumerate(zip(expect, got)):
            m = mismatch(e, g, f"{path}[{i}]", key_order)
            if m:
                return m
        return None
    if isinstance(expect, dict):
        if not isinstance(got, dict):
            return f"{path}: expected dict, got {type(got).__name__}"
        if (list(expect) != list(got)) if key_order else (set(expect) != set(got)):
            return f"{path}: keys {list(expect)} != {list(got)}"
        for k in expect:
            m = mismatch(expect[k], got[k], f"{path}.{k}", key_order)
            if m:
                return m
        return None
    return f"{path}: unexpected type {type(expect).__name__}"


def same(x: Any, y: Any) -> bool:
    """Deep equality where NaN equals NaN (results compared across engines/inputs)."""
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or x == y
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return list(x) == list(y) and all(same(x[k], y[k]) for k in x)
    return x == y
