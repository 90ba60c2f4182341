# cython: language_level=3
"""MDP 3.0 kernels: pcap/pcapng UDP index and the SBE packet/message/group walk.

Both kernels run without the GIL over one contiguous capture buffer and never
read past its end.  They decide *that* the input is malformed, not how to
word it: on any error they return a status and ``mdp3.py`` re-runs its
Python reference path, which raises the precise error with its offset.  On
valid input the results equal that reference path field for field (the
tests check every capture and mutated ones).

The layouts come from :class:`~nanobook.feeds.sbe.SbeSchema`: each block is
copied verbatim into a record whose dtype puts every field at its wire offset
(SBE is little-endian, as are our arrays), after an 8-byte prefix (message
row u4, entry position u2, block length on the wire u2).  ``mdp3.py`` then
nulls what a row does not carry (short blocks, ``sinceVersion``) with
vectorised numpy.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from nanobook._types cimport ts_t
from libc.string cimport memcpy, memset
from libc.stdlib cimport malloc, free

import numpy as np

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    static inline uint16_t mdp_le16(const uint8_t* p) { uint16_t v; memcpy(&v, p, 2); return v; }
    static inline uint32_t mdp_le32(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }
    static inline uint64_t mdp_le64(const uint8_t* p) { uint64_t v; memcpy(&v, p, 8); return v; }
    static inline uint16_t mdp_be16(const uint8_t* p) { return (uint16_t)(((uint16_t)p[0] << 8) | p[1]); }
    static inline uint32_t mdp_be32(const uint8_t* p) { return __builtin_bswap32(mdp_le32(p)); }
    static inline void mdp_st16(uint8_t* d, uint16_t v) { memcpy(d, &v, 2); }
    static inline void mdp_st32(uint8_t* d, uint32_t v) { memcpy(d, &v, 4); }
    static inline void mdp_st64(uint8_t* d, uint64_t v) { memcpy(d, &v, 8); }
    """
    uint16_t mdp_le16(const uint8_t* p) noexcept nogil
    uint32_t mdp_le32(const uint8_t* p) noexcept nogil
    uint64_t mdp_le64(const uint8_t* p) noexcept nogil
    uint16_t mdp_be16(const uint8_t* p) noexcept nogil
    uint32_t mdp_be32(const uint8_t* p) noexcept nogil
    void mdp_st16(uint8_t* d, uint16_t v) noexcept nogil
    void mdp_st32(uint8_t* d, uint32_t v) noexcept nogil
    void mdp_st64(uint8_t* d, uint64_t v) noexcept nogil


# ---------------------------------------------------------------- pcap / pcapng

cdef inline uint32_t _u32(const uint8_t* p, bint big) noexcept nogil:
    return mdp_be32(p) if big else mdp_le32(p)


cdef inline uint16_t _u16(const uint8_t* p, bint big) noexcept nogil:
    return mdp_be16(p) if big else mdp_le16(p)


cdef bint _udp(const uint8_t* buf, int64_t f0, int64_t flen, uint32_t linktype,
               int64_t* off, int64_t* ln, uint64_t* flow) noexcept nogil:
    """The IPv4/UDP payload of the frame buf[f0:f0+flen] (as ``_pcap._udp``)."""
    cdef const uint8_t* fr = buf + f0
    cdef int64_t p = 0, u, end, total, ihl, ulen
    cdef uint16_t etype
    if linktype == 1:                  # Ethernet, any number of VLAN / QinQ tags
        if flen < 14:
            return False
        etype = mdp_be16(fr + 12)
        p = 14
        while etype == 0x8100 or etype == 0x88A8 or etype == 0x9100:
            if flen < p + 4:
                return False
            etype = mdp_be16(fr + p + 2)
            p += 4
        if etype != 0x0800:
            return False
    elif linktype == 113:              # Linux cooked capture
        if flen < 16 or mdp_be16(fr + 14) != 0x0800:
            return False
        p = 16
    elif linktype == 101 or linktype == 228:
        p = 0
    else:
        return False
    if flen < p + 20 or fr[p] >> 4 != 4:
        return False
    ihl = (fr[p] & 0x0F) * 4
    total = mdp_be16(fr + p + 2)
    if fr[p + 9] != 17 or ihl < 20:
        return False
    if mdp_be16(fr + p + 6) & 0x3FFF:  # fragments are not reassembled
        return False
    u = p + ihl
    if flen < u + 8:
        return False
    ulen = mdp_be16(fr + u + 4)
    end = u + ulen
    if total and p + total < end:
        end = p + total
    if flen < end:
        end = flen
    if ulen < 8:
        return False
    off[0] = f0 + u + 8
    ln[0] = end - (u + 8) if end > u + 8 else 0
    flow[0] = (<uint64_t>mdp_be32(fr + p + 16) << 16) | mdp_be16(fr + u + 2)
    return True


cdef struct UdpIndex:
    int64_t* off
    int64_t* ln
    uint64_t* flow
    int64_t n
    int64_t cap


cdef int _push(UdpIndex* ix, int64_t off, int64_t ln, uint64_t flow) noexcept nogil:
    cdef int64_t ncap
    cdef void* a
    cdef void* b
    cdef void* c
    if ix.n == ix.cap:
        ncap = ix.cap * 2 if ix.cap else 4096
        a = malloc(ncap * 8)
        b = malloc(ncap * 8)
        c = malloc(ncap * 8)
        if a == NULL or b == NULL or c == NULL:
            free(a)
            free(b)
            free(c)
            return -1
        if ix.n:
            memcpy(a, ix.off, ix.n * 8)
            memcpy(b, ix.ln, ix.n * 8)
            memcpy(c, ix.flow, ix.n * 8)
        free(ix.off)
        free(ix.ln)
        free(ix.flow)
        ix.off, ix.ln, ix.flow, ix.cap = <int64_t*>a, <int64_t*>b, <uint64_t*>c, ncap
    ix.off[ix.n] = off
    ix.ln[ix.n] = ln
    ix.flow[ix.n] = flow
    ix.n += 1
    return 0


cdef int _walk_pcap(const uint8_t* buf, int64_t n, UdpIndex* ix) noexcept nogil:
    """0 ok, 1 malformed, -1 out of memory."""
    cdef bint big
    cdef uint32_t linktype, incl
    cdef int64_t pos = 24, o, l
    cdef uint64_t fl
    if n < 24:
        return 1
    big = buf[0] == 0xa1
    linktype = _u32(buf + 20, big) & 0x0FFFFFFF
    while pos < n:
        if pos + 16 > n:
            return 1
        incl = _u32(buf + pos + 8, big)
        if pos + 16 + <int64_t>incl > n:
            return 1
        if _udp(buf, pos + 16, incl, linktype, &o, &l, &fl):
            if _push(ix, o, l, fl) != 0:
                return -1
        pos += 16 + incl
    return 0


cdef int _walk_pcapng(const uint8_t* buf, int64_t n, UdpIndex* ix) noexcept nogil:
    cdef bint big = False
    cdef int64_t pos = 0, body, need, o, l
    cdef uint32_t btype, blen, iface, incl
    cdef uint64_t fl
    cdef uint16_t links[256]          # link type per interface of this section
    cdef int nif = 0
    while pos < n:
        if pos + 12 > n:
            return 1
        if buf[pos] == 0x0a and buf[pos + 1] == 0x0d and buf[pos + 2] == 0x0d and buf[pos + 3] == 0x0a:
            if buf[pos + 8] == 0x4d and buf[pos + 9] == 0x3c and buf[pos + 10] == 0x2b and buf[pos + 11] == 0x1a:
                big = False
            elif buf[pos + 8] == 0x1a and buf[pos + 9] == 0x2b and buf[pos + 10] == 0x3c and buf[pos + 11] == 0x4d:
                big = True
            else:
                return 1
            nif = 0
        btype = _u32(buf + pos, big)
        blen = _u32(buf + pos + 4, big)
        if blen < 12 or blen % 4 or pos + <int64_t>blen > n:
            return 1
        body = pos + 8
        need = 20 if btype == 1 else 32 if btype == 6 else 16 if btype == 3 else 12
        if blen < need:
            return 1
        if btype == 1:
            if nif == 256:
                return 1                  # the Python path handles such captures
            links[nif] = _u16(buf + body, big)
            nif += 1
        elif btype == 6:
            iface = _u32(buf + body, big)
            incl = _u32(buf + body + 12, big)
            if iface >= <uint32_t>nif:
                return 1
            if body + 20 + <int64_t>incl > pos + blen:
                return 1
            if _udp(buf, body + 20, incl, links[iface], &o, &l, &fl):
                if _push(ix, o, l, fl) != 0:
                    return -1
        elif btype == 3:
            if nif == 0:
                return 1
            l = pos + blen - 4 - (body + 4)
            if _udp(buf, body + 4, l if l > 0 else 0, links[0], &o, &l, &fl):
                if _push(ix, o, l, fl) != 0:
                    return -1
        pos += blen
    return 0


def udp_index(data):
    """Payload offsets, lengths and flows (dst ip << 16 | dst port) of a capture's
    UDP datagrams, as ``_pcap.iter_udp`` yields them; ``None`` if the capture is
    malformed (the caller re-reads it with ``iter_udp`` for the error)."""
    cdef const uint8_t[::1] mv = memoryview(data).cast("B") if len(data) else b"\0"[:0]
    cdef int64_t n = mv.shape[0]
    cdef const uint8_t* p = &mv[0] if n else NULL
    cdef UdpIndex ix
    cdef int st = 1
    memset(&ix, 0, sizeof(ix))
    head = bytes(mv[:4])
    try:
        if head in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            with nogil:
                st = _walk_pcap(p, n, &ix)
        elif head == b"\x0a\x0d\x0d\x0a":
            with nogil:
                st = _walk_pcapng(p, n, &ix)
        if st == -1:
            raise MemoryError()
        if st:
            return None
        off = np.empty(ix.n, np.int64)
        ln = np.empty(ix.n, np.int64)
        fl = np.empty(ix.n, np.uint64)
        if ix.n:
            memcpy(<void*><size_t>off.ctypes.data, ix.off, ix.n * 8)
            memcpy(<void*><size_t>ln.ctypes.data, ix.ln, ix.n * 8)
            memcpy(<void*><size_t>fl.ctypes.data, ix.flow, ix.n * 8)
        return off, ln, fl
    finally:
        free(ix.off)
        free(ix.ln)
        free(ix.flow)


# ---------------------------------------------------------------- SBE walk

DEF MAX_GROUPS = 8

cdef struct GroupSpec:
    uint16_t since
    uint16_t dim_size
    uint16_t block_off
    uint8_t block_w      # bytes of blockLength (1, 2 or 4)
    uint16_t num_off
    uint8_t num_w
    int64_t width        # record bytes after the 8-byte prefix
    bint nested
    int32_t out          # output slot

cdef struct TemplateSpec:
    int64_t width        # root record bytes after the prefix
    int32_t out          # output slot of the root
    int32_t ngroups
    GroupSpec g[MAX_GROUPS]

# status of the walk
DEF W_OK = 0
DEF W_BAD = 1            # malformed: the Python path words the error
DEF W_GAP = 2            # a sequence gap with on_gap="raise"

cdef struct Walk:
    # inputs
    const uint8_t* buf
    const int64_t* pkt_off
    const int64_t* pkt_len
    const int64_t* pkt_base   # added to offsets inside the packet for the ``offset`` column
    const int32_t* pkt_flow   # dense flow index
    int64_t npkt
    int32_t* feed_of_flow     # flow index -> feed id (first decoded packet order), -1 unseen
    const int32_t* slot_of_tid   # template id -> template slot, -1 unknown
    const TemplateSpec* tpl
    int32_t hsz
    bint arbitrate
    bint gap_raises
    bint strict
    # outputs (fill pass)
    uint8_t* msg_out
    uint8_t** out             # per output slot: write cursor
    # counters
    int64_t nmsg
    int64_t* counts           # per output slot
    int64_t npk
    int64_t duplicates
    int64_t ngaps
    int64_t* gaps             # pairs, capacity 2 * npkt
    int32_t nfeeds


cdef inline void _put(uint8_t* r, uint32_t k, uint32_t e, int64_t blen, const uint8_t* src,
                      int64_t width) noexcept nogil:
    mdp_st32(r, k)
    mdp_st32(r + 4, (e & 0xFFFF) | ((<uint32_t>(blen if blen < 65535 else 65535)) << 16))
    if blen >= width:
        memcpy(r + 8, src, width)
    else:
        memcpy(r + 8, src, blen)
        memset(r + 8 + blen, 0, width - blen)


cdef int _walk(Walk* w, bint fill) noexcept nogil:
    cdef int64_t i, pos, n, size, end, body, p, gbl, num, e
    cdef const uint8_t* pk
    cdef uint32_t seq = 0, last_seq = 0
    cdef bint have_last = False
    cdef ts_t sending          # the packet's sending time: ns since the UNIX epoch
    cdef uint16_t blen, tid, sid, ver
    cdef int32_t slot, feed, gi, fi
    cdef const TemplateSpec* t
    cdef const GroupSpec* g
    cdef uint8_t* r
    cdef int64_t hsz = w.hsz
    w.nmsg = 0
    w.npk = 0
    w.duplicates = 0
    w.ngaps = 0
    w.nfeeds = 0
    for i in range(w.npkt):
        pk = w.buf + w.pkt_off[i]
        n = w.pkt_len[i]
        if n < 12:
            return W_BAD
        seq = mdp_le32(pk)
        sending = mdp_le64(pk + 4)
        if w.arbitrate:
            if have_last and seq <= last_seq:
                w.duplicates += 1
                continue
            if have_last and seq != last_seq + 1:
                if w.gap_raises:
                    return W_GAP
                w.gaps[2 * w.ngaps] = last_seq + 1
                w.gaps[2 * w.ngaps + 1] = seq
                w.ngaps += 1
            last_seq = seq
            have_last = True
        fi = w.pkt_flow[i]
        feed = w.feed_of_flow[fi]
        if feed < 0:
            feed = w.feed_of_flow[fi] = w.nfeeds
            w.nfeeds += 1
        pos = 12
        while pos < n:
            if pos + 2 + hsz > n:
                return W_BAD
            size = mdp_le16(pk + pos)
            blen = mdp_le16(pk + pos + 2)
            tid = mdp_le16(pk + pos + 4)
            sid = mdp_le16(pk + pos + 6)
            ver = mdp_le16(pk + pos + 8)
            end = pos + size
            if size < 2 + hsz or end > n:
                return W_BAD
            slot = w.slot_of_tid[tid]
            if slot < 0:
                if w.strict:
                    return W_BAD
                pos = end
                continue
            t = &w.tpl[slot]
            body = pos + 2 + hsz
            p = body + blen
            if p > end:
                return W_BAD
            if fill:
                _put(w.out[t.out], <uint32_t>w.nmsg, 0, blen, pk + body, t.width)
                w.out[t.out] += 8 + t.width
            else:
                w.counts[t.out] += 1
            for gi in range(t.ngroups):
                g = &t.g[gi]
                if g.since > ver:
                    continue
                if p + g.dim_size > end:
                    return W_BAD
                gbl = pk[p + g.block_off] if g.block_w == 1 else (
                    mdp_le16(pk + p + g.block_off) if g.block_w == 2 else mdp_le32(pk + p + g.block_off))
                num = pk[p + g.num_off] if g.num_w == 1 else (
                    mdp_le16(pk + p + g.num_off) if g.num_w == 2 else mdp_le32(pk + p + g.num_off))
                p += g.dim_size
                if p + gbl * num > end:
                    return W_BAD
                if g.nested:
                    return W_BAD
                if fill:
                    r = w.out[g.out]
                    for e in range(num):
                        _put(r, <uint32_t>w.nmsg, <uint32_t>e, gbl, pk + p, g.width)
                        r += 8 + g.width
                        p += gbl
                    w.out[g.out] = r
                else:
                    w.counts[g.out] += num
                    p += gbl * num
            if fill:
                r = w.msg_out + w.nmsg * 40
                mdp_st32(r, <uint32_t>w.npk)
                mdp_st16(r + 4, <uint16_t>feed)
                mdp_st16(r + 6, tid)
                mdp_st32(r + 8, seq)
                mdp_st16(r + 12, sid)
                mdp_st16(r + 14, ver)
                mdp_st64(r + 16, sending)
                mdp_st16(r + 24, blen)
                mdp_st16(r + 26, <uint16_t>size)
                mdp_st32(r + 28, 0)
                mdp_st64(r + 32, <uint64_t>(w.pkt_base[i] + pos))
            w.nmsg += 1
            pos = end
        w.npk += 1
    return W_OK


# MDP3_MESSAGE_DTYPE offsets the walk writes (checked by mdp3.py at import)
MESSAGE_LAYOUT = {"packet": 0, "feed": 4, "template_id": 6, "msg_seq_num": 8, "schema_id": 12,
                  "version": 14, "sending_time": 16, "block_length": 24, "msg_size": 26,
                  "offset": 32}
MESSAGE_ITEMSIZE = 40

_DIM_W = {"<B": 1, "<H": 2, "<I": 4}


class Tables:
    """The schema compiled for the walk: template slots and output slots."""

    def __init__(self, schema):
        self.keys = []        # output slot -> (template id,) or (template id, group name)
        self.blocks = []      # output slot -> SbeBlock
        self.ok = True        # False: a layout the walk does not handle (Python path)
        tids = sorted(schema.messages)
        self.slot_of_tid = np.full(65536, -1, np.int32)
        self.tpl = np.zeros(len(tids) * sizeof(TemplateSpec), np.uint8)
        cdef TemplateSpec* ts = <TemplateSpec*><size_t>self.tpl.ctypes.data if len(tids) else NULL
        cdef int si, gi
        for si, tid in enumerate(tids):
            if not 0 <= tid < 65536:
                self.ok = False
                continue
            msg = schema.messages[tid]
            self.slot_of_tid[tid] = si
            ts[si].width = msg.dtype.itemsize - 8
            ts[si].out = len(self.keys)
            self.keys.append((tid,))
            self.blocks.append(msg)
            if len(msg.groups) > MAX_GROUPS:
                self.ok = False
                continue
            ts[si].ngroups = len(msg.groups)
            for gi, g in enumerate(msg.groups):
                if g.dim_block_fmt not in _DIM_W or g.dim_num_fmt not in _DIM_W:
                    self.ok = False
                ts[si].g[gi].since = g.since
                ts[si].g[gi].dim_size = g.dim_size
                ts[si].g[gi].block_off = g.dim_block_off
                ts[si].g[gi].block_w = _DIM_W.get(g.dim_block_fmt, 2)
                ts[si].g[gi].num_off = g.dim_num_off
                ts[si].g[gi].num_w = _DIM_W.get(g.dim_num_fmt, 1)
                ts[si].g[gi].width = g.dtype.itemsize - 8
                ts[si].g[gi].nested = bool(g.groups)
                ts[si].g[gi].out = len(self.keys)
                self.keys.append((tid, g.name))
                self.blocks.append(g)


def walk(tables, buf, const int64_t[::1] pkt_off, const int64_t[::1] pkt_len,
         const int64_t[::1] pkt_base, const int32_t[::1] pkt_flow, int nflows, int hsz, *,
         bint arbitrate, bint gap_raises, bint strict):
    """Decode the packets ``buf[pkt_off[i]:pkt_off[i]+pkt_len[i]]`` (packet
    ``i`` from flow ``pkt_flow[i]`` of ``nflows``, SBE message header of
    ``hsz`` bytes); the options (``arbitrate`` A/B feeds, ``gap_raises``,
    ``strict``) are keyword-only.

    Returns ``None`` when the input is malformed or a gap must raise (the
    caller's Python path then raises the precise error), else ``(messages
    bytes array, {output slot: records}, npk, duplicates, gaps, feed_of_flow)``.
    """
    cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
    cdef Walk w
    cdef int st
    cdef int64_t npkt = pkt_off.shape[0], i
    cdef int nslots = len(tables.keys)
    cdef int32_t[::1] fof
    cdef const int32_t[::1] sot = tables.slot_of_tid
    cdef int64_t[::1] cnt
    cdef int64_t[::1] gaps
    cdef uint8_t[::1] mraw
    cdef uint8_t[::1] oraw
    if pkt_len.shape[0] != npkt or pkt_base.shape[0] != npkt or pkt_flow.shape[0] != npkt:
        raise ValueError("packet arrays must have the same length")
    for i in range(npkt):
        if pkt_off[i] < 0 or pkt_len[i] < 0 or pkt_off[i] + pkt_len[i] > mv.shape[0] \
                or not 0 <= pkt_flow[i] < nflows:
            raise ValueError("packet %d lies outside the buffer or names no flow" % i)
    memset(&w, 0, sizeof(w))
    fof_a = np.full(max(nflows, 1), -1, np.int32)
    fof = fof_a
    cnt_a = np.zeros(max(nslots, 1), np.int64)
    cnt = cnt_a
    gaps_a = np.zeros(max(2 * npkt, 2), np.int64)
    gaps = gaps_a
    w.buf = &mv[0] if mv.shape[0] else NULL
    w.pkt_off = &pkt_off[0] if npkt else NULL
    w.pkt_len = &pkt_len[0] if npkt else NULL
    w.pkt_base = &pkt_base[0] if npkt else NULL
    w.pkt_flow = &pkt_flow[0] if npkt else NULL
    w.npkt = npkt
    w.feed_of_flow = &fof[0]
    w.slot_of_tid = &sot[0]
    w.tpl = <const TemplateSpec*><size_t>tables.tpl.ctypes.data
    w.hsz = hsz
    w.arbitrate = arbitrate
    w.gap_raises = gap_raises
    w.strict = strict
    w.counts = &cnt[0]
    w.gaps = &gaps[0]
    with nogil:
        st = _walk(&w, False)
    if st != W_OK:
        return None
    msgs = np.zeros(w.nmsg * MESSAGE_ITEMSIZE, np.uint8)
    outs = {}
    cdef uint8_t** cur = <uint8_t**>malloc(max(nslots, 1) * sizeof(uint8_t*))
    if cur == NULL:
        raise MemoryError()
    try:
        for i in range(nslots):
            cur[i] = NULL
            if cnt[i]:
                a = np.empty(cnt[i], tables.blocks[i].dtype)
                outs[i] = a
                oraw = a.view(np.uint8).reshape(-1)
                cur[i] = &oraw[0]
        mraw = msgs
        w.msg_out = &mraw[0] if w.nmsg else NULL
        w.out = cur
        fof_a[:] = -1
        with nogil:
            st = _walk(&w, True)
    finally:
        free(cur)
    if st != W_OK:
        return None
    return (msgs, outs, w.npk, w.duplicates,
            [(int(gaps_a[2 * i]), int(gaps_a[2 * i + 1])) for i in range(w.ngaps)], fof_a)
