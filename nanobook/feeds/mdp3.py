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

from . import _mdp3
from ._errors import FeedError, FeedFormatError, SequenceGapError
from ._pcap import iter_udp
from .sbe import SbeBlock, SbeSchema

__all__ = ["MDP3_MESSAGE_DTYPE", "Mdp3Messages", "decode_mdp3", "Mdp3Book", "BOOK_LEVEL_DTYPE"]

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
                     arbitrate, gap_raises, strict)
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


class Mdp3Book:
    """Market-by-price books (outright levels, implied off) for every security.

    Feed it decoded messages in arbitrated order with :meth:`apply`.  Levels
    are ``[price mantissa, quantity, number of orders]`` lists indexed by
    ``MDPriceLevel - 1``; ``depth`` caps each side (CME's GBX market depth,
    10 for most futures).  Per-security ``RptSeq`` continuity is checked on
    every entry that carries one; gaps are listed in :attr:`rpt_gaps`.

    Book entries handled: template 32/46 (``MDIncrementalRefreshBook``),
    38/52 (``SnapshotFullRefresh``: the security's book is replaced), 4
    (``ChannelReset``: every book is cleared); ``J`` (book reset) entries
    clear one security.  Implied entries (``E``/``F``) are ignored.
    """

    def __init__(self, depth: int = 10) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 100:
            raise ValueError(f"depth must be an int in [1, 100], got {depth!r}")
        self.depth = depth
        self.books: dict[int, tuple[list, list]] = {}
        self.rpt_seq: dict[int, int] = {}
        self.rpt_gaps: list[tuple[int, int, int]] = []
        self.crossed_events = 0
        self.events = 0
        self._pending: set = set()

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

    def _level(self, side: list, action: int, lvl: int, px: int, qty: int, n: int) -> None:
        i = lvl - 1
        if i < 0 or i >= self.depth:
            if action in (_DELETE_THRU,):
                side.clear()
            return
        if action == _NEW:
            side.insert(min(i, len(side)), [px, qty, n])
            del side[self.depth:]
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
        tids = m.messages["template_id"]
        idx = {t: (m.groups.get((t, "no_md_entries"))) for t in (32, 46, 38, 52)}
        ptr = {t: 0 for t in idx}
        rpt_only = {}
        for t in (35, 37, 42, 48, 49, 50, 51):
            g = m.groups.get((t, "no_md_entries"))
            if g is not None and "rpt_seq" in g.dtype.names:
                rpt_only[t] = (g, 0)
        mei = {t: m.roots[t]["match_event_indicator"] for t in m.roots
               if "match_event_indicator" in m.roots[t].dtype.names}
        mei_pos = {t: 0 for t in mei}
        for i in range(len(tids)):
            t = int(tids[i])
            touched = set()
            if t in idx and idx[t] is not None:
                g = idx[t]
                j = ptr[t]
                while j < len(g) and g["msg"][j] == i:
                    e = g[j]
                    sec = int(e["security_id"]) if "security_id" in g.dtype.names else None
                    if t in (38, 52):
                        sec = int(m.roots[t]["security_id"][np.searchsorted(m.roots[t]["msg"], i)])
                        if j == ptr[t] or g["msg"][j - 1] != i:
                            b = self._book(sec)
                            b[0].clear(), b[1].clear()
                            rr = m.roots[t][np.searchsorted(m.roots[t]["msg"], i)]
                            self.rpt_seq[sec] = int(rr["rpt_seq"])
                        et = e["md_entry_type"]
                        if et in (b"0", b"1") and e["md_price_level"] > 0:
                            side = self._book(sec)[0 if et == b"0" else 1]
                            self._level(side, _OVERLAY, int(e["md_price_level"]),
                                        int(e["md_entry_px"]), int(e["md_entry_size"]),
                                        int(e["number_of_orders"]))
                    else:
                        self._rpt(sec, int(e["rpt_seq"]))
                        et = e["md_entry_type"]
                        if et == b"J":
                            b = self._book(sec)
                            b[0].clear(), b[1].clear()
                        elif et in (b"0", b"1"):
                            side = self._book(sec)[0 if et == b"0" else 1]
                            self._level(side, int(e["md_update_action"]), int(e["md_price_level"]),
                                        int(e["md_entry_px"]), int(e["md_entry_size"]),
                                        int(e["number_of_orders"]))
                    touched.add(sec)
                    j += 1
                ptr[t] = j
            elif t in rpt_only:
                g, j = rpt_only[t]
                while j < len(g) and g["msg"][j] == i:
                    self._rpt(int(g["security_id"][j]), int(g["rpt_seq"][j]))
                    j += 1
                rpt_only[t] = (g, j)
            elif t == 4:
                for b in self.books.values():
                    b[0].clear(), b[1].clear()
                self.rpt_seq.clear()
            if t in mei:
                k = mei_pos[t]
                while k < len(mei[t]) and m.roots[t]["msg"][k] < i:
                    k += 1
                mei_pos[t] = k
                if k < len(mei[t]) and m.roots[t]["msg"][k] == i and mei[t][k] & 0x80:
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
        ascending), holds positive quantities, and has at most ``depth`` levels."""
        for sec, (bids, asks) in self.books.items():
            assert len(bids) <= self.depth and len(asks) <= self.depth, sec
            for a, b in zip(bids, bids[1:]):
                assert a[0] > b[0], (sec, "bids not descending", bids)
            for a, b in zip(asks, asks[1:]):
                assert a[0] < b[0], (sec, "offers not ascending", asks)
            assert all(x[1] > 0 for x in bids + asks), (sec, "non-positive size")
        return True
