"""Flip documented comparisons of nanobook_broker and check that tests/broker/test_limits.py fails
(a mutation check; not collected by pytest). Run from the worktree root:
``PYTHONPATH=$PWD/src python tests/broker/mutate_limits.py``; prints KILLED or SURVIVED per flip and
restores every file."""
import subprocess, sys, os
muts = [
 ("src/nanobook_broker/base.py", "if not (1 <= len(s) <= 36) or not s.isascii():", "if not (1 <= len(s) < 36) or not s.isascii():"),
 ("src/nanobook_broker/paper.py", 'return last >= stop if o["side"] == "buy" else last <= stop', 'return last > stop if o["side"] == "buy" else last <= stop'),
 ("src/nanobook_broker/paper.py", 'return last >= stop if o["side"] == "buy" else last <= stop', 'return last >= stop if o["side"] == "buy" else last < stop'),
 ("src/nanobook_broker/binance.py", "            if wait > self.max_wait:", "            if wait >= self.max_wait:"),
 ("src/nanobook_broker/binance.py", "                if attempt >= self.max_retries or wait > self.max_backoff:\n                    raise\n                log.warning(\"binance rate limited (code", "                if attempt >= self.max_retries or wait >= self.max_backoff:\n                    raise\n                log.warning(\"binance rate limited (code"),
 ("src/nanobook_broker/binance.py", "if not (0 <= self.unknown_outcome_window <= 600):", "if not (0 < self.unknown_outcome_window <= 600):"),
]
for path, old, new in muts:
    src = open(path).read()
    assert src.count(old) == 1, (path, old)
    open(path, "w").write(src.replace(old, new))
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "tests/broker/test_limits.py", "-p", "no:cacheprovider"],
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=os.getcwd() + "/src"))
        print("KILLED" if r.returncode else "SURVIVED", path, new.splitlines()[0].strip())
    finally:
        open(path, "w").write(src)
