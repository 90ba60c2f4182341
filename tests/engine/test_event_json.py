"""The JSON form of events and the JSON Lines event file (nanobook/_events.py,
the Python side of the engine): every valid event of every kind survives a
save/load round trip exactly on the fields its kind uses, ``Event`` JSON and
``repr`` agree with the file, and the names come from the dtypes tables."""
import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import nanobook
from nanobook import dtypes as d

# the EVENT_DTYPE fields each kind carries, as the comment on
# dtypes.EVENT_DTYPE lists them (the test's own oracle, not the codec's table)
USED = {getattr(d, kind): fields.split() for kind, fields in (
    ("SUBMIT_LIMIT", "side price quantity tif"),
    ("SUBMIT_MARKET", "side quantity"),
    ("CANCEL", "order_id"),
    ("MODIFY", "order_id price quantity"),
    ("SUBMIT_STOP_MARKET", "side price quantity"),
    ("SUBMIT_STOP_LIMIT", "side price limit_price quantity tif"),
    ("SUBMIT_TRAILING_STOP_MARKET", "side price quantity trail"),
    ("SUBMIT_TRAILING_STOP_LIMIT", "side price limit_price quantity tif trail"),
)}
I64 = st.integers(-(1 << 63), (1 << 63) - 1)
U64 = st.integers(0, (1 << 64) - 1)


@st.composite
def events(draw):
    n = draw(st.integers(0, 12))
    arr = np.zeros(n, dtype=d.EVENT_DTYPE)
    for i in range(n):
        kind = draw(st.sampled_from(sorted(USED)))
        row = {"kind": kind, "side": draw(st.integers(0, 1)), "tif": draw(st.integers(0, 2)),
               "order_id": draw(U64), "price": draw(I64), "limit_price": draw(I64),
               "quantity": draw(st.integers(1, (1 << 64) - 1)),
               "trail": draw(st.integers(1, 3)), "trail_fixed": draw(I64),
               "trail_value": draw(st.floats(allow_nan=False, allow_infinity=False)),
               "period": draw(U64)}
        for f in USED[kind]:
            arr[f][i] = row[f]
        if "trail" in USED[kind]:
            if row["trail"] == d.TRAIL_FIXED:
                arr["trail_fixed"][i] = row["trail_fixed"]
            else:
                arr["trail_value"][i] = row["trail_value"]
                if row["trail"] == d.TRAIL_SMA_ABS_CHANGE:
                    arr["period"][i] = row["period"]
        arr["kind"][i] = kind
    return arr


@given(events())
def test_jsonl_round_trip_is_exact_on_the_fields_each_kind_uses(tmp_path_factory, arr):
    path = tmp_path_factory.mktemp("ev") / "e.jsonl"
    nanobook.save_events(arr, path)
    back = nanobook.load_events(path)
    # the generator sets only used fields, so the arrays are equal byte for byte
    assert back.tobytes() == arr.tobytes()
    lines = path.read_text().splitlines()
    evs = nanobook.events_from_array(arr)
    assert [json.loads(x) for x in lines] == [e.to_dict() for e in evs]
    for i, (line, ev) in enumerate(zip(lines, evs)):
        assert line == ev.__getstate__()
        again = nanobook.Event.from_json(line)
        assert again == ev and repr(again) == repr(ev)
        (variant, body), = ev.to_dict().items()
        assert variant == d.EVENT_VARIANTS[int(arr["kind"][i])]
        if "side" in body:
            assert body["side"] in {n.rust for n in d.SIDE_NAMES}
        if "time_in_force" in body:
            assert body["time_in_force"] in {n.rust for n in d.TIF_NAMES}


def test_repr_is_the_reference_debug_form():
    ex = nanobook.Exchange()
    ex.submit_limit("buy", 100, 10, "ioc")
    ex.cancel(7)
    ex.submit_trailing_stop_limit("sell", 90, 89, 3, "atr", 1.5, "fok", 14)
    ex.submit_trailing_stop_market("buy", 120, 2, "fixed", 5)
    assert [repr(e) for e in ex.events()] == [
        "SubmitLimit { side: Buy, price: Price(100), quantity: 10, time_in_force: IOC }",
        "Cancel { order_id: OrderId(7) }",
        "SubmitTrailingStopLimit { side: Sell, stop_price: Price(90), limit_price: Price(89), "
        "quantity: 3, time_in_force: FOK, trail_method: SmaAbsChange { multiplier: 1.5, "
        "period: 14 } }",
        "SubmitTrailingStopMarket { side: Buy, stop_price: Price(120), quantity: 2, "
        "trail_method: Fixed(5) }",
    ]
