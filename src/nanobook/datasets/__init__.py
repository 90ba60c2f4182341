"""Bundled real market data: small public samples shipped in the wheel.

Every sample the demo, the docs' examples and the tests of an installed
package use is here, so nothing is fetched at run time.  Provenance and
licences: ``data/PROVENANCE.md`` beside this file (printed by
``describe()``).

>>> import nanobook.datasets as ds
>>> sorted(ds.SAMPLES)[:3]
['binance_btcusdt', 'itch_pcap', 'itch_ritch']
>>> ds.path("itch_pcap").name
'Nasdaq.Multiple.Packets.pcap'

The loaders return what the matching reader of :mod:`nanobook.feeds` returns
for that file; :func:`path` gives the file itself for any other reader (the
simulator's ``from_binance``, ``SbeSchema``, ...).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "SAMPLES",
    "describe",
    "load_binance_btcusdt",
    "load_itch",
    "load_lobster_msft",
    "load_mdp3",
    "load_sp100",
    "path",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

# name -> (file under data/, one-line description).  The licence and the
# upstream commit of each are in data/PROVENANCE.md.
SAMPLES: dict[str, tuple[str, str]] = {
    "sp100": ("sp100_ohlcv.csv.gz",
              "daily OHLCV of 20 S&P 100 stocks, 2019-01-02 to 2026-05-11 (Yahoo-derived, MIT)"),
    "binance_btcusdt": ("binance_spot_btcusdt_20240808.head12000.gz",
                        "Binance spot BTCUSDT capture, first 12,000 lines (depth, bookTicker, trades; "
                        "2024-08-08 23:54 UTC; hftbacktest's sample, MIT)"),
    "lobster_msft_message": ("MSFT_2012-06-21_34200000_37800000_message_50.csv",
                             "LOBSTER MSFT 2012-06-21 sample, first 1000 messages (BSD-3-Clause)"),
    "lobster_msft_orderbook": ("MSFT_2012-06-21_34200000_37800000_orderbook_50.csv.gz",
                               "LOBSTER MSFT 2012-06-21 sample, the 50-level book after each message"),
    "itch_pcap": ("Nasdaq.Multiple.Packets.pcap",
                  "NASDAQ TotalView-ITCH 5.0 MoldUDP64 capture, 39 real messages"),
    "itch_ritch": ("ex20101224.TEST_ITCH_50.gz",
                   "RITCH's artificial ITCH 5.0 day (3 made-up stocks; zero length slots: read lenient)"),
    "mdp3_pcap": ("v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz",
                  "CME Globex MDP 3.0 capture (pcapng, A and B feeds)"),
    "mdp3_schema": ("FixBinary_v9_real-logic.xml.gz",
                    "CME MDP 3.0 SBE schema id 1, version 9"),
}


def path(name: str) -> Path:
    """The bundled file called ``name`` (a key of :data:`SAMPLES`).

    Raises
    ------
    ValueError
        ``name`` is not a bundled sample (the message lists the names).
    """
    if not isinstance(name, str) or name not in SAMPLES:
        raise ValueError(f"name must be one of {', '.join(sorted(SAMPLES))}, got {name!r}")
    return DATA_DIR / SAMPLES[name][0]


def describe() -> str:
    """Provenance and licence of every bundled sample (``data/PROVENANCE.md``)."""
    return (DATA_DIR / "PROVENANCE.md").read_text(encoding="utf-8")


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
    long = pd.read_csv(path("sp100"), parse_dates=["Date"])
    long.columns = [c.lower() for c in long.columns]
    wide = {f: long.pivot(index="date", columns="ticker", values=f).sort_index() for f in fields}
    for f in fields:
        wide[f].columns.name = None
        wide[f].index.name = "date"
    return wide if field is None else wide[field]


def load_binance_btcusdt(**kwargs: Any) -> Any:
    """The Binance BTCUSDT sample replayed through :func:`nanobook.feeds.replay_binance`
    (keyword arguments are passed on); returns its ``BinanceReplay``."""
    from ..feeds import replay_binance

    return replay_binance(path("binance_btcusdt"), **kwargs)


def load_lobster_msft() -> tuple[Any, Any]:
    """The LOBSTER MSFT sample through :func:`nanobook.feeds.read_lobster`:
    ``(messages, book)``."""
    from ..feeds import read_lobster

    return read_lobster(path("lobster_msft_message"), path("lobster_msft_orderbook"))


def load_itch(name: str = "itch_pcap") -> Any:
    """An ITCH sample through :func:`nanobook.feeds.read_itch`: ``"itch_pcap"``
    (real NASDAQ capture, strict) or ``"itch_ritch"`` (artificial day, read
    leniently because its length slots are zero)."""
    from ..feeds import read_itch

    if name not in ("itch_pcap", "itch_ritch"):
        raise ValueError(f"name must be 'itch_pcap' or 'itch_ritch', got {name!r}")
    return read_itch(path(name), lenient=(name == "itch_ritch"))


def load_mdp3(**kwargs: Any) -> Any:
    """The CME MDP 3.0 sample through :func:`nanobook.feeds.decode_mdp3` with the
    bundled v9 schema (keyword arguments are passed on)."""
    from ..feeds import decode_mdp3

    return decode_mdp3(path("mdp3_pcap"), path("mdp3_schema"), **kwargs)
