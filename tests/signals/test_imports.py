"""import nanobook.signals pulls in neither torch nor onnx/onnxruntime, and
the package stays below the simulator (sim never imports signals)."""
import subprocess
import sys


def test_import_is_light():
    code = ("import sys, nanobook, nanobook.signals, nanobook.signals.strategy, nanobook.signals.pipeline; "
            "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime', 'tqdm', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sim_does_not_import_signals():
    code = "import sys, nanobook.sim; print('nanobook.signals' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
