"""Write-ahead audit log: JSON Lines, append-only, mode 0600, fsync'd per record.

Every record is one line::

    {"seq": 12, "ts": "2026-11-22T00:16:00.123456Z", "run_id": "...", "event": "order_intent", ...}

``seq`` increases by one per record across the whole file (it continues from
the last record when the file is reopened).  A record is on disk (``fsync``)
before :meth:`AuditLog.write` returns, so an intent is durable before the
broker call it announces.  The file is opened ``O_APPEND`` and never
rewritten; it is created with mode 0600 and tightened to 0600 if it was
looser.  Values equal to a registered secret are replaced by ``"***"`` before
anything is written.

Order events of a run (what recovery reads):

``order_intent`` -> [``order_unknown``] -> ``order_ack`` | ``order_rejected`` ->
``order_fill``\\* -> [``cancel_intent`` -> ``cancel_result``] -> ``order_done``.

``order_unknown`` records a submit whose outcome the broker could not give
(timeout, dropped connection, 5xx, ``OrderOutcomeUnknown``); the order stays
unknown until an ``order_ack`` (the venue showed it) or, after the run
stopped, recovery's ``order_fill``/``order_resolved`` say what the venue did.

Other broker calls are bracketed by ``broker_intent`` / ``broker_result``.
A run starts with ``run_started`` and ends with ``run_finished``; a run with
``run_started`` and no ``run_finished`` is *unfinished* (the process died).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets as _secrets
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from nanobook.validate import integer

from .errors import AuditLogError

__all__ = [
    "CRASH_ENV",
    "AuditLog",
    "RunRecord",
    "OrderRecord",
    "new_run_id",
    "client_order_id",
    "read_records",
    "summarize_runs",
    "unfinished_runs",
]

#: test hook: ``event[:status][#n]`` -> SIGKILL self after writing that record
CRASH_ENV = "NANOBOOK_REBALANCE_CRASH_AFTER"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id() -> str:
    """A fresh run id: UTC time plus 48 random bits (``20261122T001600Z-0123456789ab``)."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{_secrets.token_hex(6)}"


def client_order_id(run_id: str, symbol: str, side: str, quantity: int) -> str:
    """Deterministic client order id: ``"nb"`` + 30 hex digits of SHA-256.

    ``sha256(f"{run_id}|{symbol}|{side}|{quantity}")``; 32 characters of
    ``[a-z0-9]``, valid as an IBKR ``orderRef`` and a Binance
    ``newClientOrderId``.
    """
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    integer(quantity, "quantity", gt=0, expect="a positive integer")
    digest = hashlib.sha256(f"{run_id}|{symbol}|{side}|{quantity}".encode()).hexdigest()
    return "nb" + digest[:30]


class _Crash:
    """Parsed :data:`CRASH_ENV` value."""

    def __init__(self, spec: str) -> None:
        count = 1
        if "#" in spec:
            spec, n = spec.rsplit("#", 1)
            count = int(n)
        event, _, status = spec.partition(":")
        self.event, self.status, self.count = event, status or None, count
        self.seen = 0

    def hit(self, record: Mapping[str, Any]) -> bool:
        if record.get("event") != self.event:
            return False
        if self.status is not None and record.get("status") != self.status:
            return False
        self.seen += 1
        return self.seen == self.count


class AuditLog:
    """Append-only, fsync'd JSON Lines log (see module docstring).

    Parameters
    ----------
    path : str | Path
        The log file; its directory is created (mode 0700) if missing.
    run_id : str
        Stamped on every record written through this object.
    secrets : Iterable[str]
        Values that must never reach the file; replaced by ``"***"``.

    Raises
    ------
    AuditLogError
        If the file cannot be opened or the existing content is corrupt.
    """

    def __init__(self, path: str | os.PathLike[str], run_id: str,
                 secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self._secrets = tuple(s for s in secrets if s)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise AuditLogError(f"cannot open audit log {str(self.path)!r}: {exc.strerror}") from exc
        try:
            st = os.fstat(fd)
            if st.st_mode & 0o077:
                os.fchmod(fd, 0o600)
        except OSError as exc:
            os.close(fd)
            raise AuditLogError(f"cannot set mode 0600 on audit log {str(self.path)!r}: "
                                f"{exc.strerror}") from exc
        self._fd: int | None = fd
        # library log records (cli._AuditLogHandler) can arrive from an SDK's own thread
        self._lock = threading.RLock()
        records = read_records(self.path)
        self._seq = max((int(r.get("seq", 0)) for r in records), default=0)
        spec = os.environ.get(CRASH_ENV)
        self._crash = _Crash(spec) if spec else None

    @property
    def closed(self) -> bool:
        return self._fd is None

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return "***" if any(s in value for s in self._secrets) else value
        if isinstance(value, Mapping):
            return {str(k): self._redact(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redact(v) for v in value]
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return self._redact(str(value))

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one record and fsync it; return the record written.

        Raises
        ------
        AuditLogError
            If the log is closed or the write fails (the caller must then not
            make the broker call the record announces).
        """
        with self._lock:
            return self._write(event, fields)

    def _write(self, event: str, fields: dict[str, Any]) -> dict[str, Any]:
        if self._fd is None:
            raise AuditLogError(f"audit log {str(self.path)!r} is closed")
        self._seq += 1
        record: dict[str, Any] = {"seq": self._seq, "ts": _now(), "run_id": self.run_id,
                                  "event": event}
        record.update(self._redact(fields))
        line = (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode()
        try:
            view = memoryview(line)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            os.fsync(self._fd)
        except OSError as exc:
            raise AuditLogError(f"cannot write audit log {str(self.path)!r}: {exc.strerror}") from exc
        if self._crash is not None and self._crash.hit(record):
            os.kill(os.getpid(), signal.SIGKILL)
        return record

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "AuditLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of the log (empty if the file does not exist).

    A final line without its newline (a write cut short by a crash) is
    ignored; any other unparsable line is an error.

    Raises
    ------
    AuditLogError
        ``corrupt audit log <path> at line N: ...``.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AuditLogError(f"cannot read audit log {str(p)!r}: {exc.strerror}") from exc
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    out = []
    for n, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError as exc:
            raise AuditLogError(f"corrupt audit log {str(p)!r} at line {n}: {exc}") from exc
        if not isinstance(rec, dict) or "event" not in rec or "run_id" not in rec:
            raise AuditLogError(f"corrupt audit log {str(p)!r} at line {n}: not a record")
        out.append(rec)
    del tail  # an incomplete last line: the write that announced it never finished
    return out


# --------------------------------------------------------------------------
# reading runs back
# --------------------------------------------------------------------------
_TERMINAL = {"filled", "cancelled", "rejected", "not_found", "expired", "final_unknown"}


@dataclass
class OrderRecord:
    """What the log says about one client order id."""

    client_order_id: str
    symbol: str
    side: str
    quantity: int
    limit_cents: int | None = None
    broker_order_id: Any = None
    filled_qty: int = 0
    status: str = "intent"        # intent|unknown|acked|partially_filled|filled|cancelled|rejected|...
    cancel_pending: bool = False
    done: bool = False

    @property
    def terminal(self) -> bool:
        return self.done or self.status in _TERMINAL


@dataclass
class RunRecord:
    """What the log says about one run."""

    run_id: str
    started: dict[str, Any] | None = None
    finished: dict[str, Any] | None = None
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    pending_broker_calls: list[dict[str, Any]] = field(default_factory=list)
    resolved_by: str | None = None

    @property
    def unfinished(self) -> bool:
        return self.started is not None and self.finished is None

    @property
    def open_orders(self) -> list[OrderRecord]:
        return [o for o in self.orders.values() if not o.terminal]


def summarize_runs(records: Iterable[Mapping[str, Any]]) -> dict[str, RunRecord]:
    """Fold the records into one :class:`RunRecord` per run id (in log order)."""
    runs: dict[str, RunRecord] = {}
    for rec in records:
        rid = rec["run_id"]
        run = runs.setdefault(rid, RunRecord(rid))
        ev = rec["event"]
        cid = str(rec.get("client_order_id") or "")
        order = run.orders.get(cid) if cid else None
        if ev == "run_started":
            run.started = dict(rec)
        elif ev == "run_finished":
            run.finished = dict(rec)
        elif ev == "recovered":
            # written by the run that resolved an unfinished one
            target = runs.setdefault(rec["recovered_run_id"], RunRecord(rec["recovered_run_id"]))
            target.resolved_by = rid
            target.finished = dict(rec)
        elif ev == "order_resolved":
            target = runs.setdefault(rec["recovered_run_id"], RunRecord(rec["recovered_run_id"]))
            o = target.orders.get(cid) if cid else None
            if o is not None:
                o.status = rec.get("status", o.status)
                o.filled_qty = int(rec.get("filled_qty", o.filled_qty))
                o.done = True
        elif ev == "broker_intent":
            run.pending_broker_calls.append(dict(rec))
        elif ev == "broker_result":
            if run.pending_broker_calls:
                run.pending_broker_calls.pop()
        elif ev == "order_intent":
            run.orders[cid] = OrderRecord(cid, rec["symbol"], rec["side"], int(rec["quantity"]),
                                          rec.get("limit_cents"))
        elif order is not None:
            if ev == "order_ack":
                order.broker_order_id = rec.get("broker_order_id")
                order.status = "acked"
            elif ev == "order_unknown":
                order.status = "unknown"
            elif ev == "order_rejected":
                order.status = "rejected"
                order.done = True
            elif ev == "order_fill":
                order.filled_qty = int(rec.get("filled_qty", order.filled_qty))
                order.status = rec.get("status", order.status)
            elif ev == "cancel_intent":
                order.cancel_pending = True
            elif ev == "cancel_result":
                order.cancel_pending = False
            elif ev == "order_done":
                order.status = rec.get("status", order.status)
                order.filled_qty = int(rec.get("filled_qty", order.filled_qty))
                order.done = True
    return runs


def unfinished_runs(records: Iterable[Mapping[str, Any]]) -> list[RunRecord]:
    """Runs that started and never finished nor were recovered, oldest first."""
    return [r for r in summarize_runs(records).values() if r.unfinished]


def iter_events(records: Iterable[Mapping[str, Any]], run_id: str) -> Iterator[Mapping[str, Any]]:
    """The records of one run, in order."""
    return (r for r in records if r.get("run_id") == run_id)
