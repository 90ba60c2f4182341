# The two set-up commands of the README.  Each one builds its own virtualenv
# under .venv/ and installs what it needs; nothing else has to be on the machine
# but python3 (>= 3.10) with venv, and a C compiler.
PYTHON ?= python3

.PHONY: demo test clean

demo: .venv/demo/.installed
	.venv/demo/bin/python -m nanobook

test: .venv/test/.installed
	.venv/test/bin/python -m pytest -q

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

clean:
	rm -rf .venv build *.egg-info
	find nanobook -name '*.so' -delete -o -name '*.c' -delete
