"""capabilities(): every name is true, documented, and absent when its feature is."""
from pathlib import Path

import pytest

from nanobook import capabilities, py_capabilities, register_capability
from nanobook._capabilities import _PROBES, registered_capabilities


def test_capabilities_names_are_true_and_documented():
    names = capabilities()
    assert names == py_capabilities()
    for required in ("backtest_stops", "backtest_holdings", "backtest_pandas", "backtest_conventions"):
        assert required in names
    text = (Path(__file__).resolve().parents[1] / "docs" / "capabilities.md").read_text()
    for name in registered_capabilities():
        assert f"`{name}`" in text, name


def test_register_capability_probes_and_failures():
    try:
        register_capability("zz_test_ok", lambda: True)
        register_capability("zz_test_broken", lambda: 1 / 0)
        register_capability("zz_test_missing", lambda: False)
        names = capabilities()
        assert "zz_test_ok" in names and "zz_test_broken" not in names and "zz_test_missing" not in names
        with pytest.raises(ValueError, match="already registered"):
            register_capability("zz_test_ok", lambda: True)
        with pytest.raises(TypeError):
            register_capability("zz_x", "not callable")
    finally:
        for k in ("zz_test_ok", "zz_test_broken", "zz_test_missing"):
            _PROBES.pop(k, None)


def test_reference_names_come_first_in_the_reference_order():
    names = registered_capabilities()
    assert names[:13] == [
        "backtest_stops", "garch_ewma_forecast", "optimize_min_variance", "optimize_max_sharpe",
        "optimize_risk_parity", "inverse_cvar_weights", "inverse_cdar_weights", "backtest_holdings",
        "monte_carlo_stock_valuation_native", "monte_carlo_stock_valuation_parity",
        "monte_carlo_stock_valuation", "scenario_terminal_paths", "scenario_calibrate"]


def test_a_missing_optional_dependency_removes_its_name(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec

    def no_binance(name, *a, **k):
        if name.split(".")[0] == "binance":
            return None
        return real(name, *a, **k)

    monkeypatch.setattr(importlib.util, "find_spec", no_binance)
    names = capabilities()
    assert "broker_binance" not in names and "broker_paper" in names
