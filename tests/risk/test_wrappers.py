"""check_order/check_batch are the reference's form of evaluate_order/evaluate_batch: one
signature (written once), the same decisions as dicts, the same errors."""
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nanobook_risk import RiskEngine

ENG = RiskEngine(max_position_pct=0.2, allow_short=False, price_collar_bps=50.0, max_open_orders=3,
                 restricted_symbols={"BAD"})


@pytest.mark.parametrize("check, evaluate", [("check_order", "evaluate_order"), ("check_batch", "evaluate_batch")])
def test_same_parameters_other_return(check, evaluate):
    c, e = inspect.signature(getattr(ENG, check)), inspect.signature(getattr(ENG, evaluate))
    assert c.parameters == e.parameters
    assert c.return_annotation == "list[dict[str, str]]" and e.return_annotation == "RiskReport"
    assert getattr(RiskEngine, check).__name__ == check and f":meth:`{evaluate}`" in getattr(RiskEngine, check).__doc__


@given(sym=st.sampled_from(["AAPL", "BAD"]), side=st.sampled_from(["buy", "sell", "s"]),
       qty=st.integers(0, 10**6), px=st.integers(1, 10**6), equity=st.integers(-10**9, 10**10),
       pos=st.integers(-10**5, 10**5), ref=st.none() | st.integers(1, 10**6), n_open=st.integers(0, 5))
def test_check_is_evaluate_as_dicts(sym, side, qty, px, equity, pos, ref, n_open):
    args = (sym, side, qty, px, equity, [(sym, pos)])
    assert ENG.check_order(*args, reference_price_cents=ref, open_orders=n_open) == ENG.evaluate_order(
        *args, reference_price_cents=ref, open_orders=n_open).to_dicts()
    batch = ([(sym, side, qty, px)], equity, [(sym, pos)], [(sym, 0.1)])
    kw = dict(reference_prices={sym: ref} if ref else None, open_orders=n_open)
    assert ENG.check_batch(*batch, **kw) == ENG.evaluate_batch(*batch, **kw).to_dicts()


def test_errors_are_the_same():
    for fn in (ENG.check_order, ENG.evaluate_order):
        with pytest.raises(ValueError, match="Invalid side"):
            fn("AAPL", "hold", 1, 1, 1, [])
    with pytest.raises(TypeError):
        ENG.check_order("AAPL", "buy", 1, 1, 1, [], 5)  # the keyword-only arguments stay keyword-only
