# One growable array of fixed-size records, for every compiled module.
#
# Contract: growing can only fail by running out of memory, and then it
# raises MemoryError (``except NULL`` / ``except -1``, re-taking the GIL if it
# was released); the buffer is left as it was.  Records live at
# ``data + i * itemsize`` for ``0 <= i < n``; the owner frees ``data`` with
# ``buf_free``.  Capacity doubles from 256 records.
from libc.stdlib cimport free, realloc


ctypedef struct Buf:
    char* data
    size_t n            # records in use
    size_t cap          # records allocated
    size_t itemsize     # bytes per record


cdef inline int buf_init(Buf* b, size_t itemsize) noexcept nogil:
    b.data = NULL
    b.n = 0
    b.cap = 0
    b.itemsize = itemsize
    return 0


cdef inline void buf_free(Buf* b) noexcept nogil:
    free(b.data)
    b.data = NULL
    b.n = 0
    b.cap = 0


cdef inline int buf_reserve(Buf* b, size_t extra) except -1 nogil:
    """Room for ``extra`` more records without reallocation."""
    cdef size_t cap
    cdef char* data
    if b.n + extra <= b.cap:
        return 0
    cap = b.cap * 2 if b.cap else 256
    while cap < b.n + extra:
        cap *= 2
    data = <char*>realloc(b.data, cap * b.itemsize)
    if data == NULL:
        with gil:
            raise MemoryError("nanobook: out of memory growing a buffer")
    b.data = data
    b.cap = cap
    return 0


cdef inline void* buf_push(Buf* b) except NULL nogil:
    """Room for one more record at the end; returns its address."""
    if b.n == b.cap:
        buf_reserve(b, 1)
    b.n += 1
    return b.data + (b.n - 1) * b.itemsize
