"""The hand-written stub of the compiled simulator core matches the module."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_stub_matches_runtime():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "nanobook.sim._core",
         "--mypy-config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_record_dtypes_match_the_structs():
    from nanobook.sim import _core
    # the module asserts itemsizes at import; the field order is what the arrays expose
    assert _core.FILL_DTYPE.names[:4] == ("exch_ts", "local_ts", "order_id", "side")
    assert _core.ORDER_DTYPE.itemsize == 8 * len(_core.ORDER_DTYPE.names)
