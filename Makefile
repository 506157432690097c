# Every target sets itself up: a fresh Debian 12 machine needs only `make`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST ?= $(PY) -m pytest

.PHONY: setup qemu test-packages demo test bench clean

setup: $(VENV)/.installed qemu

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

qemu:
	@scripts/ensure-qemu

test-packages:
	@scripts/ensure-test-packages
	@scripts/ensure-qemu-backport

demo: setup
	$(VENV)/bin/migtui demo

test: setup test-packages
	$(PYTEST) $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
