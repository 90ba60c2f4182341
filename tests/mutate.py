"""Mutation check of documented limits: flip one comparison at a time in the
sources and check that the boundary tests fail (KILLED), then restore the
file.  Not collected by pytest; each area lists its flips in a
``mutate_limits.py`` beside its tests, e.g.

    PYTHONPATH=$PWD/src python tests/broker/mutate_limits.py

prints KILLED or SURVIVED per flip and exits 1 if any survived.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(mutations: list[tuple[str, str, str]], tests: list[str]) -> int:
    """Apply each ``(path, old, new)`` flip alone, run ``tests``, restore."""
    survived = 0
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    for path, old, new in mutations:
        file = ROOT / path
        src = file.read_text()
        assert src.count(old) == 1, (path, old)
        file.write_text(src.replace(old, new))
        try:
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                               cwd=ROOT, capture_output=True, text=True, env=env)
        finally:
            file.write_text(src)
        killed = r.returncode != 0
        survived += not killed
        print("KILLED  " if killed else "SURVIVED", path, new.splitlines()[0].strip())
    return 1 if survived else 0
