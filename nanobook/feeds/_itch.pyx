# cython: language_level=3
"""ITCH 5.0 kernels: framing scan, decode to structured arrays, reference events.

The layout table lives in ``_itch_spec.py``; this module compiles it into a C
table (source offset, width, kind, destination offset per field) so the numpy
dtypes and the decoder cannot disagree.  Both kernels run without the GIL on a
contiguous byte buffer and never read past its end.
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
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
    """
    uint16_t nb_be16(const uint8_t* p) noexcept nogil
    uint32_t nb_be32(const uint8_t* p) noexcept nogil
    uint64_t nb_be64(const uint8_t* p) noexcept nogil
    uint64_t nb_be48(const uint8_t* p) noexcept nogil
    void nb_st16(uint8_t* d, uint16_t v) noexcept nogil
    void nb_st32(uint8_t* d, uint32_t v) noexcept nogil
    void nb_st64(uint8_t* d, uint64_t v) noexcept nogil

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

DTYPES = {}       # message type (str) -> numpy dtype
NAMES = {}        # message type (str) -> descriptive name
WIRE_LENGTHS = {}


def _build_tables():
    memset(_SPECS, 0, sizeof(_SPECS))
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
        WIRE_LENGTHS[mt] = src


_build_tables()

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
    while True:
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
        st.nmsg += 1
        pos += 2 + L
    st.pos = pos


cdef void _fill(const uint8_t* buf, int64_t start, int64_t end, uint64_t index0,
                uint8_t** out, int64_t* fill) noexcept nogil:
    """Decode the validated range [start, end) into the per-type buffers."""
    cdef int64_t pos = start
    cdef int64_t L
    cdef uint64_t idx = index0
    cdef uint8_t t
    cdef uint16_t wl
    cdef int i
    cdef const uint8_t* m
    cdef const uint8_t* s
    cdef uint8_t* rec
    cdef uint8_t* d
    cdef const FieldSpec* f
    cdef const TypeSpec* sp
    while pos < end:
        L = nb_be16(buf + pos)
        m = buf + pos + 2
        t = m[0]
        sp = &_SPECS[t]
        if L == 0:
            L = sp.wire_len
        wl = sp.wire_len
        if wl != 0 and L >= wl:
            rec = out[t] + fill[t] * sp.rec_size
            fill[t] += 1
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
                elif f.n == 8:
                    memcpy(d, s, 8)
                elif f.n == 1:
                    d[0] = s[0]
                else:
                    memcpy(d, s, f.n)
        idx += 1
        pos += 2 + L


def _type_repr(int t):
    if t < 0:
        return "<none>"
    c = chr(t)
    return repr(c) if c.isprintable() and t < 128 else "0x%02x" % t


def decode(buf, bint strict=True, bint final=True, int64_t offset_base=0,
           uint64_t index_base=0):
    """Decode the ITCH BinaryFILE bytes in ``buf``.

    Returns ``(arrays, consumed, n_messages, skipped)``: ``arrays`` maps each
    message type present to its structured array; ``consumed`` is the number
    of bytes decoded (less than ``len(buf)`` only when ``final`` is false and
    the buffer ends inside a message).  Raises ``FeedFormatError`` with the
    absolute offset ``offset_base + position`` on malformed input.
    """
    cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
    cdef int64_t n = mv.shape[0]
    cdef const uint8_t* p = &mv[0] if n else NULL
    cdef int64_t counts[256]
    cdef int64_t fill[256]
    cdef uint8_t* out[256]
    cdef ScanState st
    cdef int t
    memset(counts, 0, sizeof(counts))
    memset(fill, 0, sizeof(fill))
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
            _fill(p, 0, st.pos, index_base, out, fill)
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

def reference_events(buf):
    """Reference ``parse_itch`` semantics over a whole file's bytes.

    Returns ``(kind, side, a, b, c, sym)`` arrays with one row per emitted
    event: kind 0 submit limit (a = price in cents, b = quantity), 1 cancel
    (a = order reference), 2 modify (a = reference, b = new price in cents,
    c = new quantity); side 0 buy, 1 sell; ``sym`` the raw 8 stock bytes.
    Errors are raised as the reference words them, with the byte offset added.
    """
    cdef const uint8_t[::1] mv = memoryview(buf).cast("B") if len(buf) else b"\0"[:0]
    cdef int64_t n = mv.shape[0]
    cdef const uint8_t* p = &mv[0] if n else NULL
    cdef int64_t pos = 0, L, nev = 0, cap = 1024, err = 0, err_off = 0, err_n = 0, err_need = 0
    cdef uint8_t t = 0
    # First pass: count (and validate) so one allocation suffices.
    cdef int64_t need
    while pos + 2 <= n:
        L = nb_be16(p + pos)
        if L == 0:
            err = 1; err_off = pos; break
        if pos + 2 + L > n:
            err = 2; err_off = pos; break
        t = p[pos + 2]
        need = -1
        if t == 65 or t == 70: need = 35      # A F
        elif t == 69: need = 30               # E
        elif t == 67: need = 35               # C
        elif t == 88: need = 22               # X
        elif t == 68: need = 18               # D
        elif t == 85: need = 34               # U
        elif t == 80: need = 43               # P
        elif t == 82: need = 10               # R
        if need >= 0 and L - 1 < need:
            err = 3; err_off = pos; err_n = L - 1; err_need = need; break
        if t == 65 or t == 70 or t == 88 or t == 68 or t == 85:
            nev += 1
        pos += 2 + L
    if err:
        from ._errors import FeedFormatError
        if err == 1:
            raise FeedFormatError("ITCH message length is 0", err_off)
        if err == 2:
            raise FeedFormatError("failed to fill whole buffer", err_off)
        raise FeedFormatError("ITCH '%s' message too short: %d bytes, need %d" % (
            chr(t), err_n, err_need), err_off)
    kind_a = np.zeros(nev, np.uint8)
    side_a = np.zeros(nev, np.uint8)
    a_a = np.zeros(nev, np.uint64)
    b_a = np.zeros(nev, np.uint64)
    c_a = np.zeros(nev, np.uint64)
    sym_a = np.zeros((nev, 8), np.uint8)
    cdef uint8_t[::1] kind = kind_a
    cdef uint8_t[::1] side = side_a
    cdef uint64_t[::1] va = a_a
    cdef uint64_t[::1] vb = b_a
    cdef uint64_t[::1] vc = c_a
    cdef uint8_t[:, ::1] sym = sym_a
    cdef int64_t k = 0
    cdef const uint8_t* m
    pos = 0
    with nogil:
        while pos + 2 <= n and k < nev:
            L = nb_be16(p + pos)
            m = p + pos + 2
            t = m[0]
            if t == 65 or t == 70:
                side[k] = 0 if m[19] == 66 else 1
                vb[k] = nb_be32(m + 20)
                va[k] = nb_be32(m + 32) // 100
                memcpy(&sym[k, 0], m + 24, 8)
                k += 1
            elif t == 88 or t == 68:
                kind[k] = 1
                va[k] = nb_be64(m + 11)
                k += 1
            elif t == 85:
                kind[k] = 2
                va[k] = nb_be64(m + 11)
                vc[k] = nb_be32(m + 27)
                vb[k] = nb_be32(m + 31) // 100
                k += 1
            pos += 2 + L
    return kind_a, side_a, a_a, b_a, c_a, sym_a.view("S8").reshape(-1)
