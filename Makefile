# The two set-up commands of the README are `make demo` and `make test`.  Each
# builds its own virtualenv under .venv/ and installs what it needs; nothing
# else has to be on the machine but python3 (>= 3.10) with venv and a C
# compiler.
#
# Both install the same artefact: one wheel built from src/ into dist/ (as a
# user's `pip install .` builds it), so what the tests pass is what a user
# installs.  The sources live under src/, so no folder of the checkout can
# shadow the installed package, whatever the current directory.
PYTHON ?= python3
# Test folders whose code runs through Cython; `make test` runs them a second
# time against a checked build (NANOBOOK_DEBUG=1: bounds, wraparound and
# initialisation checks, -O0, assertions on).
CHECKED_TESTS = tests/engine tests/portfolio tests/analytics tests/feeds tests/sim tests/signals
# Everything the wheel is built from: a change to any of them rebuilds it.
SOURCES := $(shell find src -type f -not -name '*.so' -not -name '*.c' -not -path '*/__pycache__/*' -not -path '*.egg-info/*' 2>/dev/null) \
	setup.py pyproject.toml README.md
# The CPU build of torch (the training extra); an unpinned torch resolves to a
# CUDA build of several GB.
TORCH = torch==2.13.0

.PHONY: demo test test-suite test-checked wheel bench peers clean dev-metadata quantstats

demo: .venv/demo/.installed
	.venv/demo/bin/python -m nanobook

test: .venv/test/.installed
	$(MAKE) --no-print-directory test-suite
	$(MAKE) --no-print-directory test-checked

# The suite runs against the installed wheel (src/ is not on sys.path).
test-suite: .venv/test/.installed
	.venv/test/bin/python -m pytest -q

# The checked build lives in a copy of the sources under .build/checked/src,
# put first on sys.path for this run only.
test-checked: .venv/test/.installed
	rm -rf .build/checked && mkdir -p .build/checked
	tar cf - --exclude='*.so' --exclude='*.c' --exclude=__pycache__ --exclude='*.egg-info' src setup.py pyproject.toml README.md \
		| tar xf - -C .build/checked
	cd .build/checked && NANOBOOK_DEBUG=1 ../../.venv/test/bin/python setup.py -q build_ext --inplace \
		> build.log 2>&1 || (cat build.log; exit 1)
	PYTHONPATH=.build/checked/src .venv/test/bin/python -c \
		"import nanobook, sys; assert '.build/checked' in nanobook.__file__, nanobook.__file__"
	PYTHONPATH=.build/checked/src NANOBOOK_CHECKED_BUILD=1 .venv/test/bin/python -m pytest -q \
		-p no:cacheprovider -k "not stub" $(CHECKED_TESTS)

wheel: dist/.built

# One wheel, built in pip's isolated build environment exactly as `pip
# install .` would build it.  (The sdist is built and checked by the tests:
# tests/test_packaging.py.)
dist/.built: $(SOURCES)
	rm -rf dist build && mkdir -p dist
	$(PYTHON) -m pip wheel -q --no-deps -w dist .
	touch $@

.venv/demo/.installed: dist/.built
	test -x .venv/demo/bin/python || $(PYTHON) -m venv .venv/demo
	.venv/demo/bin/pip install -q --upgrade pip
	.venv/demo/bin/pip install -q "$$(ls dist/nanobook-*.whl)[plot]"
	.venv/demo/bin/pip install -q --force-reinstall --no-deps "$$(ls dist/nanobook-*.whl)"
	touch $@

.venv/test/.installed: dist/.built
	test -x .venv/test/bin/python || $(PYTHON) -m venv .venv/test
	.venv/test/bin/pip install -q --upgrade pip
	.venv/test/bin/pip install -q "$(TORCH)" "$$(ls dist/nanobook-*.whl)[test]"
	.venv/test/bin/pip install -q --force-reinstall --no-deps "$$(ls dist/nanobook-*.whl)"
	touch $@

# Benchmarks against the reference nanobook 0.19.2, installed in its own
# virtualenv (the package names clash).  Figures: docs/performance.md.
bench: .venv/test/.installed .venv/ref/.installed .venv/peers/.installed .venv/hftbacktest/.installed
	for b in benches/bench_*.py; do \
		NANOBOOK_REF_PYTHON=.venv/ref/bin/python NANOBOOK_PEER_PYTHON=.venv/peers/bin/python \
		NANOBOOK_HBT_PYTHON=.venv/hftbacktest/bin/python \
		.venv/test/bin/python $$b || exit 1; done

# The execution conventions against their peers (cvxportfolio, vectorbt), in
# their own virtualenv: python benches/peers/check_conventions.py
peers: .venv/test/.installed .venv/peers/.installed
	NANOBOOK_PEER_PYTHON=.venv/peers/bin/python .venv/test/bin/python benches/peers/check_conventions.py

.venv/ref/.installed:
	$(PYTHON) -m venv .venv/ref
	.venv/ref/bin/pip install -q nanobook==0.19.2 numpy
	touch $@

# hftbacktest 2.4.4, the simulator's yardstick (benches/bench_sim.py and the
# one-off recording benches/peers/hftbacktest_touch.py), in its own virtualenv.
.venv/hftbacktest/.installed:
	$(PYTHON) -m venv .venv/hftbacktest
	.venv/hftbacktest/bin/pip install -q hftbacktest==2.4.4
	touch $@

.venv/peers/.installed:
	$(PYTHON) -m venv .venv/peers
	.venv/peers/bin/pip install -q vectorbt cvxportfolio
	touch $@

# Entry points (nanobook.capabilities, nanobook.exports) live in package
# metadata: a source-tree run (PYTHONPATH=src) finds them in the
# src/nanobook.egg-info this writes.  Run once after changing pyproject.toml.
dev-metadata: .venv/test/.installed
	.venv/test/bin/python setup.py -q egg_info

clean:
	rm -rf .venv .build build dist *.egg-info src/*.egg-info
	find src -name '*.so' -delete -o -name '*.c' -delete

# quantstats, the yardstick of the tear-sheet metrics, in its own virtualenv
# (never a dependency of ours): benches/quantstats_compare.py prints both side
# by side; `--record` rewrites tests/data/portfolio/quantstats_reference.json.
quantstats: .venv/quantstats/.installed

.venv/quantstats/.installed:
	test -x .venv/quantstats/bin/python || $(PYTHON) -m venv .venv/quantstats
	.venv/quantstats/bin/pip install -q quantstats==0.0.86
	touch $@
