"""The skip policy of tests/skippolicy.py: a skip that names an absent
optional dependency stays a skip; any other skip fails the run."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(tmp_path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_x.py").write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "skippolicy", "-p", "no:cacheprovider",
                           "-rs", str(tmp_path / "test_x.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_absent_optional_dependency_is_a_skip(tmp_path):
    p = _run(tmp_path, """
        import pytest
        def test_a():
            pytest.importorskip("surely_not_installed_nanobook_dep")
    """)
    assert p.returncode == 0 and "1 skipped" in p.stdout, p.stdout


def test_module_level_importorskip_of_an_absent_package_is_a_skip(tmp_path):
    p = _run(tmp_path, """
        import pytest
        pytest.importorskip("surely_not_installed_nanobook_dep.sub")
        def test_a():
            pass
    """)
    # pytest's exit status 5: nothing ran, the module was skipped
    assert p.returncode == 5 and "1 skipped" in p.stdout and "failed" not in p.stdout, p.stdout


def test_any_other_skip_fails(tmp_path):
    p = _run(tmp_path, """
        import pytest
        @pytest.mark.skipif(True, reason="compiled kernel not built")
        def test_a():
            pass
        def test_b():
            pytest.skip("feature not available yet")
    """)
    # the skipif is reported at setup (an error), the skip() in the call (a failure)
    assert p.returncode == 1 and "1 failed, 1 error" in p.stdout, p.stdout
    assert "compiled kernel not built" in p.stdout and "feature not available yet" in p.stdout


def test_a_present_package_cannot_be_skipped_as_absent(tmp_path):
    p = _run(tmp_path, """
        import pytest
        def test_a():
            pytest.skip("could not import 'json': pretend")
    """)
    assert p.returncode == 1 and "1 failed" in p.stdout, p.stdout
