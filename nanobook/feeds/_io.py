"""Text input shared by the line-oriented readers (Binance/Kraken captures)."""
from __future__ import annotations

import gzip
import os
from typing import Iterable, Iterator

__all__ = ["text_lines"]


def text_lines(source) -> Iterator[str]:
    """Lines of ``source``: a path (``.gz`` decompressed), bytes (gzip
    detected by its magic number) or an iterable of lines."""
    if isinstance(source, (str, os.PathLike)):
        opener = gzip.open if str(source).endswith(".gz") else open
        with opener(source, "rt", encoding="utf-8") as fh:
            yield from fh
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        yield from data.decode("utf-8").splitlines()
    elif isinstance(source, Iterable):
        yield from source
    else:
        raise TypeError(f"source must be a path, bytes or an iterable of lines, got {type(source).__name__}")
