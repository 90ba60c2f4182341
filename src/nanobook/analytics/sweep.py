"""Parameter sweeps on a process pool, any executor, or a Dask cluster.

``sweep(fn, grid)`` calls ``fn(**params)`` for every point of ``grid`` in
parallel and returns one tidy pandas DataFrame: one row per point, the
parameters first, then the metrics ``fn`` returned, then ``error``.  A point
that raises is reported in its own row (``error`` holds
``"ExceptionType: message"``) and never loses the others.

One missing-value convention: a metric a point did not return is ``NaN``;
``error`` is always present, of object dtype, ``None`` where the point
succeeded (never NaN or ``""``), even for an empty grid.

Something that cannot be sent to the workers at all (a lambda or a closure
on a process pool, which pickles by reference; an object holding a lock on
Dask, which uses cloudpickle) fails fast: one ``TypeError`` before the grid
runs, not one error per row.

Where it runs:

* ``executor=None``: a local :class:`concurrent.futures.ProcessPoolExecutor`
  on all cores, created and shut down by the call;
* any :class:`concurrent.futures.Executor` you pass (kept open);
* a Dask ``distributed.Client`` (or ``client.get_executor()``): the points
  become Dask tasks on whatever cluster the client is connected to.

No cluster code of our own; no import of pandas, tqdm or dask until called.
"""
from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping

from ..validate import is_real

__all__ = ["sweep", "expand_grid"]

_METRIC_FIELDS = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
                  "calmar", "num_periods", "winning_periods", "losing_periods", "cvar_95",
                  "win_rate", "profit_factor", "payoff_ratio", "kelly")


def expand_grid(grid) -> list[dict]:
    """Points of a grid.

    ``grid`` is either a mapping ``{name: iterable of values}`` (the cartesian
    product, in key order, last key fastest) or an iterable of mappings (the
    points themselves).
    """
    if isinstance(grid, Mapping):
        names = list(grid)
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"grid keys must be parameter names (str), got {n!r}")
        values = []
        for n in names:
            v = grid[n]
            if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
                raise TypeError(f"grid[{n!r}] must be an iterable of values, got {type(v).__name__}")
            values.append(list(v))
        return [dict(zip(names, combo)) for combo in itertools.product(*values)]
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Iterable):
        raise TypeError(f"grid must be a mapping of lists or an iterable of dicts, "
                        f"got {type(grid).__name__}")
    points = []
    for i, p in enumerate(grid):
        if not isinstance(p, Mapping):
            raise TypeError(f"grid point {i} must be a mapping, got {type(p).__name__}")
        points.append(dict(p))
    return points


def _as_metrics(value) -> dict:
    """Normalise what a backtest function returned into ``{metric: value}``."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        if "metrics" in value and not isinstance(value.get("metrics"), (int, float)):
            return _as_metrics(value["metrics"])
        return {str(k): v for k, v in value.items()}
    if all(hasattr(value, f) for f in ("total_return", "sharpe", "max_drawdown")):
        return {f: getattr(value, f) for f in _METRIC_FIELDS if hasattr(value, f)}
    if hasattr(value, "metrics"):
        return _as_metrics(value.metrics)
    if is_real(value):
        return {"value": value}
    raise TypeError(f"sweep: fn returned {type(value).__name__}; return a Metrics, a dict "
                    "of metrics, a number, or None")


def _run_point(fn, params):
    """Worker side: never raises; returns ``(metrics, error)``."""
    try:
        return _as_metrics(fn(**params)), None
    except BaseException as exc:  # noqa: BLE001 - a failing point must not kill the sweep
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {}, f"{type(exc).__name__}: {exc}"


def _check_sendable(fn, points, kind: str) -> None:
    """Raise one ``TypeError`` now if ``fn`` or a grid point cannot be pickled
    the way the chosen executor will pickle it (``kind``: "process" or "dask")."""
    if kind == "dask":
        from distributed.protocol.pickle import dumps
    else:
        import pickle

        def dumps(obj):
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    where = "a process pool" if kind == "process" else "Dask workers"
    try:
        dumps(fn)
    except Exception as exc:
        name = getattr(fn, "__qualname__", type(fn).__name__)
        hint = ("define it with def at module level in an importable module, or pass "
                "executor=concurrent.futures.ThreadPoolExecutor()") if kind == "process" else \
            "remove the unpicklable state it closes over (locks, open files, sockets)"
        raise TypeError(f"sweep: fn {name!r} cannot be sent to {where} "
                        f"({type(exc).__name__}: {exc}); {hint}") from exc
    for i, p in enumerate(points):
        try:
            dumps(p)
        except Exception as exc:
            raise TypeError(f"sweep: grid point {i} {p!r} cannot be sent to {where} "
                            f"({type(exc).__name__}: {exc})") from exc


def _is_dask_client(obj) -> bool:
    mod = type(obj).__module__ or ""
    return mod.startswith("distributed") and hasattr(obj, "get_executor") and hasattr(obj, "submit")


def sweep(fn, grid, executor=None, progress=True, *, max_workers=None, desc="sweep"):
    """Run ``fn(**params)`` over a parameter grid in parallel.

    Parameters
    ----------
    fn : callable
        A backtest function taking the grid's parameters as keywords and
        returning a ``Metrics`` (or anything with a ``metrics`` attribute or
        key), a dict of metrics, a number (column ``value``) or ``None``.  It
        must be picklable (a module-level function) for a process pool;
        on Dask, cloudpickle also sends lambdas and closures.  If it cannot
        be sent, ``TypeError`` is raised before any point runs.
    grid : mapping or iterable of mappings
        ``{name: values}`` for a cartesian product, or explicit points.
    executor : concurrent.futures.Executor or distributed.Client, optional
        Where to run.  Default: a process pool on all cores.
    progress : bool
        Show a tqdm progress bar.
    max_workers : int, keyword-only
        Size of the default process pool (default ``os.cpu_count()``).
    desc : str, keyword-only
        Progress bar label.

    Returns
    -------
    pandas.DataFrame
        One row per point in grid order: parameter columns, metric columns
        (NaN where a point has no value), and ``error`` (object dtype,
        ``None`` on success, else ``"ExceptionType: message"``).

    Raises
    ------
    TypeError
        ``fn`` not callable, a bad ``grid`` or ``executor``, or ``fn`` / a
        point that the executor cannot pickle (checked before the grid runs).
    """
    import concurrent.futures as cf

    import pandas as pd

    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    points = expand_grid(grid)
    if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
        raise ValueError(f"max_workers must be a positive int, got {max_workers!r}")
    if executor is not None and not (isinstance(executor, cf.Executor) or _is_dask_client(executor)):
        raise TypeError("executor must be a concurrent.futures.Executor or a dask "
                        f"distributed.Client, got {type(executor).__name__}")
    if points:
        if executor is None or isinstance(executor, cf.ProcessPoolExecutor):
            _check_sendable(fn, points, "process")
        elif _is_dask_client(executor) or type(executor).__module__.startswith("distributed"):
            _check_sendable(fn, points, "dask")
    results: list = [None] * len(points)

    bar = None
    if progress and points:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(points), desc=desc, unit="pt")
    own = None
    try:
        if executor is None:
            own = cf.ProcessPoolExecutor(max_workers=max_workers or os.cpu_count() or 1)
            ex = own
        elif _is_dask_client(executor):
            ex = executor.get_executor(pure=False)
        else:
            ex = executor
        futures = {}
        for i, p in enumerate(points):
            try:
                futures[ex.submit(_run_point, fn, p)] = i
            except Exception as exc:  # e.g. a pickling error on submit
                results[i] = ({}, f"{type(exc).__name__}: {exc}")
                if bar is not None:
                    bar.update(1)
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except Exception as exc:  # worker crashed, result not picklable, ...
                results[i] = ({}, f"{type(exc).__name__}: {exc}")
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)

    rows = []
    metric_cols: list[str] = []
    seen = set()
    for p, (metrics, err) in zip(points, results):
        for k in metrics:
            if k not in seen and k not in p:
                seen.add(k)
                metric_cols.append(k)
        rows.append((p, metrics, err))
    param_cols = []
    for p in points:
        for k in p:
            if k not in param_cols:
                param_cols.append(k)
    records = []
    for p, metrics, err in rows:
        rec = {k: p.get(k) for k in param_cols}
        for k in metric_cols:
            rec[k] = metrics.get(k, math.nan)
        rec["error"] = err
        records.append(rec)
    df = pd.DataFrame.from_records(records, columns=param_cols + metric_cols + ["error"])
    df["error"] = pd.Series([r["error"] for r in records], index=df.index, dtype=object)
    return df
