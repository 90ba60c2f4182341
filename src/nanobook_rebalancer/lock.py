"""The run lock (PID file) and the kill-switch file.

The lock is an ``flock`` on the lock file, held for the whole run; the file
holds the PID and run id of the holder.  The kernel drops the lock when the
process dies, even by SIGKILL, so a crash never leaves a stale lock behind
(a leftover file without a holder is simply reused).  POSIX only.

The kill switch is a plain file: while it exists no run starts, and a running
rebalance that sees it appear between orders stops sending, cancels its open
order and exits with code 4.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
from pathlib import Path
from typing import Any

from .errors import LockHeldError

__all__ = ["RunLock", "lock_holder", "engage_kill_switch", "release_kill_switch",
           "kill_switch_info"]


class RunLock:
    """Exclusive, crash-safe lock for one rebalance run.

    Raises
    ------
    LockHeldError
        From :meth:`acquire` if another live process holds the lock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, run_id: str) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _read_info(fd)
            os.close(fd)
            who = f"pid {info.get('pid')}, run {info.get('run_id')}" if info else "another process"
            raise LockHeldError(f"another rebalance is running ({who}); lock file {str(self.path)!r}") \
                from None
        os.ftruncate(fd, 0)
        payload = json.dumps({"pid": os.getpid(), "run_id": run_id,
                              "since": _dt.datetime.now(_dt.timezone.utc).isoformat()})
        os.pwrite(fd, payload.encode() + b"\n", 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Clear the PID and drop the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_info(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        return json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        return {}


def lock_holder(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``{"pid", "run_id", "since"}`` of the live holder, or ``None`` if free."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(fd) or {"pid": None, "run_id": None, "since": None}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def engage_kill_switch(path: str | os.PathLike[str], reason: str = "") -> Path:
    """Create the kill-switch file (atomically, mode 0600) and return its path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}")
    body = json.dumps({"engaged_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                       "by_pid": os.getpid(), "reason": reason})
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, body.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, p)
    return p


def release_kill_switch(path: str | os.PathLike[str]) -> bool:
    """Remove the kill-switch file; return whether it existed."""
    try:
        Path(path).unlink()
        return True
    except FileNotFoundError:
        return False


def kill_switch_info(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The kill-switch file's content if it exists (``{}`` if unreadable), else ``None``."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
