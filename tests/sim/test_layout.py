"""The simulator core's record dtypes match its C structs."""


def test_record_dtypes_match_the_structs():
    from nanobook.sim import _core
    # the module asserts itemsizes at import; the field order is what the arrays expose
    assert _core.FILL_DTYPE.names[:4] == ("exch_ts", "local_ts", "order_id", "side")
    assert _core.ORDER_DTYPE.itemsize == 8 * len(_core.ORDER_DTYPE.names)
