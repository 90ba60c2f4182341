"""Text input shared by the line-oriented readers (Binance/Kraken captures)."""
from __future__ import annotations

import gzip
import json
import os
from typing import Iterable, Iterator

__all__ = ["text_lines", "timestamped_json"]


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


def timestamped_json(source) -> Iterator[tuple[int, object]]:
    """``(timestamp, object)`` per non-blank ``<ns timestamp> <json>`` line
    (hftbacktest-style captures); FeedFormatError names a malformed line."""
    from ._errors import FeedFormatError

    for lineno, line in enumerate(text_lines(source), 1):
        line = line.strip()
        if not line:
            continue
        ts_s, _, js = line.partition(" ")
        try:
            yield int(ts_s), json.loads(js)
        except ValueError as exc:
            raise FeedFormatError(f"line {lineno} is not '<ns timestamp> <json>': {exc}") from exc
