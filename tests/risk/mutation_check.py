"""Mutation check of the documented risk limits (not collected by pytest).

Flips each documented comparison of ``src/nanobook_risk/_engine.py`` in turn
(``>`` to ``>=`` and back the other way), runs ``tests/risk/test_boundaries.py``
against the mutant and restores the file.  Every mutant must be killed (the
boundary tests fail); a survivor means a limit is not pinned.

    PYTHONPATH=$PWD/src python tests/risk/mutation_check.py
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "nanobook_risk" / "_engine.py"

# (original text, mutant): each original occurs exactly once
MUTANTS = [
    ("notional > c.max_order_value_cents) else", "notional >= c.max_order_value_cents) else"),
    ("st = Status.FAIL if pct > c.max_position_pct", "st = Status.FAIL if pct >= c.max_position_pct"),
    ("if equity > 0 else 0.0", "if equity >= 0 else 0.0"),
    ("Status.WARN if notional > self._max_trade_cents()", "Status.WARN if notional >= self._max_trade_cents()"),
    ('sd == "sell" and post < 0 and not', 'sd == "sell" and post <= 0 and not'),
    ("Fraction(dev * 10_000) > Fraction(lim) * ref", "Fraction(dev * 10_000) >= Fraction(lim) * ref"),
    ("Status.FAIL if total > lim", "Status.FAIL if total >= lim"),
    ("Fraction(day_start - equity) > Fraction", "Fraction(day_start - equity) >= Fraction"),
    ("Fraction(hwm - equity) > Fraction", "Fraction(hwm - equity) >= Fraction"),
    ("Status.FAIL if worst > c.max_position_pct", "Status.FAIL if worst >= c.max_position_pct"),
    ("Status.FAIL if lev > c.max_leverage", "Status.FAIL if lev >= c.max_leverage"),
    ("Status.FAIL if sp > c.max_short_pct", "Status.FAIL if sp >= c.max_short_pct"),
    ("0 and notional > c.max_order_value_cents:", "0 and notional >= c.max_order_value_cents:"),
    ("batch_value > c.max_batch_value_cents:", "batch_value >= c.max_batch_value_cents:"),
    ("if notional > max_cents:", "if notional >= max_cents:"),
    ("if not (0.0 < x <= 1.0):", "if not (0.0 <= x <= 1.0):"),
    ("if not (0.0 < x <= 1.0):", "if not (0.0 < x < 1.0):"),
    ("if not (x >= 1.0 and math.isfinite(x)):", "if not (x > 1.0 and math.isfinite(x)):"),
    ("if not (0.0 <= x <= 1.0):", "if not (0.0 < x <= 1.0):"),
    ("if not (0.0 <= x <= 1.0):", "if not (0.0 <= x < 1.0):"),
    ("if self.max_order_value_cents < 0:", "if self.max_order_value_cents <= 0:"),
    ("if self.max_batch_value_cents < 0:", "if self.max_batch_value_cents <= 0:"),
    ("dl is not None and not (0.0 <= dl <= 1.0)", "dl is not None and not (0.0 < dl <= 1.0)"),
    ("dl is not None and not (0.0 <= dl <= 1.0)", "dl is not None and not (0.0 <= dl < 1.0)"),
    ("pc is not None and not (pc >= 0.0 and", "pc is not None and not (pc > 0.0 and"),
]


def main() -> int:
    original = SRC.read_text()
    survivors = []
    tests = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
             str(ROOT / "tests" / "risk" / "test_boundaries.py")]
    if subprocess.run(tests, capture_output=True, cwd=ROOT).returncode != 0:
        print("the boundary tests fail on the unmutated source: fix them first")
        return 2
    try:
        for old, new in MUTANTS:
            assert original.count(old) == 1, f"not exactly once: {old!r}"
            SRC.write_text(original.replace(old, new))
            proc = subprocess.run(tests, capture_output=True, text=True, cwd=ROOT)
            killed = proc.returncode != 0
            print(f"{'killed  ' if killed else 'SURVIVED'} {old!r} -> {new!r}", flush=True)
            if not killed:
                survivors.append(old)
    finally:
        SRC.write_text(original)
    print(f"{len(MUTANTS) - len(survivors)}/{len(MUTANTS)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
