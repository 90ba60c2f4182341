"""Market data: NASDAQ ITCH 5.0 and CME MDP 3.0 decoders, book replicas, L2 crypto replay,
limit-order-book features and synthetic order flow.

Decoders turn bytes into numpy structured arrays without a Python object per
message; the book replicas are Cython structures keyed by the venue's own order
reference.  See ``docs/feeds.md``.
"""
from ._errors import FeedError, FeedFormatError, SequenceGapError
from .itch import ITCH_DTYPES, ITCH_MESSAGE_NAMES, ItchMessages, iter_itch, parse_itch, read_itch
from .itch_book import ITCH_TRADE_DTYPE, ItchBook
from .mdp3 import BOOK_LEVEL_DTYPE, MDP3_MESSAGE_DTYPE, Mdp3Book, Mdp3Messages, Mdp3OrderBook, decode_mdp3
from .sbe import SbeSchema
from .crypto import BinanceDepthBook, BinanceReplay, KrakenBook, decimal_to_int, kraken_checksum, replay_binance, replay_kraken
from .lobster import LOBSTER_MESSAGE_DTYPE, LobsterReplay, read_lobster, replay_lobster
from ._books import L2Book, OrderBook
from . import features
from .synthetic import SYNTHETIC_EVENT_DTYPE, synthetic_order_flow
from .features import book_depth, book_imbalance, feature_tensor, microprice, order_flow_imbalance, trade_sign_imbalance, vpin

__all__ = [
    "FeedError",
    "FeedFormatError",
    "SequenceGapError",
    "ITCH_DTYPES",
    "ITCH_MESSAGE_NAMES",
    "ItchMessages",
    "ITCH_TRADE_DTYPE",
    "ItchBook",
    "BOOK_LEVEL_DTYPE",
    "MDP3_MESSAGE_DTYPE",
    "Mdp3Book",
    "Mdp3OrderBook",
    "Mdp3Messages",
    "decode_mdp3",
    "SbeSchema",
    "BinanceDepthBook",
    "BinanceReplay",
    "KrakenBook",
    "decimal_to_int",
    "kraken_checksum",
    "replay_binance",
    "replay_kraken",
    "LOBSTER_MESSAGE_DTYPE",
    "LobsterReplay",
    "read_lobster",
    "replay_lobster",
    "L2Book",
    "OrderBook",
    "features",
    "SYNTHETIC_EVENT_DTYPE",
    "synthetic_order_flow",
    "book_depth",
    "book_imbalance",
    "feature_tensor",
    "microprice",
    "order_flow_imbalance",
    "trade_sign_imbalance",
    "vpin",
    "iter_itch",
    "parse_itch",
    "read_itch",
]
