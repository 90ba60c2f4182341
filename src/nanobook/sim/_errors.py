"""Exceptions of :mod:`nanobook.sim` (one small tree)."""

__all__ = ["SimError", "StreamError", "UnknownOrderError"]


class SimError(Exception):
    """Base class of every error raised by :mod:`nanobook.sim`."""


class StreamError(SimError, ValueError):
    """A market-data stream that cannot be simulated (wrong dtype, unsorted
    timestamps, bad kind/side codes, local time before exchange time); the
    message names the field, the row and the values."""


class UnknownOrderError(SimError, KeyError):
    """An order id that this simulation never issued."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
