"""nanobook.analytics: indicators, statistics, volatility, optimizers, CV and sweeps.

Names, signatures and return shapes follow nanobook 0.19 (docs/analytics.md), the
``py_*`` aliases included.  Heavy libraries (pandas, scipy, cvxpy, arch,
dask, tqdm) are imported inside the functions that need them.
"""
from . import indicators as _ind
from .indicators import (
    ad, adosc, adx, atr, atr_panel, bbands, bbands_panel, bollinger, cci, dx, ema,
    ema_panel, ema_panel_by_column, list_supported_indicators, macd, macd_panel,
    minus_di, mom, natr, obv, plus_di, roc, rocp, rocr, rsi, rsi_panel, sma, sma_panel,
    sma_panel_by_column, stoch, stochf, stochrsi, trange, ultosc, wilder_atr, willr,
)
from .stats import deflated_sharpe, quintile_spread, realized_vol, spearman, time_series_split
from .volatility import GarchForecast, garch_ewma_forecast, garch_forecast
from .cv import walkforward
from .cv import purged_kfold, purged_walkforward  # noqa: F401  (not in __all__: no reference name)
from .optimize import (
    Constraints, OptimizationError, inverse_cdar_weights, inverse_cvar_weights, optimize_hrp,
    optimize_max_sharpe, optimize_min_variance, optimize_portfolio, optimize_risk_parity,
)
from .sweep import expand_grid, sweep
from .scenarios import (
    MonteCarloResult, ValuationParams, calibrate_from_fundamentals, compute_annualized_vol,
    monte_carlo_stock_valuation, monte_carlo_stock_valuation_native,
    monte_carlo_stock_valuation_parity, summarize_distribution,
    terminal_prices_to_log_return_paths,
)

# reference aliases: the compiled module's py_* names
py_sma = sma
py_sma_panel = sma_panel
py_sma_panel_by_column = sma_panel_by_column
py_ema = ema
py_ema_panel = ema_panel
py_ema_panel_by_column = ema_panel_by_column
py_rsi = rsi
py_rsi_panel = rsi_panel
py_macd = macd
py_macd_panel = macd_panel
py_bbands = bbands
py_bbands_panel = bbands_panel
py_bollinger = bollinger
py_atr = atr
py_atr_panel = atr_panel
py_wilder_atr = wilder_atr
py_stoch = stoch
py_stochf = stochf
py_stochrsi = stochrsi
py_plus_di = plus_di
py_minus_di = minus_di
py_dx = dx
py_adx = adx
py_cci = cci
py_willr = willr
py_ultosc = ultosc
py_mom = mom
py_roc = roc
py_rocp = rocp
py_rocr = rocr
py_obv = obv
py_ad = ad
py_adosc = adosc
py_natr = natr
py_trange = trange
py_list_supported_indicators = list_supported_indicators
py_spearman = spearman
py_quintile_spread = quintile_spread
py_deflated_sharpe = deflated_sharpe
py_realized_vol = realized_vol
py_time_series_split = time_series_split
py_garch_ewma_forecast = garch_ewma_forecast
py_walkforward = walkforward
from .optimize import (  # noqa: E402  (the reference's dict-and-{} rules, not aliases)
    py_inverse_cdar_weights, py_inverse_cvar_weights, py_optimize_hrp, py_optimize_max_sharpe,
    py_optimize_min_variance, py_optimize_risk_parity,
)

__all__ = sorted(
    set(_ind.__all__)
    | {"walkforward", "sweep", "expand_grid"}
    | {"MonteCarloResult", "ValuationParams", "calibrate_from_fundamentals",
       "compute_annualized_vol", "monte_carlo_stock_valuation",
       "monte_carlo_stock_valuation_native", "monte_carlo_stock_valuation_parity",
       "summarize_distribution", "terminal_prices_to_log_return_paths"}
    | {"optimize_min_variance", "optimize_max_sharpe", "optimize_risk_parity",
       "inverse_cvar_weights", "inverse_cdar_weights", "optimize_hrp", "optimize_portfolio",
       "Constraints", "OptimizationError"}
    | {"garch_ewma_forecast", "garch_forecast", "GarchForecast"}
    | {"spearman", "quintile_spread", "deflated_sharpe", "realized_vol", "time_series_split"}
    | {n for n in list(globals()) if n.startswith("py_")}
)
