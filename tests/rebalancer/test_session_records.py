"""BrokerSession reads broker answers through nanobook_broker's typed records: every field by its
reference name, a malformed answer is a BrokerCallError naming the call (never a KeyError)."""
from __future__ import annotations

import pytest

from nanobook_broker.records import BrokerOrder, Position
from nanobook_rebalancer._session import BrokerSession
from nanobook_rebalancer.errors import BrokerCallError

ORDER = {"id": 7, "status": "PartiallyFilled", "filled_quantity": 3, "remaining_quantity": 7,
         "avg_fill_price_cents": 10_050, "client_order_id": "c1", "symbol": "AAA", "side": "buy",
         "quantity": 10, "order_type": "limit", "limit_price_cents": 10_100}


class Broker:
    def __init__(self, **answers):
        self.answers = answers

    def __getattr__(self, name):
        if name not in self.__dict__.get("answers", {}):
            raise AttributeError(name)
        return lambda *a, **k: self.answers[name]


def test_fields_are_read_from_the_records():
    s = BrokerSession(Broker(
        account={"equity_cents": 100, "buying_power_cents": 80, "cash_cents": 90, "gross_position_value_cents": 10},
        positions=[{"symbol": "AAA", "quantity": 5, "avg_cost_cents": 2, "market_value_cents": 10,
                    "unrealized_pnl_cents": 0},
                   {"symbol": "ZZZ", "quantity": 0, "avg_cost_cents": 0, "market_value_cents": 0,
                    "unrealized_pnl_cents": 0}],
        quote={"symbol": "AAA", "bid_cents": 99, "ask_cents": 101, "last_cents": None, "volume": 3},
        order_status=ORDER, find_order=dict(ORDER, client_order_id=None), open_orders=[ORDER]), None)
    a = s.account()
    assert (a.equity_cents, a.cash_cents, a.buying_power_cents) == (100, 90, 80)
    assert s.positions() == {"AAA": Position("AAA", 5, 2, 10, 0)}  # flat positions dropped
    q = s.quote("AAA")
    assert (q.mid_cents, q.last_cents, q.age_secs) == (100, None, None)
    st = s.order_status(7)
    assert (st.order_id, st.status, st.filled_qty, st.remaining_qty, st.avg_fill_price_cents) == (
        7, "partially_filled", 3, 7, 10_050)
    assert s.find_order("c1").client_order_id == "c1"  # the id asked for when the venue omits it
    assert [o.order_id for o in s.open_orders()] == [7]
    assert BrokerOrder.from_dict(ORDER).to_dict() == ORDER


@pytest.mark.parametrize("call, answer, missing", [
    ("account", {"equity_cents": 1, "cash_cents": 1, "gross_position_value_cents": 0}, "buying_power_cents"),
    ("positions", [{"symbol": "A", "qty": 1}], "quantity"),
    ("order_status", {"order_id": 7, "status": "Filled", "filled_quantity": 1, "remaining_quantity": 0,
                      "avg_fill_price_cents": 1}, "id"),
])
def test_an_answer_that_is_not_a_record_is_a_broker_call_error(call, answer, missing):
    s = BrokerSession(Broker(**{call: answer}), None)
    with pytest.raises(BrokerCallError, match=f"broker {call} returned an unexpected answer: .*'{missing}'"):
        s.order_status(7) if call == "order_status" else getattr(s, call)()
