"""The engine's C records have the layout of the numpy dtypes that expose them."""


def test_record_layouts_match_the_dtypes():
    from nanobook import _engine, dtypes
    layout = _engine._layout()
    for name, dtype in (("event", dtypes.EVENT_DTYPE), ("trade", dtypes.TRADE_DTYPE)):
        size, offsets = layout[name]
        assert dtype.itemsize == size
        for field, off in offsets.items():
            assert dtype.fields[field][1] == off, (name, field)
    assert layout["order"] == 48      # the per-order cost in the id table
