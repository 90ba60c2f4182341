"""Flip each documented comparison of the rebalancer and check that tests/rebalancer/test_limits.py
fails (a mutation check; not collected by pytest). Run from the worktree root:
``PYTHONPATH=$PWD/src python tests/rebalancer/mutate_limits.py``; prints KILLED or SURVIVED per flip
and restores every file."""
import subprocess, sys, os
muts = [
 ("src/nanobook_rebalancer/plan.py", "if trade and abs(wf - cur_w_exact) < band:", "if trade and abs(wf - cur_w_exact) <= band:"),
 ("src/nanobook_rebalancer/plan.py", "elif trade and Fraction(abs(trade) * price, scale) < params.min_order_value_cents:", "elif trade and Fraction(abs(trade) * price, scale) <= params.min_order_value_cents:"),
 ("src/nanobook_rebalancer/cli.py", '"PASS" if n <= mx else "FAIL"', '"PASS" if n < mx else "FAIL"'),
 ("src/nanobook_rebalancer/targets.py", "if t.gross > max_gross + 1e-12:", "if t.gross >= max_gross:"),
 ("src/nanobook_rebalancer/targets.py", "if abs(w) > 1.0:", "if abs(w) >= 1.0:"),
 ("src/nanobook_rebalancer/cli.py", "q.age_secs > cfg.execution.quote_staleness_secs", "q.age_secs >= cfg.execution.quote_staleness_secs"),
 ("src/nanobook_rebalancer/config.py", "0 < p.initial_cash_usd <= MAX_INITIAL_CASH_USD", "0 < p.initial_cash_usd < MAX_INITIAL_CASH_USD"),
 ("src/nanobook_rebalancer/config.py", "0 <= pl.no_trade_band_bps <= 10_000", "0 <= pl.no_trade_band_bps < 10_000"),
 ("src/nanobook_rebalancer/config.py", "0 < e.poll_interval_secs <= e.order_timeout_secs", "0 < e.poll_interval_secs < e.order_timeout_secs"),
 ("src/nanobook_rebalancer/_risk.py", "m[key] = m[key] * quantity_scale", "m[key] = m[key]"),
 ("src/nanobook_rebalancer/config.py", "if not _I64_MIN <= value <= _I64_MAX:", "if not _I64_MIN <= value < _I64_MAX:"),
]
for path, old, new in muts:
    src = open(path).read()
    assert src.count(old) == 1, (path, old)
    open(path, "w").write(src.replace(old, new))
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "tests/rebalancer/test_limits.py", "-p", "no:cacheprovider"],
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=os.getcwd() + "/src"))
        print("KILLED" if r.returncode else "SURVIVED", path, new)
    finally:
        open(path, "w").write(src)
