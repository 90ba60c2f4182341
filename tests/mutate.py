"""Mutation check of documented limits (not collected by pytest).

Each area that documents comparisons (a limit, a tie rule, a boundary) lists
them in a ``mutation_check.py`` beside its tests as ``(path, original,
mutant)`` flips, e.g. ``>`` to ``>=``.  :func:`run` applies each flip alone
to a copy of the sources in a temporary directory (the checkout is never
modified), rebuilds the compiled module when the flip is in a ``.pyx``/``.pxd``/``.pxi`` (only
that module recompiles), runs the area's boundary tests against the copy and
reports whether the mutant was killed (the tests failed).  The unmutated copy
must pass first.

    PYTHONPATH=$PWD/src python tests/risk/mutation_check.py [INDEX ...]

With indices, only those flips (0-based).  Exit status 0 when every mutant
is killed, 1 when one survived, 2 when the unmutated sources fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(mutants: list[tuple[str, str, str]], tests: list[str], argv: list[str] | None = None) -> int:
    """Check every ``(path, original, mutant)`` flip against ``tests`` (paths
    relative to the repository root); see the module docstring."""
    argv = sys.argv[1:] if argv is None else argv
    chosen = [mutants[int(i)] for i in argv] or mutants
    tmp = Path(tempfile.mkdtemp(prefix="nanobook-mut-"))
    survivors = 0
    try:
        shutil.copytree(ROOT / "src", tmp / "src", symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        for name in ("setup.py", "pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, tmp / name)
        env = {**os.environ, "PYTHONPATH": str(tmp / "src"), "HYPOTHESIS_PROFILE": "dev"}
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
               *[str(ROOT / t) for t in tests]]
        if subprocess.run(cmd, capture_output=True, cwd=tmp, env=env).returncode != 0:
            print("the tests fail on the unmutated sources: fix them first")
            return 2
        for path, old, new in chosen:
            file = tmp / path
            original = file.read_text()
            assert original.count(old) == 1, f"{path}: not exactly once: {old!r}"
            file.write_text(original.replace(old, new))
            try:
                if file.suffix in (".pyx", ".pxd", ".pxi"):
                    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp,
                                   env=env, check=True, capture_output=True)
                killed = subprocess.run(cmd, capture_output=True, cwd=tmp, env=env).returncode != 0
            finally:
                file.write_text(original)
                if file.suffix in (".pyx", ".pxd", ".pxi"):
                    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tmp,
                                   env=env, check=True, capture_output=True)
            survivors += not killed
            print(f"{'killed  ' if killed else 'SURVIVED'} {path}: {old.splitlines()[0].strip()!r}"
                  f" -> {new.splitlines()[0].strip()!r}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(chosen) - survivors}/{len(chosen)} mutants killed")
    return 1 if survivors else 0
