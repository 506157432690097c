# Every target sets itself up: a fresh Debian 12 machine needs only `make`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST ?= $(PY) -m pytest
# make test's workers (pytest-xdist): most tests wait on real migrations (the serial suite keeps 2 cores
# under a load of 1), so 3 workers on 2 cores: about 6 min against 15 serially.
# Tests that share a costly fixture stay on one worker (tests/conftest.py groups them: loadgroup).
# WORKERS=0 runs the suite in this process; PYTEST_ARGS=tests/test_lab.py runs one file.
WORKERS ?= 3
# The exact versions the tests passed with (pip's requirements format); `make lock` refreshes it.
LOCK   := requirements.lock
PIP    := $(VENV)/bin/pip install --quiet --disable-pip-version-check --constraint $(LOCK)

.PHONY: setup qemu libvirt test-packages demo test lint bench lock clean

setup: libvirt $(VENV)/.installed qemu

# pip first, at the lock's version (it resolves the rest), then migtui with the lock's versions.
# Debian's libvirt first: the venv builds libvirt-python (source only) against libvirt-dev.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@scripts/ensure-libvirt
	python3 -m venv $(VENV)
	$(PIP) pip
	$(PIP) -e '.[test]'
	touch $@

# On purpose only: the newest versions pyproject allows, written to the lock (then run make test).
lock: libvirt
	scripts/lock

qemu:
	@scripts/ensure-qemu

# libvirtd, virsh and what building libvirt-python needs (the lab of libvirt hosts); no service starts
libvirt:
	@scripts/ensure-libvirt

test-packages:
	@scripts/ensure-test-packages
	@scripts/ensure-qemu-backport

demo: setup
	$(VENV)/bin/migtui demo

test: setup test-packages
	$(PYTEST) -n $(WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The type and lint checks alone (make test runs them too: tests/test_types.py, tests/test_lint.py).
lint: $(VENV)/.installed
	$(PY) -m ruff check migtui
	$(PY) -m mypy

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
