"""Train / evaluate / report: the pipeline behind ``python -m nanobook signal``.

Protocol (``docs/signals.md``): the samples are split in time into a
development part and a final held-out part (``holdout`` fraction).  On the
development part, purged walk-forward folds (:func:`nanobook.analytics.
purged_walkforward`, labels' horizon purged, ``embargo`` samples between
training and test) score every model; then every model is trained once more
on the development part, purged so that no training label reaches the
held-out part, and scored on it (the headline figures); the held-out period
is also replayed in the simulator with and without the signal.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from ..validate import integer, real
from .dataset import FEATURE_NAMES, Dataset, FeatureConfig, build_dataset, default_vpin_bucket
from .models import (
    LogisticBaseline, MajorityBaseline, PersistenceBaseline, SSMConfig, balanced_accuracy, class_prior,
    log_loss, softmax,
)

__all__ = ["SimSettings", "fit_and_score", "in_loop", "train", "evaluate", "write_html"]

MODEL_NAMES = ("ssm", "logistic", "majority", "persistence")
#: a development part shorter than this gets a warning in the log and the report
SMALL_DEVELOPMENT = 1000


class SimSettings:
    """The simulator and market-maker settings of the in-loop comparison
    (identical for the runs with and without the signal)."""

    def __init__(self, *, qty: int, tick: int, multiplier: float, latency_ns: int = 1_000_000,
                 maker_fee_bps: float = 0.0, taker_fee_bps: float = 0.0, queue_model: str = "risk_averse",
                 max_lots: int = 10, record_interval: int = 1_000_000_000,
                 markout_ns=(100_000_000, 1_000_000_000, 10_000_000_000), horizon: int = 0,
                 pull: float = 1.5, shift_ticks: float = 1.0) -> None:
        self.qty, self.tick, self.multiplier, self.latency_ns = qty, tick, multiplier, latency_ns
        self.maker_fee_bps, self.taker_fee_bps, self.queue_model = maker_fee_bps, taker_fee_bps, queue_model
        self.max_lots, self.record_interval, self.markout_ns = max_lots, record_interval, tuple(markout_ns)
        self.horizon, self.pull, self.shift_ticks = horizon, pull, shift_ticks

    def to_dict(self) -> dict:
        d = dict(vars(self))
        d["markout_ns"] = list(self.markout_ns)
        return d


def _scores(ds: Dataset, idx, probs, prior) -> dict:
    out = {}
    for j, h in enumerate(ds.horizons):
        y = ds.labels[idx, j]
        out[f"h{h}"] = {"log_loss": log_loss(y, probs[:, j]),
                        "balanced_accuracy": balanced_accuracy(y, probs[:, j], prior[j]),
                        "n_test": int((y >= 0).sum())}
    return out


def ssm_probs(step, ds: Dataset, idx) -> np.ndarray:
    """SSM probabilities at ``idx``, the state run causally from sample 0
    (as the strategy runs it)."""
    step.reset()
    logits = step.run(ds.X[: int(idx.max()) + 1])
    return softmax(logits[idx])


def fit_and_score(ds: Dataset, train, test, ssm_config: SSMConfig, *, progress: bool = False,
                  desc: str = "ssm"):
    """Fit the four models on ``train`` and score them on ``test``; returns
    ``(scores, fitted)`` with ``fitted`` = {name: model}, the SSM as its
    torch module and its :class:`SSMStep`."""
    from ._step import SSMStep
    from .models import train_ssm

    prior = np.stack([class_prior(ds.labels[train, j]) for j in range(len(ds.horizons))])
    fitted, scores = {}, {}
    module = train_ssm(ds, train, ssm_config, progress=progress, desc=desc)
    step = SSMStep(module.step_weights())
    fitted["ssm"] = (module, step)
    scores["ssm"] = _scores(ds, test, ssm_probs(step, ds, test), prior)
    for m in (LogisticBaseline(), MajorityBaseline(), PersistenceBaseline()):
        m.fit(ds, train)
        fitted[m.name] = m
        scores[m.name] = _scores(ds, test, m.predict(ds, test), prior)
    return scores, fitted


def in_loop(md, ds: Dataset, step, settings: SimSettings, start_idx: int, signal_std: float) -> dict:
    """Replay the whole stream twice with the same simulator settings,
    quoting only from sample ``start_idx``'s time: with the signal and
    without it (``step=None``).  Returns both summaries side by side."""
    from nanobook.sim import Sim

    from .strategy import SignalMarketMaker

    start_ts = int(ds.ts[start_idx])
    out = {"start_ts": start_ts, "settings": settings.to_dict(), "signal_std": signal_std,
           "sharpe_convention": "mean / std of the equity changes per record_interval; sharpe_annual = "
                                "sharpe * sqrt(365 days of 24 h / record_interval)",
           "markout_convention": "sum q s (mid(t + h) - p) / sum q in price units, positive = the price "
                                 "moved our way; adverse_h = -markout_h"}
    for name, st in (("with_signal", step), ("without_signal", None)):
        sim = Sim(md, entry_latency=settings.latency_ns, response_latency=settings.latency_ns,
                  queue_model=settings.queue_model, maker_fee_bps=settings.maker_fee_bps,
                  taker_fee_bps=settings.taker_fee_bps, multiplier=settings.multiplier,
                  max_position=settings.max_lots * settings.qty, record_interval=settings.record_interval)
        mm = SignalMarketMaker(st, ds.config, qty=settings.qty, max_position=settings.max_lots * settings.qty,
                               tick=settings.tick, skew=0.5 * settings.tick / settings.qty,
                               signal_shift=settings.shift_ticks * settings.tick, signal_std=signal_std,
                               pull=settings.pull, horizon=settings.horizon, start_ts=start_ts)
        t0 = time.perf_counter()
        res = sim.run(mm)
        dt = time.perf_counter() - t0
        summ = res.summary(horizons=settings.markout_ns)
        keep = {k: v for k, v in summ.items() if isinstance(v, (int, float, str)) or v is None}
        keep["n_fills"] = int(len(res.fills))
        keep["n_orders"] = int(len(res.orders))
        keep["run_seconds"] = dt
        keep["events_per_second"] = len(md) / dt if dt > 0 else math.nan
        out[name] = _jsonable(keep)
    return out


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        f = float(x)
        return f if math.isfinite(f) else None
    return x


def _check_frac(name, v, lo, hi):
    real(v, name, gt=lo, lt=hi)


def train(md, meta: dict, out_dir, *, horizons=(5, 20, 100), band: float = 0.0, clock_ns=None,
          folds: int = 3, embargo: int | None = None, holdout: float = 0.3,
          ssm_config: SSMConfig | None = None, settings: SimSettings | None = None, onnx_window: int = 32,
          progress: bool = True, log=print) -> dict:
    """Build the dataset, cross-validate, train the final models, export
    them, run the in-loop comparison and write ``out_dir``:
    ``model.onnx``, ``step_weights.npz``, ``baselines.npz``, ``model.json``,
    ``report.json``, ``report.html``.  Returns the report dict."""
    from nanobook.analytics.cv import purged_walkforward

    from ._torch_ssm import export_onnx

    _check_frac("holdout", holdout, 0.0, 1.0)
    integer(onnx_window, "onnx_window", ge=1)
    integer(folds, "folds", ge=1)
    out = Path(out_dir)
    t_start = time.perf_counter()
    fit_rows = 1.0 - holdout
    cfg = FeatureConfig(clock_ns=clock_ns, vpin_bucket=default_vpin_bucket(md, fit_frac=fit_rows * 0.5))
    ds = build_dataset(md, horizons=horizons, band=band, config=cfg)
    n = len(ds)
    hmax = max(ds.horizons)
    emb = hmax if embargo is None else embargo
    h0 = int(round(n * fit_rows))
    if h0 - hmax - emb < 64 or n - h0 < 16:
        raise ValueError(f"{n} samples are too few for horizons up to {hmax} with embargo {emb} and "
                         f"holdout {holdout}: give more data (or shorter horizons)")
    ssm_config = ssm_config or SSMConfig()
    log(f"dataset: {n} samples x {len(FEATURE_NAMES)} features from {len(md)} stream rows "
        f"({'events' if clock_ns is None else f'clock {clock_ns / 1e6:g} ms'}); horizons {ds.horizons}; "
        f"development [0, {h0}), held out [{h0}, {n})")
    t1 = ds.t1()[:h0]
    splits = purged_walkforward(h0, folds, t1=np.minimum(t1, h0 - 1), embargo=emb)
    final_train = np.flatnonzero(ds.t1() < h0 - emb)
    shortest = min([len(tr) for tr, _ in splits] + [len(final_train)])
    if shortest < ssm_config.chunk:
        raise ValueError(f"{n} samples are too few to train on: the shortest training part has {shortest} "
                         f"samples, less than one SSM chunk ({ssm_config.chunk}); give more data, fewer folds, "
                         f"or shorter horizons and embargo")
    warning = None
    if h0 < SMALL_DEVELOPMENT:
        warning = (f"only {h0} development samples (fewer than {SMALL_DEVELOPMENT}): too few to learn a signal "
                   f"from; the scores below are what this file gives, not evidence of an edge")
        log(f"warning: {warning}")
    cv = []
    for f, (tr, te) in enumerate(splits):
        scores, _ = fit_and_score(ds, tr, te, ssm_config, progress=progress, desc=f"fold {f + 1}/{folds}")
        cv.append({"fold": f, "train": [int(tr[0]), int(tr[-1]) + 1], "test": [int(te[0]), int(te[-1]) + 1],
                   "scores": scores})
        log(f"fold {f + 1}/{folds}: train [{tr[0]}, {tr[-1] + 1}) test [{te[0]}, {te[-1] + 1}) " +
            _line(scores, ds.horizons))
    test = np.arange(h0, n)
    scores, fitted = fit_and_score(ds, final_train, test, ssm_config, progress=progress, desc="final")
    log("held out: " + _line(scores, ds.horizons))
    module, step = fitted["ssm"]
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(module, out / "model.onnx", window=onnx_window)
    np.savez(out / "step_weights.npz", **module.step_weights())
    _save_baselines(out / "baselines.npz", fitted)
    # the signal's scale on the training rows (a training-window statistic)
    tr_probs = ssm_probs(step, ds, final_train)
    settings = settings or SimSettings(qty=meta.get("qty", 1), tick=meta["tick"], multiplier=meta["multiplier"])
    j = settings.horizon
    sig = tr_probs[:, j, 2] - tr_probs[:, j, 0]
    signal_std = float(sig.std()) if sig.std() > 0 else 1.0
    model_meta = {"feature_config": cfg.to_dict(), "features": list(FEATURE_NAMES), "horizons": list(ds.horizons),
                  "band": ds.band, "onnx_window": onnx_window, "signal_std": signal_std,
                  "ssm": ssm_config.to_dict(), "n_params": step.n_params, "flops_per_tick": step.flops_per_tick}
    (out / "model.json").write_text(json.dumps(model_meta, indent=2))
    log("in the loop (held-out period, with and without the signal) ...")
    loop = in_loop(md, ds, step, settings, h0, signal_std)
    report = {
        "command": "train", "format": meta["format"], "source": meta["source"], "n_stream_rows": int(len(md)),
        "n_samples": n, "sampling": "events" if clock_ns is None else f"clock {clock_ns} ns",
        "features": list(FEATURE_NAMES), "feature_config": cfg.to_dict(),
        "horizons": list(ds.horizons), "horizon_unit": "samples", "flat_band": ds.band,
        "label_distribution": _label_dist(ds, np.arange(n)),
        "validation": {"scheme": "purged walk-forward on the development part, then a final held-out part",
                       "purge": f"training samples whose label window [i, i + {hmax}] reaches past the "
                                f"test start minus the embargo are dropped",
                       "embargo": emb, "folds": cv, "development": [0, h0], "holdout": [h0, n],
                       "final_train": [int(final_train[0]), int(final_train[-1]) + 1]},
        "models": scores, "ssm": model_meta, "in_loop": loop, "warning": warning,
        "seconds": time.perf_counter() - t_start,
        "files": ["model.onnx", "step_weights.npz", "baselines.npz", "model.json", "report.json", "report.html"],
    }
    report = _jsonable(report)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    write_html(report, out / "report.html")
    log(_loop_line(loop))
    return report


def _label_dist(ds, idx) -> dict:
    return {f"h{h}": (np.bincount(ds.labels[idx, j][ds.labels[idx, j] >= 0], minlength=3)[:3]
                      / max(1, (ds.labels[idx, j] >= 0).sum())).round(4).tolist()
            for j, h in enumerate(ds.horizons)}


def _line(scores, horizons) -> str:
    parts = []
    for m in MODEL_NAMES:
        parts.append(m + " " + " ".join(f"{scores[m][f'h{h}']['balanced_accuracy']:.3f}" for h in horizons))
    return "bal.acc " + "; ".join(parts)


def _loop_line(loop) -> str:
    w, wo = loop["with_signal"], loop["without_signal"]
    return (f"P&L with signal {w.get('pnl')}, without {wo.get('pnl')}; fills {w['n_fills']} vs {wo['n_fills']}")


def _save_baselines(path, fitted) -> None:
    lg, mj, ps = fitted["logistic"], fitted["majority"], fitted["persistence"]
    np.savez(path, logistic_coef=np.stack(lg.coef), logistic_mean=lg.norm.mean, logistic_std=lg.norm.std,
             logistic_clip=lg.norm.clip, majority_prior=mj.prior, persistence_table=ps.table)


def _load_baselines(path):
    from .dataset import Normalizer
    z = np.load(path)
    lg = LogisticBaseline()
    lg.coef = list(z["logistic_coef"])
    lg.norm = Normalizer(z["logistic_mean"], z["logistic_std"], float(z["logistic_clip"]))
    mj = MajorityBaseline()
    mj.prior = z["majority_prior"]
    ps = PersistenceBaseline()
    ps.table = z["persistence_table"]
    return {"logistic": lg, "majority": mj, "persistence": ps}


def evaluate(md, meta: dict, model_dir, out_dir=None, *, settings: SimSettings | None = None, log=print) -> dict:
    """Score a saved model (and its saved baselines) on another stream:
    every sample is out of sample; the in-loop comparison runs over the
    whole stream.  Writes ``report.json`` + ``report.html`` to ``out_dir``
    when given."""
    from ._step import SSMStep

    md_dir = Path(model_dir)
    for f in ("model.json", "step_weights.npz", "baselines.npz"):
        if not (md_dir / f).is_file():
            raise ValueError(f"model directory {str(model_dir)!r} has no {f} (train one with "
                             f"python -m nanobook signal train)")
    mm = json.loads((md_dir / "model.json").read_text())
    cfg = FeatureConfig(**mm["feature_config"])
    ds = build_dataset(md, horizons=mm["horizons"], band=mm["band"], config=cfg)
    idx = np.arange(len(ds))
    step = SSMStep(dict(np.load(md_dir / "step_weights.npz")))
    base = _load_baselines(md_dir / "baselines.npz")
    prior = base["majority"].prior
    scores = {"ssm": _scores(ds, idx, ssm_probs(step, ds, idx), prior)}
    for name, m in base.items():
        scores[name] = _scores(ds, idx, m.predict(ds, idx), prior)
    log("scored: " + _line(scores, ds.horizons))
    settings = settings or SimSettings(qty=meta.get("qty", 1), tick=meta["tick"], multiplier=meta["multiplier"])
    loop = in_loop(md, ds, step, settings, 0, mm["signal_std"])
    log(_loop_line(loop))
    report = _jsonable({"command": "eval", "format": meta["format"], "source": meta["source"],
                        "model": str(md_dir), "n_stream_rows": int(len(md)), "n_samples": len(ds),
                        "horizons": list(ds.horizons), "flat_band": ds.band,
                        "label_distribution": _label_dist(ds, idx), "models": scores, "in_loop": loop,
                        "ssm": mm})
    if out_dir is not None:
        o = Path(out_dir)
        o.mkdir(parents=True, exist_ok=True)
        (o / "report.json").write_text(json.dumps(report, indent=2))
        write_html(report, o / "report.html")
    return report


def write_html(report: dict, path) -> None:
    """A self-contained HTML page of the report (no script, no network)."""
    import html

    e = html.escape
    rows = []
    hs = report["horizons"]
    for m in MODEL_NAMES:
        for h in hs:
            s = report["models"][m][f"h{h}"]
            ll = "n/a" if s["log_loss"] is None else f"{s['log_loss']:.4f}"
            ba = "n/a" if s["balanced_accuracy"] is None else f"{s['balanced_accuracy']:.4f}"
            rows.append(f"<tr><td>{e(m)}</td><td>{h}</td><td>{ll}</td><td>{ba}</td><td>{s['n_test']}</td></tr>")
    loop = report["in_loop"]
    keys = sorted(set(loop["with_signal"]) | set(loop["without_signal"]))
    lrows = [f"<tr><td>{e(k)}</td><td>{e(str(loop['with_signal'].get(k)))}</td>"
             f"<td>{e(str(loop['without_signal'].get(k)))}</td></tr>" for k in keys]
    folds = report.get("validation", {}).get("folds", [])
    frows = [f"<tr><td>{f['fold']}</td><td>{f['train']}</td><td>{f['test']}</td><td>"
             + e(_line(f["scores"], hs)) + "</td></tr>" for f in folds]
    doc = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>nanobook signal report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:2px 8px;text-align:right}}</style></head><body>
<h1>nanobook signal {e(report['command'])}: {e(report['format'])}</h1>
<p>Source: {e(str(report['source']))}. {report['n_samples']} samples from {report['n_stream_rows']} stream rows;
horizons {hs} samples; flat band {report['flat_band']} price units.</p>
{f"<p><strong>Warning: {e(report['warning'])}.</strong></p>" if report.get('warning') else ''}
<h2>Out-of-sample scores</h2>
<table><tr><th>model</th><th>horizon</th><th>log loss</th><th>balanced accuracy</th><th>n_test</th></tr>
{''.join(rows)}</table>
<h2>Validation</h2><p>{e(json.dumps({k: v for k, v in report.get('validation', {}).items() if k != 'folds'}))}</p>
<table><tr><th>fold</th><th>train</th><th>test</th><th>balanced accuracy</th></tr>{''.join(frows)}</table>
<h2>In the loop</h2><p>Settings: {e(json.dumps(loop['settings']))}. Sharpe: mean / std of the equity
changes per record interval; annualised with 365 days of 24 h.</p>
<table><tr><th>metric</th><th>with signal</th><th>without</th></tr>{''.join(lrows)}</table>
</body></html>
"""
    Path(path).write_text(doc)
