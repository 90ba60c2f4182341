"""The analytics public surface, pinned."""
import subprocess
import sys

import nanobook
from nanobook import analytics

EXPECTED = {
    # indicators (+ py_ aliases below)
    "sma", "ema", "rsi", "macd", "bbands", "bollinger", "atr", "wilder_atr", "natr", "trange",
    "stoch", "stochf", "stochrsi", "plus_di", "minus_di", "dx", "adx", "cci", "willr",
    "ultosc", "mom", "roc", "rocp", "rocr", "obv", "ad", "adosc", "sma_panel",
    "sma_panel_by_column", "ema_panel", "ema_panel_by_column", "rsi_panel", "macd_panel",
    "bbands_panel", "atr_panel", "list_supported_indicators",
    # statistics, volatility, CV
    "spearman", "quintile_spread", "deflated_sharpe", "realized_vol", "time_series_split",
    "garch_ewma_forecast", "garch_forecast", "GarchForecast", "walkforward",
    # optimizers
    "optimize_min_variance", "optimize_max_sharpe", "optimize_risk_parity",
    "inverse_cvar_weights", "inverse_cdar_weights", "optimize_hrp", "optimize_portfolio",
    "Constraints", "OptimizationError",
    # sweeps
    "sweep", "expand_grid",
    # Monte-Carlo scenarios
    "MonteCarloResult", "ValuationParams", "calibrate_from_fundamentals",
    "compute_annualized_vol", "monte_carlo_stock_valuation", "monte_carlo_stock_valuation_native",
    "monte_carlo_stock_valuation_parity", "summarize_distribution",
    "terminal_prices_to_log_return_paths",
}
PY_ALIASES = {
    "py_" + n for n in (
        "sma", "sma_panel", "sma_panel_by_column", "ema", "ema_panel", "ema_panel_by_column",
        "rsi", "rsi_panel", "macd", "macd_panel", "bbands", "bbands_panel", "bollinger", "atr",
        "atr_panel", "wilder_atr", "stoch", "stochf", "stochrsi", "plus_di", "minus_di", "dx",
        "adx", "cci", "willr", "ultosc", "mom", "roc", "rocp", "rocr", "obv", "ad", "adosc",
        "natr", "trange", "list_supported_indicators", "spearman", "quintile_spread",
        "deflated_sharpe", "realized_vol", "time_series_split", "garch_ewma_forecast",
        "walkforward", "optimize_min_variance", "optimize_max_sharpe", "optimize_risk_parity",
        "inverse_cvar_weights", "inverse_cdar_weights", "optimize_hrp")
}


def test_all_is_exact():
    assert set(analytics.__all__) == EXPECTED | PY_ALIASES
    for name in analytics.__all__:
        assert getattr(nanobook, name) is getattr(analytics, name)


def test_import_stays_light():
    code = ("import sys, nanobook.analytics; "
            "print(sorted(m for m in ('pandas','scipy','cvxpy','arch','dask','tqdm',"
            "'distributed','matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
