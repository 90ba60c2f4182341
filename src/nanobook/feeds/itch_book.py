"""Order-level ITCH 5.0 book replica: BBO and depth at any message, trade prints."""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Iterable

import numpy as np

from ..validate import integer, is_int
from . import _books
from ._errors import FeedError, FeedFormatError
from ._pcap import is_pcap
from .itch import Source, moldudp64_to_binaryfile

__all__ = ["ItchBook", "ITCH_TRADE_DTYPE"]

#: dtype of :attr:`ItchBook.trades`.  ``kind`` is the ITCH message type that
#: printed (``E`` execution at the resting order's price, ``C`` execution with
#: its own price, ``P`` non-displayed trade, ``Q`` cross); ``side`` is the
#: resting order's side (``B``/``S``; the aggressor is the other side), blank
#: for ``Q``; ``printable`` is ``N`` for non-printable ``C`` executions.
ITCH_TRADE_DTYPE = _books.TRADE_DTYPE


class ItchBook:
    """Replay ITCH 5.0 into one order-level book per stock.

    The replica is keyed by ITCH order reference numbers: adds (``A``/``F``),
    executions (``E``/``C``), partial cancels (``X``), deletes (``D``) and
    replaces (``U``) update it exactly; ``R`` (stock directory) and ``H``
    (trading action) are kept per stock locate.

    Parameters
    ----------
    depth : int, default 1
        Levels per side written into each snapshot.
    symbols : iterable of str, optional
        Only these stocks are booked (all when None); filtering uses the
        stock directory, so the ``R`` messages must precede the orders.
    record_trades : bool, default True
        Keep every trade print (``E``, ``C``, ``P``, ``Q``).
    record_snapshots : bool, default False
        After every message that changes a book, record the top ``depth``
        levels of that book (see :attr:`snapshots`).
    lenient : bool, default False
        Take the length of zero length slots from the message type.

    Notes
    -----
    Prices are raw ITCH integers (1e-4 dollars), quantities shares.  Each
    message costs O(1) expected for the order lookup plus O(log L) for the
    level search (L levels on that side) and a memmove of the levels between
    the touch and the changed price.  Executions, cancels and deletes of
    orders never seen (a file that starts mid-day) are counted in
    :attr:`unknown_refs` and otherwise ignored.
    """

    def __init__(
        self,
        *,
        depth: int = 1,
        symbols: Iterable[str] | None = None,
        record_trades: bool = True,
        record_snapshots: bool = False,
        lenient: bool = False,
    ) -> None:
        integer(depth, "depth", ge=1, le=1000)
        if symbols is not None:
            if isinstance(symbols, str):
                raise TypeError(f"symbols must be an iterable of str, got the str {symbols!r}")
            symbols = list(symbols)
            for s in symbols:
                if not isinstance(s, str) or len(s.encode()) > 8:
                    raise ValueError(f"symbols must hold str of at most 8 bytes, got {s!r}")
        for name, flag in (("record_trades", record_trades),
                           ("record_snapshots", record_snapshots), ("lenient", lenient)):
            if not isinstance(flag, bool):      # "no" is truthy: flags take bools only
                raise TypeError(f"{name} must be a bool, got {flag!r}")
        self._core = _books.ItchBookCore(depth, symbols, record_trades, record_snapshots, lenient)
        self.depth = depth

    # ---------------------------------------------------------------- feeding

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Apply the ITCH BinaryFILE bytes ``data`` (any split; a partial last
        message is kept until the next call)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes-like, got {type(data).__name__}")
        self._core.feed(data)    # keeps a partial last message itself

    def close(self) -> None:
        """Declare the end of the stream: leftover bytes are an error."""
        n, off = self._core.close()
        if n and not self._core.lenient:
            raise FeedFormatError(f"stream ends inside a message ({n} bytes left)", off)

    def replay(self, source: Source, *, chunk_size: int = 1 << 24) -> "ItchBook":
        """Feed a whole file or buffer (plain, gzip, or MoldUDP64 pcap) and close.

        Returns ``self`` so that ``ItchBook().replay(path)`` reads naturally.
        """
        integer(chunk_size, "chunk_size", ge=64)
        # the container is told by the (decompressed) first bytes, as read_itch does
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            if data[:2] == b"\x1f\x8b":
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError, zlib.error) as exc:
                    raise FeedFormatError(f"corrupt gzip stream: {exc}", 0) from exc
            if is_pcap(data[:4]):
                data = moldudp64_to_binaryfile(data)[0]
            self.feed(data)
        elif isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as f:
                fh = gzip.GzipFile(fileobj=f) if f.read(2) == b"\x1f\x8b" else f
                f.seek(0)
                try:
                    head = fh.peek(4)[:4] if fh is not f else f.read(4)
                    if fh is f:
                        f.seek(0)
                    if is_pcap(head):
                        self.feed(moldudp64_to_binaryfile(fh.read())[0])
                    else:
                        while True:
                            block = fh.read(chunk_size)
                            if not block:
                                break
                            self.feed(block)
                except (OSError, EOFError, zlib.error) as exc:
                    if isinstance(exc, FeedFormatError):
                        raise
                    raise FeedFormatError(f"corrupt gzip stream: {exc}",
                                          self._core.counters()[2]) from exc
        else:
            raise TypeError(f"source must be a path or bytes-like, got {type(source).__name__}")
        self.close()
        return self

    # ---------------------------------------------------------------- queries

    @property
    def n_messages(self) -> int:
        """Messages applied so far (every framed message counts)."""
        return self._core.counters()[0]

    @property
    def unknown_refs(self) -> int:
        """E/C/X/D/U messages naming an order the replica never saw."""
        return self._core.counters()[1]

    @property
    def n_orders(self) -> int:
        """Live orders across all books."""
        return self._core.n_orders()

    @property
    def trades(self) -> np.ndarray:
        """Every trade print so far (dtype :data:`ITCH_TRADE_DTYPE`)."""
        return self._core.trades_array()

    @property
    def snapshots(self) -> np.ndarray:
        """Top-of-book records, one per book-changing message: ``index`` (message
        position in the stream), ``timestamp``, ``stock_locate`` and
        ``bid_px``/``bid_qty``/``ask_px``/``ask_qty`` arrays of ``depth``
        levels, best first (0 where the book has fewer levels)."""
        return self._core.snapshots_array()

    def symbols(self) -> dict[int, str]:
        """Stock locate -> symbol from the stock directory seen so far."""
        return self._core.symbols()

    def locate(self, symbol: str | int) -> int:
        """Stock locate of ``symbol`` (an int is returned as is)."""
        if is_int(symbol):
            if not 0 <= symbol <= 65535:
                raise ValueError(f"symbol locate must be in [0, 65535], got {symbol}")
            return symbol
        if not isinstance(symbol, str):
            raise TypeError(f"symbol must be a str or a stock locate int, got {symbol!r}")
        for loc, s in self._core.symbols().items():
            if s == symbol:
                return loc
        raise FeedError(f"symbol {symbol!r} is not in the stock directory")

    def depth_of(self, symbol: str | int, n: int = 5) -> dict[str, np.ndarray]:
        """Top ``n`` levels of a book: bid/ask price, shares and order count arrays."""
        integer(n, "n", ge=1, expect="a positive int")
        v = self._core.levels(self.locate(symbol), n)
        return {"bid_px": v[0], "bid_qty": v[1], "bid_orders": v[2],
                "ask_px": v[3], "ask_qty": v[4], "ask_orders": v[5]}

    def bbo(self, symbol: str | int) -> tuple[int, int, int, int]:
        """(bid_px, bid_qty, ask_px, ask_qty); an empty side is (0, 0)."""
        v = self._core.levels(self.locate(symbol), 1)
        return int(v[0, 0]), int(v[1, 0]), int(v[3, 0]), int(v[4, 0])

    def trading_state(self, symbol: str | int) -> str | None:
        """Last ``H`` trading state (``T`` trading, ``H`` halted, ``P`` paused,
        ``Q`` quotation only), or None if none was seen."""
        return self._core.trading_state(self.locate(symbol))

    def orders(self) -> np.ndarray:
        """Every live order (ref, stock_locate, side 0 buy/1 sell, price, shares)."""
        return self._core.orders_array()

    def check(self) -> bool:
        """Assert the invariants (level totals = sums of live orders, sorted
        levels, no empty level); O(orders), for tests."""
        return self._core.check()
