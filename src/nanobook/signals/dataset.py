"""Datasets for learned signals: causal order-book features and forward labels.

Features are computed **online** by :class:`FeatureState`, one sample at a
time, from what a strategy sees: the local book (``sim.depth``) at the
sample time and the trades received since the previous sample.  The offline
builder :func:`build_dataset` replays a market-data stream through
:class:`nanobook.sim.Sim` with a recording strategy that drives the same
:class:`FeatureState`, so the features a model is trained on are exactly the
ones :class:`~nanobook.signals.SignalMarketMaker` computes in the loop, and
no feature can see the future (the simulator only ever shows the past).

Labels are computed afterwards from the sample mids: for horizon ``k``
(samples: events, or clock steps), ``down`` (0) / ``flat`` (1) / ``up`` (2)
by the sign of ``mid[i + k] - mid[i]`` with a flat band ``|Δ| <= band``
(price units); the last ``k`` samples have no label (-1).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..validate import integer, is_int, real

__all__ = [
    "FEATURE_NAMES", "FeatureConfig", "FeatureState", "Dataset", "build_dataset",
    "forward_labels", "Normalizer", "load_stream", "FORMATS",
]

FEATURE_NAMES = (
    "ret_bps",        # log mid change since the previous sample, basis points
    "spread_bps",     # (ask - bid) / mid
    "micro_bps",      # microprice - mid, basis points of the mid
    "imbalance_1",    # (qb - qa) / (qb + qa) at the touch
    "imbalance_L",    # the same over the configured levels
    "ofi_1",          # order-flow imbalance at the touch since the previous sample, slog
    "ofi_L",          # summed multi-level OFI since the previous sample, slog
    "trade_flow",     # signed (aggressor) traded quantity since the previous sample, slog
    "trade_count",    # log1p(number of trades since the previous sample)
    "trade_sign_ema", # EMA of aggressor signs over trades
    "realized_vol",   # sqrt(EMA of ret_bps**2) over samples
    "vpin",           # VPIN over the last n volume buckets (exact aggressor sides)
    "dt_ms",          # log1p(ms since the previous sample)
)
N_FEATURES = len(FEATURE_NAMES)


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the online features.

    Attributes
    ----------
    levels : int
        Book levels used by ``imbalance_L`` and ``ofi_L`` (>= 1).
    clock_ns : int or None
        None: one sample per local book update (event time); else one
        sample every ``clock_ns`` of local time (clock time).
    trade_ema, vol_ema : float
        EMA weights in (0, 1] of the trade-sign and volatility features.
    vpin_bucket : float
        Volume per VPIN bucket (quantity units, > 0).
    vpin_buckets : int
        Buckets in the VPIN average (>= 1).
    """

    levels: int = 5
    clock_ns: int | None = None
    trade_ema: float = 0.1
    vol_ema: float = 0.05
    vpin_bucket: float = 1000.0
    vpin_buckets: int = 20

    def __post_init__(self):
        integer(self.levels, "levels", ge=1)
        if self.clock_ns is not None:
            integer(self.clock_ns, "clock_ns", ge=1, expect="None or an int >= 1")
        for name in ("trade_ema", "vol_ema"):
            v = getattr(self, name)
            real(v, name, gt=0, le=1)
        v = self.vpin_bucket
        real(v, "vpin_bucket", gt=0, finite=True)
        integer(self.vpin_buckets, "vpin_buckets", ge=1)

    def to_dict(self) -> dict:
        return asdict(self)


class FeatureState:
    """Online feature computer: feed trades with :meth:`on_trade`, take a
    sample with :meth:`sample`.  O(levels) per sample, O(1) per trade; the
    arithmetic runs in C (``nanobook/signals/_features.pyx``).

    A sample is taken only while the book is two-sided (:meth:`sample`
    returns None otherwise, and the state is left unchanged).
    """

    def __init__(self, config: FeatureConfig) -> None:
        from ._features import FeatureCore

        if not isinstance(config, FeatureConfig):
            raise TypeError(f"config must be a FeatureConfig, got {config!r}")
        self.config = config
        self._core = FeatureCore(config.levels, float(config.trade_ema), float(config.vol_ema),
                                 float(config.vpin_bucket), config.vpin_buckets)

    def reset(self) -> None:
        self._core.reset()

    def on_trade(self, side: int, qty: int) -> None:
        """A trade of ``qty`` whose aggressor is ``side`` (0 buy, 1 sell)."""
        self._core.on_trade(side, qty)

    def sample(self, ts: int, depth: np.ndarray) -> np.ndarray | None:
        """Features at local time ``ts`` from ``depth``, an int array
        ``(4, n)`` of bid px, bid qty, ask px, ask qty (best first, as
        :meth:`nanobook.sim.Sim.depth` returns it; empty levels are 0)."""
        out = np.empty(N_FEATURES)
        d = depth if depth.dtype == np.int64 and depth.flags.c_contiguous else np.ascontiguousarray(depth, np.int64)
        return out if self._core.sample(ts, d, out) else None


def forward_labels(mid, horizons, band: float = 0.0) -> np.ndarray:
    """Down (0) / flat (1) / up (2) labels of the mid ``k`` samples ahead.

    ``labels[i, j]`` is the class of ``mid[i + k_j] - mid[i]``: up when
    ``> band``, down when ``< -band``, flat otherwise; -1 where ``i + k_j``
    is past the end.  It depends only on ``mid[i]`` and ``mid[i + k_j]``.

    Raises
    ------
    ValueError
        Non-finite mids, horizons not positive ints, a negative or
        non-finite band.
    """
    m = np.asarray(mid, dtype=np.float64)
    if m.ndim != 1:
        raise ValueError(f"mid must be 1-D, got shape {m.shape}")
    if not np.isfinite(m).all():
        i = int(np.flatnonzero(~np.isfinite(m))[0])
        raise ValueError(f"mid must be finite, got mid[{i}] = {m[i]}")
    hs = _horizons(horizons)
    real(band, "band", ge=0, finite=True)
    n = len(m)
    out = np.full((n, len(hs)), -1, dtype=np.int8)
    for j, k in enumerate(hs):
        if k < n:
            d = m[k:] - m[:-k]
            out[:n - k, j] = np.where(d > band, 2, np.where(d < -band, 0, 1))
    return out


def _horizons(horizons) -> tuple[int, ...]:
    try:
        hs = tuple(horizons)
    except TypeError:
        raise TypeError(f"horizons must be a sequence of ints, got {horizons!r}") from None
    if not hs or any(not is_int(h, numpy=True) or h < 1 for h in hs):
        raise ValueError(f"horizons must be a non-empty sequence of ints >= 1, got {horizons!r}")
    return tuple(int(h) for h in hs)


@dataclass
class Dataset:
    """Features, sample times, mids and labels of one stream.

    ``X`` (n, F) raw features (:data:`FEATURE_NAMES`), ``ts`` local sample
    times (ns), ``mid`` the local mid at each sample, ``labels`` (n, H) from
    :func:`forward_labels`.
    """

    X: np.ndarray
    ts: np.ndarray
    mid: np.ndarray
    labels: np.ndarray
    horizons: tuple[int, ...]
    band: float
    config: FeatureConfig
    feature_names: tuple[str, ...] = field(default=FEATURE_NAMES)

    def __len__(self) -> int:
        return len(self.X)

    def t1(self) -> np.ndarray:
        """Index of the last sample each label looks at (for purged CV)."""
        n = len(self)
        return np.minimum(np.arange(n, dtype=np.int64) + max(self.horizons), max(n - 1, 0))


def _recorder(state: FeatureState, clock_ns: int | None):
    from nanobook.sim import Strategy

    class _Rec(Strategy):
        every_book_update = True

        def __init__(self):
            self.rows, self.ts, self.mid = [], [], []

        def on_trade(self, sim, trade):
            state.on_trade(trade.side, trade.qty)

        def _take(self, sim):
            d = sim.depth(state.config.levels)
            x = state.sample(sim.now, d)
            if x is not None:
                self.rows.append(x)
                self.ts.append(sim.now)
                self.mid.append(0.5 * (d[0, 0] + d[2, 0]))

    if clock_ns is None:
        class _EventRec(_Rec):
            def on_book(self, sim):
                self._take(sim)
        return _EventRec()

    class _ClockRec(_Rec):
        timer_interval = clock_ns

        def on_timer(self, sim):
            self._take(sim)
    return _ClockRec()


def default_vpin_bucket(md: np.ndarray, fit_frac: float = 0.5, trades_per_bucket: int = 10) -> float:
    """``trades_per_bucket`` times the mean trade size over the first
    ``fit_frac`` of the stream's rows (a training-window statistic)."""
    from nanobook.sim import EXEC, LOCAL, TRADE

    head = md[: max(1, int(len(md) * fit_frac))]
    t = head[((head["kind"] == TRADE) | (head["kind"] == EXEC)) & ((head["flags"] & LOCAL) != 0)]
    if len(t) == 0:
        return 1.0
    return float(trades_per_bucket * t["qty"].mean())


def build_dataset(md: np.ndarray, *, horizons=(5, 20, 100), band: float = 0.0,
                  config: FeatureConfig | None = None) -> Dataset:
    """Replay ``md`` (:data:`nanobook.sim.MD_DTYPE`) and sample features and labels.

    Parameters
    ----------
    md : numpy.ndarray
        A simulator stream (``from_binance``, ``from_lobster``, ``from_itch``,
        ``from_synthetic``, or :func:`load_stream`).
    horizons : sequence of int
        Label horizons in samples (events, or clock steps of
        ``config.clock_ns``).
    band : float
        Flat band of the labels in price units (``|Δmid| <= band`` is flat).
    config : FeatureConfig, optional
        Default: 5 levels, event time, VPIN bucket from
        :func:`default_vpin_bucket`.

    Raises
    ------
    ValueError
        Bad horizons or band; a stream that never has a two-sided book.
    """
    from nanobook.sim import MD_DTYPE, Sim

    if not isinstance(md, np.ndarray) or md.dtype != MD_DTYPE:
        raise TypeError(f"md must be a MD_DTYPE array, got {getattr(md, 'dtype', type(md).__name__)!r}")
    hs = _horizons(horizons)
    if config is None:
        config = FeatureConfig(vpin_bucket=default_vpin_bucket(md))
    state = FeatureState(config)
    rec = _recorder(state, config.clock_ns)
    Sim(md, record_interval=0).run(rec)
    if not rec.rows:
        raise ValueError("md never shows a two-sided book: no sample could be taken")
    mid = np.asarray(rec.mid, dtype=np.float64)
    return Dataset(X=np.vstack(rec.rows), ts=np.asarray(rec.ts, dtype=np.int64), mid=mid,
                   labels=forward_labels(mid, hs, band), horizons=hs, band=float(band), config=config)


class Normalizer:
    """z-score with statistics of the training rows only, clipped to ``±clip``."""

    def __init__(self, mean, std, clip: float = 10.0) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.clip = float(clip)

    @classmethod
    def fit(cls, X, clip: float = 10.0) -> "Normalizer":
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
        sd = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(sd > 1e-12, sd, 1.0), clip)

    def __call__(self, X) -> np.ndarray:
        return np.clip((np.asarray(X, dtype=np.float64) - self.mean) / self.std, -self.clip, self.clip)


FORMATS = ("binance", "lobster", "itch", "mdp3", "synthetic")


def load_stream(fmt: str, path=None, *, n_events: int = 20_000, seed: int = 0, orderbook=None,
                symbol=None, price_decimals: int = 2, qty_decimals: int = 6,
                schema=None) -> tuple[np.ndarray, dict]:
    """A simulator stream and its instrument facts from a file (or the
    synthetic generator).

    Returns ``(md, meta)`` with ``meta = {"format", "multiplier", "tick",
    "qty", "source"}``: ``tick`` is the price increment in stream price
    units, ``multiplier`` the currency value of one price unit times one
    quantity unit (for :class:`nanobook.sim.Sim`), ``qty`` the quote size
    the in-loop comparison uses (10 synthetic lots, 0.001 BTC, 100 shares).

    ``mdp3``: the capture is decoded with A/B arbitration against
    ``schema`` (default: the bundled CME schema, ``nanobook.datasets.path(
    "mdp3_schema")``); ``symbol`` is the security id (default the most
    active); prices are in ticks (:func:`nanobook.sim.from_mdp3`), the
    quote size 1 contract, and ``multiplier`` is the tick in the
    instrument's price units (the contract size is not in the capture, so
    P&L is in price units x contracts).
    """
    import nanobook.sim as S

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "synthetic":
        from nanobook.feeds import synthetic_order_flow
        if path is not None:
            raise ValueError(f"the synthetic format takes no data file, got {path!r}")
        md = S.from_synthetic(synthetic_order_flow(n_events, seed=seed))
        return md, {"format": fmt, "multiplier": 1.0, "tick": 1, "qty": 10,
                    "source": f"synthetic_order_flow(n_events={n_events}, seed={seed})"}
    if path is None:
        raise ValueError(f"format {fmt!r} needs a data file")
    from pathlib import Path
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"data file {str(path)!r} does not exist")
    if fmt == "binance":
        md = S.from_binance(p, price_decimals=price_decimals, qty_decimals=qty_decimals)
        return md, {"format": fmt, "multiplier": 10.0 ** -(price_decimals + qty_decimals), "tick": 1,
                    "qty": 10 ** max(qty_decimals - 3, 0), "source": str(p)}
    if fmt == "lobster":
        from nanobook.feeds import read_lobster
        if orderbook is None:
            name = p.name.replace("message", "orderbook")
            cands = [p.with_name(name), p.with_name(name + ".gz")]
            found = [c for c in cands if c.is_file()]
            if not found:
                raise ValueError(f"orderbook file not given and none found beside {str(p)!r} "
                                 f"(tried {', '.join(c.name for c in cands)})")
            orderbook = found[0]
        msgs, book = read_lobster(p, orderbook)
        return S.from_lobster(msgs, book), {"format": fmt, "multiplier": 1e-4, "tick": 100,
                                            "qty": 100, "source": f"{p} + {orderbook}"}
    if fmt == "itch":
        from nanobook.feeds import read_itch
        msgs = read_itch(p, lenient=True)
        if symbol is None:
            adds = msgs["A"]
            if len(adds) == 0:
                raise ValueError(f"{str(p)!r} has no add-order messages to pick a symbol from")
            loc, cnt = np.unique(adds["stock_locate"], return_counts=True)
            symbol = int(loc[np.argmax(cnt)])
        return S.from_itch(msgs, symbol), {"format": fmt, "multiplier": 1e-4, "tick": 100,
                                           "qty": 100, "source": f"{p} symbol={symbol}"}
    from nanobook.feeds import FeedError, decode_mdp3
    if schema is None:
        from nanobook import datasets
        schema = datasets.path("mdp3_schema")
    try:
        msgs = decode_mdp3(p, schema, arbitrate=True, strict=False)
    except FeedError as exc:
        raise ValueError(f"{str(p)!r} is not a readable MDP 3.0 capture: {exc}") from None
    md, info = S.from_mdp3(msgs, symbol, return_info=True)
    return md, {"format": fmt, "multiplier": info["tick"], "tick": 1, "qty": 1,
                "source": f"{p} security_id={info['security_id']} tick={info['tick']:g}"}
