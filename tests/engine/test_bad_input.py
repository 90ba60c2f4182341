"""Bad input: a clear exception naming the parameter and the value, and the
book, the id counter and the event log exactly as they were."""
import json
import pickle

import numpy as np
import pytest

import nanobook
from nanobook import dtypes as d


def fingerprint(ex):
    snap = ex.full_book()
    return (ex.best_bid_ask(), [(x.price, x.quantity, x.order_count) for x in snap.bids],
            [(x.price, x.quantity, x.order_count) for x in snap.asks], ex.event_count(),
            len(ex.trades()), ex.pending_stop_count(), ex.last_trade_price())


@pytest.fixture
def ex():
    ex = nanobook.Exchange()
    ex.submit_limit("buy", 99, 5)
    ex.submit_limit("sell", 101, 5)
    ex.submit_limit("buy", 101, 1)
    return ex


BAD_CALLS = [
    # (method, args, exception, message fragment)
    ("submit_limit", ("long", 100, 1), ValueError, "Invalid side 'long'"),
    ("submit_limit", (" buy", 100, 1), ValueError, "Invalid side ' buy'"),
    ("submit_limit", (None, 100, 1), TypeError, "side must be a str, got None"),
    ("submit_limit", ("buy", 100, 1, "day"), ValueError, "Invalid time_in_force 'day'"),
    ("submit_limit", ("buy", 100, 1, 3), TypeError, "tif must be a str, got 3 (int)"),
    ("submit_limit", ("buy", 100, 0), ValueError, "quantity must be positive, got 0"),
    ("submit_limit", ("buy", 100, -3), ValueError, "quantity must be positive, got -3"),
    ("submit_limit", ("buy", 100, 1.5), TypeError, "quantity must be an int, got 1.5 (float)"),
    ("submit_limit", ("buy", 100, np.float64(2.0)), TypeError, "quantity must be an int"),
    ("submit_limit", ("buy", 100, None), TypeError, "quantity must be an int, got None"),
    ("submit_limit", ("buy", 100, "5"), TypeError, "quantity must be an int, got '5' (str)"),
    ("submit_limit", ("buy", 100, 2**64), OverflowError, "quantity must be less than 2**64, got 18446744073709551616"),
    ("submit_limit", ("buy", 99.5, 1), TypeError, "price must be an int, got 99.5 (float)"),
    ("submit_limit", ("buy", 2**63, 1), OverflowError, "price must fit in a signed 64-bit integer, got 9223372036854775808"),
    ("submit_limit", ("buy", -2**63 - 1, 1), OverflowError, "price must fit in a signed 64-bit integer"),
    ("submit_market", ("sell", 0), ValueError, "quantity must be positive, got 0"),
    ("submit_market", ("up", 1), ValueError, "Invalid side 'up'"),
    ("cancel", (-1,), ValueError, "order_id must be non-negative, got -1"),
    ("cancel", (1.0,), TypeError, "order_id must be an int, got 1.0 (float)"),
    ("cancel", (2**64,), OverflowError, "order_id must be less than 2**64"),
    ("modify", (1, 100, 0), ValueError, "new_quantity must be positive, got 0"),
    ("modify", (1, 100.0, 1), TypeError, "new_price must be an int, got 100.0 (float)"),
    ("modify", (None, 100, 1), TypeError, "order_id must be an int, got None"),
    ("submit_stop_market", ("buy", 100, 0), ValueError, "quantity must be positive, got 0"),
    ("submit_stop_limit", ("buy", 100, 101, 1, "gfd"), ValueError, "Invalid time_in_force 'gfd'"),
    ("submit_stop_limit", ("buy", 100, None, 1), TypeError, "limit_price must be an int, got None"),
    ("submit_trailing_stop_market", ("sell", 90, 1, "fixed", float("nan")), ValueError, "trail_value must be finite"),
    ("submit_trailing_stop_market", ("sell", 90, 1, "fixed", "2"), TypeError, "trail_value must be a real number, got '2' (str)"),
    ("submit_trailing_stop_market", ("sell", 90, 1, None, 2), TypeError, "trail_type must be a str, got None"),
    ("submit_trailing_stop_market", ("sell", 90, 1, "pct", 0.1, -2), ValueError, "atr_period must be non-negative, got -2"),
    ("submit_trailing_stop_limit", ("sell", 90, 89, 0, "fixed", 1), ValueError, "quantity must be positive, got 0"),
    ("depth", (-1,), ValueError, "levels must be non-negative, got -1"),
    ("depth", (2.5,), TypeError, "levels must be an int, got 2.5 (float)"),
    ("get_order", ("7",), TypeError, "order_id must be an int, got '7' (str)"),
    ("get_stop_order", (-4,), ValueError, "order_id must be non-negative, got -4"),
]


@pytest.mark.parametrize("method,args,exc,msg", BAD_CALLS, ids=[f"{m}{a}" for m, a, _, _ in BAD_CALLS])
def test_bad_call_raises_and_changes_nothing(ex, method, args, exc, msg):
    before = fingerprint(ex)
    with pytest.raises(exc) as info:
        getattr(ex, method)(*args)
    assert msg in str(info.value)
    assert fingerprint(ex) == before
    # no id was consumed
    assert ex.submit_limit("buy", 1, 1).order_id == 4


def test_numpy_and_bool_integers_are_accepted():
    ex = nanobook.Exchange()
    r = ex.submit_limit("BUY", np.int64(100), np.uint32(3), "GTC")
    assert (r.resting_quantity, ex.best_bid()) == (3, 100)
    assert ex.submit_limit("S", 100, True).filled_quantity == 1


def test_unknown_and_foreign_ids_are_failures_not_crashes():
    a, b = nanobook.Exchange(), nanobook.Exchange()
    oid = a.submit_limit("buy", 100, 1).order_id
    b.submit_stop_market("sell", 1, 1)
    # the same id names a stop in b: a cancel of "a's order" there hits b's own stop,
    # ids are per book; an id b never issued is simply not found
    assert b.cancel(oid + 5).error == "OrderNotFound"
    assert b.get_order(oid + 5) is None and b.get_order(0) is None
    assert b.modify(2**64 - 1, 1, 1).error == "OrderNotFound"


def test_records_cannot_be_constructed():
    for cls in (nanobook.Trade, nanobook.Order, nanobook.SubmitResult, nanobook.CancelResult,
                nanobook.ModifyResult, nanobook.StopSubmitResult, nanobook.LevelSnapshot,
                nanobook.BookSnapshot, nanobook.Event):
        with pytest.raises(TypeError, match="cannot create"):
            cls()


def test_results_are_read_only():
    r = nanobook.Exchange().submit_limit("buy", 1, 1)
    with pytest.raises(AttributeError):
        r.order_id = 5


# -- events: JSON, pickling, files -------------------------------------------------

def scripted():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 101, 5)
    ex.submit_limit("sell", 103, 5, "ioc")
    ex.submit_market("buy", 2)
    ex.cancel(1)
    ex.cancel(99)
    ex.submit_limit("buy", 100, 4)
    ex.modify(6, 101, 3)
    ex.submit_stop_market("buy", 105, 1)
    ex.submit_stop_limit("sell", 90, 89, 2, "fok")
    ex.submit_trailing_stop_market("sell", 90, 3, "sma_abs_change", 1.5, 7)
    ex.submit_trailing_stop_limit("buy", 110, 111, 5, "fixed", 10.0, "ioc")
    ex.submit_trailing_stop_limit("buy", 110, 111, 5, "pct", 0.05)
    return ex


def test_event_json_is_the_reference_form():
    got = [json.loads(e.__getstate__()) for e in scripted().events()]
    assert got[0] == {"SubmitLimit": {"side": "Sell", "price": 101, "quantity": 5, "time_in_force": "GTC"}}
    assert got[2] == {"SubmitMarket": {"side": "Buy", "quantity": 2}}
    assert got[3] == {"Cancel": {"order_id": 1}}
    assert got[6] == {"Modify": {"order_id": 6, "new_price": 101, "new_quantity": 3}}
    assert got[8] == {"SubmitStopLimit": {"side": "Sell", "stop_price": 90, "limit_price": 89,
                                          "quantity": 2, "time_in_force": "FOK"}}
    assert got[9]["SubmitTrailingStopMarket"]["trail_method"] == \
        {"SmaAbsChange": {"multiplier": 1.5, "period": 7}}
    assert got[10]["SubmitTrailingStopLimit"]["trail_method"] == {"Fixed": 10}
    assert got[11]["SubmitTrailingStopLimit"]["trail_method"] == {"Percentage": 0.05}


def test_event_round_trips():
    for e in scripted().events():
        again = nanobook.Event.from_json(e.__getstate__())
        assert again == e and again.to_dict() == e.to_dict()
        assert pickle.loads(pickle.dumps(e)) == e


@pytest.mark.parametrize("text,msg", [
    ('{"Bad": {}}', "unknown event variant 'Bad'"),
    ('{"Cancel": {"order_id": -1}}', "field 'order_id' out of the unsigned 64-bit range: -1"),
    ('{"Cancel": {"order_id": 1.0}}', "field 'order_id' must be an integer, got 1.0"),
    ('{"Cancel": {}}', "missing ['order_id']"),
    ('{"SubmitMarket": {"side": "Up", "quantity": 1}}', "field 'side' must be 'Buy' or 'Sell'"),
    ('{"SubmitMarket": {"side": "Buy", "quantity": 0}}', "field 'quantity' must be positive, got 0"),
    ('[1, 2]', "exactly one variant key"),
    ('{"Cancel"', "event JSON"),
])
def test_malformed_event_json(text, msg):
    with pytest.raises(ValueError) as info:
        nanobook.Event.from_json(text)
    assert msg in str(info.value)


@pytest.mark.parametrize("suffix", [".jsonl", ".npy", ".bin"])
def test_event_files_round_trip(tmp_path, suffix):
    ex = scripted()
    path = tmp_path / f"events{suffix}"
    ex.save_events(path)
    loaded = nanobook.load_events(path)
    assert (loaded == ex.events_array()).all()
    again = nanobook.Exchange.replay(str(path))
    assert again.full_book().bids[0].price == ex.full_book().bids[0].price
    assert again.pending_stop_count() == ex.pending_stop_count()
    assert [t.trade_id for t in again.trades()] == [t.trade_id for t in ex.trades()]


def test_malformed_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = scripted().events()[0].__getstate__()
    path.write_text(good + "\n" + '{"Cancel": {"order_id": "x"}}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: field 'order_id' must be an integer"):
        nanobook.load_events(path)
    path.write_text(good + "\nnot json\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: invalid JSON"):
        nanobook.load_events(path)


def test_malformed_binary_event_file(tmp_path):
    path = tmp_path / "bad.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="not a nanobook event file"):
        nanobook.load_events(path)
    path.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match="not a nanobook event file"):
        nanobook.load_events(path)
    ops = np.zeros(2, dtype=d.EVENT_DTYPE)
    np.save(path, ops)
    with pytest.raises(ValueError, match=r"bad\.npy: ops\[0\]: kind must be"):
        nanobook.load_events(path)
    with pytest.raises(FileNotFoundError):
        nanobook.load_events(tmp_path / "missing.jsonl")


def test_replay_rejects_non_events():
    with pytest.raises(TypeError, match=r"events\[1\] must be an Event, got 5 \(int\)"):
        nanobook.Exchange.replay([scripted().events()[0], 5])
    with pytest.raises(TypeError, match="events must be"):
        nanobook.Exchange.replay({"a": 1})


# -- the bad-input matrix (issue 11): flags, batches, files, MultiExchange -----------
# Each case: the exception type, a message naming the parameter and the value,
# and the book (levels, ids, event log), the input array and any file exactly
# as they were.

@pytest.mark.parametrize("cls", [nanobook.Exchange, nanobook.MultiExchange])
@pytest.mark.parametrize("flag", ["no", "", 1, 0, None, 1.0])
def test_flags_take_bools_only(cls, flag):
    with pytest.raises(TypeError) as info:
        cls(event_log=flag)
    assert str(info.value) == f"event_log must be a bool, got {flag!r} ({type(flag).__name__})"
    assert cls(event_log=np.bool_(False)) is not None and cls(event_log=False) is not None


def test_replay_flag_takes_bools_only(ex):
    with pytest.raises(TypeError, match="event_log must be a bool, got 'no' \\(str\\)"):
        nanobook.Exchange.replay(ex.events(), event_log="no")
    assert not nanobook.Exchange.replay(ex.events(), event_log=False).event_log


def bad_ops():
    ops = np.zeros(4, dtype=d.EVENT_DTYPE)
    ops["kind"] = d.SUBMIT_LIMIT
    ops["quantity"] = 1
    ops["price"] = 100
    return ops


def setf(ops, i, field, value):
    ops[field][i] = value


BAD_BATCHES = [
    # (mutation of a valid 4-row batch, exception, message)
    (lambda o: setf(o, 2, "kind", 9), ValueError, "ops[2]: kind must be one of 1..8"),
    (lambda o: setf(o, 1, "side", 2), ValueError, "ops[1]: side must be 0 (buy) or 1 (sell), got side=np.uint8(2)"),
    (lambda o: setf(o, 3, "tif", 3), ValueError, "ops[3]: tif must be 0 (gtc), 1 (ioc) or 2 (fok), got tif=np.uint8(3)"),
    (lambda o: setf(o, 0, "quantity", 0), ValueError, "ops[0]: quantity must be positive, got quantity=np.uint64(0)"),
    (lambda o: (setf(o, 1, "kind", d.SUBMIT_TRAILING_STOP_MARKET), setf(o, 1, "trail", 7)),
     ValueError, "ops[1]: trail must be 1 (fixed), 2 (percentage) or 3 (sma_abs_change), got trail=np.uint8(7)"),
    (lambda o: (setf(o, 1, "kind", d.SUBMIT_TRAILING_STOP_MARKET), setf(o, 1, "trail", 2),
                setf(o, 1, "trail_value", np.inf)),
     ValueError, "ops[1]: trail_value must be finite, got trail_value=np.float64(inf)"),
]


@pytest.mark.parametrize("mutate,exc,msg", BAD_BATCHES, ids=[m for _, _, m in BAD_BATCHES])
def test_bad_batch_changes_nothing(ex, mutate, exc, msg):
    ops = bad_ops()
    mutate(ops)
    before_ops = ops.copy()
    before = fingerprint(ex)
    with pytest.raises(exc) as info:
        ex.apply(ops)
    assert msg in str(info.value)
    assert fingerprint(ex) == before and (ops == before_ops).all()
    assert ex.submit_limit("buy", 1, 1).order_id == 4


@pytest.mark.parametrize("ops,msg", [
    (np.zeros(3), "ops must be a 1-d numpy array of nanobook.dtypes.EVENT_DTYPE, got ndarray of dtype float64"),
    (np.zeros((2, 2), dtype=d.EVENT_DTYPE), "got ndarray of dtype"),
    ([1, 2], "ops must be a 1-d numpy array of nanobook.dtypes.EVENT_DTYPE, got list"),
    (None, "got NoneType"),
])
def test_apply_wrong_container(ex, ops, msg):
    before = fingerprint(ex)
    with pytest.raises(TypeError) as info:
        ex.apply(ops)
    assert msg in str(info.value) and fingerprint(ex) == before


@pytest.mark.parametrize("suffix", [".jsonl", ".npy"])
@pytest.mark.parametrize("events,exc,msg", [
    (np.zeros(2, dtype=d.EVENT_DTYPE), ValueError, "events[0]: kind must be one of 1..8"),
    (np.zeros(2), TypeError, "events must be a 1-d numpy array of nanobook.dtypes.EVENT_DTYPE, got ndarray of dtype float64"),
    ([1], TypeError, "events[0] must be an Event, got 1 (int)"),
    (7, TypeError, "events must be a list of Event, an EVENT_DTYPE array or a path, got int"),
])
def test_save_events_bad_input_leaves_the_file(tmp_path, suffix, events, exc, msg):
    path = tmp_path / f"keep{suffix}"
    path.write_bytes(b"precious")
    with pytest.raises(exc) as info:
        nanobook.save_events(events, path)
    assert msg in str(info.value)
    assert path.read_bytes() == b"precious" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_save_and_load_events_bad_path(tmp_path):
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got 5 \(int\)"):
        nanobook.save_events([], 5)
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got None"):
        nanobook.load_events(None)


def multi():
    m = nanobook.MultiExchange()
    m.submit_limit("A", "buy", 99, 5)
    m.submit_limit("B", "sell", 101, 5)
    return m


def multi_fingerprint(m):
    return m.symbols(), [fingerprint(m.book(s)) for s in m.symbols()]


BAD_MULTI = [
    # (method, args, exception, message)
    ("submit_limit", (None, "buy", 1, 1), TypeError, "symbol must be a str, got None"),
    ("submit_limit", (b"A", "buy", 1, 1), TypeError, "symbol must be a str, got b'A' (bytes)"),
    ("submit_limit", ("ABCDEFGHI", "buy", 1, 1), ValueError, "Symbol 'ABCDEFGHI' exceeds 8 bytes"),
    ("submit_limit", ("A", "up", 1, 1), ValueError, "Invalid side 'up'"),
    ("submit_limit", ("NEW", "buy", 1, 0), ValueError, "quantity must be positive, got 0"),
    ("submit_limit", ("NEW", "buy", 2**63, 1), OverflowError, "price must fit in a signed 64-bit integer, got 9223372036854775808"),
    ("submit_market", ("A", "sell", -1), ValueError, "quantity must be positive, got -1"),
    ("submit_market", (7, "sell", 1), TypeError, "symbol must be a str, got 7 (int)"),
    ("cancel", ("A", -1), ValueError, "order_id must be non-negative, got -1"),
    ("cancel", ("NEW", "1"), TypeError, "order_id must be an int, got '1' (str)"),
    ("modify", ("A", 1, 100, 0), ValueError, "new_quantity must be positive, got 0"),
    ("modify", ("B", 2, 1.5, 1), TypeError, "new_price must be an int, got 1.5 (float)"),
    ("get_order", ("A", None), TypeError, "order_id must be an int, got None"),
    ("get_order", ("TOOLONGSYM", 1), ValueError, "Symbol 'TOOLONGSYM' exceeds 8 bytes"),
    ("book", (None,), TypeError, "symbol must be a str, got None"),
    ("get_or_create", ("ÉÉÉÉÉ",), ValueError, "Symbol 'ÉÉÉÉÉ' exceeds 8 bytes"),
]


@pytest.mark.parametrize("method,args,exc,msg", BAD_MULTI, ids=[f"{m}{a}" for m, a, _, _ in BAD_MULTI])
def test_multi_bad_call_changes_nothing(method, args, exc, msg):
    """No book is created on bad input, existing books are untouched."""
    m = multi()
    before = multi_fingerprint(m)
    with pytest.raises(exc) as info:
        getattr(m, method)(*args)
    assert msg in str(info.value)
    assert multi_fingerprint(m) == before
    assert m.submit_limit("A", "buy", 1, 1).order_id == 2
