"""Event files and the JSON form of events (not on the order path).

The engine (``nanobook._engine``) records and replays events as fixed-size C
records; this module holds what only files and ``Event`` objects need, in
Python:

* the JSON (serde, externally tagged) form of one event, as nanobook 0.19
  writes it: ``{"SubmitLimit": {"side": "Buy", "price": 100, ...}}``, and
  its Rust ``Debug`` form used by ``repr(Event)``;
* the two event-file formats of ``save_events`` / ``load_events``: JSON
  Lines (``*.jsonl``) and numpy's ``.npy`` of ``EVENT_DTYPE``.

One event travels as a *row*: a tuple of the ``EVENT_DTYPE`` fields in
``EVENT_DTYPE.names`` order (what ``array.tolist()`` yields).  This module
never validates an array as ``Exchange.apply`` input; the engine's compiled
check does, before a file is written and after it is read
(``nanobook._engine.save_events`` / ``load_events``, the public entry points,
which call in here).
"""
from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any

import numpy as np

from . import dtypes as _dt

__all__ = ["event_path", "to_dict", "dumps", "from_text", "debug_repr",
           "write_events", "read_events"]

_SIDE = tuple(n.rust for n in _dt.SIDE_NAMES)
_SIDE_CODE = {n.rust: code for code, n in enumerate(_dt.SIDE_NAMES)}
_TIF = tuple(n.rust for n in _dt.TIF_NAMES)
_TIF_CODE = {n.rust: code for code, n in enumerate(_dt.TIF_NAMES)}
_TRAIL = {code: n.rust for code, n in enumerate(_dt.TRAIL_NAMES) if n}
_VARIANT_KIND = {name: kind for kind, name in _dt.EVENT_VARIANTS.items()}
# fields of each variant's body, in serde order
_VARIANT_FIELDS = {
    _dt.SUBMIT_LIMIT: ("side", "price", "quantity", "time_in_force"),
    _dt.SUBMIT_MARKET: ("side", "quantity"),
    _dt.CANCEL: ("order_id",),
    _dt.MODIFY: ("order_id", "new_price", "new_quantity"),
    _dt.SUBMIT_STOP_MARKET: ("side", "stop_price", "quantity"),
    _dt.SUBMIT_STOP_LIMIT: ("side", "stop_price", "limit_price", "quantity", "time_in_force"),
    _dt.SUBMIT_TRAILING_STOP_MARKET: ("side", "stop_price", "quantity", "trail_method"),
    _dt.SUBMIT_TRAILING_STOP_LIMIT: ("side", "stop_price", "limit_price", "quantity",
                                     "time_in_force", "trail_method"),
}
_FIELD_SETS = {k: frozenset(v) for k, v in _VARIANT_FIELDS.items()}
# the body field holding EventRec.price and .quantity in each variant ("": none)
_PRICE_QTY_FIELDS = {
    k: (next((f for f in v if f in ("price", "new_price", "stop_price")), ""),
        next((f for f in v if f in ("quantity", "new_quantity")), ""))
    for k, v in _VARIANT_FIELDS.items()
}
_LIMITS = (_dt.SUBMIT_STOP_LIMIT, _dt.SUBMIT_TRAILING_STOP_LIMIT)
_TRAILING = (_dt.SUBMIT_TRAILING_STOP_MARKET, _dt.SUBMIT_TRAILING_STOP_LIMIT)
_I64 = (-(1 << 63), 1 << 63)
_U64 = (0, 1 << 64)
# the choices, as the error messages list them
_SIDE_CHOICES = " or ".join(f"'{n}'" for n in _SIDE)
_TIF_CHOICES = ", ".join(_TIF[:-1]) + " or " + _TIF[-1]
_TRAIL_CHOICES = ", ".join(_TRAIL.values())
_CHUNK = 65536      # rows converted to Python tuples at a time when writing JSON Lines


def _describe(v: Any) -> str:
    return f"{v!r} ({type(v).__name__})"


def event_path(path: Any) -> str:
    """``path`` as a str (``str``, ``bytes`` or ``os.PathLike``) or TypeError."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {_describe(path)}")
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else path


# -- the JSON form ------------------------------------------------------------

def _trail_json(trail: int, trail_fixed: int, trail_value: float, period: int) -> dict:
    if trail == _dt.TRAIL_FIXED:
        return {_TRAIL[trail]: trail_fixed}
    if trail == _dt.TRAIL_PERCENTAGE:
        return {_TRAIL[trail]: trail_value}
    return {_TRAIL[_dt.TRAIL_SMA_ABS_CHANGE]: {"multiplier": trail_value, "period": period}}


def to_dict(row: tuple) -> dict:
    """The serde (externally tagged) form of one event row."""
    (k, side, tif, trail, _pad, order_id, price, limit_price, quantity,
     trail_fixed, trail_value, period) = row
    if k == _dt.SUBMIT_LIMIT:
        body = {"side": _SIDE[side], "price": price, "quantity": quantity,
                "time_in_force": _TIF[tif]}
    elif k == _dt.SUBMIT_MARKET:
        body = {"side": _SIDE[side], "quantity": quantity}
    elif k == _dt.CANCEL:
        body = {"order_id": order_id}
    elif k == _dt.MODIFY:
        body = {"order_id": order_id, "new_price": price, "new_quantity": quantity}
    elif k == _dt.SUBMIT_STOP_MARKET:
        body = {"side": _SIDE[side], "stop_price": price, "quantity": quantity}
    elif k == _dt.SUBMIT_STOP_LIMIT:
        body = {"side": _SIDE[side], "stop_price": price, "limit_price": limit_price,
                "quantity": quantity, "time_in_force": _TIF[tif]}
    elif k == _dt.SUBMIT_TRAILING_STOP_MARKET:
        body = {"side": _SIDE[side], "stop_price": price, "quantity": quantity,
                "trail_method": _trail_json(trail, trail_fixed, trail_value, period)}
    else:
        body = {"side": _SIDE[side], "stop_price": price, "limit_price": limit_price,
                "quantity": quantity, "time_in_force": _TIF[tif],
                "trail_method": _trail_json(trail, trail_fixed, trail_value, period)}
    return {_dt.EVENT_VARIANTS[k]: body}


def dumps(row: tuple) -> str:
    """The compact JSON text of one event row (``Event.__getstate__``)."""
    return json.dumps(to_dict(row), separators=(",", ":"))


def _json_int(body: dict, field: str, where: str, bounds: tuple[int, int]) -> int:
    v = body[field]
    if type(v) is not int:
        raise ValueError(f"{where}: field '{field}' must be an integer, got {v!r}")
    if not (bounds[0] <= v < bounds[1]):
        which = "signed" if bounds is _I64 else "unsigned"
        raise ValueError(f"{where}: field '{field}' out of the {which} 64-bit range: {v}")
    return v


def _finite_number(v: Any, what: str, where: str) -> float:
    if type(v) not in (int, float) or not math.isfinite(v):
        raise ValueError(f"{where}: {what} must be a finite number, got {v!r}")
    return v


def _from_dict(obj: Any, where: str) -> tuple:
    """Parse the serde form into a row; ValueError naming ``where`` and the field."""
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError(f"{where}: an event is an object with exactly one variant key, got {obj!r}")
    (variant, body), = obj.items()
    kind = _VARIANT_KIND.get(variant)
    if kind is None:
        raise ValueError(f"{where}: unknown event variant {variant!r}, expected one of "
                         + ", ".join(_dt.EVENT_VARIANTS.values()))
    if not isinstance(body, dict):
        raise ValueError(f"{where}: {variant} body must be an object, got {body!r}")
    fields = _VARIANT_FIELDS[kind]
    if body.keys() != _FIELD_SETS[kind]:
        missing = [f for f in fields if f not in body]
        extra = [f for f in body if f not in fields]
        raise ValueError(f"{where}: {variant} needs fields {list(fields)}, "
                         f"missing {missing}, unexpected {extra}")
    side = tif = trail = order_id = price = limit_price = quantity = trail_fixed = period = 0
    trail_value = 0.0
    # fields are checked in this order whatever the variant (the first bad one is reported)
    if "side" in body:
        s = _SIDE_CODE.get(body["side"]) if isinstance(body["side"], str) else None
        if s is None:
            raise ValueError(f"{where}: field 'side' must be {_SIDE_CHOICES}, got {body['side']!r}")
        side = s
    if "time_in_force" in body:
        t = _TIF_CODE.get(body["time_in_force"]) if isinstance(body["time_in_force"], str) else None
        if t is None:
            raise ValueError(f"{where}: field 'time_in_force' must be {_TIF_CHOICES}, "
                             f"got {body['time_in_force']!r}")
        tif = t
    price_field, qty_field = _PRICE_QTY_FIELDS[kind]
    if price_field:
        price = _json_int(body, price_field, where, _I64)
    if "limit_price" in body:
        limit_price = _json_int(body, "limit_price", where, _I64)
    if "order_id" in body:
        order_id = _json_int(body, "order_id", where, _U64)
    if qty_field:
        quantity = _json_int(body, qty_field, where, _U64)
        if quantity == 0:
            raise ValueError(f"{where}: field '{qty_field}' must be positive, got 0")
    if "trail_method" in body:
        tm = body["trail_method"]
        if not isinstance(tm, dict) or len(tm) != 1:
            raise ValueError(f"{where}: trail_method must be one of {_TRAIL_CHOICES}, "
                             f"got {tm!r}")
        (name, val), = tm.items()
        if name == _TRAIL[_dt.TRAIL_FIXED]:
            trail = _dt.TRAIL_FIXED
            trail_fixed = _json_int(tm, name, where, _I64)
        elif name == _TRAIL[_dt.TRAIL_PERCENTAGE]:
            trail_value = _finite_number(val, name, where)
            trail = _dt.TRAIL_PERCENTAGE
        elif name == _TRAIL[_dt.TRAIL_SMA_ABS_CHANGE]:
            if not isinstance(val, dict) or set(val) != {"multiplier", "period"}:
                raise ValueError(f"{where}: {name} needs multiplier and period, got {val!r}")
            trail_value = _finite_number(val["multiplier"], "multiplier", where)
            trail = _dt.TRAIL_SMA_ABS_CHANGE
            period = _json_int(val, "period", where, _U64)
        else:
            raise ValueError(f"{where}: unknown trail_method {name!r}")
    return (kind, side, tif, trail, 0, order_id, price, limit_price, quantity,
            trail_fixed, float(trail_value), period)


def from_text(text: str, where: str, json_where: str) -> tuple:
    """``json.loads`` then parse one event into a row: every failure, whatever
    the damage (bad JSON, nesting too deep for the parser, a number no field
    can hold), is a ValueError starting with ``where`` / ``json_where``."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{json_where}: {exc}") from None
    except RecursionError:
        raise ValueError(f"{json_where}: nested too deeply") from None
    try:
        return _from_dict(obj, where)
    except (OverflowError, TypeError) as exc:
        raise ValueError(f"{where}: invalid event: {exc}") from None


def _debug_price(p: int) -> str:
    return f"Price({p})"


def debug_repr(row: tuple) -> str:
    """The reference's Rust ``Debug`` form of one event row (``repr(Event)``)."""
    (k, side_code, tif, trail, _pad, order_id, price, limit_price, quantity,
     trail_fixed, trail_value, period) = row
    side = _SIDE[side_code]
    if k == _dt.SUBMIT_LIMIT:
        return (f"SubmitLimit {{ side: {side}, price: {_debug_price(price)}, "
                f"quantity: {quantity}, time_in_force: {_TIF[tif]} }}")
    if k == _dt.SUBMIT_MARKET:
        return f"SubmitMarket {{ side: {side}, quantity: {quantity} }}"
    if k == _dt.CANCEL:
        return f"Cancel {{ order_id: OrderId({order_id}) }}"
    if k == _dt.MODIFY:
        return (f"Modify {{ order_id: OrderId({order_id}), new_price: "
                f"{_debug_price(price)}, new_quantity: {quantity} }}")
    head = f"side: {side}, stop_price: {_debug_price(price)}"
    if k in _LIMITS:
        head += f", limit_price: {_debug_price(limit_price)}"
    head += f", quantity: {quantity}"
    if k in _LIMITS:
        head += f", time_in_force: {_TIF[tif]}"
    if k in _TRAILING:
        if trail == _dt.TRAIL_FIXED:
            tm = f"{_TRAIL[trail]}({trail_fixed})"
        elif trail == _dt.TRAIL_PERCENTAGE:
            tm = f"{_TRAIL[trail]}({trail_value!r})"
        else:
            tm = (f"{_TRAIL[_dt.TRAIL_SMA_ABS_CHANGE]} {{ multiplier: {trail_value!r}, "
                  f"period: {period} }}")
        head += f", trail_method: {tm}"
    return f"{_dt.EVENT_VARIANTS[k]} {{ {head} }}"


# -- event files ----------------------------------------------------------------

def write_events(arr: np.ndarray, path: str) -> None:
    """Write a validated ``EVENT_DTYPE`` array to ``path``: JSON Lines when
    the name ends in ``.jsonl``, else ``.npy``.  The file is written whole to
    a temporary name beside ``path``, then renamed over it: on any error an
    existing ``path`` is untouched."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        if path.endswith(".jsonl"):
            with open(tmp, "w", encoding="utf-8") as fh:
                for start in range(0, arr.shape[0], _CHUNK):   # bounded tuple memory
                    for row in arr[start:start + _CHUNK].tolist():
                        fh.write(dumps(row))
                        fh.write("\n")
        else:
            with open(tmp, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_events(path: str) -> np.ndarray:
    """The ``EVENT_DTYPE`` array stored in ``path`` (not yet validated as
    ``apply`` input), or ValueError naming the file and line (JSON Lines) or
    the problem (binary); ``open``'s OSError for a path that cannot be read."""
    return _read_jsonl(path) if path.endswith(".jsonl") else _read_npy(path)


def _read_jsonl(path: str) -> np.ndarray:
    rows = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{where}: not UTF-8 text: {exc}") from None
            if not line.strip():
                continue
            rows.append(from_text(line, where, f"{where}: invalid JSON"))
    return np.array(rows, dtype=_dt.EVENT_DTYPE)


def _read_npy(path: str) -> np.ndarray:
    """The ``.npy`` form, header parsed and checked before any data is read:
    the dtype must be ``EVENT_DTYPE``, the shape 1-d and the file exactly as
    long as the header says (no allocation sized by a damaged header)."""
    from numpy.lib import format as npf
    bad = f"{path}: not a nanobook event file"
    with open(path, "rb") as fh:
        try:
            with warnings.catch_warnings():
                # a damaged header may hold escapes the literal parser warns about
                warnings.simplefilter("ignore")
                version = npf.read_magic(fh)
                if version == (1, 0):
                    shape, _fortran, dtype = npf.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _fortran, dtype = npf.read_array_header_2_0(fh)
                else:
                    raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as exc:
            raise ValueError(f"{bad}: {exc}") from None
        except Exception as exc:
            # numpy's header parser lets tokenize/syntax/type errors through
            raise ValueError(f"{bad}: malformed .npy header "
                             f"({type(exc).__name__}: {exc})") from None
        if dtype != _dt.EVENT_DTYPE or len(shape) != 1:
            raise ValueError(f"{bad} (dtype {dtype}, shape {shape})")
        n = shape[0]
        need = n * _dt.EVENT_DTYPE.itemsize
        have = os.fstat(fh.fileno()).st_size - fh.tell()
        if need != have:
            raise ValueError(f"{bad}: the header says {n} events ({need} bytes), "
                             f"the file holds {have} bytes of data")
        data = fh.read(need)
        if len(data) != need:
            raise ValueError(f"{bad}: the file ended after {len(data)} of {need} data bytes")
    return np.frombuffer(data, dtype=_dt.EVENT_DTYPE).copy()
