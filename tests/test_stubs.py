"""Every compiled module has a hand-written stub, and the stubs match the
modules (one mypy.stubtest run over all of them)."""
import subprocess
import sys

from sources import COMPILED_MODULES as MODULES, PYX, ROOT


def test_every_compiled_module_has_a_stub():
    assert PYX, "no .pyx found"
    missing = [str(p) for p in PYX if not p.with_suffix(".pyi").exists()]
    assert missing == []


def test_stubs_match_the_compiled_modules():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", *MODULES,
         "--mypy-config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
