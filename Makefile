# The two set-up commands of the README are `make demo` and `make test`.  Each
# builds its own virtualenv under .venv/ and installs what it needs; nothing
# else has to be on the machine but python3 (>= 3.10) with venv and a C
# compiler.
PYTHON ?= python3
# Test folders whose code runs through Cython; `make test` runs them a second
# time against a checked build (NANOBOOK_DEBUG=1: bounds, wraparound and
# initialisation checks, -O0, assertions on).
CHECKED_TESTS = tests/engine tests/portfolio tests/analytics tests/feeds tests/sim

.PHONY: demo test test-checked bench peers clean

demo: .venv/demo/.installed
	.venv/demo/bin/python -m nanobook

test: .venv/test/.installed
	.venv/test/bin/python -m pytest -q
	$(MAKE) --no-print-directory test-checked

# The checked build lives in a copy of the sources under .build/checked; the
# tests run from there so that `import nanobook` finds that copy first.
test-checked: .venv/test/.installed
	rm -rf .build/checked && mkdir -p .build/checked
	tar cf - --exclude='*.so' --exclude='*.c' --exclude=__pycache__ nanobook setup.py pyproject.toml README.md \
		| tar xf - -C .build/checked
	cd .build/checked && NANOBOOK_DEBUG=1 ../../.venv/test/bin/python setup.py -q build_ext --inplace \
		> build.log 2>&1 || (cat build.log; exit 1)
	cd .build/checked && ../../.venv/test/bin/python -c \
		"import nanobook, sys; assert '.build/checked' in nanobook.__file__, nanobook.__file__"
	cd .build/checked && ../../.venv/test/bin/python -m pytest -q -p no:cacheprovider -k "not stub" \
		$(addprefix ../../,$(CHECKED_TESTS))

# Benchmarks against the reference nanobook 0.19.2, installed in its own
# virtualenv (the package names clash).  Figures: docs/performance.md.
bench: .venv/test/.installed .venv/ref/.installed .venv/peers/.installed
	for b in benches/bench_*.py; do \
		NANOBOOK_REF_PYTHON=.venv/ref/bin/python NANOBOOK_PEER_PYTHON=.venv/peers/bin/python \
		.venv/test/bin/python $$b || exit 1; done

# The execution conventions against their peers (cvxportfolio, vectorbt), in
# their own virtualenv: python benches/peers/check_conventions.py
peers: .venv/test/.installed .venv/peers/.installed
	NANOBOOK_PEER_PYTHON=.venv/peers/bin/python .venv/test/bin/python benches/peers/check_conventions.py

.venv/demo/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv .venv/demo
	.venv/demo/bin/pip install -q --upgrade pip
	.venv/demo/bin/pip install -q ".[plot]"
	touch $@

.venv/test/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv .venv/test
	.venv/test/bin/pip install -q --upgrade pip
	.venv/test/bin/pip install -q -e ".[test]"
	touch $@

.venv/ref/.installed:
	$(PYTHON) -m venv .venv/ref
	.venv/ref/bin/pip install -q nanobook==0.19.2 numpy
	touch $@

.venv/peers/.installed:
	$(PYTHON) -m venv .venv/peers
	.venv/peers/bin/pip install -q vectorbt cvxportfolio
	touch $@

clean:
	rm -rf .venv .build build *.egg-info
	find nanobook -name '*.so' -delete -o -name '*.c' -delete
