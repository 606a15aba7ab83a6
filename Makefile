# robomem: `make setup` once, then `make test`. CPU torch by default; GPU users: make setup TORCH=torch
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
PYTEST_ARGS ?= -n auto

.PHONY: setup sysdeps test test-all lint typecheck bench clean

setup: sysdeps
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, so the package's `torch>=2.2` range is already met by the CPU wheel
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[dev]"
	@echo "robomem is installed in $(VENV): try '$(VENV)/bin/robomem run' and 'make test'"

# open3d needs libusb-1.0 at import time (Debian/Ubuntu package libusb-1.0-0).
sysdeps:
	@if ldconfig -p 2>/dev/null | grep -q libusb-1.0; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq libusb-1.0-0 >/dev/null; \
	elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then \
		sudo apt-get update -qq && sudo apt-get install -y -qq libusb-1.0-0 >/dev/null; \
	else echo "warning: install libusb-1.0 with your package manager (open3d needs it)"; fi

test:
	$(PY) -m pytest -q -m "not slow and not gpu" $(PYTEST_ARGS)

test-all:
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint:
	$(VENV)/bin/ruff check .

# mypy cannot follow setuptools' package-dir mapping (envs/ -> robomem.envs), so it checks a
# symlinked tree laid out as the installed package.
typecheck:
	rm -rf build/typecheck && mkdir -p build/typecheck/robomem
	for f in robomem/*; do ln -s "$$PWD/$$f" build/typecheck/robomem/; done
	for d in envs planners policies; do ln -s "$$PWD/$$d" build/typecheck/robomem/$$d; done
	cd build/typecheck && $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml -p robomem

bench:
	$(PY) benchmarks/sim_speed.py
	$(PY) benchmarks/oracle_solvability.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
