"""Mutation check of nanobook.validate's limits: each flip must make
tests/test_validate.py fail (runner and usage: tests/mutate.py).

    PYTHONPATH=$PWD/src python tests/mutation_check_validate.py [INDEX ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate import run  # noqa: E402

V = "src/nanobook/validate.py"
INT = ("            and (ge is None or v >= ge) and (gt is None or v > gt) and (le is None or v <= le)\n"
       "            and (lt is None or v < lt)):\n")
REAL = ("            and (ge is None or v >= ge) and (gt is None or v > gt) and (le is None or v <= le)\n"
        "            and (lt is None or v < lt) and (not finite or math.isfinite(v))):\n")
MUTANTS = [
    (V, INT, INT.replace("v >= ge", "v > ge")),
    (V, INT, INT.replace("v > gt", "v >= gt")),
    (V, INT, INT.replace("v <= le", "v < le")),
    (V, INT, INT.replace("v < lt", "v <= lt")),
    (V, REAL, REAL.replace("v >= ge", "v > ge")),
    (V, REAL, REAL.replace("v > gt", "v >= gt")),
    (V, REAL, REAL.replace("v <= le", "v < le")),
    (V, REAL, REAL.replace("v < lt", "v <= lt")),
    (V, REAL, REAL.replace("math.isfinite(v)", "not math.isnan(v)")),
    (V, "    return not isinstance(v, bool) and isinstance(v, _INT_NP if numpy else _INT)",
        "    return isinstance(v, _INT_NP if numpy else _INT)"),
    (V, "(not isinstance(v, bool) and isinstance(v, _INT_NP if numpy else _INT)))",
        "(isinstance(v, _INT_NP if numpy else _INT)))"),
    (V, "(not isinstance(v, bool) and isinstance(v, _REAL_NP if numpy else _REAL)))",
        "(isinstance(v, _REAL_NP if numpy else _REAL)))"),
    (V, "    if len(v.encode(\"utf-8\")) > SYMBOL_MAX_BYTES:", "    if len(v.encode(\"utf-8\")) >= SYMBOL_MAX_BYTES:"),
    (V, "    if len(s.encode(\"utf-8\")) > SYMBOL_MAX_BYTES:", "    if len(s.encode(\"utf-8\")) >= SYMBOL_MAX_BYTES:"),
    (V, "    if x < 0:\n        raise OverflowError", "    if x < -1:\n        raise OverflowError"),
    (V, "    if x > U64_MAX:", "    if x >= U64_MAX:"),
    (V, "    if x < I64_MIN or x > I64_MAX:", "    if x < I64_MIN - 1 or x > I64_MAX:"),
    (V, "    if x < I64_MIN or x > I64_MAX:", "    if x < I64_MIN or x >= I64_MAX:"),
    (V, "    if x <= 0:\n        raise ValueError(f\"{name} must be positive", "    if x < 0:\n        raise ValueError(f\"{name} must be positive"),
]

if __name__ == "__main__":
    sys.exit(run(MUTANTS, ["tests/test_validate.py"]))
