# cython: language_level=3
"""ITCH 5.0 kernels: framing scan, decode to structured arrays, reference events.

The layout table lives in ``_itch_spec.py``; this module compiles it into a C
table (source offset, width, kind, destination offset per field) so the numpy
dtypes and the decoder cannot disagree.  Both kernels run without the GIL on a
contiguous byte buffer and never read past its end.
"""
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

import numpy as np

from ._itch_spec import HEADER, MESSAGES

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    static inline uint16_t nb_be16(const uint8_t* p) { return (uint16_t)(((uint16_t)p[0] << 8) | p[1]); }
    static inline uint32_t nb_be32(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
    static inline uint64_t nb_be64(const uint8_t* p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }
    static inline uint64_t nb_be48(const uint8_t* p) { return ((uint64_t)nb_be16(p) << 32) | nb_be32(p + 2); }
    static inline void nb_st16(uint8_t* d, uint16_t v) { memcpy(d, &v, 2); }
    static inline void nb_st32(uint8_t* d, uint32_t v) { memcpy(d, &v, 4); }
    static inline void nb_st64(uint8_t* d, uint64_t v) { memcpy(d, &v, 8); }

    /* Dedicated writers for the frequent order-flow types.  Record offsets are
       those of the aligned numpy dtypes built from _itch_spec.py; the module
       checks them at import (_check_fast_layouts).  Stores are whole words, so
       the dtype's padding bytes are written as zeros. */
    static inline void nb_hdr(uint8_t* r, const uint8_t* m, uint64_t idx) {
        uint32_t lt = nb_be32(m + 1);                  /* locate:tracking */
        nb_st64(r, idx);
        nb_st64(r + 8, (uint64_t)((lt >> 16) | (lt << 16)));
        nb_st64(r + 16, nb_be64(m + 3) & 0xFFFFFFFFFFFFULL);
        nb_st64(r + 24, nb_be64(m + 11));              /* order reference */
    }
    static inline void nb_rec_A(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_hdr(r, m, idx);
        nb_st32(r + 32, m[19]);
        nb_st32(r + 36, nb_be32(m + 20));
        memcpy(r + 40, m + 24, 8);
        nb_st64(r + 48, nb_be32(m + 32));
    }
    static inline void nb_rec_F(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_hdr(r, m, idx);
        nb_st32(r + 32, m[19]);
        nb_st32(r + 36, nb_be32(m + 20));
        memcpy(r + 40, m + 24, 8);
        nb_st32(r + 48, nb_be32(m + 32));
        memcpy(r + 52, m + 36, 4);
    }
    static inline void nb_rec_D(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_hdr(r, m, idx);
    }
    static inline void nb_rec_X(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_hdr(r, m, idx);
        nb_st64(r + 32, nb_be32(m + 19));
    }
    static inline void nb_rec_E(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_hdr(r, m, idx);
        nb_st64(r + 32, nb_be32(m + 19));
        nb_st64(r + 40, nb_be64(m + 23));
    }
    static inline void nb_rec_C(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_rec_E(r, m, idx);
        nb_st32(r + 48, m[31]);
        nb_st32(r + 52, nb_be32(m + 32));
    }
    static inline void nb_rec_U(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_hdr(r, m, idx);
        nb_st64(r + 32, nb_be64(m + 19));
        nb_st32(r + 40, nb_be32(m + 27));
        nb_st32(r + 44, nb_be32(m + 31));
    }
    static inline void nb_rec_P(uint8_t* r, const uint8_t* m, uint64_t idx) {
        nb_rec_A(r, m, idx);
        nb_st64(r + 56, nb_be64(m + 36));
    }
    """
    uint16_t nb_be16(const uint8_t* p) noexcept nogil
    uint32_t nb_be32(const uint8_t* p) noexcept nogil
    uint64_t nb_be64(const uint8_t* p) noexcept nogil
    uint64_t nb_be48(const uint8_t* p) noexcept nogil
    void nb_st16(uint8_t* d, uint16_t v) noexcept nogil
    void nb_st32(uint8_t* d, uint32_t v) noexcept nogil
    void nb_st64(uint8_t* d, uint64_t v) noexcept nogil
    void nb_rec_A(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_F(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_D(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_X(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_E(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_C(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_U(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil
    void nb_rec_P(uint8_t* r, const uint8_t* m, uint64_t idx) noexcept nogil

# ---------------------------------------------------------------- layout table

cdef struct FieldSpec:
    uint16_t src      # offset in the message (type byte at 0)
    uint16_t dst      # offset in the output record
    uint8_t n         # bytes on the wire
    uint8_t kind      # 0: big-endian unsigned int, 1: raw bytes

cdef struct TypeSpec:
    uint16_t wire_len  # message length, type byte included (0 = unknown type)
    uint16_t rec_size  # numpy itemsize of the output record
    uint16_t nfields
    FieldSpec f[24]

cdef TypeSpec _SPECS[256]
cdef uint16_t _WL[256]   # wire length per type byte (0 = unknown), compact for the scan

# Record layouts the dedicated writers (nb_rec_*) assume: type -> (itemsize, offsets).
_FAST_LAYOUTS = {
    "A": (56, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, buy_sell_indicator=32, shares=36, stock=40,
                   price=48)),
    "F": (56, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, buy_sell_indicator=32, shares=36, stock=40,
                   price=48, attribution=52)),
    "D": (32, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24)),
    "X": (40, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, cancelled_shares=32)),
    "E": (48, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, executed_shares=32, match_number=40)),
    "C": (56, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, executed_shares=32, match_number=40,
                   printable=48, execution_price=52)),
    "U": (48, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, new_order_reference_number=32, shares=40,
                   price=44)),
    "P": (64, dict(index=0, stock_locate=8, tracking_number=10, timestamp=16,
                   order_reference_number=24, buy_sell_indicator=32, shares=36, stock=40,
                   price=48, match_number=56)),
}

DTYPES = {}       # message type (str) -> numpy dtype
NAMES = {}        # message type (str) -> descriptive name
WIRE_LENGTHS = {}


def _build_tables():
    memset(_SPECS, 0, sizeof(_SPECS))
    memset(_WL, 0, sizeof(_WL))
    cdef int t, i
    for mt, (name, fields) in MESSAGES.items():
        allf = HEADER + fields
        desc = [("index", "u8")]
        for fname, n, kind in allf:
            if kind == "s":
                desc.append((fname, "S%d" % n))
            else:
                desc.append((fname, {2: "u2", 4: "u4", 6: "u8", 8: "u8"}[n]))
        dt = np.dtype(desc, align=True)
        DTYPES[mt] = dt
        NAMES[mt] = name
        t = ord(mt)
        src = 1
        i = 0
        for fname, n, kind in allf:
            _SPECS[t].f[i].src = src
            _SPECS[t].f[i].dst = dt.fields[fname][1]
            _SPECS[t].f[i].n = n
            _SPECS[t].f[i].kind = 1 if kind == "s" else 0
            src += n
            i += 1
        _SPECS[t].nfields = i
        _SPECS[t].wire_len = src
        _SPECS[t].rec_size = dt.itemsize
        _WL[t] = src
        WIRE_LENGTHS[mt] = src


_build_tables()


def _check_fast_layouts():
    """Fail the import if the spec table and the dedicated writers disagree."""
    for t, (size, offs) in _FAST_LAYOUTS.items():
        dt = DTYPES[t]
        got = {k: dt.fields[k][1] for k in dt.names}
        if dt.itemsize != size or got != offs:
            raise ImportError("nanobook.feeds._itch: record layout of ITCH %r changed "
                              "(%d, %r); update nb_rec_%s" % (t, dt.itemsize, got, t))


_check_fast_layouts()

# ---------------------------------------------------------------- scan

# status codes of the scan kernel
DEF ST_OK = 0
DEF ST_ZERO_LEN = 1
DEF ST_UNKNOWN = 2
DEF ST_BAD_LEN = 3
DEF ST_TRUNCATED = 4
DEF ST_STRAY = 5

cdef struct ScanState:
    int64_t pos        # next unread byte
    int64_t nmsg       # framed messages consumed (decoded + skipped)
    int64_t skipped
    int64_t err_off
    int64_t err_len
    int64_t err_need
    int err_type
    int status


cdef void _scan(const uint8_t* buf, int64_t n, bint strict, bint final,
                int64_t* counts, ScanState* st) noexcept nogil:
    """Walk the framing from st.pos, validating and counting per type.

    Stops at the first error (status set, err_* filled) or at the first
    incomplete message (pos left on it; status set only when ``final``).
    """
    cdef int64_t pos = st.pos
    cdef int64_t L
    cdef uint8_t t
    cdef uint16_t wl
    cdef int64_t nmsg = 0
    while True:
        # common case: a known type at its specification length, wholly inside
        if pos + 2 <= n:
            L = nb_be16(buf + pos)
            if L != 0 and pos + 2 + L <= n:
                t = buf[pos + 2]
                if L == _WL[t]:
                    counts[t] += 1
                    nmsg += 1
                    pos += 2 + L
                    continue
        if pos + 2 > n:
            if pos < n and final:
                if strict:
                    st.status = ST_STRAY
                    st.err_off = pos
                    st.err_len = n - pos
                # lenient: a stray trailing byte is ignored
            break
        L = nb_be16(buf + pos)
        if L == 0:
            if strict:
                st.status = ST_ZERO_LEN
                st.err_off = pos
                st.err_type = buf[pos + 2] if pos + 2 < n else -1
                break
            if pos + 3 > n:
                if final and strict:
                    st.status = ST_TRUNCATED
                    st.err_off = pos
                    st.err_len = 0
                    st.err_need = 1
                break
            L = _SPECS[buf[pos + 2]].wire_len
            if L == 0:
                st.status = ST_UNKNOWN
                st.err_off = pos
                st.err_type = buf[pos + 2]
                st.err_len = 0
                break
        if pos + 2 + L > n:
            if final and not strict:
                st.skipped += 1   # lenient: the partial last message is dropped
            elif final:
                st.status = ST_TRUNCATED
                st.err_off = pos
                st.err_len = n - pos - 2
                st.err_need = L
                st.err_type = buf[pos + 2] if pos + 2 < n else -1
            break
        t = buf[pos + 2]
        wl = _SPECS[t].wire_len
        if wl == 0:
            if strict:
                st.status = ST_UNKNOWN
                st.err_off = pos
                st.err_type = t
                st.err_len = L
                break
            st.skipped += 1
        elif L != wl:
            if strict or L < wl:
                if strict:
                    st.status = ST_BAD_LEN
                    st.err_off = pos
                    st.err_type = t
                    st.err_len = L
                    st.err_need = wl
                    break
                st.skipped += 1
            else:
                counts[t] += 1
        else:
            counts[t] += 1
        nmsg += 1
        pos += 2 + L
    st.pos = pos
    st.nmsg += nmsg


cdef void _fill_generic(const uint8_t* m, uint8_t* rec, const TypeSpec* sp,
                        uint64_t idx) noexcept nogil:
    """Table-driven decode of one message (rare types; the reference path in tests)."""
    cdef int i
    cdef const FieldSpec* f
    cdef const uint8_t* s
    cdef uint8_t* d
    memset(rec, 0, sp.rec_size)
    nb_st64(rec, idx)
    for i in range(sp.nfields):
        f = &sp.f[i]
        s = m + f.src
        d = rec + f.dst
        if f.kind == 0:
            if f.n == 4:
                nb_st32(d, nb_be32(s))
            elif f.n == 8:
                nb_st64(d, nb_be64(s))
            elif f.n == 2:
                nb_st16(d, nb_be16(s))
            else:
                nb_st64(d, nb_be48(s))
        elif f.n == 1:
            d[0] = s[0]
        else:
            memcpy(d, s, f.n)


cdef void _fill(const uint8_t* buf, int64_t start, int64_t end, uint64_t index0,
                uint8_t** out, bint generic) noexcept nogil:
    """Decode the validated range [start, end) into the per-type buffers.

    ``out[t]`` is the write cursor of type ``t``; the frequent order-flow
    types go through dedicated writers with the cursors in registers.
    """
    cdef int64_t pos = start
    cdef int64_t L
    cdef uint64_t idx = index0
    cdef uint8_t t
    cdef uint16_t wl
    cdef const uint8_t* m
    cdef const TypeSpec* sp
    cdef uint8_t* pA = out[65]
    cdef uint8_t* pF = out[70]
    cdef uint8_t* pD = out[68]
    cdef uint8_t* pX = out[88]
    cdef uint8_t* pE = out[69]
    cdef uint8_t* pC = out[67]
    cdef uint8_t* pU = out[85]
    cdef uint8_t* pP = out[80]
    while pos < end:
        L = nb_be16(buf + pos)
        m = buf + pos + 2
        t = m[0]
        wl = _WL[t]
        pos += 2 + (L if L != 0 else wl)
        if wl == 0 or L < wl and L != 0:
            idx += 1          # skipped in lenient mode (counted by the scan)
            continue
        if generic:
            sp = &_SPECS[t]
            _fill_generic(m, out[t], sp, idx)
            out[t] += sp.rec_size
        elif t == 65:
            nb_rec_A(pA, m, idx)
            pA += 56
        elif t == 68:
            nb_rec_D(pD, m, idx)
            pD += 32
        elif t == 80:
            nb_rec_P(pP, m, idx)
            pP += 64
        elif t == 69:
            nb_rec_E(pE, m, idx)
            pE += 48
        elif t == 88:
            nb_rec_X(pX, m, idx)
            pX += 40
        elif t == 85:
            nb_rec_U(pU, m, idx)
            pU += 48
        elif t == 70:
            nb_rec_F(pF, m, idx)
            pF += 56
        elif t == 67:
            nb_rec_C(pC, m, idx)
            pC += 56
        else:
            sp = &_SPECS[t]
            _fill_generic(m, out[t], sp, idx)
            out[t] += sp.rec_size
        idx += 1


def _type_repr(int t):
    if t < 0:
        return "<none>"
    c = chr(t)
    return repr(c) if c.isprintable() and t < 128 else "0x%02x" % t


def decode(buf, bint strict=True, bint final=True, int64_t offset_base=0,
           uint64_t index_base=0, bint generic=False):
    """Decode the ITCH BinaryFILE bytes in ``buf``.

    Returns ``(arrays, consumed, n_messages, skipped)``: ``arrays`` maps each
    message type present to its structured array; ``consumed`` is the number
    of bytes decoded (less than ``len(buf)`` only when ``final`` is false and
    the buffer ends inside a message).  Raises ``FeedFormatError`` with the
    absolute offset ``offset_base + position`` on malformed input.
    ``generic=True`` decodes every type through the layout table (the
    dedicated writers' reference in tests).
    """
    cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
    cdef int64_t n = mv.shape[0]
    cdef const uint8_t* p = &mv[0] if n else NULL
    cdef int64_t counts[256]
    cdef uint8_t* out[256]
    cdef ScanState st
    cdef int t
    memset(counts, 0, sizeof(counts))
    memset(out, 0, sizeof(out))
    memset(&st, 0, sizeof(st))
    st.err_type = -1
    if n:
        with nogil:
            _scan(p, n, strict, final, counts, &st)
    if st.status != ST_OK:
        _raise(st, offset_base)
    arrays = {}
    cdef uint8_t[::1] view
    for t in range(256):
        if counts[t]:
            a = np.empty(counts[t], dtype=DTYPES[chr(t)])
            arrays[chr(t)] = a
            view = a.view(np.uint8).reshape(-1)
            out[t] = &view[0]
    if st.pos:
        with nogil:
            _fill(p, 0, st.pos, index_base, out, generic)
    return arrays, st.pos, st.nmsg, st.skipped


cdef _raise(ScanState st, int64_t base):
    from ._errors import FeedFormatError
    off = base + st.err_off
    tr = _type_repr(st.err_type)
    if st.status == ST_ZERO_LEN:
        msg = ("ITCH message length is 0 (type byte %s); this file writes zero into its "
               "length slots: pass lenient=True (strict=False) to take each length from the "
               "message type" % tr)
    elif st.status == ST_UNKNOWN:
        msg = "unknown ITCH 5.0 message type %s (length %d)" % (tr, st.err_len)
    elif st.status == ST_BAD_LEN:
        msg = "ITCH %s message has length %d, the specification says %d" % (
            tr, st.err_len, st.err_need)
    elif st.status == ST_TRUNCATED:
        msg = "truncated ITCH message %s: length says %d bytes, only %d left" % (
            tr, st.err_need, st.err_len)
    else:
        msg = "%d stray byte(s) at end of ITCH stream, too short for a length prefix" % st.err_len
    raise FeedFormatError(msg, off)


# ---------------------------------------------------------------- reference events

from libc.stdlib cimport calloc, free

cdef struct SymTable:
    uint64_t* keys     # raw 8 stock bytes; 0 marks an empty slot
    int32_t* ids
    uint64_t* order    # id -> key (ids are 1-based; id 0 is "")
    int64_t cap        # power of two; order has cap entries too
    int64_t used
    int32_t nsym
    int32_t zero_id    # id of the all-NUL stock field (0: not seen yet)


cdef inline uint64_t _mix(uint64_t k) noexcept nogil:
    k ^= k >> 33
    k *= 0xff51afd7ed558ccdULL
    k ^= k >> 33
    return k


cdef int _sym_grow(SymTable* tb) noexcept nogil:
    cdef int64_t ncap = tb.cap * 2 if tb.cap else 1024
    cdef uint64_t* nk = <uint64_t*>calloc(ncap, sizeof(uint64_t))
    cdef int32_t* ni = <int32_t*>calloc(ncap, sizeof(int32_t))
    cdef uint64_t* no = <uint64_t*>calloc(ncap, sizeof(uint64_t))
    cdef int64_t i, j
    if nk == NULL or ni == NULL or no == NULL:
        free(nk)
        free(ni)
        free(no)
        return -1
    for i in range(tb.cap):
        if tb.keys[i]:
            j = <int64_t>(_mix(tb.keys[i]) & <uint64_t>(ncap - 1))
            while nk[j]:
                j = (j + 1) & (ncap - 1)
            nk[j] = tb.keys[i]
            ni[j] = tb.ids[i]
    if tb.cap:
        memcpy(no, tb.order, tb.cap * sizeof(uint64_t))
    free(tb.keys)
    free(tb.ids)
    free(tb.order)
    tb.keys, tb.ids, tb.order, tb.cap = nk, ni, no, ncap
    return 0


cdef inline int32_t _sym_id(SymTable* tb, uint64_t key) noexcept nogil:
    """Id of the stock ``key`` (1-based, in order of first appearance); -1 out of memory."""
    cdef int64_t j
    if key == 0:   # eight NUL bytes: 0 marks empty slots, so kept aside
        if tb.zero_id == 0:
            if tb.nsym + 2 >= tb.cap and _sym_grow(tb) != 0:
                return -1
            tb.nsym += 1
            tb.order[tb.nsym] = 0
            tb.zero_id = tb.nsym
        return tb.zero_id
    j = <int64_t>(_mix(key) & <uint64_t>(tb.cap - 1))
    while tb.keys[j]:
        if tb.keys[j] == key:
            return tb.ids[j]
        j = (j + 1) & (tb.cap - 1)
    tb.nsym += 1
    tb.order[tb.nsym] = key
    tb.keys[j] = key
    tb.ids[j] = tb.nsym
    tb.used += 1
    if (tb.used * 2 > tb.cap or tb.nsym + 2 >= tb.cap) and _sym_grow(tb) != 0:
        return -1
    return tb.nsym


cdef struct RefScan:
    int64_t pos
    int64_t k          # events written
    int64_t cap        # events the output can hold
    int err            # 1 zero length, 2 truncated, 3 too short, 4 out of memory
    int64_t err_off
    int64_t err_n
    int64_t err_need
    uint8_t err_t


cdef struct EventOut:
    # where _ref_scan writes: EVENT_DTYPE records and their stock ids
    uint8_t* out       # st.cap records of ``itemsize`` bytes
    int32_t* sid       # st.cap stock ids
    int64_t itemsize
    int64_t o_kind, o_side, o_oid, o_price, o_qty     # field offsets in a record
    uint8_t k_add, k_cancel, k_mod                    # EVENT_DTYPE kind codes


cdef void _ref_scan(const uint8_t* p, int64_t n, const int16_t* minlen, const EventOut* ev,
                    SymTable* tb, RefScan* st) noexcept nogil:
    """Validate as the reference does and write the events, in one pass, from
    st.pos until the end, an error, or a full output (st.k == st.cap)."""
    cdef int64_t pos = st.pos, L, k = st.k
    # the layout in locals: the loop's stores through ``out`` cannot alias them
    cdef uint8_t* out = ev.out
    cdef int32_t* sid = ev.sid
    cdef int64_t rs = ev.itemsize, o_kind = ev.o_kind, o_side = ev.o_side, o_oid = ev.o_oid
    cdef int64_t o_price = ev.o_price, o_qty = ev.o_qty
    cdef uint8_t k_add = ev.k_add, k_cancel = ev.k_cancel, k_mod = ev.k_mod
    cdef uint8_t t
    cdef uint32_t q
    cdef uint64_t key
    cdef int32_t sv
    cdef const uint8_t* m
    cdef uint8_t* r
    while pos + 2 <= n and k < st.cap:
        L = nb_be16(p + pos)
        if L == 0:
            st.err = 1; st.err_off = pos; break
        if pos + 2 + L > n:
            st.err = 2; st.err_off = pos; break
        m = p + pos + 2
        t = m[0]
        if L - 1 < minlen[t]:
            st.err = 3; st.err_off = pos; st.err_n = L - 1; st.err_need = minlen[t]; st.err_t = t
            break
        if t == 65 or t == 70:
            q = nb_be32(m + 20)
            if q:
                r = out + k * rs
                memset(r, 0, rs)
                r[o_kind] = k_add
                r[o_side] = 0 if m[19] == 66 else 1
                nb_st64(r + o_qty, q)
                nb_st64(r + o_price, nb_be32(m + 32) // 100)
                memcpy(&key, m + 24, 8)
                sv = _sym_id(tb, key)
                if sv < 0:
                    st.err = 4; break
                sid[k] = sv
                k += 1
        elif t == 88 or t == 68:
            r = out + k * rs
            memset(r, 0, rs)
            r[o_kind] = k_cancel
            nb_st64(r + o_oid, nb_be64(m + 11))
            sid[k] = 0
            k += 1
        elif t == 85:
            q = nb_be32(m + 27)
            if q:
                r = out + k * rs
                memset(r, 0, rs)
                r[o_kind] = k_mod
                nb_st64(r + o_oid, nb_be64(m + 11))
                nb_st64(r + o_qty, q)
                nb_st64(r + o_price, nb_be32(m + 31) // 100)
                sid[k] = 0
                k += 1
        pos += 2 + L
    st.pos = pos
    st.k = k


def reference_event_array(buf):
    """Reference ``parse_itch`` semantics over a whole file's bytes, as arrays.

    Returns ``(events, sym_id, names)``: ``events`` an ``EVENT_DTYPE`` array
    (A/F -> submit_limit GTC at price // 100 with side buy iff the indicator
    is ``B``; X/D -> cancel of the order reference; U -> modify of the old
    reference to price // 100 and the new shares; adds and replaces of 0
    shares left out), ``sym_id`` (int32) the stock of each event as an index
    into ``names`` (0 = ``b""`` for cancels and modifies), ``names`` the raw
    8-byte stock fields in order of first appearance.  Errors are raised as
    the reference words them, with the byte offset added.

    One pass in C without the GIL validates and writes; the output starts at
    an estimate from the byte count and grows (rarely) by ``resize``, which
    on Linux remaps rather than copies; no Python object per message.
    """
    from ..dtypes import CANCEL, EVENT_DTYPE, MODIFY, SUBMIT_LIMIT

    cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
    cdef int64_t n = mv.shape[0]
    cdef const uint8_t* p = &mv[0] if n else NULL
    # The reference's checks: zero length, truncation, the minimum body of
    # the types it reads (A F E C X D U P R); anything else is skipped.
    cdef int16_t minlen[256]
    memset(minlen, 0xFF, sizeof(minlen))          # -1: no check
    minlen[65] = 35; minlen[70] = 35; minlen[69] = 30; minlen[67] = 35; minlen[88] = 22
    minlen[68] = 18; minlen[85] = 34; minlen[80] = 43; minlen[82] = 10

    dt = np.dtype(EVENT_DTYPE)
    for fname, code in (("kind", "u1"), ("side", "u1"), ("order_id", "u8"), ("price", "i8"),
                        ("quantity", "u8")):
        if dt.fields[fname][0] != np.dtype(code):
            raise RuntimeError("EVENT_DTYPE.%s is no longer %s: update _itch" % (fname, code))
    cdef EventOut ev
    ev.itemsize = dt.itemsize
    ev.o_kind, ev.o_side = dt.fields["kind"][1], dt.fields["side"][1]
    ev.o_oid, ev.o_price = dt.fields["order_id"][1], dt.fields["price"][1]
    ev.o_qty = dt.fields["quantity"][1]
    ev.k_add, ev.k_cancel, ev.k_mod = SUBMIT_LIMIT, CANCEL, MODIFY
    cdef RefScan st
    cdef SymTable tb
    cdef int64_t cap
    cdef uint64_t key
    memset(&st, 0, sizeof(st))
    memset(&tb, 0, sizeof(tb))
    # a real day is ~60% order events of ~36 framed bytes on average
    cap = n // 48 + 64
    events = np.empty(cap, dt)
    sym_a = np.empty(cap, np.int32)
    if _sym_grow(&tb) != 0:
        raise MemoryError()
    try:
        while True:
            st.cap = cap
            ev.out = <uint8_t*><size_t>events.ctypes.data
            ev.sid = <int32_t*><size_t>sym_a.ctypes.data
            with nogil:
                _ref_scan(p, n, minlen, &ev, &tb, &st)
            if st.err or st.k < cap:
                break
            cap += cap // 2 + 64
            events.resize(cap, refcheck=False)
            sym_a.resize(cap, refcheck=False)
        if st.err == 4:
            raise MemoryError()
        if st.err:
            from ._errors import FeedFormatError
            if st.err == 1:
                raise FeedFormatError("ITCH message length is 0", st.err_off)
            if st.err == 2:
                raise FeedFormatError("failed to fill whole buffer", st.err_off)
            raise FeedFormatError("ITCH '%s' message too short: %d bytes, need %d" % (
                chr(st.err_t), st.err_n, st.err_need), st.err_off)
        events.resize(st.k, refcheck=False)
        sym_a.resize(st.k, refcheck=False)
        names = [b""]
        for i in range(1, tb.nsym + 1):
            key = tb.order[i]
            names.append((<char*>&key)[:8])
    finally:
        free(tb.keys)
        free(tb.ids)
        free(tb.order)
    return events, sym_a, names


from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF, PyObject

cdef extern from "Python.h":
    int PyObject_IS_GC(object o)
    void PyObject_GC_UnTrack(object o)


def pair(list labels, const int32_t[::1] label_id, list items):
    """``[(labels[label_id[i]], items[i]) for i in range(len(items))]`` in one C loop.

    ``label_id`` must hold valid indices into ``labels`` (checked up front).
    A tuple whose two members are not garbage-collected objects (``str`` and
    a cdef ``Event`` holding only C fields) cannot be part of a cycle, so it
    is untracked at once -- what CPython would do at its first collection
    after walking the whole list.
    """
    cdef Py_ssize_t i, n = len(items), nl = len(labels)
    cdef int32_t j
    if label_id.shape[0] != n:
        raise ValueError("label_id must have one entry per item, got %d for %d"
                         % (label_id.shape[0], n))
    for i in range(n):
        j = label_id[i]
        if j < 0 or j >= nl:
            raise ValueError("label_id[%d] must index labels (0..%d), got %d" % (i, nl - 1, j))
    out = PyList_New(n)
    cdef object t, lab, it
    for i in range(n):
        lab = labels[label_id[i]]
        it = items[i]
        t = PyTuple_New(2)
        Py_INCREF(lab)
        PyTuple_SET_ITEM(t, 0, lab)
        Py_INCREF(it)
        PyTuple_SET_ITEM(t, 1, it)
        if not PyObject_IS_GC(lab) and not PyObject_IS_GC(it):
            PyObject_GC_UnTrack(t)
        Py_INCREF(t)
        PyList_SET_ITEM(out, i, t)
    return out


# ---------------------------------------------------------------- MoldUDP64

cdef int _mold_walk(const uint8_t* buf, const int64_t* off, const int64_t* ln, int64_t npkt,
                    bint fill, int64_t* nmsg, int64_t* nbytes, uint8_t* stream,
                    int64_t* msg_pkt, uint64_t* seq_out) noexcept nogil:
    """Validate (and with ``fill`` copy out) the MoldUDP64 packets; 1 if malformed."""
    cdef int64_t i, p, n, j, L, start, k = 0, w = 0
    cdef const uint8_t* pl
    cdef uint64_t seq
    cdef uint32_t count
    for i in range(npkt):
        pl = buf + off[i]
        n = ln[i]
        if n < 20:
            return 1
        count = nb_be16(pl + 18)
        if count == 0 or count == 0xFFFF:
            continue
        seq = nb_be64(pl + 10)
        p = 20
        for j in range(count):
            if p + 2 > n:
                return 1
            L = nb_be16(pl + p)
            if p + 2 + L > n:
                return 1
            p += 2 + L
            if fill:
                msg_pkt[k] = i
                seq_out[k] = seq + <uint64_t>j
            k += 1
        if fill:
            memcpy(stream + w, pl + 20, p - 20)
        w += p - 20
    nmsg[0] = k
    nbytes[0] = w
    return 0


def mold_split(buf, const int64_t[::1] off, const int64_t[::1] ln):
    """The MoldUDP64 packets at ``buf[off[i]:off[i]+ln[i]]`` cut into a BinaryFILE stream.

    Returns ``(stream, msg_packet, sequence)`` (uint8, int64 and uint64 arrays;
    ``msg_packet`` indexes the packets), or ``None`` if a packet is malformed
    (the caller's Python path words the error).  Two passes in C, no GIL.
    """
    cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
    cdef int64_t npkt = off.shape[0], i, nmsg = 0, nbytes = 0
    cdef int st
    if ln.shape[0] != npkt:
        raise ValueError("off and ln must have the same length")
    for i in range(npkt):
        if off[i] < 0 or ln[i] < 0 or off[i] + ln[i] > mv.shape[0]:
            raise ValueError("packet %d lies outside the buffer" % i)
    cdef const uint8_t* p = &mv[0] if mv.shape[0] else NULL
    cdef const int64_t* po = &off[0] if npkt else NULL
    cdef const int64_t* pn = &ln[0] if npkt else NULL
    with nogil:
        st = _mold_walk(p, po, pn, npkt, False, &nmsg, &nbytes, NULL, NULL, NULL)
    if st:
        return None
    stream = np.empty(nbytes, np.uint8)
    msg_pkt = np.empty(nmsg, np.int64)
    seq = np.empty(nmsg, np.uint64)
    cdef uint8_t* ps = <uint8_t*><size_t>stream.ctypes.data
    cdef int64_t* pm = <int64_t*><size_t>msg_pkt.ctypes.data
    cdef uint64_t* pq = <uint64_t*><size_t>seq.ctypes.data
    with nogil:
        st = _mold_walk(p, po, pn, npkt, True, &nmsg, &nbytes, ps, pm, pq)
    return stream, msg_pkt, seq
