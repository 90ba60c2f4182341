"""The simulator core's record dtypes match its C structs."""


def test_record_dtypes_match_the_structs():
    from nanobook.sim import _core
    # the module asserts itemsizes at import; the field order is what the arrays expose
    assert _core.FILL_DTYPE.names[:4] == ("exch_ts", "local_ts", "order_id", "side")
    assert _core.ORDER_DTYPE.itemsize == 8 * len(_core.ORDER_DTYPE.names)


def test_every_code_and_record_is_pinned_between_cython_and_python():
    """Each enum of the compiled loop equals the code of the same name in
    nanobook.sim.dtypes (and nothing is named on one side only); each record
    struct has the size and field offsets of its numpy dtype."""
    from nanobook.sim import _core, dtypes
    layout = _core._layout()
    assert layout["codes"] == dtypes.CODES
    for name, dt in (("order", dtypes.ORDER_DTYPE), ("fill", dtypes.FILL_DTYPE),
                     ("record", dtypes.RECORD_DTYPE), ("bbo", dtypes.BBO_DTYPE),
                     ("response", dtypes.RESPONSE_DTYPE), ("md", dtypes.MD_DTYPE)):
        size, offsets = layout["records"][name]
        assert size == dt.itemsize, name
        assert offsets == {f: dt.fields[f][1] for f in dt.names}, name


def test_the_old_import_paths_still_name_the_same_objects():
    import nanobook.sim as S
    from nanobook.sim import _core, dtypes, engine, stream
    assert S.MD_DTYPE is stream.MD_DTYPE is dtypes.MD_DTYPE
    assert (stream.DEPTH, stream.TRADE, stream.ADD, stream.CANCEL, stream.EXEC) == (1, 2, 3, 4, 5)
    assert (S.EXCH, S.LOCAL, S.HIDDEN) == (dtypes.EXCH, dtypes.LOCAL, dtypes.HIDDEN) == (1, 2, 4)
    assert (S.BUY, S.SELL) == (engine.BUY, engine.SELL) == (0, 1)
    for name in ("ORDER_DTYPE", "FILL_DTYPE", "RECORD_DTYPE", "BBO_DTYPE"):
        assert getattr(S, name) is getattr(_core, name) is getattr(dtypes, name)
    assert _core.RESPONSE_DTYPE is dtypes.RESPONSE_DTYPE and _core.ORDER_FIELDS is dtypes.ORDER_FIELDS


def test_a_response_is_a_named_row_of_the_response_dtype():
    from nanobook.sim import dtypes
    assert dtypes.ResponseRow._fields == dtypes.RESPONSE_DTYPE.names
