# The one guard of nanobook's compiled objects against threads.
#
# An object that releases the GIL (Exchange.apply, Exchange.events_array,
# ItchBookCore.feed) may have its memory reallocated by another thread's call
# meanwhile.  Each such object embeds a ``Claim``; every public method claims
# it on entry, before any validation (which may release the GIL or run
# Python code, i.e. let another thread in), and releases it on every exit
# path (``try/finally``).  Reads share the claim; a command excludes
# everything.  The check and the claim run with the GIL held and nothing in
# between can release it, so two threads can never both pass.  A refused call
# raises RuntimeError naming the object, the call and the call holding it;
# it has done nothing.
#
# Cost: two pointer stores and a comparison per call (no lock, no atomics:
# the GIL serialises every claim and release).

cdef struct Claim:
    const char* writer      # the command holding the object (NULL: none)
    const char* reader      # the last read that started
    int readers             # reads in progress


cdef inline int claim(Claim* c, str owner, const char* call, bint write) except -1:
    """Claim ``c`` for ``owner.call`` (exclusive when ``write``) or raise."""
    if c.writer != NULL or (write and c.readers):
        refuse(c, owner, call)
    if write:
        c.writer = call
    else:
        c.readers += 1
        c.reader = call
    return 0


cdef inline void release(Claim* c, bint write) noexcept:
    if write:
        c.writer = NULL
    else:
        c.readers -= 1


cdef inline int refuse(Claim* c, str owner, const char* call) except -1:
    cdef str me = (<bytes>call).decode("ascii")
    cdef str holder = (<bytes>(c.writer if c.writer != NULL else c.reader)).decode("ascii")
    raise RuntimeError(
        f"{owner}.{me}() cannot run now: this {owner} is in {holder}() on another thread "
        f"(or {me}() was called from inside it); nothing was done. Share one {owner} "
        f"between threads only behind a lock")
