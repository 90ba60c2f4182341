"""Typed broker records: ``to_dict()`` is the reference's dict shape, ``from_dict`` its inverse, and
the idempotent-submit rule (``existing_order_id``) is written once and used by every adapter."""
from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nanobook_broker as nb
from nanobook_broker import base, binance, ibkr, paper
from nanobook_broker.records import Account, BrokerOrder, Fill, PaperOrder, Position, Quote, StopOrder

# The reference's keys (nanobook 0.19 ``IbkrBroker``, docs/brokers.md "The protocol"), in its order.
REFERENCE_KEYS = {
    Position: ["symbol", "quantity", "avg_cost_cents", "market_value_cents", "unrealized_pnl_cents"],
    Account: ["equity_cents", "buying_power_cents", "cash_cents", "gross_position_value_cents"],
    Quote: ["symbol", "bid_cents", "ask_cents", "last_cents", "volume"],
    BrokerOrder: ["id", "status", "filled_quantity", "remaining_quantity", "avg_fill_price_cents"],
}
OURS = ["client_order_id", "symbol", "side", "quantity", "order_type", "limit_price_cents"]

ints = st.integers(-(2**63), 2**63 - 1)
cents = st.none() | st.integers(0, 2**62)
syms = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
statuses = st.sampled_from([s.value for s in nb.OrderStatus])
order_fields = dict(order_id=st.integers(0, 2**63), status=statuses, filled_quantity=st.integers(0, 2**40),
                    remaining_quantity=st.integers(0, 2**40), avg_fill_price_cents=st.integers(0, 2**40),
                    client_order_id=st.none() | st.text("abc123_-", min_size=1, max_size=36),
                    symbol=st.none() | syms, side=st.none() | st.sampled_from(["buy", "sell"]),
                    quantity=st.none() | st.integers(0, 2**40),
                    order_type=st.none() | st.sampled_from(list(nb.ORDER_TYPES)), limit_price_cents=cents)
stop_fields = dict(order_fields, stop_price_cents=cents, triggered=st.none() | st.booleans())
records = st.one_of(
    st.builds(Position, syms, ints, ints, ints, ints),
    st.builds(Account, ints, ints, ints, ints),
    st.builds(Quote, syms, cents, cents, cents, st.integers(0, 2**63), st.none() | st.floats(0, 2e9)),
    st.builds(BrokerOrder, **order_fields),
    st.builds(StopOrder, **stop_fields),
    st.builds(PaperOrder, **stop_fields, commission_cents=st.integers(0, 2**40), reason=st.none() | st.text()),
    st.builds(Fill, st.integers(1, 2**40), syms, st.sampled_from(["buy", "sell"]), st.integers(1, 2**40),
              st.integers(1, 2**40), st.integers(0, 2**40), st.integers(0, 2**63)),
)


@pytest.mark.parametrize("kind", list(REFERENCE_KEYS))
def test_to_dict_starts_with_the_reference_keys_in_its_order(kind):
    rec = {Position: Position("A", 1), Account: Account(1, 2, 3, 4), Quote: Quote("A", 1, 2, None),
           BrokerOrder: BrokerOrder(1, "Filled", 1, 0, 100)}[kind]
    keys = list(rec.to_dict())
    ref = REFERENCE_KEYS[kind]
    assert keys[:len(ref)] == ref
    if kind is BrokerOrder:
        assert keys[len(ref):] == OURS
    else:
        assert keys == ref  # nothing else (a Quote's timestamp only when set)


def test_order_subclasses_append_their_keys_after_the_common_ones():
    common = REFERENCE_KEYS[BrokerOrder] + OURS
    assert list(StopOrder(1, "Submitted", 0, 1, 0).to_dict()) == common + ["stop_price_cents", "triggered"]
    assert list(PaperOrder(1, "Submitted", 0, 1, 0).to_dict()) == common + [
        "commission_cents", "stop_price_cents", "triggered", "reason"]
    assert Quote("A", 1, 2, 3, 4, timestamp=5.0).to_dict()["timestamp"] == 5.0


@given(records)
def test_from_dict_inverts_to_dict(rec):
    d = rec.to_dict()
    back = type(rec).from_dict(d)
    assert back == rec and type(back) is type(rec)
    if isinstance(rec, BrokerOrder):  # the base class recognises a subclass's dict by its keys
        assert type(BrokerOrder.from_dict(d)) is type(rec)


@pytest.mark.parametrize("kind", list(REFERENCE_KEYS))
def test_from_dict_names_a_missing_reference_key(kind):
    d = {k: 1 for k in REFERENCE_KEYS[kind]}
    missing = REFERENCE_KEYS[kind][0]
    del d[missing]
    with pytest.raises(KeyError, match=repr(missing)):
        kind.from_dict(d)
    with pytest.raises(TypeError, match="must be a mapping, got list"):
        kind.from_dict([])


def test_only_a_quotes_volume_and_our_keys_may_be_missing():
    assert Quote.from_dict({"symbol": "A", "bid_cents": 1, "ask_cents": 2, "last_cents": None}) == Quote("A", 1, 2, None)
    assert BrokerOrder.from_dict({"id": 3, "status": "Filled", "filled_quantity": 1, "remaining_quantity": 0,
                                  "avg_fill_price_cents": 5}) == BrokerOrder(3, "Filled", 1, 0, 5)
    for key in REFERENCE_KEYS[Position]:
        d = Position("A", 1, 2, 3, 4).to_dict()
        del d[key]
        with pytest.raises(KeyError, match=repr(key)):
            Position.from_dict(d)


def test_records_are_frozen_and_slotted():
    o = BrokerOrder(1, "Filled", 1, 0, 100)
    with pytest.raises(AttributeError):
        o.status = "Cancelled"  # type: ignore[misc]
    assert not hasattr(o, "__dict__")


def test_paper_answers_are_record_dicts(tmp_path):
    b = nb.PaperBroker(tmp_path / "a.json", prices={"AAPL": 29268, "MSFT": 40000})
    b.connect()
    oid = b.submit_order("AAPL", "buy", 10, client_order_id="rec-1")
    b.submit_order("MSFT", "buy", 5, "limit", 30000)
    answers = [
        (Position, b.positions()[0]), (Account, b.account()), (Quote, b.quote("AAPL")),
        (PaperOrder, b.order_status(oid)), (PaperOrder, b.find_order("rec-1")), (PaperOrder, b.open_orders()[0]),
        (Fill, b.fills()[0]),
    ]
    for kind, d in answers:
        rec = kind.from_dict(d)
        assert rec.to_dict() == d and list(rec.to_dict()) == list(d)
    assert BrokerOrder.from_dict(b.order_status(oid)).filled_quantity == 10


# --------------------------------------------------------------------------- the idempotent rule

REQ = nb.validate_order("AAA", "buy", 10, "stop_limit", 500, "cid-1", 510)


def held(**kw):
    base_ = dict(order_id=7, status="Submitted", filled_quantity=0, remaining_quantity=10, avg_fill_price_cents=0,
                 client_order_id="cid-1", symbol="AAA", side="buy", quantity=10, order_type="stop_limit",
                 limit_price_cents=500, stop_price_cents=510, triggered=False)
    base_.update(kw)
    return StopOrder(**base_)


def test_no_order_under_the_id_means_send():
    assert nb.existing_order_id(REQ, None) is None


def test_the_same_instruction_returns_the_held_id():
    assert nb.existing_order_id(REQ, held()) == 7
    # what the venue does not report is not compared
    assert nb.existing_order_id(REQ, held(order_type=None, limit_price_cents=None, stop_price_cents=None)) == 7
    assert nb.existing_order_id(REQ, BrokerOrder(7, "Filled", 10, 0, 500, client_order_id="cid-1", symbol="AAA",
                                                 side="buy", quantity=10, order_type="stop_limit",
                                                 limit_price_cents=500)) == 7


@pytest.mark.parametrize("diff", [dict(symbol="BBB"), dict(side="sell"), dict(quantity=11), dict(quantity=9),
                                  dict(order_type="limit"), dict(limit_price_cents=501),
                                  dict(stop_price_cents=509)])
def test_a_different_instruction_is_a_conflict(diff):
    with pytest.raises(nb.ClientOrderIdConflict, match="client_order_id 'cid-1' already used by order 7") as ei:
        nb.existing_order_id(REQ, held(**diff))
    assert ei.value.order_id == 7


@pytest.mark.parametrize("filled, ok", [(9, True), (10, True), (11, False)])
def test_an_order_known_only_by_its_fills_is_the_same_if_it_filled_no_more(filled, ok):
    o = BrokerOrder(7, nb.OrderStatus.FINAL_UNKNOWN.value, filled, 0, 500, client_order_id="cid-1", symbol="AAA",
                    side="buy", quantity=filled)
    if ok:
        assert nb.existing_order_id(REQ, o) == 7
    else:
        with pytest.raises(nb.ClientOrderIdConflict, match="11 filled"):
            nb.existing_order_id(REQ, o)
    with pytest.raises(nb.ClientOrderIdConflict):
        nb.existing_order_id(REQ, BrokerOrder(7, "FinalUnknown", 1, 0, 500, symbol="AAA", side="sell", quantity=1))


def test_an_order_whose_id_the_venue_no_longer_reports_is_a_conflict():
    with pytest.raises(nb.ClientOrderIdConflict, match="ended Cancelled without executions") as ei:
        nb.existing_order_id(REQ, held(order_id=0, status="Cancelled"))
    assert ei.value.order_id is None


@pytest.mark.parametrize("module", [paper, ibkr, binance])
def test_every_adapter_uses_the_one_rule(module):
    """No adapter decides idempotency itself: each calls ``existing_order_id`` and raises no conflict of its own."""
    assert module.existing_order_id is base.existing_order_id
    source = inspect.getsource(module)
    assert "existing_order_id(" in source
    assert "ClientOrderIdConflict(" not in source and "same_order(" not in source
