"""Level-2 crypto replay: Binance diff-depth streams and Kraken checksummed books.

Prices and quantities are exact integers: every decimal string is scaled by
``10**decimals`` (no float ever touches the book), and the books are the
Cython :class:`~nanobook.feeds._books.L2Book` (sorted level arrays).
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..validate import integer
from ._io import text_lines, timestamped_json
from ._books import L2Book
from ._errors import FeedError, FeedFormatError, SequenceGapError

__all__ = [
    "decimal_to_int",
    "BinanceDepthBook",
    "replay_binance",
    "BinanceReplay",
    "KrakenBook",
    "replay_kraken",
    "kraken_checksum",
]


def decimal_to_int(s: str, decimals: int) -> int:
    """Exact integer value of the decimal string ``s`` times ``10**decimals``.

    Raises
    ------
    ValueError
        If ``s`` is not a plain ASCII decimal (``-?digits[.digits]``) or has
        non-zero digits beyond ``decimals``.
    TypeError
        If ``s`` is not a str.
    """
    if not isinstance(s, str):
        raise TypeError(f"value must be a decimal string, got {s!r}")
    whole, dot, frac = s.partition(".")
    body = whole[1:] if whole[:1] == "-" else whole
    # int() alone would also take " 12", "1_000", "+5" and non-ASCII digits
    if not (s.isascii() and body.isdigit() and (not frac or frac.isdigit())):
        raise ValueError(f"value must be a decimal string, got {s!r}")
    if len(frac) > decimals:
        if frac[decimals:].strip("0"):
            raise ValueError(f"value {s!r} has more than {decimals} decimals")
        frac = frac[:decimals]
    try:
        return int(whole + frac.ljust(decimals, "0"))
    except ValueError:
        raise ValueError(f"value must be a decimal string, got {s!r}") from None


# ------------------------------------------------------------------ Binance


class BinanceDepthBook:
    """Local order book from a Binance REST snapshot plus the diff-depth stream.

    Binance's procedure: buffer the stream, fetch the snapshot
    (``lastUpdateId``), drop every event with ``u <= lastUpdateId``; the first
    applied event must straddle the snapshot (``U <= lastUpdateId + 1 <= u``
    on spot; ``U <= lastUpdateId <= u`` on futures); after it, each event must
    continue the previous one (``U == prev_u + 1`` on spot, ``pu == prev_u`` on
    futures) or the book is out of sync.  Quantities are absolute; 0 removes
    the level.

    Parameters
    ----------
    price_decimals, qty_decimals : int, default 8
        Scaling of the decimal strings (Binance sends 8 decimals).
    market : {"spot", "futures"}
    """

    def __init__(self, price_decimals: int = 8, qty_decimals: int = 8, market: str = "spot") -> None:
        for name, v in (("price_decimals", price_decimals), ("qty_decimals", qty_decimals)):
            integer(v, name, ge=0, le=18)
        if market not in ("spot", "futures"):
            raise ValueError(f"market must be 'spot' or 'futures', got {market!r}")
        self.pd, self.qd, self.market = price_decimals, qty_decimals, market
        self.book = L2Book()
        self.last_update_id: int | None = None
        self.prev_u: int | None = None
        self.synced = False

    def snapshot(self, snap: dict) -> None:
        """Load a REST depth snapshot (``lastUpdateId``, ``bids``, ``asks``)."""
        try:
            lid = int(snap["lastUpdateId"])
            bids, asks = snap["bids"], snap["asks"]
        except (KeyError, TypeError, ValueError) as exc:
            raise FeedError(f"snap must be a Binance depth snapshot, got keys {list(snap)[:5]}") from exc
        self.book.clear()
        for side, levels in ((0, bids), (1, asks)):
            for p, q in levels:
                self.book.set(side, decimal_to_int(p, self.pd), decimal_to_int(q, self.qd))
        self.last_update_id = lid
        self.prev_u = None
        self.synced = False

    def update(self, ev: dict) -> bool:
        """Apply one ``depthUpdate`` event; False if it predates the snapshot.

        Raises
        ------
        SequenceGapError
            If the event does not continue the previous one (resync needed).
        FeedError
            If no snapshot was loaded.
        """
        if self.last_update_id is None:
            raise FeedError("load a snapshot before applying depth updates")
        U, u = int(ev["U"]), int(ev["u"])
        lid = self.last_update_id
        if u <= lid:
            return False
        if not self.synced:
            first_ok = (U <= lid + 1 <= u) if self.market == "spot" else (U <= lid <= u)
            if not first_ok:
                raise SequenceGapError(
                    f"first event U={U} u={u} does not straddle lastUpdateId={lid}")
            self.synced = True
        else:
            ok = (U == self.prev_u + 1) if self.market == "spot" else (int(ev.get("pu", -1)) == self.prev_u)
            if not ok:
                raise SequenceGapError(f"depth event U={U} (pu={ev.get('pu')}) does not follow u={self.prev_u}")
        pd, qd, book = self.pd, self.qd, self.book
        for p, q in ev["b"]:
            book.set(0, decimal_to_int(p, pd), decimal_to_int(q, qd))
        for p, q in ev["a"]:
            book.set(1, decimal_to_int(p, pd), decimal_to_int(q, qd))
        self.prev_u = u
        return True

    def bbo(self) -> tuple[int, int, int, int]:
        """(bid_px, bid_qty, ask_px, ask_qty) as scaled integers."""
        return self.book.bbo()


_BBO_DTYPE = np.dtype([("local_ts", "i8"), ("update_id", "i8"), ("first_update_id", "i8"),
                       ("bid_px", "i8"), ("bid_qty", "i8"), ("ask_px", "i8"), ("ask_qty", "i8")])


@dataclass
class BinanceReplay:
    """Result of :func:`replay_binance`.

    ``depth`` has one row per applied depth event: the book's BBO after it and
    the event's ``first_update_id``/``update_id`` (U/u); ``tickers`` one row
    per ``bookTicker`` (``update_id`` its ``u``, ``first_update_id`` = -1);
    ``trades`` (local_ts, trade id, price, qty, buyer_is_maker).
    """

    depth: np.ndarray
    tickers: np.ndarray
    trades: np.ndarray
    snapshot_update_id: int
    skipped: int = 0
    book: BinanceDepthBook | None = field(default=None, repr=False)

    def ticker_mismatches(self) -> tuple[int, int]:
        """(checked, mismatched): for each depth row, compare with the last
        bookTicker whose ``u`` is at most the row's ``u``."""
        if len(self.tickers) == 0:
            return 0, 0
        pos = np.searchsorted(self.tickers["update_id"], self.depth["update_id"], side="right") - 1
        ok = pos >= 0
        t = self.tickers[pos[ok]]
        d = self.depth[ok]
        bad = ((t["bid_px"] != d["bid_px"]) | (t["bid_qty"] != d["bid_qty"])
               | (t["ask_px"] != d["ask_px"]) | (t["ask_qty"] != d["ask_qty"]))
        return int(ok.sum()), int(bad.sum())


def replay_binance(source, *, price_decimals: int = 8, qty_decimals: int = 8,
                   market: str = "spot") -> BinanceReplay:
    """Replay an hftbacktest-style Binance capture (``<local ns> <json>`` per line).

    Depth events before the snapshot line are buffered and applied (with
    Binance's straddle rule) once the snapshot arrives.

    Raises
    ------
    FeedFormatError
        A line that is not ``<int> <json>`` (the error names the line number).
    SequenceGapError
        The stream loses continuity.
    """
    book = BinanceDepthBook(price_decimals, qty_decimals, market)
    depth_rows, tick_rows, trade_rows = [], [], []
    pending: list[tuple[int, dict]] = []
    skipped = 0
    pd, qd = price_decimals, qty_decimals

    def apply(ts, ev):
        nonlocal skipped
        if book.update(ev):
            depth_rows.append((ts, int(ev["u"]), int(ev["U"]), *book.bbo()))
        else:
            skipped += 1

    for ts, obj in timestamped_json(source):
        if "lastUpdateId" in obj:
            book.snapshot(obj)
            for pts, pev in pending:
                apply(pts, pev)
            pending = []
            continue
        data = obj.get("data", obj)
        stream = obj.get("stream", "")
        if data.get("e") == "depthUpdate":
            if book.last_update_id is None:
                pending.append((ts, data))
            else:
                apply(ts, data)
        elif "bookTicker" in stream or ("b" in data and "B" in data and "a" in data and "A" in data):
            tick_rows.append((ts, int(data["u"]), -1, decimal_to_int(data["b"], pd),
                              decimal_to_int(data["B"], qd), decimal_to_int(data["a"], pd),
                              decimal_to_int(data["A"], qd)))
        elif data.get("e") == "trade":
            trade_rows.append((ts, int(data["t"]), decimal_to_int(data["p"], pd),
                               decimal_to_int(data["q"], qd), bool(data["m"])))
    if book.last_update_id is None:
        raise FeedError("the capture holds no depth snapshot (a line with lastUpdateId)")
    trade_dt = np.dtype([("local_ts", "i8"), ("trade_id", "i8"), ("price", "i8"), ("qty", "i8"),
                         ("buyer_is_maker", "?")])
    tick = np.array(tick_rows, _BBO_DTYPE)
    tick = tick[np.argsort(tick["update_id"], kind="stable")]
    return BinanceReplay(np.array(depth_rows, _BBO_DTYPE), tick, np.array(trade_rows, trade_dt),
                         book.last_update_id, skipped, book)


# ------------------------------------------------------------------ Kraken


def kraken_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Kraken's book checksum: CRC32 of the top 10 asks (best first) then the
    top 10 bids, each level as price then volume with the decimal point and
    leading zeros removed."""
    parts = []
    for p, q in list(asks[:10]) + list(bids[:10]):
        parts.append(p.replace(".", "").lstrip("0"))
        parts.append(q.replace(".", "").lstrip("0"))
    return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF


class KrakenBook:
    """One Kraken ``book`` subscription (websocket v1), with checksum checks.

    Levels are held as integers scaled by the decimals of the snapshot's
    strings; because Kraken sends a fixed number of decimals per pair, the
    checksum string of a level is exactly ``str(scaled integer)``.  After
    every update the book is truncated to the subscribed ``depth`` (Kraken
    does not send deletes for levels pushed out of range).
    """

    def __init__(self, depth: int = 10) -> None:
        integer(depth, "depth", ge=10)
        self.depth = depth
        self.book = L2Book()
        self.pd: int | None = None
        self.qd: int | None = None
        self.checked = 0
        self.mismatches = 0

    def _dec(self, s: str) -> int:
        return len(s.partition(".")[2])

    def snapshot(self, body: dict) -> None:
        """Load ``{"as": [...], "bs": [...]}``."""
        levels = body.get("as", []) + body.get("bs", [])
        if not levels:
            raise FeedError("Kraken snapshot has no levels")
        self.pd = self._dec(levels[0][0])
        self.qd = self._dec(levels[0][1])
        self.book.clear()
        for side, key in ((1, "as"), (0, "bs")):
            for lv in body.get(key, []):
                self.book.set(side, decimal_to_int(lv[0], self.pd), decimal_to_int(lv[1], self.qd))

    def update(self, bodies: list[dict]) -> bool | None:
        """Apply the update dicts of one message; check its checksum.

        Returns True/False for a checksum match/mismatch, None if the message
        carried none.
        """
        if self.pd is None:
            raise FeedError("load a snapshot before applying Kraken updates")
        checksum = None
        for body in bodies:
            for side, key in ((1, "a"), (0, "b")):
                for lv in body.get(key, ()):
                    self.book.set(side, decimal_to_int(lv[0], self.pd), decimal_to_int(lv[1], self.qd))
            if "c" in body:
                checksum = int(body["c"])
        self.book.truncate(self.depth)
        if checksum is None:
            return None
        self.checked += 1
        ok = self.checksum() == checksum
        if not ok:
            self.mismatches += 1
        return ok

    def checksum(self) -> int:
        """CRC32 of the current top 10 levels (see :func:`kraken_checksum`)."""
        v = self.book.levels(10)
        parts = []
        for px, q in list(zip(v[2], v[3])) + list(zip(v[0], v[1])):
            if q > 0:
                parts.append(str(int(px)))
                parts.append(str(int(q)))
        return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF

    def bbo(self) -> tuple[int, int, int, int]:
        return self.book.bbo()


def replay_kraken(source, *, depth: int | None = None) -> dict[str, KrakenBook]:
    """Replay a cryptofeed-style Kraken capture (``<ts>: <json>`` per line).

    Every ``book-N`` channel gets a :class:`KrakenBook` of depth N; each
    update's checksum is verified (see ``checked``/``mismatches`` per book).
    """
    books: dict[str, KrakenBook] = {}
    for lineno, line in enumerate(text_lines(source), 1):
        head, sep, js = line.partition(": ")
        if not sep or not js.startswith("["):
            continue
        try:
            msg = json.loads(js)
        except ValueError as exc:
            raise FeedFormatError(f"line {lineno}: bad JSON: {exc}") from exc
        if len(msg) < 4 or not isinstance(msg[-2], str) or not msg[-2].startswith("book"):
            continue
        pair = msg[-1]
        bodies = [b for b in msg[1:-2] if isinstance(b, dict)]
        if any("as" in b or "bs" in b for b in bodies):
            d = depth or int(msg[-2].split("-")[1])
            bk = books[pair] = KrakenBook(d)
            for b in bodies:
                bk.snapshot(b)
        elif pair in books:
            books[pair].update(bodies)
    return books
