"""Bundled real market data: the S&P 100 daily panel (see ``data/PROVENANCE.md``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["load_sp100", "SP100_PATH"]

SP100_PATH = Path(__file__).resolve().parent / "data" / "sp100_ohlcv.csv.gz"


def load_sp100(field: str | None = None) -> Any:
    """Daily OHLCV of 20 S&P 100 stocks, 2019-01-02 to 2026-05-11 (MIT, Yahoo-derived).

    Parameters
    ----------
    field : {"open", "high", "low", "close", "volume"} or None
        One wide DataFrame (index = dates, columns = tickers) for that field,
        or, when None, a dict of the five wide frames.

    Returns
    -------
    pandas.DataFrame or dict of DataFrames
        Prices in dollars (floats).
    """
    import pandas as pd

    fields = ("open", "high", "low", "close", "volume")
    if field is not None and field not in fields:
        raise ValueError(f"field must be one of {', '.join(fields)} or None, got {field!r}")
    long = pd.read_csv(SP100_PATH, parse_dates=["Date"])
    long.columns = [c.lower() for c in long.columns]
    wide = {f: long.pivot(index="date", columns="ticker", values=f).sort_index() for f in fields}
    for f in fields:
        wide[f].columns.name = None
        wide[f].index.name = "date"
    return wide if field is None else wide[field]
