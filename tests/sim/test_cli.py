"""``python -m nanobook sim``: the seed config loads as is, strict validation
names the key, a run writes the report and tables, and the Prometheus
endpoint, scraped on 127.0.0.1 during a run, agrees with the result."""
from __future__ import annotations

import html
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nanobook.sim.cli import main
from nanobook.sim.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "feeds" / "crypto" / "spot_btcusdt_20240808.head12000.gz"

SEED = """\
[trading]
live_enabled = false
symbols = ["ESH24"]
initial_capital = 1000000.0
max_position = 50
max_order_size = 10
[latency]
order_latency_ns = 100000
market_data_latency_ns = 50000
jitter_ns = 10000
[risk]
max_position = 50
max_drawdown_pct = 0.06
max_daily_loss = 100000.0
enable_kill_switch = true
[fees]
maker_fee = 0.25
taker_fee = 0.85
exchange_fee = 1.18
"""

SAMPLE = """\
[trading]
symbols = ["BTCUSDT"]
initial_capital = 100000.0
max_position = 5000
[latency]
order_latency_ns = 2000000
jitter_ns = 500000
[risk]
max_drawdown_pct = 0.01
[fees]
unit = "bps"
maker_fee = -0.5
taker_fee = 4.0
[venue]
price_decimals = 2
qty_decimals = 6
lot_size = 10
[strategy]
name = "market_maker"
order_size = 1000
half_spread = 1.0
skew = 0.0001
[run]
progress_every = 2000
"""


def test_the_seed_config_loads_as_is():
    cfg = load_config(SEED, text=True)
    assert cfg["trading"]["symbols"] == ["ESH24"] and cfg["trading"]["max_order_size"] == 10
    assert cfg["latency"]["jitter_ns"] == 10000
    ks = cfg.kill_switch
    assert ks.max_position == 50 and ks.max_drawdown_pct == 0.06 and ks.max_daily_loss == 100000.0
    assert cfg["fees"]["unit"] == "per_contract" and cfg["fees"]["exchange_fee"] == 1.18


def test_seed_fees_are_per_contract_plus_exchange_fee():
    from nanobook.sim.cli import build
    from .helpers import DEPTH, stream
    sim, _ = build(load_config(SEED, text=True), stream([(0, DEPTH, 0, 100, 1), (0, DEPTH, 1, 101, 1)]), 1.0)
    assert sim.maker_fee_per_qty == 0.25 + 1.18 and sim.taker_fee_per_qty == 0.85 + 1.18
    assert sim.maker_fee_bps == 0.0


@pytest.mark.parametrize("edit,needle", [
    ("[trading]\nlive_enabled = true\n", "live_enabled = true"),
    ("[trading]\nmax_postion = 5\n", "[trading] unknown key 'max_postion'"),
    ("[riskk]\nmax_position = 5\n", "unknown section [riskk]"),
    ("[risk]\nmax_drawdown_pct = 1.5\n", "max_drawdown_pct must be finite and in [0, 1], got 1.5"),
    ("[risk]\nmax_position = 1.5\n", "max_position must be an int, got 1.5"),
    ("[risk]\nmax_loss = 1.0\n", "[risk] unknown key 'max_loss'"),
    ("[latency]\norder_latency_ns = -1\n", "[latency] order_latency_ns must be >= 0, got -1"),
    ("[latency]\norder_latency_ns = 10\njitter_ns = 11\n", "jitter_ns 11 exceeds order_latency_ns 10"),
    ("[latency]\norder_latency_ns = \"fast\"\n", "order_latency_ns must be an integer, got 'fast'"),
    ("[fees]\nmaker_fee = nan\n", "[fees] maker_fee must be finite"),
    ("[fees]\nunit = \"percent\"\n", "[fees] unit must be one of"),
    ("[trading]\nsymbols = []\n", "[trading] symbols must be a non-empty list"),
    ("[trading]\nmax_order_size = 5\n[strategy]\norder_size = 6\n", "order_size 6 exceeds [trading] max_order_size 5"),
    ("[venue]\nlot_size = 10\n[strategy]\norder_size = 15\n", "order_size 15 is not a multiple of [venue] lot_size 10"),
    ("[queue]\nmodel = \"fifo\"\n", "[queue] model must be one of"),
    ("trading = 3\n", "trading must be a table"),
    ("[latency]\norder_latency_ns = 9007199254740993\n", "[latency] order_latency_ns must be <= 2**53"),
    ("[venue]\ntick_size = 99999999999999999999\n", "[venue] tick_size must be <= 2**53"),
    ("[strategy]\nhalf_spread = 1e300\n", "[strategy] half_spread must be at most"),
    ("[risk]\nmax_position = 99999999999999999999\n", "max_position must be finite and in"),
    ("[trading\n", "not valid TOML"),
])
def test_strict_validation_names_the_key(edit, needle, tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text(edit)
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    assert needle in str(ei.value) and str(p) in str(ei.value)
    # the CLI prints one line and exits 2, the file untouched
    before = p.read_bytes()
    assert main(["--config", str(p), "--data", str(DATA), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert p.read_bytes() == before


def test_cli_bad_arguments_exit_2(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text(SAMPLE)
    assert main(["--config", str(p), "--data", str(tmp_path / "missing.gz"), "--no-progress"]) == 2
    assert "missing.gz" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "nope.toml"), "--data", str(DATA), "--no-progress"]) == 2
    assert "nope.toml" in capsys.readouterr().err
    assert main(["--config", str(p), "--data", str(DATA), "--data", str(DATA), "--no-progress"]) == 2
    assert "symbols names 1 instrument" in capsys.readouterr().err
    assert main(["--config", str(p), "--data", str(DATA), "--metrics-port", "70000", "--no-progress"]) == 2


def test_run_writes_report_and_tables(tmp_path, capsys):
    p = tmp_path / "config.toml"
    p.write_text(SAMPLE)
    out = tmp_path / "out"
    assert main(["--config", str(p), "--data", str(DATA), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "[BTCUSDT] SimResult(" in text and "markout_100ms" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_fills"] > 0
    for name in ("fills.csv", "orders.csv", "records.csv", "markouts.csv", "report.html"):
        assert (out / name).stat().st_size > 0
    import pandas as pd
    fills = pd.read_csv(out / "fills.csv")
    assert len(fills) == summary["n_fills"]
    page = (out / "report.html").read_text()
    from nanobook.sim.report import PANELS
    for title in PANELS:
        assert html.escape(title) in page
    assert page.count("data:image/png;base64,") == len(PANELS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        body = r.read().decode()
    out = {}
    for line in body.splitlines():
        if line.startswith("nanobook_sim_") and 'symbol="BTCUSDT"' in line:
            name, value = line.rsplit(" ", 1)
            out[name.split("{")[0] + ("{" + name.split("{", 1)[1] if "le=" in name else "")] = float(value)
    return out


@pytest.mark.timeout(240)
def test_metrics_endpoint_during_a_run_matches_the_result(tmp_path):
    p = tmp_path / "config.toml"
    # paced at 40x wall-clock speed: the 110 s of data take about 3 s
    p.write_text(SAMPLE + "speed = 40.0\n")
    out = tmp_path / "out"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nanobook", "sim", "--config", str(p), "--data", str(DATA),
                             "--out", str(out), "--metrics-port", str(port), "--hold", "60", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        deadline = time.time() + 120
        while time.time() < deadline and not (out / "summary.json").exists():
            try:
                m = _scrape(port)
            except OSError:
                time.sleep(0.1)
                continue
            if m:
                seen.append(m)
            time.sleep(0.2)
        assert (out / "summary.json").exists(), proc.stderr.read() if proc.poll() is not None else "timeout"
        time.sleep(0.5)
        final = _scrape(port)
        summary = json.loads((out / "summary.json").read_text())
        fills = __import__("pandas").read_csv(out / "fills.csv")
        orders = __import__("pandas").read_csv(out / "orders.csv")
        # during the run: several scrapes, counters never going back
        during = [s["nanobook_sim_events_total"] for s in seen if "nanobook_sim_events_total" in s]
        assert len(during) >= 3 and during == sorted(during) and during[0] < during[-1]
        # after it: the values of the result
        assert final["nanobook_sim_fills_total"] == summary["n_fills"]
        assert final["nanobook_sim_orders_total"] == summary["n_orders"]
        assert final["nanobook_sim_filled_qty_total"] == summary["filled_qty"]
        assert final["nanobook_sim_position"] == summary["position"]
        assert final["nanobook_sim_pnl"] == pytest.approx(summary["pnl"], rel=1e-9, abs=1e-9)
        assert final["nanobook_sim_fees"] == pytest.approx(summary["fees"], rel=1e-9, abs=1e-12)
        assert final["nanobook_sim_fill_rate"] == pytest.approx(summary["n_fills"] / summary["n_orders"])
        assert final["nanobook_sim_order_to_ack_seconds_count"] == (orders["ack_latency_ns"] >= 0).sum()
        assert final["nanobook_sim_order_to_ack_seconds_sum"] == pytest.approx(
            orders.loc[orders["ack_latency_ns"] >= 0, "ack_latency_ns"].sum() / 1e9)
        assert final["nanobook_sim_tick_to_order_seconds_count"] == (orders["tick_to_order_ns"] >= 0).sum()
        assert final["nanobook_sim_kill_switch"] == (0 if summary["kill_rule"] is None else 1)
        assert final["nanobook_sim_events_total"] == during[-1] or final["nanobook_sim_events_total"] > during[-1]
        assert len(fills) == summary["n_fills"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_two_symbols_run_on_one_clock(tmp_path, capsys):
    p = tmp_path / "config.toml"
    p.write_text(SAMPLE.replace('symbols = ["BTCUSDT"]', 'symbols = ["BTC1", "BTC2"]'))
    out = tmp_path / "out"
    assert main(["--config", str(p), "--data", str(DATA), "--data", str(DATA), "--out", str(out),
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "MultiSimResult(2 instruments" in text
    a = json.loads((out / "BTC1_summary.json").read_text())
    b = json.loads((out / "BTC2_summary.json").read_text())
    assert a["n_fills"] == b["n_fills"] > 0          # the same data and strategy on both


def test_grafana_dashboard_reads_every_exported_metric():
    from importlib.resources import files
    from nanobook.sim.metrics import METRIC_NAMES
    dash = json.loads(files("nanobook.sim").joinpath("data/grafana_dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    for name in METRIC_NAMES:
        assert f"nanobook_sim_{name}" in exprs, name
    assert {v["name"] for v in dash["templating"]["list"]} == {"datasource", "symbol"}


def test_plot_has_the_three_panels():
    import matplotlib
    matplotlib.use("Agg", force=True)
    from nanobook.sim import MarketMaker, Sim, from_binance
    md = from_binance(DATA, price_decimals=2, qty_decimals=6)[:20_000]
    res = Sim(md, entry_latency=1_000_000, response_latency=1_000_000, multiplier=1e-8).run(
        MarketMaker(1, 1000, 5000))
    fig = res.plot(price_scale=0.01)
    assert [a.get_ylabel() for a in fig.axes] == ["equity (P&L)", "position", "price"]


def test_npy_and_lobster_formats(tmp_path, capsys):
    import numpy as np
    from nanobook.sim import from_binance
    np.save(tmp_path / "md.npy", from_binance(DATA, price_decimals=2, qty_decimals=6)[:30_000])
    cfg = tmp_path / "c.toml"
    cfg.write_text("[venue]\nmultiplier = 1e-8\n[strategy]\norder_size = 100\nhalf_spread = 1.0\n")
    assert main(["--config", str(cfg), "--data", str(tmp_path / "md.npy"), "--no-progress"]) == 0
    assert "[md] SimResult(" in capsys.readouterr().out
    lob = ROOT / "tests" / "data" / "feeds" / "lobster"
    msg = lob / "MSFT_2012-06-21_34200000_37800000_message_50.csv"
    book = lob / "MSFT_2012-06-21_34200000_37800000_orderbook_50.csv.gz"
    cfg.write_text("[venue]\ntick_size = 100\n[strategy]\norder_size = 100\n")
    assert main(["--config", str(cfg), "--data", str(msg), "--format", "lobster", "--book", str(book),
                 "--no-progress"]) == 0
    assert "SimResult(" in capsys.readouterr().out
    assert main(["--config", str(cfg), "--data", str(msg), "--format", "lobster", "--no-progress"]) == 2
    assert "--book" in capsys.readouterr().err
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    assert main(["--config", str(cfg), "--data", str(tmp_path / "bad.npy"), "--no-progress"]) == 2
    assert "bad.npy" in capsys.readouterr().err


def test_missing_optional_library_is_one_line_before_the_run(tmp_path, capsys, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    p = tmp_path / "c.toml"
    p.write_text(SAMPLE)
    assert main(["--config", str(p), "--data", str(DATA), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--out needs matplotlib" in err and "nanobook[sim]" in err
    assert not (tmp_path / "o").exists()


def test_truncated_or_foreign_data_files_are_one_line(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text(SAMPLE)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(DATA.read_bytes()[:100_000])
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"hello world\n")
    for f in (cut, junk):
        assert main(["--config", str(p), "--data", str(f), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --data {f}") and "Traceback" not in err
