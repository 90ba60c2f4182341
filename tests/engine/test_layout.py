"""The engine's C records have the layout of the numpy dtypes that expose them, and its
C enum codes the values nanobook.dtypes names."""


def test_record_layouts_match_the_dtypes():
    from nanobook import _engine, dtypes
    layout = _engine._layout()
    for name, dtype in (("event", dtypes.EVENT_DTYPE), ("trade", dtypes.TRADE_DTYPE)):
        size, offsets = layout[name]
        assert dtype.itemsize == size
        for field, off in offsets.items():
            assert dtype.fields[field][1] == off, (name, field)
    assert layout["order"] == 48      # the per-order cost in the id table


def test_engine_codes_match_the_dtypes_constants():
    # every code the engine's C enums define and nanobook.dtypes names has the
    # same value on both sides (batch input is built from the dtypes constants)
    from nanobook import _engine, dtypes
    codes = _engine._codes()
    errors = codes.pop("ERROR_NAMES")
    assert len(codes) == 24
    for name, value in codes.items():
        assert getattr(dtypes, name) == value, name
    assert errors == (0, 1, 2) and len(dtypes.ERROR_NAMES) == 3
    assert set(dtypes.EVENT_KINDS) == set(dtypes.EVENT_VARIANTS) == set(range(1, 9))


def test_each_names_table_covers_its_codes_with_both_spellings():
    from nanobook import dtypes
    tables = {
        "SIDE_NAMES": ("BUY", "SELL"),
        "TIF_NAMES": ("GTC", "IOC", "FOK"),
        "ORDER_STATUS_NAMES": ("ORDER_NEW", "ORDER_PARTIALLY_FILLED", "ORDER_FILLED",
                               "ORDER_CANCELLED"),
        "STOP_STATUS_NAMES": ("STOP_PENDING", "STOP_TRIGGERED", "STOP_CANCELLED"),
        "TRAIL_NAMES": ("TRAIL_FIXED", "TRAIL_PERCENTAGE", "TRAIL_SMA_ABS_CHANGE"),
    }
    for table, codes in tables.items():
        names = getattr(dtypes, table)
        for code in codes:
            entry = names[getattr(dtypes, code)]
            assert entry.python == entry.python.lower(), (table, code)
            assert entry.rust.lower() == entry.python.replace("_", ""), (table, code)
    assert dtypes.TRAIL_NAMES[dtypes.TRAIL_NONE] is None


def test_the_engine_spells_codes_from_the_tables():
    # the two casings nanobook 0.19 uses, each read from its table
    import nanobook
    from nanobook import dtypes
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 10)
    r = ex.submit_limit("buy", 100, 4)
    assert r.status == dtypes.ORDER_STATUS_NAMES[dtypes.ORDER_FILLED].rust == "Filled"
    o = ex.get_order(1)
    assert o.status == dtypes.ORDER_STATUS_NAMES[dtypes.ORDER_PARTIALLY_FILLED].python
    assert o.side == dtypes.SIDE_NAMES[dtypes.SELL].python and o.time_in_force == "gtc"
    s = ex.submit_stop_market("sell", 50, 1)
    assert s.status == dtypes.STOP_STATUS_NAMES[dtypes.STOP_PENDING].rust == "Pending"
    assert ex.get_stop_order(s.order_id)["status"] == "pending"
    assert ex.events()[0].to_dict() == {"SubmitLimit": {"side": "Sell", "price": 100,
                                                        "quantity": 10, "time_in_force": "GTC"}}


def test_symbol_limit_is_the_dtypes_constant():
    import pytest

    import nanobook
    from nanobook import dtypes
    m = nanobook.MultiExchange()
    m.submit_limit("x" * dtypes.SYMBOL_MAX_BYTES, "buy", 1, 1)
    with pytest.raises(ValueError, match=f"exceeds {dtypes.SYMBOL_MAX_BYTES} bytes"):
        m.submit_limit("x" * (dtypes.SYMBOL_MAX_BYTES + 1), "buy", 1, 1)
