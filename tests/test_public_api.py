"""The public surface is pinned: a name added or removed is a deliberate change.

The second list is the reference's (nanobook 0.19.2) ``__all__``: code
written for it must find every one of those names here.
"""
import subprocess
import sys

import nanobook

PUBLIC = [
    'BOOK_LEVEL_DTYPE', 'BacktestResult', 'BacktestWeightsResult', 'BarPrices',
    'BinanceBroker', 'BinanceDepthBook', 'BinanceReplay', 'BookSnapshot', 'CancelResult',
    'Constraints', 'CostModel', 'Event', 'Exchange', 'FeedError', 'FeedFormatError',
    'FillPolicy', 'GarchForecast', 'ITCH_DTYPES', 'ITCH_MESSAGE_NAMES', 'ITCH_TRADE_DTYPE',
    'IbkrBroker', 'ItchBook', 'ItchMessages', 'KrakenBook', 'L2Book', 'LOBSTER_MESSAGE_DTYPE',
    'LevelSnapshot', 'LobsterReplay', 'MDP3_MESSAGE_DTYPE', 'Mdp3Book', 'Mdp3Messages',
    'Mdp3OrderBook', 'Metrics', 'ModifyResult', 'MonteCarloResult', 'MultiExchange',
    'OptimizationError', 'Order', 'OrderBook', 'Portfolio', 'Position', 'RiskEngine',
    'SYNTHETIC_EVENT_DTYPE', 'SbeSchema', 'SequenceGapError', 'SkippedTargetsWarning', 'StopSubmitResult',
    'SubmitResult', 'Trade', 'ValuationParams', 'ad', 'adosc', 'adx', 'atr', 'atr_panel',
    'backtest_weights', 'bbands', 'bbands_panel', 'bollinger', 'book_depth', 'book_imbalance',
    'calibrate_from_fundamentals', 'capabilities', 'cci', 'compute_annualized_vol',
    'compute_metrics', 'decimal_to_int', 'decode_mdp3', 'decompose_backtest',
    'deflated_sharpe', 'drawdown_series', 'dtypes', 'dx', 'ema', 'ema_panel',
    'ema_panel_by_column', 'events_from_array', 'expand_grid', 'feature_tensor', 'features',
    'garch_ewma_forecast', 'garch_forecast', 'inverse_cdar_weights', 'inverse_cvar_weights',
    'iter_itch', 'kraken_checksum', 'list_supported_indicators', 'load_events', 'load_sp100',
    'macd', 'macd_panel', 'microprice', 'minus_di', 'mom', 'monte_carlo_stock_valuation',
    'monte_carlo_stock_valuation_native', 'monte_carlo_stock_valuation_parity', 'nanobook',
    'natr', 'obv', 'optimize_hrp', 'optimize_max_sharpe', 'optimize_min_variance',
    'optimize_portfolio', 'optimize_risk_parity', 'order_flow_imbalance', 'parse_itch',
    'plus_di', 'py_ad', 'py_adosc', 'py_adx', 'py_atr', 'py_atr_panel', 'py_backtest_weights',
    'py_bbands', 'py_bbands_panel', 'py_bollinger', 'py_capabilities', 'py_cci',
    'py_compute_metrics', 'py_decompose_backtest', 'py_deflated_sharpe', 'py_drawdown_series',
    'py_dx', 'py_ema', 'py_ema_panel', 'py_ema_panel_by_column', 'py_garch_ewma_forecast',
    'py_inverse_cdar_weights', 'py_inverse_cvar_weights', 'py_list_supported_indicators',
    'py_macd', 'py_macd_panel', 'py_minus_di', 'py_mom', 'py_natr', 'py_obv',
    'py_optimize_hrp', 'py_optimize_max_sharpe', 'py_optimize_min_variance',
    'py_optimize_risk_parity', 'py_plus_di', 'py_quintile_spread', 'py_realized_vol', 'py_roc',
    'py_rocp', 'py_rocr', 'py_rolling_max_drawdown', 'py_rolling_sharpe',
    'py_rolling_volatility', 'py_rsi', 'py_rsi_panel', 'py_sma', 'py_sma_panel',
    'py_sma_panel_by_column', 'py_spearman', 'py_stoch', 'py_stochf', 'py_stochrsi',
    'py_tear_sheet', 'py_time_series_split', 'py_trange', 'py_ultosc', 'py_walkforward',
    'py_wilder_atr', 'py_willr', 'quintile_spread', 'read_itch', 'read_lobster',
    'realized_vol', 'register_capability', 'replay_binance', 'replay_kraken', 'replay_lobster',
    'roc', 'rocp', 'rocr', 'rolling_max_drawdown', 'rolling_sharpe', 'rolling_volatility',
    'rsi', 'rsi_panel', 'run_backtest', 'save_events', 'scenarios', 'sim', 'sma', 'sma_panel',
    'sma_panel_by_column', 'spearman', 'stoch', 'stochf', 'stochrsi', 'summarize_distribution',
    'sweep', 'sweep_equal_weight', 'synthetic_order_flow', 'tear_sheet',
    'terminal_prices_to_log_return_paths', 'time_series_split', 'trade_sign_imbalance',
    'trange', 'ultosc', 'vpin', 'walkforward', 'wilder_atr', 'willr',
]

REFERENCE_0_19 = [
    'BacktestResult', 'BarPrices', 'BookSnapshot', 'CancelResult', 'CostModel', 'Event',
    'Exchange', 'FillPolicy', 'IbkrBroker', 'LevelSnapshot', 'Metrics', 'ModifyResult',
    'MonteCarloResult', 'MultiExchange', 'Order', 'Portfolio', 'Position', 'RiskEngine',
    'StopSubmitResult', 'SubmitResult', 'Trade', 'ValuationParams', 'backtest_weights',
    'bollinger', 'calibrate_from_fundamentals', 'capabilities', 'compute_annualized_vol',
    'decompose_backtest', 'drawdown_series', 'ema', 'ema_panel', 'garch_ewma_forecast',
    'inverse_cdar_weights', 'inverse_cvar_weights', 'list_supported_indicators', 'macd',
    'monte_carlo_stock_valuation', 'monte_carlo_stock_valuation_native',
    'monte_carlo_stock_valuation_parity', 'nanobook', 'optimize_hrp', 'optimize_max_sharpe',
    'optimize_min_variance', 'optimize_risk_parity', 'parse_itch', 'py_ad', 'py_adosc',
    'py_adx', 'py_atr', 'py_atr_panel', 'py_backtest_weights', 'py_bbands', 'py_bbands_panel',
    'py_bollinger', 'py_capabilities', 'py_cci', 'py_compute_metrics', 'py_decompose_backtest',
    'py_deflated_sharpe', 'py_drawdown_series', 'py_dx', 'py_ema', 'py_ema_panel',
    'py_ema_panel_by_column', 'py_garch_ewma_forecast', 'py_inverse_cdar_weights',
    'py_inverse_cvar_weights', 'py_list_supported_indicators', 'py_macd', 'py_macd_panel',
    'py_minus_di', 'py_mom', 'py_natr', 'py_obv', 'py_optimize_hrp', 'py_optimize_max_sharpe',
    'py_optimize_min_variance', 'py_optimize_risk_parity', 'py_plus_di', 'py_quintile_spread',
    'py_realized_vol', 'py_roc', 'py_rocp', 'py_rocr', 'py_rolling_max_drawdown',
    'py_rolling_sharpe', 'py_rolling_volatility', 'py_rsi', 'py_rsi_panel', 'py_sma',
    'py_sma_panel', 'py_sma_panel_by_column', 'py_spearman', 'py_stoch', 'py_stochf',
    'py_stochrsi', 'py_tear_sheet', 'py_time_series_split', 'py_trange', 'py_ultosc',
    'py_walkforward', 'py_wilder_atr', 'py_willr', 'realized_vol', 'rolling_max_drawdown',
    'rsi', 'run_backtest', 'scenarios', 'sma', 'sma_panel', 'summarize_distribution',
    'sweep_equal_weight', 'tear_sheet', 'terminal_prices_to_log_return_paths', 'walkforward',
    'wilder_atr',
]


def test_all_is_pinned():
    assert sorted(nanobook.__all__) == PUBLIC


def test_every_public_name_resolves():
    for name in PUBLIC:
        assert getattr(nanobook, name) is not None, name


def test_reference_names_are_all_here():
    assert set(REFERENCE_0_19) <= set(nanobook.__all__)


def test_import_pulls_in_no_heavy_or_upper_layer():
    code = ("import sys, nanobook; "
            "print(sorted(m for m in ('pandas', 'scipy', 'cvxpy', 'arch', 'matplotlib', 'dask', "
            "'ib_async', 'binance', 'tqdm', 'nanobook_risk', 'nanobook_broker', "
            "'nanobook_rebalancer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
