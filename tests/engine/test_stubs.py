"""The hand-written stub of the compiled engine matches the module (mypy.stubtest)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_engine_stub_matches_runtime():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "nanobook._engine",
         "--mypy-config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_record_layouts_match_the_dtypes():
    from nanobook import _engine, dtypes
    layout = _engine._layout()
    for name, dtype in (("event", dtypes.EVENT_DTYPE), ("trade", dtypes.TRADE_DTYPE)):
        size, offsets = layout[name]
        assert dtype.itemsize == size
        for field, off in offsets.items():
            assert dtype.fields[field][1] == off, (name, field)
    assert layout["order"] == 48      # the per-order cost in the id table
