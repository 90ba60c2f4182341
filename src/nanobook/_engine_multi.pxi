# Included by _engine.pyx: several instruments (MultiExchange).

# The symbol limit is named once, ``nanobook.dtypes.SYMBOL_MAX_BYTES``; this
# compiled copy of it (read at import) keeps the check free of a Python
# attribute lookup.  The Python layers check symbols with the same constant.
cdef Py_ssize_t _SYMBOL_MAX_BYTES = _dt.SYMBOL_MAX_BYTES


cpdef str check_symbol(object symbol):
    """``symbol`` if it is a str of at most ``SYMBOL_MAX_BYTES`` (8) UTF-8 bytes, else raise."""
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, got {_describe(symbol)}")
    if len(symbol.encode("utf-8")) > _SYMBOL_MAX_BYTES:
        raise ValueError(f"Symbol '{symbol}' exceeds {_SYMBOL_MAX_BYTES} bytes. Use a shorter symbol.")
    return symbol


@cython.final
cdef class MultiExchange:
    """One independent ``Exchange`` per symbol, created on first use.

    Symbols are str of at most 8 UTF-8 bytes.  ``symbols()`` and
    ``best_prices()`` list books in creation order.
    """
    cdef dict _books
    cdef bint _event_log

    def __cinit__(self, event_log=True):
        self._books = {}
        self._event_log = _flag(event_log, "event_log")

    def __init__(self, event_log=True):
        pass

    cdef Exchange _book(self, object symbol):
        cdef Exchange ex = self._books.get(symbol)
        if ex is None:
            # setdefault: a book another thread created meanwhile wins
            ex = self._books.setdefault(check_symbol(symbol), Exchange(event_log=self._event_log))
        return ex

    cdef object _call(self, object symbol, str method, tuple args):
        """``method(*args)`` on ``symbol``'s book.  A new book is registered
        only once the call has succeeded, so bad input creates none; the
        arguments are validated once, by the Exchange."""
        cdef Exchange ex = self._books.get(symbol) if type(symbol) is str else None
        if ex is not None:
            return getattr(ex, method)(*args)
        check_symbol(symbol)
        ex = Exchange(event_log=self._event_log)
        result = getattr(ex, method)(*args)
        if self._books.setdefault(symbol, ex) is not ex:
            # another thread created this book during the call: ours is
            # dropped, so the call must not look as if it had been applied
            raise RuntimeError(f"MultiExchange.{method}() cannot run now: the book of "
                               f"{symbol!r} was created by another thread during the call; "
                               f"nothing was done. Share one MultiExchange between threads "
                               f"only behind a lock")
        return result

    def submit_limit(self, symbol, side, price, quantity, tif="gtc"):
        """``Exchange.submit_limit`` on ``symbol``'s book."""
        return self._call(symbol, "submit_limit", (side, price, quantity, tif))

    def submit_market(self, symbol, side, quantity):
        """``Exchange.submit_market`` on ``symbol``'s book."""
        return self._call(symbol, "submit_market", (side, quantity))

    def cancel(self, symbol, order_id):
        """``Exchange.cancel`` on ``symbol``'s book (created if unknown)."""
        return self._call(symbol, "cancel", (order_id,))

    def modify(self, symbol, order_id, new_price, new_quantity):
        """``Exchange.modify`` on ``symbol``'s book (created if unknown)."""
        return self._call(symbol, "modify", (order_id, new_price, new_quantity))

    def get_or_create(self, symbol):
        """An independent copy of ``symbol``'s book (created if needed).
        Use ``book(symbol)`` for the live book."""
        return self._book(check_symbol(symbol)).copy()

    def book(self, symbol):
        """The live ``Exchange`` of ``symbol`` (created if needed)."""
        return self._book(check_symbol(symbol))

    def get_order(self, symbol, order_id):
        """``Exchange.get_order`` on ``symbol``'s book, or None if there is no such book."""
        ex = self._books.get(check_symbol(symbol))
        return None if ex is None else ex.get_order(order_id)

    def symbols(self):
        """Symbols that have a book, in creation order."""
        return list(self._books)

    def best_prices(self):
        """``[(symbol, best_bid, best_ask), ...]`` in creation order."""
        return [(s, *(<Exchange>ex).best_bid_ask()) for s, ex in self._books.items()]

    def len(self):
        """Number of books."""
        return len(self._books)

    def __len__(self):
        return len(self._books)

    def __contains__(self, symbol):
        return symbol in self._books

    def __repr__(self):
        return f"MultiExchange(symbols={len(self._books)})"
