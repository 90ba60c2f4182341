# Included by _engine.pyx: conversion and validation of the arguments of
# the Python API (messages name the parameter and the value).

cdef dict _input_codes(tuple names, dict aliases):
    """Accepted input spelling (lower case) -> code: the ``python`` name of
    each code of a ``nanobook.dtypes`` names table, plus its aliases."""
    cdef dict out = {n.python: code for code, n in enumerate(names) if n is not None}
    out.update(aliases)
    return out


cdef str _one_of(tuple names):
    """``'a' or 'b'`` / ``'a', 'b', or 'c'``: the python names of a table, as
    the reference's error messages list them."""
    cdef list quoted = [f"'{n.python}'" for n in names if n is not None]
    cdef Py_ssize_t last = len(quoted) - 1      # (no negative indices: wraparound is off)
    if last == 1:
        return f"{quoted[0]} or {quoted[1]}"
    return ", ".join(quoted[:last]) + ", or " + quoted[last]


cdef dict _SIDES = _input_codes(_dt.SIDE_NAMES, _dt.SIDE_ALIASES)
cdef dict _TIFS = _input_codes(_dt.TIF_NAMES, {})
cdef dict _TRAILS = _input_codes(_dt.TRAIL_NAMES, _dt.TRAIL_ALIASES)
# the reference's wording for an unknown choice, by parameter; ``{}`` is the
# rejected value (read only on that error path)
cdef dict _INVALID = {
    "side": f"Invalid side '{{}}'. Use {_one_of(_dt.SIDE_NAMES)}.",
    "tif": f"Invalid time_in_force '{{}}'. Use {_one_of(_dt.TIF_NAMES)}.",
    "trail_type": f"Invalid trail_type '{{}}'. Use {_one_of(_dt.TRAIL_NAMES)}.",
}


cdef str _describe(object v):
    return f"{v!r} ({type(v).__name__})"


cdef int _flag(object v, str name) except -1:
    """A flag: ``bool`` (or ``numpy.bool_``) only; a truthy string such as
    ``"no"`` is a TypeError, never read as True."""
    if v is True or v is False:
        return v is True
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"{name} must be a bool, got {_describe(v)}")


cdef int _parse_choice(object value, dict table, str name) except -1:
    """Case-insensitive lookup of a str option; exact matches skip ``lower()``."""
    cdef object v
    if type(value) is str:
        v = table.get(value)
        if v is not None:
            return v
    elif not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_describe(value)}")
    v = table.get(value.lower())
    if v is None:
        raise ValueError((<str>_INVALID[name]).format(value))
    return v


cdef inline int _parse_side(object side) except -1:
    return _parse_choice(side, _SIDES, "side")


cdef inline int _parse_tif(object tif) except -1:
    return _parse_choice(tif, _TIFS, "tif")


cdef object _as_int(object v, str name):
    """``v`` as a Python int: ints, bools and numpy integers; never floats."""
    if PyLong_Check(v):
        return v
    if isinstance(v, (float, str, bytes)) or v is None:
        raise TypeError(f"{name} must be an int, got {_describe(v)}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {_describe(v)}") from None


cdef int64_t _to_i64(object v, str name) except? -1:
    cdef int overflow = 0
    cdef long long x
    if not PyLong_Check(v):
        v = _as_int(v, name)
    x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow:
        raise OverflowError(f"{name} must fit in a signed 64-bit integer, got {v}")
    return x


cdef uint64_t _to_u64(object v, str name, str what="non-negative") except? 0:
    """Unsigned 64-bit; negative values raise ValueError saying ``what``."""
    cdef int overflow = 0
    cdef long long x
    if not PyLong_Check(v):
        v = _as_int(v, name)
    x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow == 0:
        if x < 0:
            raise ValueError(f"{name} must be {what}, got {x}")
        return <uint64_t>x
    if overflow < 0:
        raise ValueError(f"{name} must be {what}, got {v}")
    try:
        return PyLong_AsUnsignedLongLong(v)
    except OverflowError:
        raise OverflowError(f"{name} must be less than 2**64, got {v}") from None


cdef inline uint64_t _to_qty(object v, str name) except? 0:
    return _to_u64(v, name, "positive")


cdef inline int _check_positive(uint64_t q, str name) except -1:
    if q == 0:
        raise ValueError(f"{name} must be positive, got 0")
    return 0


cdef double _to_f64(object v, str name) except? -1.0:
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"{name} must be a real number, got {_describe(v)}")
    try:
        return float(v)
    except TypeError:
        raise TypeError(f"{name} must be a real number, got {_describe(v)}") from None


cdef str _NEEDS_PERIOD = (
    f"atr_period is required when trail_type='{_dt.TRAIL_NAMES[TRAIL_SMA].python}' (or the "
    f"deprecated alias '{next(k for k, v in _dt.TRAIL_ALIASES.items() if v == TRAIL_SMA)}')")


cdef int _parse_trail(EventRec* ev, tuple trail) except -1:
    """The trail of a trailing stop into ``ev``; ``trail`` is the submitter's
    ``(trail_type, trail_value, atr_period)``, checked in that order."""
    trail_type, trail_value, atr_period = trail
    cdef int t = _parse_choice(trail_type, _TRAILS, "trail_type")
    cdef double value
    value = _to_f64(trail_value, "trail_value")
    if not isfinite(value):
        raise ValueError(f"trail_value must be finite, got {trail_value!r}")
    ev.trail = <uint8_t>t
    if t == TRAIL_FIXED:
        ev.trail_fixed = f64_to_i64(value)
    else:
        ev.trail_value = value
    if t == TRAIL_SMA:
        if atr_period is None:
            raise ValueError(_NEEDS_PERIOD)
        ev.period = _to_u64(atr_period, "atr_period")
    elif atr_period is not None:
        _to_u64(atr_period, "atr_period")
    return 0
