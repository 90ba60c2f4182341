"""CME MDP 3.0 (SBE) decoding, A/B arbitration, and an MBP book per security.

An MDP 3.0 UDP packet is a 12-byte packet header (``MsgSeqNum`` u32,
``SendingTime`` u64 nanoseconds) followed by messages, each ``MsgSize`` (u16,
counting itself) + an 8-byte SBE message header (block length, template id,
schema id, version) + the root block + repeating groups.  Decoding is driven
by a CME schema XML (:class:`~nanobook.feeds.sbe.SbeSchema`); block lengths
from the wire are honoured and fields newer than a message's ``version``
(``sinceVersion``) read as null, so older and newer schema versions decode.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..validate import integer
from . import _mdp3
from ._errors import FeedError, FeedFormatError, SequenceGapError
from ._pcap import iter_udp
from .sbe import SbeBlock, SbeSchema

__all__ = ["MDP3_MESSAGE_DTYPE", "Mdp3Messages", "decode_mdp3", "Mdp3Book", "Mdp3OrderBook", "BOOK_LEVEL_DTYPE",
           "market_depths"]

#: one row per SBE message.
MDP3_MESSAGE_DTYPE = np.dtype([
    ("packet", "u4"), ("feed", "u2"), ("template_id", "u2"), ("msg_seq_num", "u4"),
    ("schema_id", "u2"), ("version", "u2"), ("sending_time", "u8"), ("block_length", "u2"),
    ("msg_size", "u2"), ("offset", "u8"),
], align=True)

def _check_message_layout() -> None:
    got = {k: MDP3_MESSAGE_DTYPE.fields[k][1] for k in MDP3_MESSAGE_DTYPE.names}
    if got != _mdp3.MESSAGE_LAYOUT or MDP3_MESSAGE_DTYPE.itemsize != _mdp3.MESSAGE_ITEMSIZE:
        raise ImportError(f"MDP3_MESSAGE_DTYPE layout {got} differs from the C walk's")


_check_message_layout()

_PKT = struct.Struct("<IQ")
_HDR = struct.Struct("<HHHHH")  # msg size + SBE header


@dataclass
class Mdp3Messages:
    """Decoded MDP 3.0 messages as structured arrays.

    Attributes
    ----------
    messages : numpy.ndarray
        One row per SBE message (:data:`MDP3_MESSAGE_DTYPE`), in processing order.
    roots : dict[int, numpy.ndarray]
        Template id -> root blocks of its messages; column ``msg`` is the row
        in ``messages``.
    groups : dict[tuple[int, str], numpy.ndarray]
        (template id, group name) -> entries, with ``msg`` and ``entry``
        (position in its group).  Prices are raw mantissas (see
        :meth:`field` for the exponent), optional fields hold their null value.
    feeds : list[str]
        Feed names (``ip:port``) indexed by ``messages["feed"]``.
    packets : int
        Packets decoded (after arbitration).
    duplicates : int
        Packets dropped by A/B arbitration (already seen on the other feed).
    gaps : list[tuple[int, int]]
        ``(first missing, next received)`` MsgSeqNum pairs.
    """

    schema: SbeSchema
    messages: np.ndarray
    roots: dict
    groups: dict
    feeds: list = field(default_factory=list)
    packets: int = 0
    duplicates: int = 0
    gaps: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.messages)

    def template_counts(self) -> dict[int, int]:
        """Template id -> number of messages."""
        ids, n = np.unique(self.messages["template_id"], return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, n)}

    def group(self, template_id: int, name: str) -> np.ndarray:
        """Entries of group ``name`` of ``template_id`` (empty array if none)."""
        g = self.groups.get((template_id, name))
        if g is not None:
            return g
        msg = self.schema.message(template_id)
        for gr in msg.groups:
            if gr.name == name:
                return np.empty(0, gr.dtype)
        raise FeedError(f"template {template_id} has no group {name!r}")

    def to_dict(self, i: int) -> dict:
        """Message ``i`` as a plain dict: enum values by description, set values
        as their choice names joined by ``", "``, decimals scaled to float,
        nulls as None, constants included, groups as lists of dicts."""
        if not 0 <= i < len(self.messages):
            raise IndexError(f"message index must be in [0, {len(self.messages)}), got {i}")
        row = self.messages[i]
        tid = int(row["template_id"])
        msg = self.schema.message(tid)
        out = {"template_id": tid, "name": msg.name, "version": int(row["version"]),
               "block_length": int(row["block_length"]), "msg_seq_num": int(row["msg_seq_num"]),
               "sending_time": int(row["sending_time"])}
        root = self.roots[tid]
        j = int(np.searchsorted(root["msg"], i))
        out.update(_values(msg, root[j], int(row["version"])))
        for g in msg.groups:
            arr = self.groups.get((tid, g.name))
            if arr is None:
                out[g.name] = []
                continue
            lo, hi = np.searchsorted(arr["msg"], [i, i + 1])
            out[g.name] = [_values(g, arr[k], int(row["version"])) for k in range(lo, hi)]
        return out


def _values(block: SbeBlock, rec, version: int) -> dict:
    d = {}
    for f in block.fields:
        if not f.fmt:
            d[f.name] = f.constant
            continue
        v = rec[f.name]
        if isinstance(v, bytes):
            raw = v
            if f.enum is not None:
                d[f.name] = f.enum.get(raw, raw.decode("latin-1"))
            else:
                d[f.name] = raw.split(b"\0", 1)[0].decode("latin-1")
            continue
        v = int(v)
        if f.since > version or (f.null is not None and v == f.null):
            d[f.name] = None
        elif f.enum is not None:
            d[f.name] = f.enum.get(v, v)
        elif f.choices is not None:
            d[f.name] = ", ".join(n for b, n in sorted(f.choices.items()) if v >> b & 1)
        elif f.exponent is not None:
            d[f.name] = v * 10.0 ** f.exponent
        else:
            d[f.name] = v
    return d


def _packets_from(source) -> Iterable[tuple[bytes, str, int]]:
    if isinstance(source, (str, os.PathLike)):
        data = Path(source).read_bytes()
        if data[:2] == b"\x1f\x8b":
            import gzip

            data = gzip.decompress(data)
        for p in iter_udp(data):
            yield p.payload, p.flow, p.offset
    elif isinstance(source, (bytes, bytearray, memoryview)):
        for p in iter_udp(bytes(source)):
            yield p.payload, p.flow, p.offset
    elif isinstance(source, Sequence) or hasattr(source, "__iter__"):
        for k, item in enumerate(source):
            if isinstance(item, (bytes, bytearray, memoryview)):
                yield bytes(item), "", 0
            elif isinstance(item, tuple) and len(item) == 2:
                yield bytes(item[0]), str(item[1]), 0
            else:
                raise TypeError(f"source[{k}] must be bytes or (bytes, feed), got {type(item).__name__}")
    else:
        raise TypeError(f"source must be a pcap path, pcap bytes or a sequence of packets, "
                        f"got {type(source).__name__}")


def decode_mdp3(
    source,
    schema: SbeSchema | str | os.PathLike,
    *,
    arbitrate: bool = False,
    on_gap: str = "record",
    strict: bool = True,
) -> Mdp3Messages:
    """Decode MDP 3.0 packets into structured arrays.

    Parameters
    ----------
    source : path, bytes, or sequence of packets
        A pcap/pcapng capture (path or bytes), or UDP payloads as ``bytes`` or
        ``(bytes, feed_name)`` tuples.
    schema : SbeSchema or path
        The CME schema XML (any version: messages carry their own version).
    arbitrate : bool, default False
        Merge the A and B feeds by ``MsgSeqNum``: the first copy of each
        sequence number is decoded, later copies are counted in
        ``duplicates``, and missing numbers are reported in ``gaps``.
        Without arbitration every packet is decoded.
    on_gap : {"record", "raise"}
        With arbitration, a sequence gap is recorded, or raises
        :class:`SequenceGapError`.
    strict : bool, default True
        Unknown template ids raise; with ``strict=False`` they are skipped
        (their size is known from ``MsgSize``).

    Raises
    ------
    FeedFormatError
        Truncated packet, a ``MsgSize`` that overruns the packet, a block or
        group that overruns its message; the offset is the byte offset in the
        capture (or in the packet for raw payloads).
    """
    if not isinstance(schema, SbeSchema):
        schema = SbeSchema(schema)
    if on_gap not in ("record", "raise"):
        raise ValueError(f"on_gap must be 'record' or 'raise', got {on_gap!r}")
    if not isinstance(arbitrate, bool):
        raise TypeError(f"arbitrate must be a bool, got {arbitrate!r}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {strict!r}")
    if isinstance(source, (str, os.PathLike)):
        source = Path(source).read_bytes()
        if source[:2] == b"\x1f\x8b":
            import gzip

            source = gzip.decompress(source)
    elif not isinstance(source, (bytes, bytearray, memoryview)):
        if isinstance(source, (Sequence, Iterable)) and not isinstance(source, (str, dict)):
            source = list(source)   # both paths may need to read it
        else:
            raise TypeError(f"source must be a pcap path, pcap bytes or a sequence of packets, "
                            f"got {type(source).__name__}")
    m = _decode_c(source, schema, arbitrate, on_gap == "raise", strict)
    if m is None:  # malformed input (or a layout the C walk does not take): exact errors here
        m = _decode_py(source, schema, arbitrate, on_gap, strict)
    return m


def _packet_table(source):
    """(buffer, payload offsets, lengths, offset bases, flow index, feed names) or None."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        ix = _mdp3.udp_index(source)
        if ix is None:
            return None
        off, ln, key = ix
        uniq, flow = np.unique(key, return_inverse=True)
        names = ["%d.%d.%d.%d:%d" % (k >> 40 & 255, k >> 32 & 255, k >> 24 & 255, k >> 16 & 255,
                                     k & 0xFFFF) for k in uniq.tolist()]
        return source, off, ln, off, flow.astype(np.int32).ravel(), names
    payloads, flows, ids = [], [], {}
    for item in source:
        if isinstance(item, (bytes, bytearray, memoryview)):
            payloads.append(bytes(item))
            flows.append(ids.setdefault("", len(ids)))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(
                item[0], (bytes, bytearray, memoryview)):
            payloads.append(bytes(item[0]))
            flows.append(ids.setdefault(str(item[1]), len(ids)))
        else:
            return None    # the Python path raises the TypeError at the right place
    ln = np.fromiter(map(len, payloads), np.int64, len(payloads))
    off = np.zeros(len(payloads), np.int64)
    np.cumsum(ln[:-1], out=off[1:])
    names = sorted(ids, key=ids.get)
    return (b"".join(payloads), off, ln, np.zeros(len(payloads), np.int64),
            np.asarray(flows, np.int32), names)


def _decode_c(source, schema: SbeSchema, arbitrate: bool, gap_raises: bool, strict: bool):
    """The C walk; None if the input is malformed, a gap must raise, or the
    schema has a layout the walk does not take."""
    tables = schema._walk_tables()
    if not tables.ok or schema.header_size != 8:
        return None
    pt = _packet_table(source)
    if pt is None:
        return None
    buf, off, ln, base, flow, names = pt
    res = _mdp3.walk(tables, buf, off, ln, base, flow, len(names), schema.header_size,
                     arbitrate=arbitrate, gap_raises=gap_raises, strict=strict)
    if res is None:
        return None
    raw, outs, npk, duplicates, gaps, feed_of_flow = res
    marr = raw.view(MDP3_MESSAGE_DTYPE)
    feeds = [None] * int((feed_of_flow >= 0).sum())
    for fi, fid in enumerate(feed_of_flow.tolist()):
        if fid >= 0:
            feeds[fid] = names[fi]
    versions = marr["version"]
    roots, groups = {}, {}
    # first-appearance order, as the Python path builds them
    order = sorted(outs, key=lambda sl: (int(outs[sl]["msg"][0]), sl))
    for sl in order:
        key = tables.keys[sl]
        arr = _apply_nulls(tables.blocks[sl], outs[sl], versions[outs[sl]["msg"]], copy=False)
        if len(key) == 1:
            roots[key[0]] = arr
        else:
            groups[key] = arr
    return Mdp3Messages(schema, marr, roots, groups, feeds, npk, duplicates, gaps)


def _decode_py(source, schema: SbeSchema, arbitrate: bool, on_gap: str, strict: bool) -> Mdp3Messages:
    """Reference path, message by message in Python: words every error."""
    hsz = schema.header_size
    feeds: dict[str, int] = {}
    msgs: list[tuple] = []
    bufs: dict[tuple, bytearray] = {}
    last_seq = None
    duplicates = 0
    gaps: list[tuple[int, int]] = []
    npk = 0
    for payload, flow, base in _packets_from(source):
        n = len(payload)
        if n < 12:
            raise FeedFormatError(f"MDP3 packet of {n} bytes, the packet header needs 12", base)
        seq, sending = _PKT.unpack_from(payload, 0)
        if arbitrate:
            if last_seq is not None and seq <= last_seq:
                duplicates += 1
                continue
            if last_seq is not None and seq != last_seq + 1:
                if on_gap == "raise":
                    raise SequenceGapError(f"MsgSeqNum gap: expected {last_seq + 1}, got {seq}")
                gaps.append((last_seq + 1, seq))
            last_seq = seq
        feed = feeds.setdefault(flow, len(feeds))
        pk = npk
        npk += 1
        pos = 12
        while pos < n:
            if pos + 2 + hsz > n:
                raise FeedFormatError(f"MDP3 message header truncated: {n - pos} bytes left", base + pos)
            size, blen, tid, sid, ver = _HDR.unpack_from(payload, pos)
            end = pos + size
            if size < 2 + hsz or end > n:
                raise FeedFormatError(f"MDP3 MsgSize {size} invalid for a packet with {n - pos} "
                                      f"bytes left", base + pos)
            msg = schema.messages.get(tid)
            if msg is None:
                if strict:
                    raise FeedFormatError(f"template_id {tid} is not in schema version "
                                          f"{schema.version}", base + pos)
                pos = end
                continue
            k = len(msgs)
            body = pos + 2 + hsz
            p = body + blen
            if p > end:
                raise FeedFormatError(f"template {tid} block length {blen} overruns MsgSize {size}",
                                      base + pos)
            _append(bufs, (tid,), msg, k, 0, payload, body, blen)
            for g in msg.groups:
                if g.since > ver:
                    continue
                if p + g.dim_size > end:
                    raise FeedFormatError(f"group {g.name} header overruns message {tid}", base + p)
                gbl = struct.unpack_from(g.dim_block_fmt, payload, p + g.dim_block_off)[0]
                num = struct.unpack_from(g.dim_num_fmt, payload, p + g.dim_num_off)[0]
                p += g.dim_size
                if p + gbl * num > end:
                    raise FeedFormatError(f"group {g.name}: {num} entries of {gbl} bytes overrun "
                                          f"message {tid}", base + p)
                if g.groups:
                    raise FeedFormatError(f"nested groups in {g.name} are not supported", base + p)
                for e in range(num):
                    _append(bufs, (tid, g.name), g, k, e, payload, p, gbl)
                    p += gbl
            msgs.append((pk, feed, tid, seq, sid, ver, sending, blen, size, base + pos))
            pos = end
    marr = np.array(msgs, dtype=MDP3_MESSAGE_DTYPE) if msgs else np.empty(0, MDP3_MESSAGE_DTYPE)
    roots, groups = {}, {}
    for key, buf in bufs.items():
        tid = key[0]
        block = schema.messages[tid] if len(key) == 1 else next(
            g for g in schema.messages[tid].groups if g.name == key[1])
        arr = np.frombuffer(buf, dtype=block.dtype)
        arr = _apply_nulls(block, arr, marr["version"][arr["msg"]] if len(arr) else None)
        if len(key) == 1:
            roots[tid] = arr
        else:
            groups[key] = arr
    names = [None] * len(feeds)
    for f, i in feeds.items():
        names[i] = f
    return Mdp3Messages(schema, marr, roots, groups, names, npk, duplicates, gaps)


def _append(bufs, key, block: SbeBlock, k: int, e: int, payload: bytes, start: int, blen: int) -> None:
    buf = bufs.get(key)
    if buf is None:
        buf = bufs[key] = bytearray()
    width = block.dtype.itemsize - 8
    # entry u2 + actual block length u2 share the second word
    buf += struct.pack("<IHH", k, e, min(blen, 65535))
    if blen >= width:
        buf += payload[start : start + width]
    else:
        buf += payload[start : start + blen]
        buf += bytes(width - blen)


def _apply_nulls(block: SbeBlock, arr: np.ndarray, versions, copy: bool = True) -> np.ndarray:
    """Split the (entry, length) word; null the fields a row does not carry."""
    raw = arr.copy() if copy else arr
    word = raw["entry"].copy()
    lens = (word >> 16).astype(np.int64)
    dt = block.dtype
    out_dt = np.dtype({"names": list(dt.names), "formats": [dt.fields[n][0] for n in dt.names],
                       "offsets": [dt.fields[n][1] for n in dt.names], "itemsize": dt.itemsize})
    out = raw.view(out_dt)
    out["entry"] = word & 0xFFFF
    if len(raw) == 0:
        return out
    for f in block.fields:
        if not f.fmt:
            continue
        missing = lens < f.offset + f.size
        if f.since:
            missing |= versions < f.since
        if missing.any():
            fill = f.null if f.null is not None and not f.is_char else 0
            if f.is_char:
                out[f.name][missing] = b""
            else:
                out[f.name][missing] = fill
    return out


# ------------------------------------------------------------------ MBP book

#: one snapshot row of :class:`Mdp3Book` levels.
BOOK_LEVEL_DTYPE = np.dtype([("price", "i8"), ("qty", "i8"), ("orders", "i8")])

_NEW, _CHANGE, _DELETE, _DELETE_THRU, _DELETE_FROM, _OVERLAY = range(6)


#: instrument definition templates (future, spread, option; v5-v8 and v9 ids)
_DEFINITIONS = (27, 29, 41, 54, 55, 56)


def _cols(arr, names) -> list:
    """Columns of a structured array as Python lists (None for absent columns)."""
    return [arr[c].tolist() if arr is not None and c in arr.dtype.names else None for c in names]


def _runs(msg_col: list) -> dict:
    """Message row -> (first, end) of its entries in a group sorted by message."""
    out = {}
    lo = 0
    n = len(msg_col)
    while lo < n:
        k = msg_col[lo]
        hi = lo + 1
        while hi < n and msg_col[hi] == k:
            hi += 1
        out[k] = (lo, hi)
        lo = hi
    return out


def market_depths(m: Mdp3Messages) -> dict[int, int]:
    """Security id -> outright book depth (``MarketDepth`` of the ``GBX`` feed
    type) from the instrument definitions (templates 27/29/41/54/55/56) in ``m``;
    the last definition of a security wins."""
    out: dict[int, int] = {}
    for t in _DEFINITIONS:
        root = m.roots.get(t)
        g = m.groups.get((t, "no_md_feed_types"))
        if root is None or g is None:
            continue
        sec_of = dict(zip(root["msg"].tolist(), root["security_id"].tolist()))
        for k, ft, d in zip(g["msg"].tolist(), g["md_feed_type"].tolist(), g["market_depth"].tolist()):
            if ft.rstrip(b"\0 ") == b"GBX" and k in sec_of:
                out[sec_of[k]] = int(d)
    return out


class Mdp3Book:
    """Market-by-price books (outright levels, implied off) for every security.

    Feed it decoded messages in arbitrated order with :meth:`apply`.  Levels
    are ``[price mantissa, quantity, number of orders]`` lists indexed by
    ``MDPriceLevel - 1``.  Each side holds at most the security's market
    depth: the ``GBX`` ``MarketDepth`` of its instrument definition (from
    ``definitions``, or from definition messages met by :meth:`apply`),
    else ``depth`` (10 for most CME futures).  Per-security ``RptSeq``
    continuity is checked on every entry that carries one; gaps are listed
    in :attr:`rpt_gaps`.

    Book entries handled: template 32/46 (``MDIncrementalRefreshBook``),
    38/52 (``SnapshotFullRefresh``: the security's book is replaced), 4
    (``ChannelReset``: every book is cleared); ``J`` (book reset) entries
    clear one security.  Implied entries (``E``/``F``) are ignored.

    Parameters
    ----------
    depth : int, default 10
        Depth of securities without a definition (1..100).
    definitions : Mdp3Messages, optional
        Decoded instrument-definition messages (the definition channel).

    Notes
    -----
    Cost: O(1) Python work per entry (columns are read as lists once per call).
    """

    def __init__(self, depth: int = 10, definitions: Mdp3Messages | None = None) -> None:
        integer(depth, "depth", ge=1, le=100)
        if definitions is not None and not isinstance(definitions, Mdp3Messages):
            raise TypeError(f"definitions must be Mdp3Messages, got {type(definitions).__name__}")
        self.depth = depth
        self.depths: dict[int, int] = {}
        self.books: dict[int, tuple[list, list]] = {}
        self.rpt_seq: dict[int, int] = {}
        self.rpt_gaps: list[tuple[int, int, int]] = []
        self.crossed_events = 0
        self.events = 0
        self._pending: set = set()
        if definitions is not None:
            self.define(definitions)

    def define(self, m: Mdp3Messages) -> "Mdp3Book":
        """Take each security's market depth from the instrument definitions in
        ``m`` (books already deeper are cut); returns self."""
        for sec, d in market_depths(m).items():
            self._set_depth(sec, d)
        return self

    def _set_depth(self, sec: int, d: int) -> None:
        if not 1 <= d <= 100:
            return   # a definition without a usable depth keeps the default
        self.depths[sec] = d
        b = self.books.get(sec)
        if b is not None:
            del b[0][d:], b[1][d:]

    def depth_of(self, sec: int) -> int:
        """Book depth used for security ``sec``."""
        return self.depths.get(sec, self.depth)

    def _book(self, sec: int):
        b = self.books.get(sec)
        if b is None:
            b = self.books[sec] = ([], [])
        return b

    def _rpt(self, sec: int, rpt: int) -> None:
        last = self.rpt_seq.get(sec)
        if last is not None and rpt != last + 1:
            self.rpt_gaps.append((sec, last + 1, rpt))
        self.rpt_seq[sec] = rpt

    @staticmethod
    def _level(side: list, depth: int, action: int, lvl: int, px: int, qty: int, n: int) -> None:
        i = lvl - 1
        if i < 0 or i >= depth:
            if action == _DELETE_THRU:
                side.clear()
            return
        if action == _NEW:
            side.insert(min(i, len(side)), [px, qty, n])
            del side[depth:]
        elif action in (_CHANGE, _OVERLAY):
            if i < len(side):
                side[i] = [px, qty, n]
            else:
                side.append([px, qty, n])
        elif action == _DELETE:
            if i < len(side):
                del side[i]
        elif action == _DELETE_THRU:
            side.clear()
        elif action == _DELETE_FROM:
            del side[: i + 1]

    def apply(self, m: Mdp3Messages) -> "Mdp3Book":
        """Apply every book-relevant message of ``m`` in order; returns self."""
        if not isinstance(m, Mdp3Messages):
            raise TypeError(f"m must be Mdp3Messages, got {type(m).__name__}")
        tids = m.messages["template_id"].tolist()
        names = ("msg", "security_id", "rpt_seq", "md_entry_type", "md_update_action",
                 "md_price_level", "md_entry_px", "md_entry_size", "number_of_orders")
        book = {}
        for t in (32, 46, 38, 52):
            g = m.groups.get((t, "no_md_entries"))
            if g is not None:
                c = _cols(g, names)
                book[t] = (c, _runs(c[0]))
        snap_root = {t: dict(zip(*_cols(m.roots[t], ("msg", "security_id"))))
                     for t in (38, 52) if t in m.roots}
        snap_rpt = {t: dict(zip(*_cols(m.roots[t], ("msg", "rpt_seq"))))
                    for t in (38, 52) if t in m.roots}
        rpt_only = {}
        for t in (35, 37, 42, 48, 49, 50, 51):
            g = m.groups.get((t, "no_md_entries"))
            if g is not None and "rpt_seq" in g.dtype.names:
                c = _cols(g, ("msg", "security_id", "rpt_seq"))
                rpt_only[t] = (c, _runs(c[0]))
        mei = {}
        for t, r in m.roots.items():
            if "match_event_indicator" in r.dtype.names:
                mei[t] = dict(zip(r["msg"].tolist(), r["match_event_indicator"].tolist()))
        defs = {t: dict(zip(*_cols(m.roots[t], ("msg", "security_id"))))
                for t in _DEFINITIONS if t in m.roots}
        depth_of = market_depths(m) if defs else {}
        for i, t in enumerate(tids):
            touched = set()
            if t in book:
                c, runs = book[t]
                lo, hi = runs.get(i, (0, 0))
                _msg, sec_c, rpt_c, et_c, act_c, lvl_c, px_c, qty_c, n_c = c
                if t in (38, 52):
                    sec = snap_root[t][i]
                    if hi > lo:
                        b = self._book(sec)
                        b[0].clear(), b[1].clear()
                        self.rpt_seq[sec] = snap_rpt[t][i]
                    depth = self.depths.get(sec, self.depth)
                    for j in range(lo, hi):
                        et = et_c[j]
                        if (et == b"0" or et == b"1") and lvl_c[j] > 0:
                            self._level(self._book(sec)[0 if et == b"0" else 1], depth, _OVERLAY,
                                        lvl_c[j], px_c[j], qty_c[j], n_c[j])
                        touched.add(sec)
                else:
                    for j in range(lo, hi):
                        sec = sec_c[j]
                        self._rpt(sec, rpt_c[j])
                        et = et_c[j]
                        if et == b"J":
                            b = self._book(sec)
                            b[0].clear(), b[1].clear()
                        elif et == b"0" or et == b"1":
                            self._level(self._book(sec)[0 if et == b"0" else 1],
                                        self.depths.get(sec, self.depth), act_c[j], lvl_c[j],
                                        px_c[j], qty_c[j], n_c[j])
                        touched.add(sec)
            elif t in rpt_only:
                c, runs = rpt_only[t]
                lo, hi = runs.get(i, (0, 0))
                for j in range(lo, hi):
                    self._rpt(c[1][j], c[2][j])
            elif t == 4:
                for b in self.books.values():
                    b[0].clear(), b[1].clear()
                self.rpt_seq.clear()
            elif t in defs:
                sec = defs[t].get(i)
                if sec in depth_of:
                    self._set_depth(sec, depth_of[sec])
            ind = mei.get(t)
            if ind is not None:
                v = ind.get(i)
                if v is not None and v & 0x80:
                    self.events += 1
                    for sec in self._pending | touched:
                        if self.crossed(sec):
                            self.crossed_events += 1
                    self._pending = set()
                else:
                    self._pending |= touched
        return self

    def crossed(self, sec: int) -> bool:
        """Best bid >= best offer for security ``sec``."""
        b = self.books.get(sec)
        return bool(b and b[0] and b[1] and b[0][0][0] >= b[1][0][0])

    def levels(self, sec: int) -> tuple[np.ndarray, np.ndarray]:
        """(bids, offers) of ``sec`` as :data:`BOOK_LEVEL_DTYPE` arrays, best first."""
        if sec not in self.books:
            raise FeedError(f"security_id {sec} has no book")
        b = self.books[sec]
        return (np.array([tuple(x) for x in b[0]], BOOK_LEVEL_DTYPE),
                np.array([tuple(x) for x in b[1]], BOOK_LEVEL_DTYPE))

    def check(self) -> bool:
        """Assert every book is sorted (bids strictly descending, offers strictly
        ascending), holds positive quantities, and has at most its depth of levels."""
        for sec, (bids, asks) in self.books.items():
            d = self.depth_of(sec)
            assert len(bids) <= d and len(asks) <= d, sec
            for a, b in zip(bids, bids[1:]):
                assert a[0] > b[0], (sec, "bids not descending", bids)
            for a, b in zip(asks, asks[1:]):
                assert a[0] < b[0], (sec, "offers not ascending", asks)
            assert all(x[1] > 0 for x in bids + asks), (sec, "non-positive size")
        return True


# ------------------------------------------------------------------ MBO book

_ORDER_NEW, _ORDER_UPDATE, _ORDER_DELETE = 0, 1, 2


class Mdp3OrderBook:
    """Market-by-order books (CME MBO) for every security, keyed by OrderID.

    Sources, in message order:

    * templates 43/47 (``MDIncrementalRefreshOrderBook``): one entry per
      order event (``order_id``, ``md_order_priority``, ``md_entry_px``,
      ``md_display_qty``, ``security_id``, ``md_update_action`` New/Change/
      Delete, ``md_entry_type`` Bid/Offer);
    * templates 32/46 (``MDIncrementalRefreshBook``) with MBO enabled: each
      ``no_order_id_entries`` entry names its MBP entry through
      ``reference_id`` (1-based) for security, side and price, and carries
      ``order_update_action`` New/Update/Delete;
    * templates 44/53 (``SnapshotFullRefreshOrderBook``): chunk 1 clears the
      security, every entry adds a resting order;
    * template 4 (``ChannelReset``) and ``J`` (book reset) entries clear books.

    A book started mid-session does not know the orders resting before its
    first message: updates of unknown orders insert them, deletes of unknown
    orders are counted in :attr:`unknown_orders`.  Implied entries are ignored.

    Notes
    -----
    Cost: O(1) expected per order event (dicts keyed by (security, order id)
    and by price level); :meth:`levels` sorts the levels of one security.
    """

    def __init__(self) -> None:
        #: (security, order id) -> [side (0 bid, 1 offer), price mantissa, qty, priority]
        self.orders: dict[tuple[int, int], list] = {}
        #: security -> ({price: [qty, orders]} for bids, same for offers)
        self._lv: dict[int, tuple[dict, dict]] = {}
        self.unknown_orders = 0
        self.bad_references = 0

    def _side(self, sec: int, side: int) -> dict:
        b = self._lv.get(sec)
        if b is None:
            b = self._lv[sec] = ({}, {})
        return b[side]

    def _remove(self, sec: int, oid: int) -> bool:
        o = self.orders.pop((sec, oid), None)
        if o is None:
            return False
        lv = self._side(sec, o[0])
        cell = lv[o[1]]
        cell[0] -= o[2]
        cell[1] -= 1
        if cell[1] == 0:
            del lv[o[1]]
        return True

    def _add(self, sec: int, oid: int, side: int, px: int, qty: int, prio: int) -> None:
        self.orders[(sec, oid)] = [side, px, qty, prio]
        cell = self._side(sec, side).setdefault(px, [0, 0])
        cell[0] += qty
        cell[1] += 1

    def _event(self, sec: int, oid: int, action: int, side: int, px: int, qty: int, prio: int) -> None:
        if action == _ORDER_DELETE:
            if not self._remove(sec, oid):
                self.unknown_orders += 1
        elif action == _ORDER_NEW or action == _ORDER_UPDATE:
            known = self._remove(sec, oid)
            if action == _ORDER_UPDATE and not known:
                self.unknown_orders += 1
            self._add(sec, oid, side, px, qty, prio)

    def _clear(self, sec: int) -> None:
        for key in [k for k in self.orders if k[0] == sec]:
            del self.orders[key]
        self._lv.pop(sec, None)

    def apply(self, m: Mdp3Messages) -> "Mdp3OrderBook":
        """Apply every order-level message of ``m`` in order; returns self."""
        if not isinstance(m, Mdp3Messages):
            raise TypeError(f"m must be Mdp3Messages, got {type(m).__name__}")
        tids = m.messages["template_id"].tolist()
        mbo = {}
        for t in (43, 47):
            g = m.groups.get((t, "no_md_entries"))
            if g is not None:
                c = _cols(g, ("msg", "security_id", "order_id", "md_update_action", "md_entry_type",
                              "md_entry_px", "md_display_qty", "md_order_priority"))
                mbo[t] = (c, _runs(c[0]))
        mbp = {}
        for t in (32, 46):
            g = m.groups.get((t, "no_md_entries"))
            o = m.groups.get((t, "no_order_id_entries"))
            if o is not None and g is not None:
                gc = _cols(g, ("msg", "security_id", "md_entry_type", "md_entry_px"))
                oc = _cols(o, ("msg", "order_id", "order_update_action", "reference_id",
                               "md_display_qty", "md_order_priority"))
                mbp[t] = (gc, _runs(gc[0]), oc, _runs(oc[0]))
        snap = {}
        for t in (44, 53):
            g = m.groups.get((t, "no_md_entries"))
            if t in m.roots:
                root = dict(zip(*_cols(m.roots[t], ("msg", "security_id"))))
                chunk = dict(zip(*_cols(m.roots[t], ("msg", "current_chunk"))))
                c = _cols(g, ("msg", "order_id", "md_entry_type", "md_entry_px", "md_display_qty",
                              "md_order_priority")) if g is not None else None
                snap[t] = (root, chunk, c, _runs(c[0]) if c else {})
        for i, t in enumerate(tids):
            if t in mbo:
                c, runs = mbo[t]
                lo, hi = runs.get(i, (0, 0))
                _k, sec_c, oid_c, act_c, et_c, px_c, q_c, pr_c = c
                for j in range(lo, hi):
                    et = et_c[j]
                    if et == b"0" or et == b"1":
                        self._event(sec_c[j], oid_c[j], act_c[j], 0 if et == b"0" else 1,
                                    px_c[j], q_c[j], pr_c[j])
                    elif et == b"J":
                        self._clear(sec_c[j])
            elif t in mbp:
                gc, gruns, oc, oruns = mbp[t]
                glo, ghi = gruns.get(i, (0, 0))
                for j in range(glo, ghi):
                    if gc[2][j] == b"J":
                        self._clear(gc[1][j])
                lo, hi = oruns.get(i, (0, 0))
                for j in range(lo, hi):
                    ref = oc[3][j]
                    if not 1 <= ref <= ghi - glo:
                        self.bad_references += 1
                        continue
                    e = glo + ref - 1
                    et = gc[2][e]
                    if et == b"0" or et == b"1":
                        self._event(gc[1][e], oc[1][j], oc[2][j], 0 if et == b"0" else 1,
                                    gc[3][e], oc[4][j], oc[5][j])
            elif t in snap:
                root, chunk, c, runs = snap[t]
                sec = root[i]
                if chunk.get(i) in (1, None):
                    self._clear(sec)
                lo, hi = runs.get(i, (0, 0))
                for j in range(lo, hi):
                    et = c[2][j]
                    if et == b"0" or et == b"1":
                        self._event(sec, c[1][j], _ORDER_NEW, 0 if et == b"0" else 1,
                                    c[3][j], c[4][j], c[5][j])
            elif t == 4:
                self.orders.clear()
                self._lv.clear()
        return self

    @property
    def securities(self) -> list[int]:
        """Securities with at least one resting order."""
        return sorted(s for s, (b, a) in self._lv.items() if b or a)

    def levels(self, sec: int) -> tuple[np.ndarray, np.ndarray]:
        """(bids, offers) of ``sec`` aggregated by price as :data:`BOOK_LEVEL_DTYPE`
        arrays, best first (price mantissa, total displayed quantity, order count)."""
        b = self._lv.get(sec)
        if b is None:
            raise FeedError(f"security_id {sec} has no orders")
        bids = sorted(b[0].items(), reverse=True)
        offers = sorted(b[1].items())
        return (np.array([(p, q, n) for p, (q, n) in bids], BOOK_LEVEL_DTYPE),
                np.array([(p, q, n) for p, (q, n) in offers], BOOK_LEVEL_DTYPE))

    def queue(self, sec: int, side: int, price: int) -> list[tuple[int, int, int]]:
        """Orders resting at ``price`` on ``side`` (0 bid, 1 offer) of ``sec`` as
        ``(order_id, qty, priority)``, in priority order (lowest first)."""
        if side not in (0, 1):
            raise ValueError(f"side must be 0 (bid) or 1 (offer), got {side!r}")
        out = [(oid, o[2], o[3]) for (s, oid), o in self.orders.items()
               if s == sec and o[0] == side and o[1] == price]
        return sorted(out, key=lambda x: (x[2], x[0]))

    def check(self) -> bool:
        """Assert level totals equal the sums over resting orders."""
        agg: dict = {}
        for (sec, _oid), (side, px, qty, _p) in self.orders.items():
            cell = agg.setdefault((sec, side, px), [0, 0])
            cell[0] += qty
            cell[1] += 1
        got = {(sec, side, px): list(v) for sec, sides in self._lv.items()
               for side in (0, 1) for px, v in sides[side].items()}
        assert got == agg, "level totals differ from the resting orders"
        return True
