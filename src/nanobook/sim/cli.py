"""``python -m nanobook sim``: a configured simulation from the command line.

    python -m nanobook sim --config config.toml --data FILE [--data FILE2 ...]
        [--format binance|npy|lobster|mdp3] [--book FILE] [--out DIR]
        [--metrics-port N] [--hold SECONDS] [--no-progress]

``--data`` takes a file or the name of a bundled sample
(``nanobook.datasets``, e.g. ``binance_btcusdt``); one per symbol of
``[trading] symbols``.  The configuration is described in
:mod:`nanobook.sim.config`.  Exit status: 0 after a run (also when the kill
switch fired: the summary says so), 2 for a configuration, data or usage
error (one line on stderr naming the file, key or value; no traceback).
"""
from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from .config import ConfigError, SimConfig, load_config
from .dtypes import EXCH, LOCAL

__all__ = ["main", "build"]


def _data_path(spec: str) -> Path:
    p = Path(spec)
    if p.exists():
        return p
    if "/" not in spec and "." not in spec:
        try:
            from nanobook import datasets  # bundled samples (shipped in the wheel)
        except ImportError:
            raise ConfigError(f"--data {spec!r}: no such file, and this install has no bundled samples") from None
        try:
            return Path(datasets.path(spec))
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"--data {spec!r}: no such file or bundled sample ({exc})") from None
    raise ConfigError(f"--data {spec!r}: no such file")


def _load_stream(path: Path, fmt: str | None, cfg: SimConfig, book: str | None):
    """(md, multiplier) of one data file."""
    from . import stream as st
    v = cfg["venue"]
    if fmt is None:
        fmt = "npy" if path.suffix == ".npy" else "binance"
    if fmt == "binance":
        md = st.from_binance(path, price_decimals=v["price_decimals"], qty_decimals=v["qty_decimals"],
                             market=v["market"])
        mult = 10.0 ** -(v["price_decimals"] + v["qty_decimals"])
    elif fmt == "npy":
        md = np.load(path, allow_pickle=False)
        if md.dtype != st.MD_DTYPE:
            raise ConfigError(f"--data {path}: not a nanobook.sim MD_DTYPE array (dtype {md.dtype})")
        mult = 1.0
    elif fmt == "lobster":
        from nanobook.feeds import read_lobster
        if book is None:
            raise ConfigError("--format lobster needs --book ORDERBOOK_FILE")
        msgs, bk = read_lobster(path, book)
        md = st.from_lobster(msgs, bk)
        mult = 1e-4
    elif fmt == "mdp3":     # the most active security, prices in ticks, the bundled CME schema
        from nanobook import datasets
        from nanobook.feeds import decode_mdp3
        md, info = st.from_mdp3(decode_mdp3(path, datasets.path("mdp3_schema"), arbitrate=True, strict=False),
                                return_info=True)
        mult = info["tick"]
    else:  # pragma: no cover - argparse restricts it
        raise ConfigError(f"--format {fmt!r} is not supported")
    if v["multiplier"] is not None:
        mult = v["multiplier"]
    return md, mult


def build(cfg: SimConfig, md: np.ndarray, multiplier: float):
    """The :class:`~nanobook.sim.Sim` and the strategy a configuration describes."""
    from .engine import Sim
    from .latency import UniformLatency
    from .strategies import MarketMaker, TouchQuoter
    t, lat, fees, v = cfg["trading"], cfg["latency"], cfg["fees"], cfg["venue"]
    q, s, run = cfg["queue"], cfg["strategy"], cfg["run"]

    def latency(base: int, seed: int):
        j = lat["jitter_ns"]
        return UniformLatency(base - j, base + j, seed) if j else base

    entry = latency(lat["order_latency_ns"], lat["seed"])
    resp_base = lat["response_latency_ns"] if lat["response_latency_ns"] is not None else lat["order_latency_ns"]
    response = latency(resp_base, (lat["seed"] + 1) % 2**64)
    if lat["market_data_latency_ns"]:
        # captures carry their own local clock (fastest message = 0 delay): the
        # configured market-data latency is the delay of that fastest message
        md = md.copy()
        loc = (md["flags"] & LOCAL) != 0
        md["local_ts"][loc] += lat["market_data_latency_ns"]
    kw = {}
    if fees["unit"] == "bps":
        kw.update(maker_fee_bps=fees["maker_fee"] + fees["exchange_fee"],
                  taker_fee_bps=fees["taker_fee"] + fees["exchange_fee"])
    else:
        kw.update(maker_fee_per_qty=fees["maker_fee"] + fees["exchange_fee"],
                  taker_fee_per_qty=fees["taker_fee"] + fees["exchange_fee"])
    queue = {"risk_averse": "risk_averse", "power": None, "log": "log"}[q["model"]]
    if queue is None:
        from .queue import PowerProb
        queue = PowerProb(q["power"])
    sim = Sim(md, entry_latency=entry, response_latency=response, queue_model=queue, multiplier=multiplier,
              max_position=t["max_position"], record_interval=run["record_interval_ns"],
              tick_size=v["tick_size"], lot_size=v["lot_size"], min_notional=v["min_notional"],
              fill_rounding=q["fill_rounding"], initial_capital=t["initial_capital"],
              kill_switch=cfg.kill_switch, **kw)
    if s["name"] == "touch":
        strat = TouchQuoter(s["order_size"], timer_interval=s["timer_interval_ns"], max_position=t["max_position"])
    else:
        strat = MarketMaker(s["half_spread"], s["order_size"],
                            t["max_position"] if t["max_position"] is not None else 2**62,
                            skew=s["skew"], requote=s["requote"], tick=v["tick_size"],
                            timer_interval=s["timer_interval_ns"])
    return sim, strat


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nanobook sim",
                                 description="Run the market-making simulator from a TOML configuration.")
    ap.add_argument("--config", required=True, help="TOML file (see docs/sim.md)")
    ap.add_argument("--data", required=True, action="append",
                    help="market data file or bundled sample name; one per [trading] symbol")
    ap.add_argument("--format", choices=("binance", "npy", "lobster", "mdp3"), default=None,
                    help="data format (default: npy for .npy files, else binance)")
    ap.add_argument("--book", help="LOBSTER orderbook file (with --format lobster)")
    ap.add_argument("--out", help="directory for report.html and the run's tables (CSV)")
    ap.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on 127.0.0.1:PORT")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="keep the metrics endpoint up this many seconds after the run (default 0)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except (ConfigError, ValueError, TypeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.metrics_port is not None and not 0 < args.metrics_port < 65536:
        raise ConfigError(f"--metrics-port must be in 1..65535, got {args.metrics_port}")
    if args.hold < 0 or args.hold != args.hold:
        raise ConfigError(f"--hold must be >= 0 seconds, got {args.hold}")
    import importlib.util
    for flag, mod in (("--out", "matplotlib"), ("--metrics-port", "prometheus_client")):
        if getattr(args, flag[2:].replace("-", "_")) is not None and importlib.util.find_spec(mod) is None:
            raise ConfigError(f"{flag} needs {mod}, which this install lacks: pip install 'nanobook[sim]'")
    cfg = load_config(args.config)
    paths = [_data_path(d) for d in args.data]
    symbols = cfg["trading"]["symbols"] or [p.name.split(".")[0] for p in paths]
    if len(symbols) != len(paths):
        raise ConfigError(f"{cfg.source}: [trading] symbols names {len(symbols)} instrument(s) "
                          f"({', '.join(symbols)}) but --data gave {len(paths)} file(s)")
    from .result import SimResult
    sims = {}
    for sym, p in zip(symbols, paths):
        try:
            md, mult = _load_stream(p, args.format, cfg, args.book)
        except (ValueError, OSError, EOFError, zlib.error) as exc:
            raise ConfigError(f"--data {p}: {exc}") from None
        sims[sym] = build(cfg, md, mult)
    metrics = None
    if args.metrics_port is not None:
        from .metrics import SimMetrics
        metrics = SimMetrics()
        metrics.serve(args.metrics_port)
    speed = cfg["run"]["speed"]
    every = cfg["run"]["progress_every"]
    if speed > 0:
        every = min(every, 1000)
    results: dict[str, SimResult] = {}
    try:
        if len(sims) == 1:
            for sym, (sim, strat) in sims.items():
                results[sym] = _run_one(sym, sim, strat, every, speed, metrics, not args.no_progress)
        else:
            from .multi import EachInstrument, MultiSim
            multi = MultiSim({sym: sim for sym, (sim, _) in sims.items()})
            hook = _progress_hook(speed, metrics) if (metrics is not None or speed > 0) else None
            res = multi.run(EachInstrument({sym: st for sym, (_, st) in sims.items()}), progress=hook,
                            progress_every=every)
            results = dict(res.results)
            print(repr(res))
        for sym, res in results.items():
            print(f"[{sym}] {res!r}")
            print(res.summary())
        if args.out:
            out = Path(args.out)
            from .report import write_report, write_tables
            text = Path(args.config).read_text()
            for sym, res in results.items():
                pre = "" if len(results) == 1 else f"{sym}_"
                write_tables(res, out, pre)
                scale = 10.0 ** -cfg["venue"]["price_decimals"] if (args.format or "binance") == "binance" else 1.0
                write_report(res, out / f"{pre}report.html", title=f"nanobook.sim: {sym}", config_text=text,
                             price_scale=scale)
            print(f"wrote {out}/report.html and the run's tables (CSV)")
        if metrics is not None and args.hold:
            time.sleep(args.hold)
    finally:
        if metrics is not None:
            metrics.close()
    return 0


def _progress_hook(speed, metrics):
    """progress(symbol, sim) of a MultiSim run: metrics and wall-clock pacing."""
    wall0 = time.perf_counter()
    state = {"t0": None}

    def hook(sym, sim):
        core = sim._core
        if metrics is not None:
            metrics.update(sym, core)
        if speed > 0:
            if state["t0"] is None:
                state["t0"] = core.now
            ahead = (core.now - state["t0"]) / 1e9 / speed - (time.perf_counter() - wall0)
            if ahead > 0:
                time.sleep(ahead)
    return hook


def _run_one(sym, sim, strat, every, speed, metrics, show_progress):
    bar = None
    if show_progress:
        from tqdm import tqdm
        bar = tqdm(total=int((sim.md["flags"] & EXCH).astype(bool).sum()), unit="ev", unit_scale=True,
                   desc=sym, disable=None, file=sys.stderr)
    hook = _progress_hook(speed, metrics)

    def progress(done, total):
        if bar is not None:
            bar.update(done - bar.n)
        hook(sym, sim)

    try:
        res = sim.run(strat, progress=progress, progress_every=every)
    finally:
        if bar is not None:
            bar.close()
    return res
