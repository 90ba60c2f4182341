"""``python -m nanobook signal train|eval``: learned signals from the command line.

    python -m nanobook signal train --format synthetic --events 20000 --seed 0 --out runs/syn
    python -m nanobook signal train --data spot_btcusdt.gz --format binance --clock-ms 100 --out runs/btc
    python -m nanobook signal train --sample binance_btcusdt --format binance --out runs/btc-sample
    python -m nanobook signal eval --model runs/btc --data other.gz --format binance --out runs/btc-eval
    python -m nanobook signal train --sample mdp3_pcap --format mdp3 --out runs/cme
"""
from __future__ import annotations

import argparse
import sys

from .dataset import FORMATS


def _ints(s: str) -> tuple[int, ...]:
    try:
        v = tuple(int(x) for x in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints, got {s!r}") from None
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError(f"horizons must be ints >= 1, got {s!r}")
    return v


def _data_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--data", help="data file (not for --format synthetic)")
    ap.add_argument("--sample", help="a sample bundled with nanobook instead of --data (a nanobook.datasets "
                                     "name: binance_btcusdt, lobster_msft_message, itch_pcap, itch_ritch, mdp3_pcap)")
    ap.add_argument("--format", required=True, choices=FORMATS)
    ap.add_argument("--orderbook", help="LOBSTER orderbook file (default: found beside the message file)")
    ap.add_argument("--symbol", help="ITCH symbol or stock locate, MDP3 security id (default: the most active)")
    ap.add_argument("--schema", help="MDP3 SBE schema XML (default: the CME schema bundled with nanobook)")
    ap.add_argument("--price-decimals", type=int, default=2, help="Binance price decimals (default 2)")
    ap.add_argument("--qty-decimals", type=int, default=6, help="Binance quantity decimals (default 6)")
    ap.add_argument("--events", type=int, default=20_000, help="synthetic: number of events (default 20,000)")
    ap.add_argument("--seed", type=int, default=0, help="synthetic generator and training seed (default 0)")
    ap.add_argument("--latency-us", type=float, default=1000.0,
                    help="entry and response latency of the in-loop runs, microseconds (default 1000)")
    ap.add_argument("--maker-fee-bps", type=float, default=0.0)
    ap.add_argument("--taker-fee-bps", type=float, default=0.0)
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")


def _load(args, ap):
    from .dataset import load_stream

    if args.sample is not None:
        if args.data is not None:
            ap.error("give --data or --sample, not both")
        try:
            from nanobook import datasets
        except ImportError:
            ap.error("--sample needs nanobook.datasets, which this install does not have; use --data FILE")
        try:
            args.data = str(datasets.path(args.sample))
        except ValueError as exc:
            ap.error(f"--sample: {exc}")
    if args.format == "synthetic":
        if args.data is not None:
            ap.error("--format synthetic takes no --data or --sample (use --events and --seed)")
        if args.events < 100:
            ap.error(f"--events must be >= 100, got {args.events}")
    elif args.data is None:
        ap.error(f"--format {args.format} needs --data FILE or --sample NAME")
    symbol = args.symbol
    if symbol is not None and symbol.isdigit():
        symbol = int(symbol)
    return load_stream(args.format, args.data, n_events=args.events, seed=args.seed, orderbook=args.orderbook,
                       symbol=symbol, price_decimals=args.price_decimals, qty_decimals=args.qty_decimals,
                       schema=args.schema)


def _settings(args, meta, ap):
    import math

    from .pipeline import SimSettings

    for name in ("latency_us", "maker_fee_bps", "taker_fee_bps"):
        v = getattr(args, name)
        if not math.isfinite(v) or (name == "latency_us" and v < 0):
            ap.error(f"--{name.replace('_', '-')} must be a finite number{' >= 0' if name == 'latency_us' else ''}, "
                     f"got {v}")
    return SimSettings(qty=meta["qty"], tick=meta["tick"], multiplier=meta["multiplier"],
                       latency_ns=int(round(args.latency_us * 1000)), maker_fee_bps=args.maker_fee_bps,
                       taker_fee_bps=args.taker_fee_bps)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m nanobook signal",
                                 description="Train or evaluate a learned order-book signal.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="build the dataset, cross-validate, train, export, report")
    _data_args(tr)
    tr.add_argument("--horizons", type=_ints, default=(5, 20, 100), help="label horizons in samples (default 5,20,100)")
    tr.add_argument("--band", type=float, default=0.0, help="flat band of the labels, price units (default 0)")
    tr.add_argument("--clock-ms", type=float, default=None,
                    help="sample every this many ms of local time (default: every book update)")
    tr.add_argument("--folds", type=int, default=3, help="purged walk-forward folds (default 3)")
    tr.add_argument("--embargo", type=int, default=None, help="embargo in samples (default: the longest horizon)")
    tr.add_argument("--holdout", type=float, default=0.3, help="final held-out fraction (default 0.3)")
    tr.add_argument("--epochs", type=int, default=20)
    tr.add_argument("--d-model", type=int, default=32)
    tr.add_argument("--d-state", type=int, default=8)
    tr.add_argument("--onnx-window", type=int, default=32, help="ticks per ONNX call (default 32)")
    ev = sub.add_parser("eval", help="score a saved model on another file")
    ev.add_argument("--model", required=True, help="directory written by signal train")
    _data_args(ev)
    args = ap.parse_args(argv)
    if args.out is None:
        (tr if args.cmd == "train" else ev).error("--out DIR is required" if args.cmd == "train"
                                                  else "--out DIR is required")
    from .dataset import FeatureConfig  # noqa: F401  (fail early if the package is broken)

    try:
        md, meta = _load(args, tr if args.cmd == "train" else ev)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = _settings(args, meta, tr if args.cmd == "train" else ev)
    try:
        if args.cmd == "train":
            from .models import SSMConfig
            from .pipeline import train

            if args.clock_ms is not None and not args.clock_ms > 0:
                tr.error(f"--clock-ms must be > 0, got {args.clock_ms}")
            if not 0 <= args.band < float("inf"):
                tr.error(f"--band must be a finite number >= 0, got {args.band}")
            clock = None if args.clock_ms is None else int(round(args.clock_ms * 1e6))
            cfg = SSMConfig(d_model=args.d_model, d_state=args.d_state, epochs=args.epochs, seed=args.seed)
            train(md, meta, args.out, horizons=args.horizons, band=args.band, clock_ns=clock, folds=args.folds,
                  embargo=args.embargo, holdout=args.holdout, ssm_config=cfg, settings=settings,
                  onnx_window=args.onnx_window, progress=not args.no_progress)
        else:
            from .pipeline import evaluate

            evaluate(md, meta, args.model, args.out, settings=settings)
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}/report.json and {args.out}/report.html")
    return 0
