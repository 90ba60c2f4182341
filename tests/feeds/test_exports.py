"""The public surface of nanobook.feeds is pinned here."""
import nanobook
import nanobook.feeds as feeds

EXPECTED = {
    "FeedError", "FeedFormatError", "SequenceGapError", "ITCH_DTYPES", "ITCH_MESSAGE_NAMES",
    "ItchMessages", "ITCH_TRADE_DTYPE", "ItchBook", "BOOK_LEVEL_DTYPE", "MDP3_MESSAGE_DTYPE",
    "Mdp3Book", "Mdp3OrderBook", "Mdp3Messages", "decode_mdp3", "SbeSchema", "BinanceDepthBook", "BinanceReplay",
    "KrakenBook", "decimal_to_int", "kraken_checksum", "replay_binance", "replay_kraken",
    "LOBSTER_MESSAGE_DTYPE", "LobsterReplay", "read_lobster", "replay_lobster", "L2Book", "OrderBook",
    "features", "SYNTHETIC_EVENT_DTYPE", "synthetic_order_flow", "book_depth", "book_imbalance",
    "feature_tensor", "microprice", "order_flow_imbalance", "trade_sign_imbalance", "vpin",
    "iter_itch", "parse_itch", "read_itch",
}


def test_all_is_pinned_and_resolves():
    assert set(feeds.__all__) == EXPECTED
    for name in feeds.__all__:
        assert getattr(feeds, name) is getattr(nanobook, name)


def test_error_tree():
    assert issubclass(feeds.FeedFormatError, feeds.FeedError)
    assert issubclass(feeds.FeedFormatError, OSError)
    assert issubclass(feeds.SequenceGapError, feeds.FeedError)
    assert issubclass(feeds.FeedError, ValueError)
