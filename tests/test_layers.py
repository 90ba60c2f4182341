"""The layer contract: imports only point down, no cycles, and the core never
names a package above it (issue 12 section 4; docs/index.md "Layers").

The contract itself is ``[tool.importlinter]`` in pyproject.toml, checked
here with ``lint-imports`` against the nanobook this run imports (the
installed wheel under ``make test``).  import-linter reads Python sources
only, so the compiled modules' imports (``.pyx``) are checked here against
the same layer list.
"""
from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nanobook

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
PKG = Path(nanobook.__file__).resolve().parent  # the nanobook this run imports (the wheel under make test)
SRC = ROOT / "src" / "nanobook"  # the checkout's sources (the .pyx are not in the wheel)
UPPER = ("nanobook_risk", "nanobook_broker", "nanobook_rebalancer")


def _contract(cid):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    cfg = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return next(c for c in cfg["contracts"] if c["id"] == cid)


def test_lint_imports_contract_is_kept():
    pytest.importorskip("importlinter")
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    out = subprocess.run([sys.executable, "-c", code, "--config", str(PYPROJECT), "--no-cache"],
                         capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "3 kept, 0 broken" in out.stdout, out.stdout[-2000:]


def _layer_of(module: str, layers: list[list[str]]) -> int | None:
    """Index (0 = top) of the layer holding nanobook.<child>, or None."""
    parts = module.split(".")
    if parts[0] != "nanobook" or len(parts) < 2:
        return None
    for i, layer in enumerate(layers):
        if parts[1] in layer:
            return i
    return None


def _module_name(path: Path) -> str:
    """``.../nanobook/feeds/_itch.pyx`` -> ``nanobook.feeds._itch``."""
    parts = path.with_suffix("").parts
    start = len(parts) - 1 - parts[::-1].index("nanobook")
    return ".".join(parts[start:])


def _pyx_imports(path: Path) -> list[str]:
    """Absolute nanobook modules imported or cimported by a Cython source."""
    package = _module_name(path).split(".")[:-1]
    out = []
    for m in re.finditer(r"^\s*(?:from\s+(\.*[\w.]*)\s+c?import\s+([\w, ]+)|c?import\s+([\w.]+))",
                         path.read_text(), re.M):
        mod = m.group(1) if m.group(1) is not None else m.group(3)
        if mod.startswith("."):
            dots = len(mod) - len(mod.lstrip("."))
            base = package[: len(package) - dots + 1]
            tail = mod.lstrip(".")
            mod = ".".join(base + ([tail] if tail else []))
            if not tail:  # from .. import name: the name is the module
                mod += "." + m.group(2).split(",")[0].strip()
        if mod.split(".")[0] == "nanobook":
            out.append(mod)
    return out


def test_compiled_modules_import_only_downwards():
    raw = _contract("core")["layers"]
    layers = [[p.strip().strip("()") for p in re.split(r"[|:]", layer)] for layer in raw]
    sources = sorted(SRC.rglob("*.pyx")) + sorted(SRC.rglob("*.pxd"))
    assert any(p.name == "_engine.pyx" for p in sources)
    checked = 0
    for path in sources:
        me = _module_name(path)
        mine = _layer_of(me, layers)
        for mod in _pyx_imports(path):
            theirs = _layer_of(mod, layers)
            if mine is None or theirs is None or mod.split(".")[1] == me.split(".")[1]:
                continue
            checked += 1
            assert theirs > mine, f"{me} ({raw[mine]}) imports {mod} ({raw[theirs]}): not below it"
    assert checked >= 1  # _engine cimports/imports dtypes


def test_the_layer_parser_catches_an_upward_import(tmp_path):
    # the .pyx check above must be able to fail: feed it an engine importing portfolio
    fake = tmp_path / "nanobook" / "_engine.pyx"
    fake.parent.mkdir()
    fake.write_text("from nanobook.portfolio import backtest_weights\nfrom . cimport _types\n")
    assert _pyx_imports(fake) == ["nanobook.portfolio", "nanobook._types"]
    raw = _contract("core")["layers"]
    layers = [[p.strip().strip("()") for p in re.split(r"[|:]", layer)] for layer in raw]
    assert _layer_of("nanobook.portfolio", layers) < _layer_of("nanobook._engine", layers)


def test_the_core_never_names_an_upper_package():
    src = [p for root in {PKG, SRC} for p in sorted(root.rglob("*.py")) + sorted(root.rglob("*.py[xdi]"))]
    assert len(src) > 50
    offenders = [f"{p}: {name}" for p in src for name in UPPER if name in p.read_text(errors="replace")]
    assert offenders == []


def test_upper_packages_declare_their_capabilities_and_exports():
    caps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="nanobook.capabilities")}
    exports = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="nanobook.exports")}
    assert caps, ("no nanobook.capabilities entry points: install the wheel, or in a source tree "
                  "run `make dev-metadata` (writes src/nanobook.egg-info)")
    assert set(caps) == {"risk_engine", "broker_paper", "broker_ibkr", "broker_binance",
                         "rebalancer_cli"}
    assert set(exports) == {"RiskEngine", "IbkrBroker", "BinanceBroker"}
    import nanobook_broker
    import nanobook_risk

    assert nanobook.RiskEngine is nanobook_risk.RiskEngine
    assert nanobook.IbkrBroker is nanobook_broker.IbkrBroker
    assert {"RiskEngine", "IbkrBroker", "BinanceBroker"} <= set(nanobook.__all__)
    names = nanobook.capabilities()
    assert {"risk_engine", "broker_paper", "rebalancer_cli"} <= set(names)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        nanobook.NoSuchThing


def test_a_third_party_distribution_can_declare_a_capability(tmp_path):
    # any installed distribution may add names to the group; the core reads them all
    dist = tmp_path / "nb_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nb-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [nanobook.capabilities]
        zz_plugin_ok = nb_plugin_demo_mod:yes
        zz_plugin_broken = nb_plugin_demo_missing:yes
        """))
    (tmp_path / "nb_plugin_demo_mod.py").write_text("def yes():\n    return True\n")
    code = textwrap.dedent(f"""\
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        import nanobook
        from nanobook._capabilities import registered_capabilities
        print("zz_plugin_ok" in nanobook.capabilities(),
              "zz_plugin_broken" in nanobook.capabilities(),
              "zz_plugin_broken" in registered_capabilities())
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "False", "True"]
