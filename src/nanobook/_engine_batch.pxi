# Included by _engine.pyx: batch input (EVENT_DTYPE arrays) and the entry
# points of the event files (whose formats live in nanobook/_events.py).

cdef enum:
    BAD_KIND = 1
    BAD_SIDE = 2
    BAD_TIF = 3
    BAD_QTY = 4
    BAD_TRAIL = 5
    BAD_TRAIL_VALUE = 6


cdef str _numbered(tuple names):
    """``0 (buy) or 1 (sell)``: the codes of a ``nanobook.dtypes`` names table
    with their python names (codes without a name left out)."""
    cdef list items = [f"{code} ({n.python})" for code, n in enumerate(names) if n is not None]
    cdef Py_ssize_t last = len(items) - 1       # (no negative indices: wraparound is off)
    return ", ".join(items[:last]) + " or " + items[last]


# field and message of each BAD_* code
cdef tuple _BAD = (
    None,
    ("kind", "kind must be one of 1..8 (nanobook.dtypes.EVENT_KINDS)"),
    ("side", f"side must be {_numbered(_dt.SIDE_NAMES)}"),
    ("tif", f"tif must be {_numbered(_dt.TIF_NAMES)}"),
    ("quantity", "quantity must be positive"),
    ("trail", f"trail must be {_numbered(_dt.TRAIL_NAMES)}"),
    ("trail_value", "trail_value must be finite"),
)


cdef int _bad_event(const EventRec* e) noexcept nogil:
    """0 if ``e`` is a valid operation, else the BAD_* code of its first bad field."""
    cdef uint8_t k = e.kind
    if k < EV_SUBMIT_LIMIT or k > EV_TRAIL_LIMIT:
        return BAD_KIND
    if k != EV_CANCEL and k != EV_MODIFY and e.side > SELL:
        return BAD_SIDE
    if (k == EV_SUBMIT_LIMIT or k == EV_STOP_LIMIT or k == EV_TRAIL_LIMIT) and e.tif > FOK:
        return BAD_TIF
    if k != EV_CANCEL and e.quantity == 0:
        return BAD_QTY
    if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
        if e.trail < TRAIL_FIXED or e.trail > TRAIL_SMA:
            return BAD_TRAIL
        if e.trail != TRAIL_FIXED and not isfinite(e.trail_value):
            return BAD_TRAIL_VALUE
    return 0


def _validate_ops(ops, str name="ops"):
    """A C-contiguous ``EVENT_DTYPE`` array, or ValueError/TypeError naming
    ``name``, the first bad row and field.  One nogil pass."""
    cdef const unsigned char[::1] raw
    cdef const EventRec* e
    cdef size_t i, n
    cdef int code = 0
    if not isinstance(ops, np.ndarray) or ops.dtype != _dt.EVENT_DTYPE or ops.ndim != 1:
        desc = f"{type(ops).__name__}" + (f" of dtype {ops.dtype}" if isinstance(ops, np.ndarray) else "")
        raise TypeError(f"{name} must be a 1-d numpy array of nanobook.dtypes.EVENT_DTYPE, got {desc}")
    ops = np.ascontiguousarray(ops)
    n = ops.shape[0]
    if n == 0:
        return ops
    raw = ops.view(np.uint8).reshape(-1)
    e = <const EventRec*>&raw[0]
    with nogil:
        for i in range(n):
            code = _bad_event(&e[i])
            if code:
                break
    if code:
        field, what = _BAD[code]
        raise ValueError(f"{name}[{i}]: {what}, got {field}={ops[field][i]!r} "
                         f"(kind={int(ops['kind'][i])})")
    return ops


def as_event_array(events):
    """Events as an ``EVENT_DTYPE`` array: from an array, a list of ``Event``,
    or a path to a file written by ``save_events``."""
    cdef size_t i, n
    cdef Event ev
    cdef unsigned char[::1] raw
    if isinstance(events, np.ndarray):
        return events
    if isinstance(events, (str, os.PathLike)):
        return load_events(events)
    if isinstance(events, (dict, bytes)) or not hasattr(events, "__len__"):
        raise TypeError(f"events must be a list of Event, an EVENT_DTYPE array or a path, "
                        f"got {type(events).__name__}")
    n = len(events)
    arr = np.zeros(n, dtype=_dt.EVENT_DTYPE)
    if n:
        raw = arr.view(np.uint8).reshape(-1)
        for i in range(n):
            item = events[i]
            if not isinstance(item, Event):
                raise TypeError(f"events[{i}] must be an Event, got {_describe(item)}")
            ev = <Event>item
            memcpy(&raw[i * sizeof(EventRec)], &ev.rec, sizeof(EventRec))
    return arr


def events_from_array(events):
    """``list[Event]`` from an array of ``EVENT_DTYPE`` (validated as ``apply`` input)."""
    cdef size_t i, n
    cdef const unsigned char[::1] raw
    cdef const EventRec* e
    arr = _validate_ops(events, "events")
    n = arr.shape[0]
    if n == 0:
        return []
    raw = arr.view(np.uint8).reshape(-1)
    e = <const EventRec*>&raw[0]
    return [_event(&e[i]) for i in range(n)]


def save_events(events, path):
    """Write events (list of ``Event`` or ``EVENT_DTYPE`` array) to ``path``.

    ``*.jsonl``: one JSON object per line (the ``Event.__getstate__`` form);
    any other name: numpy's ``.npy`` format of the array.  The events are
    validated as ``Exchange.apply`` input first and the file is written
    whole to a temporary name beside ``path``, then renamed over it: on any
    error (bad events, a failed write) an existing ``path`` is untouched.
    (The formats are written by ``nanobook._events.write_events``.)
    """
    path = _events.event_path(path)
    _events.write_events(_validate_ops(as_event_array(events), "events"), path)


def load_events(path):
    """Read a file written by ``save_events`` into an ``EVENT_DTYPE`` array.

    Raises ValueError naming the file and line (JSON Lines) or the problem
    (binary) for any malformed content, whatever the damage (a mutated
    ``.npy`` header, a wrong size, bad UTF-8, JSON nested too deeply, numbers
    out of range); the returned array is validated as ``Exchange.apply``
    input.  A path that cannot be opened raises the ``OSError`` of ``open``
    (``FileNotFoundError``, ...).  (The formats are read by
    ``nanobook._events.read_events``.)
    """
    path = _events.event_path(path)
    arr = _events.read_events(path)
    try:
        return _validate_ops(arr)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
