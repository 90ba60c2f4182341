"""Minimal pcap / pcapng reader for UDP multicast captures.

Only what market-data captures need: classic pcap (both byte orders,
micro- and nanosecond timestamps) and pcapng (section header, interface
description, enhanced and simple packet blocks); link types Ethernet (with
any number of 802.1Q / QinQ tags), Linux cooked capture (SLL) and raw IPv4;
IPv4 + UDP.  Non-UDP packets are skipped; a truncated or malformed file raises
:class:`~nanobook.feeds.FeedFormatError` with the byte offset.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

from ._errors import FeedFormatError

__all__ = ["UdpPacket", "iter_udp", "is_pcap"]

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000),  # little-endian, microseconds
    b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),  # little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228


@dataclass(frozen=True)
class UdpPacket:
    """One UDP datagram from a capture.

    ``ts_ns`` is the capture timestamp in nanoseconds since the epoch;
    ``offset`` the byte offset of the UDP payload in the capture file.
    """

    ts_ns: int
    src: str
    dst: str
    sport: int
    dport: int
    payload: bytes
    offset: int

    @property
    def flow(self) -> str:
        """Destination ``ip:port``: the multicast group, which names the feed."""
        return f"{self.dst}:{self.dport}"


def is_pcap(head: bytes) -> bool:
    """Whether ``head`` (the first 4 bytes of a file) is a pcap or pcapng magic."""
    return head[:4] in _PCAP_MAGICS or head[:4] == _PCAPNG_MAGIC


def _ip(b: bytes) -> str:
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def _udp(frame: bytes, linktype: int, ts_ns: int, base: int) -> UdpPacket | None:
    """Decode one link-layer frame; return None if it is not IPv4/UDP."""
    p = 0
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        etype = int.from_bytes(frame[12:14], "big")
        p = 14
        while etype in (0x8100, 0x88A8, 0x9100):  # VLAN / QinQ tags
            if len(frame) < p + 4:
                return None
            etype = int.from_bytes(frame[p + 2 : p + 4], "big")
            p += 4
        if etype != 0x0800:
            return None
    elif linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16 or int.from_bytes(frame[14:16], "big") != 0x0800:
            return None
        p = 16
    elif linktype in (LINKTYPE_RAW, LINKTYPE_IPV4):
        p = 0
    else:
        return None
    if len(frame) < p + 20 or frame[p] >> 4 != 4:
        return None
    ihl = (frame[p] & 0x0F) * 4
    total = int.from_bytes(frame[p + 2 : p + 4], "big")
    if frame[p + 9] != 17 or ihl < 20:
        return None
    frag = int.from_bytes(frame[p + 6 : p + 8], "big")
    if frag & 0x3FFF:  # fragmented datagrams are not reassembled
        return None
    src, dst = _ip(frame[p + 12 : p + 16]), _ip(frame[p + 16 : p + 20])
    u = p + ihl
    if len(frame) < u + 8:
        return None
    sport, dport, ulen = struct.unpack_from(">HHH", frame, u)
    end = min(u + ulen, p + total if total else len(frame), len(frame))
    if ulen < 8:
        return None
    return UdpPacket(ts_ns, src, dst, sport, dport, bytes(frame[u + 8 : end]), base + u + 8)


def iter_udp(data: bytes) -> Iterator[UdpPacket]:
    """Yield the UDP datagrams of a pcap or pcapng capture held in ``data``.

    Raises
    ------
    FeedFormatError
        If the capture is not pcap/pcapng or a record is truncated.
    """
    mv = memoryview(data)
    head = bytes(mv[:4])
    if head in _PCAP_MAGICS:
        yield from _iter_pcap(mv, *_PCAP_MAGICS[head])
    elif head == _PCAPNG_MAGIC:
        yield from _iter_pcapng(mv)
    else:
        raise FeedFormatError(f"not a pcap or pcapng capture: magic {head.hex()}", 0)


def _iter_pcap(mv: memoryview, end: str, ns_per_unit: int) -> Iterator[UdpPacket]:
    n = len(mv)
    if n < 24:
        raise FeedFormatError(f"pcap global header truncated: {n} bytes, need 24", 0)
    linktype = struct.unpack_from(end + "I", mv, 20)[0] & 0x0FFFFFFF
    rec = struct.Struct(end + "IIII")
    pos = 24
    while pos < n:
        if pos + 16 > n:
            raise FeedFormatError(f"pcap record header truncated: {n - pos} bytes, need 16", pos)
        sec, frac, incl, _orig = rec.unpack_from(mv, pos)
        if pos + 16 + incl > n:
            raise FeedFormatError(
                f"pcap record truncated: captured length {incl}, {n - pos - 16} bytes left", pos
            )
        pkt = _udp(bytes(mv[pos + 16 : pos + 16 + incl]), linktype,
                   sec * 1_000_000_000 + frac * ns_per_unit, pos + 16)
        if pkt is not None:
            yield pkt
        pos += 16 + incl


def _iter_pcapng(mv: memoryview) -> Iterator[UdpPacket]:
    n = len(mv)
    pos = 0
    end = "<"
    ifaces: list[tuple[int, int]] = []  # (linktype, ns per tick)
    while pos < n:
        if pos + 12 > n:
            raise FeedFormatError(f"pcapng block header truncated: {n - pos} bytes left", pos)
        btype_raw = bytes(mv[pos : pos + 4])
        if btype_raw == _PCAPNG_MAGIC:  # section header: byte order from its magic
            bom = bytes(mv[pos + 8 : pos + 12])
            if bom == b"\x4d\x3c\x2b\x1a":
                end = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                end = ">"
            else:
                raise FeedFormatError(f"pcapng byte-order magic not recognised: {bom.hex()}", pos)
            ifaces = []
        btype, blen = struct.unpack_from(end + "II", mv, pos)
        if blen < 12 or blen % 4 or pos + blen > n:
            raise FeedFormatError(f"pcapng block length {blen} invalid or past end of file", pos)
        body = pos + 8
        need = {1: 20, 6: 32, 3: 16}.get(btype, 12)
        if blen < need:
            raise FeedFormatError(f"pcapng block type {btype} of length {blen}, needs {need}", pos)
        if btype == 1:  # interface description
            linktype = struct.unpack_from(end + "H", mv, body)[0]
            ns_per_tick = 1_000  # default resolution: microseconds
            opt = body + 8
            while opt + 4 <= pos + blen - 4:
                code, olen = struct.unpack_from(end + "HH", mv, opt)
                if code == 0:
                    break
                if code == 9 and olen >= 1:  # if_tsresol
                    r = mv[opt + 4]
                    if r & 0x80:
                        ns_per_tick = max(1, round(1e9 / (2 ** (r & 0x7F))))
                    else:
                        ns_per_tick = max(1, round(1e9 / (10 ** r)))
                opt += 4 + ((olen + 3) & ~3)
            ifaces.append((linktype, ns_per_tick))
        elif btype == 6:  # enhanced packet
            iface, hi, lo, incl, _orig = struct.unpack_from(end + "IIIII", mv, body)
            if iface >= len(ifaces):
                raise FeedFormatError(f"pcapng packet names unknown interface {iface}", pos)
            if body + 20 + incl > pos + blen:
                raise FeedFormatError(f"pcapng packet length {incl} exceeds its block", pos)
            linktype, ns_per_tick = ifaces[iface]
            pkt = _udp(bytes(mv[body + 20 : body + 20 + incl]), linktype,
                       ((hi << 32) | lo) * ns_per_tick, body + 20)
            if pkt is not None:
                yield pkt
        elif btype == 3:  # simple packet
            if not ifaces:
                raise FeedFormatError("pcapng simple packet before any interface", pos)
            linktype, _ = ifaces[0]
            pkt = _udp(bytes(mv[body + 4 : pos + blen - 4]), linktype, 0, body + 4)
            if pkt is not None:
                yield pkt
        pos += blen
