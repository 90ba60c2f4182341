"""Where the sources are, for the tests that check the build against them
(stubs, compiled modules, packaging): one list of the compiled modules."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
# Every .pyx under src/ is built as the extension module of the same dotted name (setup.py).
PYX = sorted(SRC.rglob("*.pyx"))
COMPILED_MODULES = [".".join(p.relative_to(SRC).with_suffix("").parts) for p in PYX]
