"""Exception tree of :mod:`nanobook.feeds`.

``FeedError`` is the root (a ``ValueError``: bad input data or arguments).
``FeedFormatError`` is raised for malformed bytes; it also subclasses
``OSError`` so that code written against the reference ``parse_itch`` (which
raises ``OSError``) keeps working, and it carries the absolute byte ``offset``
of the offending message.
"""
from __future__ import annotations

__all__ = ["FeedError", "FeedFormatError", "SequenceGapError"]


class FeedError(ValueError):
    """Root of every error raised by :mod:`nanobook.feeds`."""


class FeedFormatError(FeedError, OSError):
    """Malformed feed bytes.

    Attributes
    ----------
    offset : int or None
        Absolute byte offset (from the start of the stream or file) of the
        message or record that could not be decoded.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        if offset is not None:
            message = f"{message} (at byte offset {offset})"
        super().__init__(message)
        self.offset = offset

    def __reduce__(self):  # keep pickling (multiprocessing) working
        return (_rebuild_format_error, (self.args[0], self.offset))


def _rebuild_format_error(message: str, offset: int | None) -> FeedFormatError:
    err = FeedFormatError(message)
    err.offset = offset
    return err


class SequenceGapError(FeedError):
    """A sequence gap was found while ``on_gap="raise"`` was requested."""
