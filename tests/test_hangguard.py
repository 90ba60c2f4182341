"""A test that hangs in compiled code fails the run within its timeout and
prints where it hung, whether the hang holds the GIL or not."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

# libc's sleep() stands for a compiled loop that never returns: through
# ctypes.CDLL the call releases the GIL (like a `nogil` Cython loop), through
# ctypes.PyDLL it holds the GIL for the whole call (like a Cython loop with
# no Python calls in it).
HANGS = {
    "gil_free": "ctypes.CDLL(None).sleep(120)",
    "gil_held": "ctypes.PyDLL(None).sleep(120)",
}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", sorted(HANGS))
def test_a_hang_fails_within_its_timeout_and_says_where(kind, tmp_path):
    (tmp_path / "test_hang.py").write_text(textwrap.dedent(f"""
        import ctypes
        import pytest

        @pytest.mark.timeout(2)
        def test_compiled_loop_never_returns():
            {HANGS[kind]}

        def test_never_reached():
            pass
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
               NANOBOOK_HANG_GRACE="3")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "hangguard", "-p", "no:cacheprovider",
         "-o", "timeout_method=thread", str(tmp_path / "test_hang.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=80)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    # the stack names the test and the line that hung
    assert "test_compiled_loop_never_returns" in out, out
    assert "test_hang.py" in out and "line 7" in out, out
    assert "1 passed" not in out                      # the run stopped at the hang
