"""The installed artefact works, not only the source tree.

`make test` builds one wheel into dist/ (as `pip install .` builds it) and
runs this suite against it.  Here that wheel is installed into a fresh
virtualenv holding nothing else, and used from a directory outside the
source tree the way a user would: every package and compiled module imports,
`capabilities()`, a tiny backtest, an Exchange round trip, `rebalance
--dry-run` on a bundled target, every bundled data set.  The sdist is built
and checked to carry everything a build needs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from sources import COMPILED_MODULES, PYX, ROOT, SRC

PACKAGES = ["nanobook", "nanobook_risk", "nanobook_broker", "nanobook_rebalancer"]
# What a user needs at run time besides the .py files.
RUNTIME_SUFFIXES = (".pyi", ".pxd", ".csv", ".gz", ".pcap", ".json", ".md", ".toml")


def _wheel() -> Path:
    env = os.environ.get("NANOBOOK_WHEEL")
    found = [Path(env)] if env else sorted((ROOT / "dist").glob("nanobook-*.whl"))
    if not found or not found[-1].exists():
        pytest.fail("no wheel in dist/: `make wheel` builds it (make test does this first)")
    return found[-1]


def _source_files() -> list[str]:
    """Files under src/ that belong in the package (tracked or new; no build output)."""
    out = []
    for p in SRC.rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".so", ".c", ".pyc") \
                and ".egg-info" not in str(p):
            out.append(str(p.relative_to(SRC)))
    return sorted(out)


def test_wheel_carries_every_runtime_file():
    names = set(zipfile.ZipFile(_wheel()).namelist())
    wanted = [f for f in _source_files() if f.endswith((".py", "py.typed") + RUNTIME_SUFFIXES)]
    missing = [f for f in wanted if f not in names]
    assert missing == [], f"files under src/ missing from the wheel: {missing}"
    # every .pyx is there compiled
    for pyx in PYX:
        mod = str(pyx.relative_to(SRC).with_suffix(""))
        assert any(n.startswith(mod + ".") and n.endswith((".so", ".pyd")) for n in names), mod
    assert "nanobook/py.typed" in names


def test_sdist_carries_what_a_build_needs(tmp_path):
    """The sdist is built from a copy of the checkout (nothing is written into
    the source tree) and holds the Cython sources, headers, stubs and data,
    and no generated C or compiled objects."""
    work = tmp_path / "checkout"
    work.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(ROOT / name, work / name)
    shutil.copytree(SRC, work / "src", ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__", "*.egg-info"))
    proc = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")],
                          cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (sdist,) = (tmp_path / "dist").glob("nanobook-*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    missing = [f for f in ("src/" + f for f in _source_files()) if f not in names]
    assert missing == [], f"missing from the sdist: {missing}"
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        assert name in names
    assert not [n for n in names if n.endswith((".c", ".so"))]


SMOKE = r'''
import importlib, json, os, subprocess, sys
from importlib import resources
from pathlib import Path

here = Path.cwd()
report = {}
# 1. every package and every compiled module, from the installed copy
import nanobook, nanobook_risk, nanobook_broker, nanobook_rebalancer
for mod in (nanobook, nanobook_risk, nanobook_broker, nanobook_rebalancer):
    assert "site-packages" in mod.__file__, mod.__file__
compiled = json.loads(sys.argv[1])
for name in compiled:
    m = importlib.import_module(name)
    assert m.__file__.endswith(".so"), (name, m.__file__)
report["compiled"] = len(compiled)
# 2. capabilities
caps = nanobook.capabilities()
assert isinstance(caps, list) and caps, caps
report["capabilities"] = len(caps)
# 3. a tiny backtest (the reference's list call style)
res = nanobook.backtest_weights(
    [[("AAA", 0.5), ("BBB", 0.5)], [("AAA", 0.5), ("BBB", 0.5)], [("AAA", 0.5), ("BBB", 0.5)]],
    [[("AAA", 10_000), ("BBB", 5_000)], [("AAA", 10_100), ("BBB", 5_000)], [("AAA", 10_200), ("BBB", 4_900)]],
    1_000_000, nanobook.CostModel(commission_bps=0.0),
)
# cents: 50 AAA + 100 BBB bought at the first bar, then AAA +$1, +$1 and BBB -$1
assert res["equity_curve"] == [1_000_000, 1_000_000, 1_005_000, 1_000_000], res["equity_curve"]
# 4. an Exchange round trip, replayed from its event log
ex = nanobook.Exchange()
ex.submit_limit("sell", 10_100, 100)
r = ex.submit_limit("buy", 10_100, 30)
assert r.status == "Filled" and ex.best_bid_ask() == (None, 10_100), (r, ex.best_bid_ask())
again = nanobook.Exchange.replay(ex.events())
assert again.best_bid_ask() == ex.best_bid_ask() and len(again.trades()) == 1
# 5. every bundled data set
import nanobook.datasets as ds
for name in ds.SAMPLES:
    assert ds.path(name).stat().st_size > 0, name
close = ds.load_sp100("close")
assert close.shape == (1849, 20), close.shape
assert ds.load_itch().n_messages == 39
assert len(ds.load_lobster_msft()[0]) == 1000
assert ds.load_mdp3().packets > 0
assert ds.load_binance_btcusdt() is not None
report["datasets"] = len(ds.SAMPLES)
# 6. rebalance --dry-run on the bundled target, through the console script
target = resources.files("nanobook_rebalancer") / "data" / "example_target.json"
exe = Path(sys.executable).with_name("rebalance")
p = subprocess.run([str(exe), "--dry-run", str(target)], capture_output=True, text=True, timeout=120,
                   env=dict(os.environ, HOME=str(here / "home"), COLUMNS="160"))
assert p.returncode == 0, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
assert "Rebalance plan" in p.stdout, p.stdout[-2000:]
# 7. python -m nanobook from a directory that contains a folder called nanobook
(here / "nanobook").mkdir(exist_ok=True)
p = subprocess.run([sys.executable, "-m", "nanobook", "book", "--events", "20000"],
                   capture_output=True, text=True, timeout=120, cwd=here)
assert p.returncode == 0 and "replay of the event log reproduces the book: True" in p.stdout, p
print("SMOKE-OK " + json.dumps(report))
'''


@pytest.mark.timeout(900)
def test_wheel_installs_and_works_in_a_clean_venv_outside_the_source_tree(tmp_path):
    wheel = _wheel()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    pip_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           f"{wheel}[rebalancer]"], capture_output=True, text=True, timeout=850, env=pip_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = dict(pip_env, MPLBACKEND="Agg")
    proc = subprocess.run([str(py), "-c", SMOKE, json.dumps(COMPILED_MODULES)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "SMOKE-OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-5000:]
