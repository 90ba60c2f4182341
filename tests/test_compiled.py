"""Every compiled module is built and imports as an extension, and the work
the docs say runs in Cython does run there: a build that silently produced no
kernel, or a Python fallback taking over, fails here rather than skipping."""
from __future__ import annotations

import importlib
import importlib.machinery
import sys

import numpy as np
import pytest

from sources import COMPILED_MODULES as MODULES


def test_the_build_has_compiled_modules():
    assert len(MODULES) >= 8, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_compiled_module_imports_as_an_extension(name):
    mod = importlib.import_module(name)
    assert mod.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), mod.__file__
    assert isinstance(mod.__loader__, importlib.machinery.ExtensionFileLoader)


def _compiled_callers(fn, module: str) -> set[str]:
    """Compiled modules seen doing work while ``fn`` runs: builtin functions
    reported by the profiler (``c_call``), plus calls to the functions of
    ``module`` looked up on it at call time (fused and other Cython functions
    with ``binding`` are not builtins, so the profiler does not see them)."""
    seen: set[str] = set()

    def prof(frame, event, arg):
        if event == "c_call":
            mod = getattr(arg, "__module__", None)
            if mod is None:                       # a method: ask its class
                owner = getattr(arg, "__self__", None)
                mod = getattr(type(owner), "__module__", None)
            if mod and mod.startswith("nanobook"):
                seen.add(mod)

    target = importlib.import_module(module)
    saved = {}
    for attr, value in vars(target).items():
        if callable(value) and not isinstance(value, type) and not attr.startswith("__"):
            saved[attr] = value

    def spy(f):
        def call(*a, **k):
            seen.add(module)
            return f(*a, **k)
        return call

    for attr, value in saved.items():
        setattr(target, attr, spy(value))
    sys.setprofile(prof)
    try:
        fn()
    finally:
        sys.setprofile(None)
        for attr, value in saved.items():
            setattr(target, attr, value)
    return seen


def _backtest_frame():
    import nanobook as nb

    close = nb.load_sp100("close").iloc[:300]
    w = (close.pct_change(20).rank(axis=1) > 15).astype(float) / 5
    nb.backtest_weights(w, close, 1_000_000.0, nb.CostModel(commission_bps=5))


def _indicator():
    import nanobook as nb

    nb.rsi(np.linspace(1.0, 2.0, 500), 14)


def _itch():
    import nanobook.datasets as ds

    ds.load_itch()


def _book_apply():
    import nanobook as nb

    ex = nb.Exchange()
    ops = np.zeros(2, dtype=nb.dtypes.EVENT_DTYPE)
    ops["kind"] = nb.dtypes.SUBMIT_LIMIT
    ops["side"] = [0, 1]
    ops["price"] = 100
    ops["quantity"] = 5
    ex.apply(ops)


# (what the docs promise, the call, the compiled module that must do the work)
PROMISES = [
    ("docs/portfolio.md: DataFrame backtests run in the dense Cython kernel", _backtest_frame,
     "nanobook.portfolio._kernel"),
    ("docs/analytics.md: indicators run in nanobook/analytics/_kernels.pyx", _indicator,
     "nanobook.analytics._kernels"),
    ("docs/feeds.md: ITCH decodes to arrays in Cython", _itch, "nanobook.feeds._itch"),
    ("docs/engine.md: the batch path is the Cython book", _book_apply, "nanobook._engine"),
]


@pytest.mark.parametrize("promise,fn,module", PROMISES, ids=[p[2] for p in PROMISES])
def test_the_documented_kernel_does_the_work(promise, fn, module):
    assert module in _compiled_callers(fn, module), promise
