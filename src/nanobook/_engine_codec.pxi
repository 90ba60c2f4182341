# Included by _engine.pyx: the compact varint encoding of the event log.

# -- the event log's byte encoding -------------------------------------------
# One event is a header byte (kind | side << 4 | tif << 5), for trailing
# stops a trail byte, then its fields as LEB128 varints (signed ones
# zigzag-encoded) and doubles as 8 raw bytes.  A submit_limit at a
# six-digit price takes about 6 bytes instead of the 64 of EventRec.

cdef enum:
    EVENT_MAX_BYTES = 64


# put_*: write one unsigned varint / zigzag signed varint / raw double at
# ``p``, return the byte after it; get_*: read one back the same way.
cdef inline uint8_t* put_u(uint8_t* p, uint64_t v) noexcept nogil:
    while v >= 0x80:
        p[0] = <uint8_t>((v & 0x7F) | 0x80)
        v >>= 7
        p += 1
    p[0] = <uint8_t>v
    return p + 1


cdef inline uint8_t* put_s(uint8_t* p, int64_t v) noexcept nogil:
    return put_u(p, (<uint64_t>v << 1) ^ <uint64_t>(v >> 63))


cdef inline uint8_t* put_f(uint8_t* p, double v) noexcept nogil:
    memcpy(p, &v, 8)
    return p + 8


cdef inline const uint8_t* get_u(const uint8_t* p, uint64_t* v) noexcept nogil:
    cdef uint64_t x = 0
    cdef int shift = 0
    while p[0] & 0x80:
        x |= <uint64_t>(p[0] & 0x7F) << shift
        shift += 7
        p += 1
    v[0] = x | (<uint64_t>p[0] << shift)
    return p + 1


cdef inline const uint8_t* get_s(const uint8_t* p, int64_t* v) noexcept nogil:
    cdef uint64_t u
    p = get_u(p, &u)
    v[0] = <int64_t>(u >> 1) ^ -<int64_t>(u & 1)
    return p


cdef inline const uint8_t* get_f(const uint8_t* p, double* v) noexcept nogil:
    memcpy(v, p, 8)
    return p + 8


cdef int log_event(Buf* b, const EventRec* e) except -1 nogil:
    """Append ``e`` to the byte log ``b`` (at most EVENT_MAX_BYTES)."""
    cdef uint8_t* p
    cdef uint8_t k = e.kind
    buf_reserve(b, EVENT_MAX_BYTES)
    p = <uint8_t*>b.data + b.n
    p[0] = k | (e.side << 4) | (e.tif << 5)
    p += 1
    if k == EV_SUBMIT_LIMIT:
        p = put_s(p, e.price)
        p = put_u(p, e.quantity)
    elif k == EV_SUBMIT_MARKET:
        p = put_u(p, e.quantity)
    elif k == EV_CANCEL:
        p = put_u(p, e.order_id)
    elif k == EV_MODIFY:
        p = put_u(p, e.order_id)
        p = put_s(p, e.price)
        p = put_u(p, e.quantity)
    else:
        if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
            p[0] = e.trail
            p += 1
        p = put_s(p, e.price)
        if k == EV_STOP_LIMIT or k == EV_TRAIL_LIMIT:
            p = put_s(p, e.limit_price)
        p = put_u(p, e.quantity)
        if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
            if e.trail == TRAIL_FIXED:
                p = put_s(p, e.trail_fixed)
            else:
                p = put_f(p, e.trail_value)
                if e.trail == TRAIL_SMA:
                    p = put_u(p, e.period)
    b.n = <size_t>(p - <uint8_t*>b.data)
    return 0


cdef void decode_events(const uint8_t* p, size_t n, EventRec* out) noexcept nogil:
    """Decode ``n`` events written by ``log_event`` (our own bytes only)."""
    cdef size_t i
    cdef EventRec* e
    cdef uint8_t k
    for i in range(n):
        e = &out[i]
        memset(e, 0, sizeof(EventRec))
        k = p[0] & 0x0F
        e.kind = k
        e.side = (p[0] >> 4) & 1
        e.tif = (p[0] >> 5) & 3
        p += 1
        if k == EV_SUBMIT_LIMIT:
            p = get_s(p, &e.price)
            p = get_u(p, &e.quantity)
        elif k == EV_SUBMIT_MARKET:
            p = get_u(p, &e.quantity)
        elif k == EV_CANCEL:
            p = get_u(p, &e.order_id)
        elif k == EV_MODIFY:
            p = get_u(p, &e.order_id)
            p = get_s(p, &e.price)
            p = get_u(p, &e.quantity)
        else:
            if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
                e.trail = p[0]
                p += 1
            p = get_s(p, &e.price)
            if k == EV_STOP_LIMIT or k == EV_TRAIL_LIMIT:
                p = get_s(p, &e.limit_price)
            p = get_u(p, &e.quantity)
            if k == EV_TRAIL_MARKET or k == EV_TRAIL_LIMIT:
                if e.trail == TRAIL_FIXED:
                    p = get_s(p, &e.trail_fixed)
                else:
                    p = get_f(p, &e.trail_value)
                    if e.trail == TRAIL_SMA:
                        p = get_u(p, &e.period)
