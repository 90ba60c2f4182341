"""Our tear-sheet metrics against quantstats, side by side, on the demo's momentum backtest.

    python benches/quantstats_compare.py            # live: ours and quantstats now, side by side
    python benches/quantstats_compare.py --record   # (re)write tests/data/portfolio/quantstats_reference.json

quantstats never enters our package or its dependencies: it lives in its own
virtualenv (``make quantstats`` creates ``.venv/quantstats`` with
quantstats==0.0.86) and runs in a subprocess of this script
(``--quantstats-side IN OUT``, the only part that imports it).  Both sides get
the same inputs: the daily returns of the demo (12-1 momentum, top 5 of the
bundled S&P 100 panel, 5 + 5 bps) and, as the benchmark, the equal-weight
average of the panel's daily close-to-close returns.

Conventions: 252 periods a year, no
risk-free rate; quantstats' ``win_rate`` and ``exposure`` count the periods
with a non-zero return, ours the periods with a position (the same periods
here); quantstats rounds ``exposure`` up to whole percent, reports
``max_drawdown`` negative and in fractions, drawdown depths in percent and the
information ratio per period (ours annualised: times sqrt(252)).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "portfolio" / "quantstats_reference.json"
QS_PYTHON = os.environ.get("NANOBOOK_QS_PYTHON", str(ROOT / ".venv" / "quantstats" / "bin" / "python"))
PPY = 252
WINDOW = 63
SAMPLE_EVERY = 50  # rolling series are compared at every 50th period and the last

# (our key, quantstats key, how ours maps onto theirs)
SCALARS = [
    ("total_return", "comp", "same"),
    ("cagr", "cagr", "same"),
    ("volatility", "volatility", "same"),
    ("sharpe", "sharpe", "same"),
    ("sortino", "sortino", "same"),
    ("max_drawdown", "max_drawdown", "negated"),
    ("calmar", "calmar", "same"),
    ("profit_factor", "profit_factor", "same"),
    ("payoff_ratio", "payoff_ratio", "same"),
    ("win_rate_active", "win_rate", "same"),
    ("exposure", "exposure", "ceil to whole percent"),
    ("best_period", "best", "same"),
    ("worst_period", "worst", "same"),
    ("alpha", "alpha", "same"),
    ("beta", "beta", "same"),
    ("information_ratio", "information_ratio", "per period: ours / sqrt(252)"),
]


# --------------------------------------------------------------------------- quantstats side

def quantstats_side(inp: str, out: str) -> None:
    """Runs inside .venv/quantstats: compute every figure and write them as JSON."""
    import numpy as np
    import pandas as pd
    import quantstats as qs

    d = json.loads(Path(inp).read_text())
    idx = pd.DatetimeIndex(d["dates"])
    r = pd.Series(d["strategy"], index=idx, name="strategy")
    b = pd.Series(d["benchmark"], index=idx, name="benchmark")
    s = qs.stats
    g = s.greeks(r, b, periods=PPY)
    figures = {
        "comp": s.comp(r), "cagr": s.cagr(r, periods=PPY), "volatility": s.volatility(r, periods=PPY),
        "sharpe": s.sharpe(r, periods=PPY), "sortino": s.sortino(r, periods=PPY),
        "max_drawdown": s.max_drawdown(r), "calmar": s.calmar(r, periods=PPY),
        "profit_factor": s.profit_factor(r), "payoff_ratio": s.payoff_ratio(r),
        "win_rate": s.win_rate(r), "exposure": s.exposure(r), "best": s.best(r), "worst": s.worst(r),
        "alpha": g["alpha"], "beta": g["beta"], "information_ratio": s.information_ratio(r, b),
        "kelly_criterion": s.kelly_criterion(r),
    }
    figures = {k: float(v) for k, v in figures.items()}
    monthly = s.monthly_returns(r)
    dd = s.drawdown_details(s.to_drawdown_series(r)).sort_values("max drawdown").head(5)
    rv = s.rolling_volatility(r, rolling_period=WINDOW, periods_per_year=PPY)
    rs = s.rolling_sharpe(r, rolling_period=WINDOW, periods_per_year=PPY)
    pos = list(range(WINDOW - 1, len(r), SAMPLE_EVERY)) + [len(r) - 1]
    res = {
        "scalars": figures,
        "monthly_returns": {"years": [int(y) for y in monthly.index],
                            "columns": [str(c) for c in monthly.columns],
                            "values": np.asarray(monthly, dtype=float).tolist()},
        "drawdowns": [{"start": str(row["start"])[:10], "valley": str(row["valley"])[:10],
                       "end": str(row["end"])[:10], "days": int(row["days"]),
                       "max_drawdown_pct": float(row["max drawdown"])} for _, row in dd.iterrows()],
        "rolling": {"positions": pos, "volatility": [float(rv.iloc[i]) for i in pos],
                    "sharpe": [float(rs.iloc[i]) for i in pos]},
        "versions": {"quantstats": qs.__version__, "pandas": pd.__version__, "numpy": np.__version__},
    }
    Path(out).write_text(json.dumps(res))


# --------------------------------------------------------------------------- our side

def demo_inputs() -> dict:
    """The demo's daily returns and the equal-weight panel benchmark, as JSON-ready lists."""
    from nanobook.portfolio import load_sp100
    from nanobook.portfolio.demo import run_demo

    res = run_demo()
    r = res.returns
    close = load_sp100("close")
    bench = close.pct_change(fill_method=None).mean(axis=1, skipna=True).reindex(r.index).fillna(0.0)
    return {"dates": [d.strftime("%Y-%m-%d") for d in r.index], "strategy": r.tolist(),
            "benchmark": bench.tolist()}


def ours(inputs: dict) -> dict:
    """Our figures on the same inputs."""
    import numpy as np
    import pandas as pd

    from nanobook.portfolio import metrics as M
    from nanobook.portfolio.report import report_metrics

    idx = pd.DatetimeIndex(inputs["dates"])
    r = pd.Series(inputs["strategy"], index=idx)
    b = pd.Series(inputs["benchmark"], index=idx)
    # a bare return series: a period with a non-zero return is one with a position
    m = report_metrics(r, benchmark=b, periods_per_year=PPY)
    cal = M.calendar_returns(r)
    dd = M.drawdown_table(r, 5)
    rv = M.rolling_volatility(r.to_numpy(), WINDOW, PPY)
    rs = M.rolling_sharpe(r.to_numpy(), WINDOW, PPY)
    pos = list(range(WINDOW - 1, len(r), SAMPLE_EVERY)) + [len(r) - 1]
    return {
        "scalars": {k: float(m[k]) for k, _, _ in SCALARS} | {"kelly": float(m["kelly"])},
        "monthly_returns": np.asarray(cal, dtype=float),
        "drawdowns": dd,
        "rolling": {"volatility": [rv[i] for i in pos], "sharpe": [rs[i] for i in pos]},
    }


def theirs_as_ours(key: str, v: float, how: str) -> float:
    """Map a quantstats figure onto our convention (see the module docstring)."""
    if how == "negated":
        return -v
    if how.startswith("per period"):
        return v * math.sqrt(PPY)
    return v


def compare_exposure(our: float) -> float:
    return math.ceil(our * 100) / 100


# --------------------------------------------------------------------------- driver

def run_quantstats(inputs: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(inputs))
        proc = subprocess.run([QS_PYTHON, __file__, "--quantstats-side", str(inp), str(out)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"quantstats side failed ({QS_PYTHON}):\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", action="store_true", help=f"write {REFERENCE.relative_to(ROOT)}")
    ap.add_argument("--quantstats-side", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quantstats_side:
        quantstats_side(*args.quantstats_side)
        return 0
    if not Path(QS_PYTHON).exists():
        print(f"no quantstats interpreter at {QS_PYTHON}: run `make quantstats` first", file=sys.stderr)
        return 2
    inputs = demo_inputs()
    qs = run_quantstats(inputs)
    if args.record:
        ref = {
            "provenance": {
                "what": "quantstats figures on the nanobook demo's daily returns (12-1 momentum, top 5 "
                        "of the bundled S&P 100 panel, 5 + 5 bps) with the equal-weight panel "
                        "return as benchmark",
                "command": "make quantstats && python benches/quantstats_compare.py --record",
                "quantstats_venv": qs["versions"],
                "conventions": " ".join(__doc__.split("Conventions: ")[1].split()),
            },
            "input": inputs,
            "quantstats": {k: v for k, v in qs.items() if k != "versions"},
        }
        REFERENCE.write_text("{\n" + ",\n".join(  # provenance readable, data one line per key
            f" {json.dumps(k)}: {json.dumps(v, indent=2 if k == 'provenance' else None)}"
            for k, v in ref.items()) + "\n}\n")
        print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size:,} bytes)")
    o = ours(inputs)
    print(f"quantstats {qs['versions']['quantstats']} vs nanobook on {len(inputs['dates'])} daily returns "
          f"{inputs['dates'][0]} .. {inputs['dates'][-1]}")
    print(f"{'ours':<20}{'nanobook':>16}{'quantstats':>16}{'rel. diff':>12}  convention")
    for key, qkey, how in SCALARS:
        a = o["scalars"][key]
        if key == "exposure":
            a = compare_exposure(a)
        b = theirs_as_ours(qkey, qs["scalars"][qkey], how)
        rel = abs(a - b) / max(abs(b), 1e-300)
        print(f"{key:<20}{a:>16.10g}{b:>16.10g}{rel:>12.1e}  {how}")
    print(f"{'kelly':<20}{o['scalars']['kelly']:>16.10g}{qs['scalars']['kelly_criterion']:>16.10g}"
          f"{'':>12}  differs: ours uses the win rate over all periods (the reference's)")
    import numpy as np

    qm = np.array(qs["monthly_returns"]["values"], dtype=float)
    om = o["monthly_returns"]
    print(f"monthly table ({qm.shape[0]} years x 13): max |diff| {np.nanmax(np.abs(om - qm)):.1e}; "
          f"{int(np.isnan(om).sum())} months outside the series are NaN in ours, 0 in quantstats")
    for k, (row, q) in enumerate(zip(o["drawdowns"].itertuples(), qs["drawdowns"])):
        print(f"drawdown {k + 1}: ours {row.start:%Y-%m-%d} / {row.trough:%Y-%m-%d} / {row.end:%Y-%m-%d} "
              f"{row.days:.0f} d {-row.depth * 100:.4f} %   quantstats {q['start']} / {q['valley']} / "
              f"{q['end']} {q['days']} d {q['max_drawdown_pct']:.4f} %")
    rv = np.array(o["rolling"]["volatility"]) - np.array(qs["rolling"]["volatility"])
    rs = np.array(o["rolling"]["sharpe"]) - np.array(qs["rolling"]["sharpe"])
    zero = np.isnan(rs)
    print(f"rolling {WINDOW} (every {SAMPLE_EVERY}th period): volatility max |diff| {np.abs(rv).max():.1e}, "
          f"Sharpe max |diff| {np.abs(rs[~zero]).max():.1e}; {int(zero.sum())} windows of zero variance "
          "are 0 in ours (the reference's rule), NaN in quantstats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
