"""Market data: NASDAQ ITCH 5.0 and CME MDP 3.0 decoders, book replicas, L2 crypto replay,
limit-order-book features and synthetic order flow.

Decoders turn bytes into numpy structured arrays without a Python object per
message; the book replicas are Cython structures keyed by the venue's own order
reference.  See ``docs/feeds.md``.
"""
from ._errors import FeedError, FeedFormatError, SequenceGapError
from .itch import ITCH_DTYPES, ITCH_MESSAGE_NAMES, ItchMessages, iter_itch, read_itch
from .itch_book import ITCH_TRADE_DTYPE, ItchBook

__all__ = [
    "FeedError",
    "FeedFormatError",
    "SequenceGapError",
    "ITCH_DTYPES",
    "ITCH_MESSAGE_NAMES",
    "ItchMessages",
    "ITCH_TRADE_DTYPE",
    "ItchBook",
    "iter_itch",
    "read_itch",
]
