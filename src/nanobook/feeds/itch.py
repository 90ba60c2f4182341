"""NASDAQ TotalView-ITCH 5.0: decode to numpy structured arrays.

Sources: a BinaryFILE stream (``[u16 big-endian length][message]`` repeated),
plain or gzip-compressed, given as a path or as bytes; or a pcap/pcapng
capture of MoldUDP64 packets (the file type is recognised from its first
bytes).  Messages become one structured array per message type (dtypes in
:data:`ITCH_DTYPES`), with no Python object per message.  Every record starts
with ``index``, the message's position in the stream (0-based, counting
every framed message), so the arrays can be merged back into stream order.
"""
from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field
from typing import Iterator, Union

import numpy as np

from ..validate import integer
from . import _itch
from ._errors import FeedFormatError
from ._pcap import is_pcap, iter_udp

__all__ = [
    "ITCH_DTYPES",
    "ITCH_MESSAGE_NAMES",
    "ItchMessages",
    "read_itch",
    "iter_itch",
    "moldudp64_to_binaryfile",
    "parse_itch",
]

#: numpy dtype of each ITCH 5.0 message type (key: the type character).
ITCH_DTYPES: dict[str, np.dtype] = dict(_itch.DTYPES)
#: descriptive name of each message type (``"A"`` -> ``"add_order"``).
ITCH_MESSAGE_NAMES: dict[str, str] = dict(_itch.NAMES)

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]

_MOLD_DTYPE = np.dtype([("index", "u8"), ("session", "S10"), ("sequence", "u8")], align=True)


@dataclass
class ItchMessages:
    """Decoded ITCH messages: one structured array per message type.

    Attributes
    ----------
    arrays : dict[str, numpy.ndarray]
        Message type character -> records of that type, in stream order.
    n_messages : int
        Framed messages read, including skipped ones.
    skipped : int
        Messages skipped in lenient mode (unknown type or short length).
    mold : numpy.ndarray or None
        For MoldUDP64 captures: ``(index, session, sequence)`` per message.
    """

    arrays: dict[str, np.ndarray]
    n_messages: int = 0
    skipped: int = 0
    mold: np.ndarray | None = None
    packets: int = field(default=0)

    def __getitem__(self, msg_type: str) -> np.ndarray:
        """Records of ``msg_type`` (an empty array of its dtype if none)."""
        if msg_type not in ITCH_DTYPES:
            raise KeyError(f"msg_type must be an ITCH 5.0 message type, got {msg_type!r}")
        a = self.arrays.get(msg_type)
        return a if a is not None else np.empty(0, ITCH_DTYPES[msg_type])

    def __contains__(self, msg_type: object) -> bool:
        return msg_type in self.arrays

    @property
    def counts(self) -> dict[str, int]:
        """Number of decoded messages per type (types present only)."""
        return {k: len(v) for k, v in sorted(self.arrays.items())}

    def symbols(self) -> dict[int, str]:
        """Stock locate -> symbol, from the stock directory (``R``) messages."""
        r = self["R"]
        return {int(loc): s.decode("ascii", "replace").rstrip()
                for loc, s in zip(r["stock_locate"], r["stock"])}

    @staticmethod
    def concat(parts: list["ItchMessages"]) -> "ItchMessages":
        """Join consecutive chunks (as yielded by :func:`iter_itch`)."""
        keys = sorted({k for p in parts for k in p.arrays})
        arrays = {k: np.concatenate([p[k] for p in parts]) for k in keys}
        molds = [p.mold for p in parts if p.mold is not None]
        return ItchMessages(
            arrays,
            sum(p.n_messages for p in parts),
            sum(p.skipped for p in parts),
            np.concatenate(molds) if molds else None,
            sum(p.packets for p in parts),
        )


def _check_strict(strict: object, lenient: object) -> bool:
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {strict!r}")
    if lenient is not None:
        if not isinstance(lenient, bool):
            raise TypeError(f"lenient must be a bool, got {lenient!r}")
        return not lenient
    return strict


def _read_file(path: "str | os.PathLike[str]") -> np.ndarray | bytes:
    """A whole file's bytes, read straight into a numpy buffer.

    ``readinto`` a preallocated array (numpy asks for huge pages on large
    allocations) is several times faster than ``read()``, which grows a bytes
    object and copies; files of unknown size (pipes) fall back to ``read()``.
    """
    with open(path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= 0:
            return fh.read()
        buf = np.empty(size, np.uint8)
        mv = memoryview(buf)
        got = 0
        while got < size:
            k = fh.readinto(mv[got:])
            if not k:
                break
            got += k
        return buf[:got]


def _read_source(source: Source, name: str = "source") -> np.ndarray | bytes | memoryview:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        data = _read_file(source)
    else:
        raise TypeError(f"{name} must be a path or bytes-like, got {type(source).__name__}")
    head = bytes(memoryview(data)[:4])
    if head[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(bytes(data))
        except (OSError, EOFError, zlib.error) as exc:
            raise FeedFormatError(f"corrupt gzip stream: {exc}", 0) from exc
    return data


def moldudp64_to_binaryfile(data: bytes) -> tuple[bytes, np.ndarray, int]:
    """Cut the MoldUDP64 packets of a pcap/pcapng capture into a BinaryFILE stream.

    A MoldUDP64 packet is a 20-byte header (10-byte session, u64 sequence
    number of its first message, u16 message count) followed by that many
    ``[u16 length][message]`` blocks, the BinaryFILE framing.  Heartbeats
    (count 0) and end-of-session packets (count 0xFFFF) carry no message.

    Returns
    -------
    stream : bytes
        The message blocks of every packet, in capture order.
    mold : numpy.ndarray
        ``(index, session, sequence)`` for each message.
    packets : int
        MoldUDP64 packets read.

    Raises
    ------
    FeedFormatError
        If a packet is shorter than its header or its message blocks overrun it.
    """
    chunks: list[bytes] = []
    sess: list[bytes] = []
    seqs: list[int] = []
    packets = 0
    for pkt in iter_udp(data):
        pl = pkt.payload
        if len(pl) < 20:
            raise FeedFormatError(f"MoldUDP64 packet of {len(pl)} bytes, header needs 20", pkt.offset)
        session = pl[:10]
        seq = int.from_bytes(pl[10:18], "big")
        count = int.from_bytes(pl[18:20], "big")
        packets += 1
        if count in (0, 0xFFFF):
            continue
        p = 20
        for i in range(count):
            if p + 2 > len(pl):
                raise FeedFormatError(
                    f"MoldUDP64 packet says {count} messages but ends after {i}", pkt.offset + p)
            ln = int.from_bytes(pl[p : p + 2], "big")
            if p + 2 + ln > len(pl):
                raise FeedFormatError(
                    f"MoldUDP64 message {i} of length {ln} overruns its packet", pkt.offset + p)
            p += 2 + ln
            sess.append(session)
            seqs.append(seq + i)
        chunks.append(pl[20:p])
    mold = np.empty(len(seqs), _MOLD_DTYPE)
    mold["index"] = np.arange(len(seqs), dtype=np.uint64)
    mold["session"] = sess
    mold["sequence"] = seqs
    return b"".join(chunks), mold, packets


def _mold_fast(data) -> tuple | None:
    """:func:`moldudp64_to_binaryfile` in C (pcap walk and packet split); None
    if the capture is malformed, so that the Python path words the error."""
    from ._mdp3 import udp_index

    ix = udp_index(data)
    if ix is None:
        return None
    off, ln, _flow = ix
    res = _itch.mold_split(data, off, ln)
    if res is None:
        return None
    stream, msg_pkt, seq = res
    src = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
    # the 10-byte session of each packet, then of each message
    sess_pkt = src[off[:, None] + np.arange(10)] if len(off) else np.empty((0, 10), np.uint8)
    mold = np.zeros(len(seq), _MOLD_DTYPE)
    mold["index"] = np.arange(len(seq), dtype=np.uint64)
    mold["session"] = np.ascontiguousarray(sess_pkt[msg_pkt]).view("S10").reshape(-1)
    mold["sequence"] = seq
    return stream, mold, len(off)


def read_itch(source: Source, *, strict: bool = True, lenient: bool | None = None) -> ItchMessages:
    """Decode a whole ITCH 5.0 file or buffer into structured arrays.

    Parameters
    ----------
    source : path or bytes-like
        BinaryFILE (plain or gzip) or a pcap/pcapng capture of MoldUDP64.
    strict : bool, default True
        Strict mode rejects zero length slots, unknown message types, lengths
        that differ from the specification and trailing partial messages.
    lenient : bool, optional
        ``lenient=True`` is ``strict=False``: a zero length slot takes the
        specification length of its message type (files written with zero
        lengths decode), unknown types and too-short messages are skipped and
        counted in ``skipped``, longer messages have their extra bytes ignored,
        and a partial message at the end is dropped.

    Returns
    -------
    ItchMessages

    Raises
    ------
    FeedFormatError
        On malformed bytes, with the absolute byte offset of the message
        (for captures: the offset in the extracted message stream).
    FileNotFoundError
        If the path does not exist.

    Notes
    -----
    Cost: two passes over the bytes in C, O(n) time, output memory only.
    """
    strict = _check_strict(strict, lenient)
    data = _read_source(source)
    mold = None
    packets = 0
    if is_pcap(bytes(memoryview(data)[:4])):
        fast = _mold_fast(data)
        data, mold, packets = fast if fast is not None else moldudp64_to_binaryfile(bytes(data))
    arrays, _consumed, nmsg, skipped = _itch.decode(data, strict, True, 0, 0)
    return ItchMessages(arrays, nmsg, skipped, mold, packets)


def iter_itch(
    source: Source,
    *,
    chunk_size: int = 1 << 24,
    strict: bool = True,
    lenient: bool | None = None,
) -> Iterator[ItchMessages]:
    """Stream a BinaryFILE (plain or gzip) in chunks, for files larger than memory.

    A pcap/pcapng capture of MoldUDP64 (plain or gzip, path or bytes: told
    from its first bytes) is decoded whole and yielded as one chunk.

    Each yielded :class:`ItchMessages` holds the complete messages of about
    ``chunk_size`` bytes; ``index`` keeps counting across chunks and error
    offsets are absolute in the (decompressed) stream.

    Parameters
    ----------
    source : path or bytes-like
    chunk_size : int, default 16 MiB
        Bytes read per step (at least 64).
    strict, lenient : see :func:`read_itch`.

    Raises
    ------
    FeedFormatError, FileNotFoundError, ValueError
    """
    strict = _check_strict(strict, lenient)
    integer(chunk_size, "chunk_size", ge=64)
    f = None        # the file we opened (a GzipFile does not close its fileobj)
    if isinstance(source, (bytes, bytearray, memoryview)):
        import io

        raw = bytes(source)
        fh = gzip.GzipFile(fileobj=io.BytesIO(raw)) if raw[:2] == b"\x1f\x8b" else io.BytesIO(raw)
    elif isinstance(source, (str, os.PathLike)):
        f = open(source, "rb")
        head = f.read(4)
        f.seek(0)
        fh = gzip.GzipFile(fileobj=f) if head[:2] == b"\x1f\x8b" else f
    else:
        raise TypeError(f"source must be a path or bytes-like, got {type(source).__name__}")
    try:
        # the container is told by the (decompressed) bytes, whatever the
        # source: a capture is decoded whole, as read_itch does
        try:
            head = fh.peek(4)[:4] if isinstance(fh, gzip.GzipFile) else fh.read(4)
            if not isinstance(fh, gzip.GzipFile):
                fh.seek(0)
        except (OSError, EOFError, zlib.error) as exc:
            raise FeedFormatError(f"corrupt gzip stream: {exc}", 0) from exc
        if is_pcap(bytes(head)):
            yield read_itch(raw if f is None else source, strict=strict)
            return
        # One buffer for the whole stream: each read lands after the partial
        # message left by the previous chunk (at most 2 + 65535 bytes), so no
        # chunk is ever copied to join it with its predecessor.
        buf = np.empty(chunk_size + 65538, np.uint8)
        mv = memoryview(buf)
        tail = 0
        base = 0  # absolute offset of buf[0]
        index = 0
        while True:
            try:
                got = fh.readinto(mv[tail : tail + chunk_size])
            except (OSError, EOFError, zlib.error) as exc:
                raise FeedFormatError(f"corrupt gzip stream: {exc}", base + tail) from exc
            final = not got
            total = tail + (got or 0)
            if not total:
                return
            arrays, consumed, nmsg, skipped = _itch.decode(mv[:total], strict, final, base, index)
            index += nmsg
            base += consumed
            tail = total - consumed
            if tail:
                buf[:tail] = buf[consumed:total].copy()
            if nmsg:
                yield ItchMessages(arrays, nmsg, skipped)
            if final:
                return
    finally:
        fh.close()
        if f is not None:
            f.close()


def parse_itch(path: "str | os.PathLike[str]") -> list:
    """Reference-compatible ``parse_itch``: ``list[(symbol, nanobook.Event)]``.

    Reads a BinaryFILE ITCH 5.0 file and converts add orders (``A``/``F``) to
    ``SubmitLimit`` GTC events (price = ITCH price // 100, i.e. truncated to
    cents; side buy when the indicator is ``B``, otherwise sell; symbol the
    stock field, whitespace-trimmed), partial cancels and deletes (``X``/``D``)
    to ``Cancel(order reference)`` with symbol ``""``, and replaces (``U``) to
    ``Modify(old reference, price // 100, shares)`` with symbol ``""``; every
    other message is dropped, and so are adds and replaces of 0 shares (our
    ``Event`` rejects quantity 0; the reference emits them).  Reading stops
    at end of file or when fewer than 2 bytes remain.

    Raises
    ------
    FileNotFoundError
        Missing file.
    FeedFormatError (an ``OSError``)
        ``ITCH message length is 0``; ``failed to fill whole buffer`` (a
        truncated message); ``ITCH '<T>' message too short: <n> bytes, need
        <m>`` -- the reference's messages, followed by the byte offset.

    Notes
    -----
    ITCH order references are not nanobook order ids: replaying the events
    on an ``Exchange`` needs an id mapping (see :class:`ItchBook` for an
    order-reference-keyed replica instead).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    data = _read_file(path)
    events, sym_id, names = _itch.reference_event_array(data)
    return _pair_events(events, sym_id, names)


def _pair_events(events: np.ndarray, sym_id: np.ndarray, names: list[bytes]) -> list:
    """``list[(symbol, Event)]`` from the event array and per-event stock ids.

    The ``Event`` objects come from the engine's ``events_from_array`` in one
    call; symbols are decoded once per distinct stock and the tuples built in
    one C loop.  The cyclic garbage collector is paused while the
    million-object list is built (none of these objects can form a cycle;
    otherwise each generation-0 threshold crossing rescans the growing list)
    and restored to its previous state afterwards.
    """
    import gc

    from .. import _engine

    labels = [b.decode("ascii", "replace").strip() for b in names]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _itch.pair(labels, sym_id, _engine.events_from_array(events))
    finally:
        if was_enabled:
            gc.enable()
