"""Parameter sweeps: process pool, thread pool, Dask LocalCluster, failures per row."""
from __future__ import annotations

import concurrent.futures as cf
import numpy as np
import pytest

import nanobook
from nanobook.analytics import expand_grid, sweep


def momentum_backtest(lookback, threshold):
    """A tiny deterministic backtest on a seeded random walk."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    rng = np.random.default_rng(42)
    r = rng.normal(0.0004, 0.01, 400)
    sig = np.convolve(r, np.ones(lookback) / lookback, mode="full")[: r.size]
    pos = (np.roll(sig, 1) > threshold).astype(float)
    pos[0] = 0.0
    return nanobook.compute_metrics((pos * r).tolist(), 252.0, 0.0)


def as_number(x):
    return x * 2


GRID = {"lookback": [5, 20], "threshold": [0.0, -1.0, 0.001]}


def _check_frame(df):
    assert list(df.columns[:2]) == ["lookback", "threshold"]
    assert "sharpe" in df.columns and df.columns[-1] == "error"
    assert len(df) == 6
    # grid order, last key fastest
    assert df["lookback"].tolist() == [5, 5, 5, 20, 20, 20]
    assert df["threshold"].tolist() == [0.0, -1.0, 0.001] * 2
    bad = df[df["threshold"] < 0]
    assert bad["error"].str.startswith("ValueError: threshold must be >= 0").all()
    assert bad["sharpe"].isna().all()
    good = df[df["threshold"] >= 0]
    assert good["error"].isna().all()
    for _, row in good.iterrows():
        m = momentum_backtest(int(row["lookback"]), row["threshold"])
        assert row["sharpe"] == m.sharpe and row["num_periods"] == 400


def test_default_process_pool():
    _check_frame(sweep(momentum_backtest, GRID, progress=False, max_workers=2))


def test_thread_pool_executor_and_progress(capsys):
    with cf.ThreadPoolExecutor(2) as ex:
        df = sweep(momentum_backtest, GRID, executor=ex, progress=True)
    _check_frame(df)
    assert "6/6" in capsys.readouterr().err


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        df = sweep(momentum_backtest, GRID, executor=client, progress=False)
        _check_frame(df)
        df2 = sweep(as_number, [{"x": 1}, {"x": 2.5}], executor=client.get_executor(),
                    progress=False)
    assert df2["value"].tolist() == [2, 5.0] and df2["error"].isna().all()


class _CountingPool(cf.ProcessPoolExecutor):
    submitted = 0

    def submit(self, *a, **k):
        type(self).submitted += 1
        return super().submit(*a, **k)


def test_unpicklable_function_fails_fast_on_a_process_pool():
    # one clear error before the grid runs (it used to give every row a PicklingError)
    with pytest.raises(TypeError, match=r"fn '.*<lambda>' cannot be sent to a process pool.*"
                                        r"module level.*ThreadPoolExecutor"):
        sweep(lambda x: x, {"x": [1, 2]}, progress=False, max_workers=1)
    with _CountingPool(max_workers=1) as pool:
        with pytest.raises(TypeError, match="cannot be sent to a process pool"):
            sweep(lambda x: x, {"x": [1, 2]}, executor=pool, progress=False)
        with pytest.raises(TypeError, match="grid point 1 .* cannot be sent to a process pool"):
            sweep(as_number, [{"x": 1}, {"x": lambda: 0}], executor=pool, progress=False)
    assert _CountingPool.submitted == 0
    # a thread pool needs no pickling: the lambda runs
    with cf.ThreadPoolExecutor(1) as pool:
        df = sweep(lambda x: x + 1, {"x": [1, 2]}, executor=pool, progress=False)
    assert df["value"].tolist() == [2, 3] and df["error"].tolist() == [None, None]


def test_dask_sends_lambdas_but_fails_fast_on_unpicklable_state():
    distributed = pytest.importorskip("distributed")
    import threading

    lock = threading.Lock()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        df = sweep(lambda x: x * 3, {"x": [1, 2]}, executor=client, progress=False)
        assert df["value"].tolist() == [3, 6]
        with pytest.raises(TypeError, match="cannot be sent to Dask workers.*lock"):
            sweep(lambda x: lock.locked() or x, {"x": [1, 2]}, executor=client, progress=False)


def test_error_column_is_always_object_with_none_for_success():
    with cf.ThreadPoolExecutor(1) as pool:
        ok = sweep(as_number, {"x": [1, 2]}, executor=pool, progress=False)
        mixed = sweep(momentum_backtest, GRID, executor=pool, progress=False)
    assert ok["error"].dtype == object and ok["error"].tolist() == [None, None]
    assert mixed["error"].dtype == object
    errs = mixed["error"].tolist()
    assert [e is None for e in errs] == [t >= 0 for t in mixed["threshold"]]
    assert all(isinstance(e, str) for e in errs if e is not None)
    empty = sweep(as_number, [], progress=False)
    assert list(empty.columns) == ["error"] and empty["error"].dtype == object


def test_grid_validation_and_points():
    assert expand_grid({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert expand_grid([{"a": 1}, {"a": 2, "b": 3}]) == [{"a": 1}, {"a": 2, "b": 3}]
    with pytest.raises(TypeError, match="grid\\['a'\\]"):
        expand_grid({"a": 3})
    with pytest.raises(TypeError, match="grid point 1"):
        expand_grid([{"a": 1}, 5])
    with pytest.raises(TypeError, match="executor"):
        sweep(as_number, {"x": [1]}, executor=object(), progress=False)
    with pytest.raises(TypeError, match="fn must be callable"):
        sweep(3, {"x": [1]}, progress=False)


def test_empty_grid():
    df = sweep(as_number, [], progress=False)
    assert len(df) == 0 and list(df.columns) == ["error"]


def test_capabilities_report_analytics_names():
    caps = nanobook.capabilities()
    for name in ("garch_forecast", "optimize_hrp", "optimize_portfolio", "parameter_sweep",
                 "parameter_sweep_dask", "garch_ewma_forecast", "optimize_min_variance"):
        assert name in caps
