"""Mutation check of the documented engine comparisons (not collected by pytest).

Flips each comparison below in a copy of the sources under a temporary
directory, rebuilds ``_engine`` there, runs ``tests/engine/test_boundaries.py``
against the mutant and reports whether it was killed (the tests failed).
The worktree is never modified.  Each mutant costs one Cython build of
``_engine`` (about a minute).

    PYTHONPATH=$PWD/src python tests/engine/mutation_check.py [INDEX ...]

With indices, only those mutants (0-based, in the order of ``MUTANTS``).
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]

MUTANTS = [
    ("if (s.stop_price <= p) if s.side == BUY else", "if (s.stop_price < p) if s.side == BUY else"),
    ("if s.side == BUY else (s.stop_price >= p):", "if s.side == BUY else (s.stop_price > p):"),
    ("(s.side == BUY and self.last_price >= s.stop_price)", "(s.side == BUY and self.last_price > s.stop_price)"),
    ("(s.side == SELL and self.last_price <= s.stop_price)", "(s.side == SELL and self.last_price < s.stop_price)"),
    ("while rounds < MAX_STOP_ROUNDS:", "while rounds <= MAX_STOP_ROUNDS:"),
    ("self.crossing_quantity(side, price, qty) < qty", "self.crossing_quantity(side, price, qty) <= qty"),
    ("if (o.price < best.price) if o.side == BUY else", "if (o.price <= best.price) if o.side == BUY else"),
    ("if o.side == BUY else (o.price > best.price):", "if o.side == BUY else (o.price >= best.price):"),
    ("if len(symbol.encode(\"utf-8\")) > 8:", "if len(symbol.encode(\"utf-8\")) >= 8:"),
    ("        if x < 0:\n            raise ValueError(f\"{name} must be {what}", "        if x < -1:\n            raise ValueError(f\"{name} must be {what}"),
    ("    if q == 0:\n        raise ValueError(f\"{name} must be positive, got 0\")", "    if q == 0 and False:\n        raise ValueError(f\"{name} must be positive, got 0\")"),
]


def main() -> int:
    chosen = [MUTANTS[int(i)] for i in sys.argv[1:]] or MUTANTS
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="nanobook-mut-"))
    survivors = []
    try:
        shutil.copytree(ROOT / "src", tmp / "src", symlinks=True)
        for name in ("setup.py", "pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, tmp / name)
        pyx = tmp / "src" / "nanobook" / "_engine.pyx"
        original = pyx.read_text()
        env = {**os.environ, "PYTHONPATH": str(tmp / "src")}
        tests = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                 str(ROOT / "tests" / "engine" / "test_boundaries.py")]
        if subprocess.run(tests, capture_output=True, cwd=tmp, env=env).returncode != 0:
            print("the boundary tests fail on the unmutated build: fix them first")
            return 2
        for old, new in chosen:
            assert original.count(old) == 1, f"not exactly once: {old!r}"
            pyx.write_text(original.replace(old, new))
            subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp,
                           env=env, check=True, capture_output=True)
            proc = subprocess.run(tests, capture_output=True, text=True, cwd=tmp, env=env)
            killed = proc.returncode != 0
            print(f"{'killed  ' if killed else 'SURVIVED'} {old.splitlines()[0]!r}", flush=True)
            if not killed:
                survivors.append(old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(chosen) - len(survivors)}/{len(chosen)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
