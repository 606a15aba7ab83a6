# robomem: `make setup` once, then `make test`.
#
# `make setup` installs the locked, tested versions (locks/<platform>.txt) for this platform;
# `make setup-latest` the newest versions pyproject.toml's ranges allow (to see the next break
# early); `make lock` regenerates the lock from the ranges. torch is not in the lock: TORCH
# picks it (the CPU wheel by default; GPU users: make setup TORCH=torch).
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
EXTRAS ?= dev
PYTEST_ARGS ?= -n auto
# e.g. linux-x86_64-cp311: one lock per OS, machine and CPython minor version
PLATFORM := $(shell python3 -c 'import platform, sys; print(f"{platform.system().lower()}-{platform.machine()}-cp{sys.version_info[0]}{sys.version_info[1]}")')
LOCK ?= locks/$(PLATFORM).txt
# what `make lock` resolves together, so an extra installed later stays consistent with the rest
LOCK_EXTRAS ?= dev,llm,thor,ros
LOCK_VENV := build/lock-venv
# pins the torch that TORCH installed, so an eager upgrade cannot swap the CPU build for CUDA's
TORCH_PIN := build/torch-pin.txt

.PHONY: setup setup-latest lock lock-diff sysdeps test test-all lint typecheck bench clean

ifeq ($(wildcard $(LOCK)),)
setup: setup-latest
	@echo "make setup: there is no lock for $(PLATFORM) ($(LOCK)), so this installed the newest" \
	      "versions the ranges allow, untested on this platform (README: Platforms)" >&2
else
setup: sysdeps
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -c $(LOCK) pip setuptools wheel
	# torch first, so the package's `torch>=2.2` range is already met by the CPU wheel
	$(PY) -m pip install -q "$(TORCH)"
	# the build uses the venv's locked setuptools too (no isolated build environment)
	$(PY) -m pip install -q --no-build-isolation -c $(LOCK) -e ".[$(EXTRAS)]"
	@echo "robomem is installed in $(VENV) with the locked versions of $(LOCK)."
	@echo "Try '$(VENV)/bin/robomem run' and 'make test'; if anything fails, '$(VENV)/bin/robomem doctor'."
endif

setup-latest: sysdeps
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q "$(TORCH)"
	@mkdir -p build && $(PY) -m pip freeze --all | grep '^torch==' > $(TORCH_PIN)
	$(PY) -m pip install -q --upgrade --upgrade-strategy eager -c $(TORCH_PIN) -e ".[$(EXTRAS)]"
	@$(MAKE) --no-print-directory lock-diff
	@echo "robomem is installed in $(VENV) with the newest versions the ranges allow"

# the installed versions that differ from the lock (packages of extras not installed are skipped)
lock-diff:
	@if [ ! -f $(LOCK) ]; then echo "there is no lock for $(PLATFORM) ($(LOCK)) to compare with"; else \
	echo "versions installed in $(VENV) that differ from $(LOCK):"; \
	$(PY) -m pip freeze --all --exclude-editable | grep -Ev '^torch==' | awk -F'==' ' \
	  NR == FNR { if ($$0 !~ /^#/ && NF == 2) locked[tolower($$1)] = $$2; next } \
	  NF == 2 { n = tolower($$1); \
	    if (!(n in locked)) { print "  " $$1 " " $$2 " (not in the lock)"; d++ } \
	    else if (locked[n] != $$2) { print "  " $$1 " " $$2 " (locked: " locked[n] ")"; d++ } } \
	  END { if (!d) print "  none" }' $(LOCK) -; fi

# Resolve the ranges (with every extra in LOCK_EXTRAS) afresh in a scratch venv and write the
# lock. Then run `make setup test` and commit the lock only when that is green.
lock: sysdeps
	rm -rf $(LOCK_VENV)
	python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip setuptools wheel
	$(LOCK_VENV)/bin/python -m pip install -q "$(TORCH)"
	@mkdir -p build && $(LOCK_VENV)/bin/python -m pip freeze --all | grep '^torch==' > $(TORCH_PIN)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade --upgrade-strategy eager -c $(TORCH_PIN) -e ".[$(LOCK_EXTRAS)]"
	$(LOCK_VENV)/bin/python -m pip check
	@mkdir -p locks
	@{ echo "# robomem's tested versions for $(PLATFORM), extras [$(LOCK_EXTRAS)]; torch comes from TORCH."; \
	   echo "# Written by 'make lock' on $$(date -u +%Y-%m-%d) from pyproject.toml's ranges; used as"; \
	   echo "# pip constraints by 'make setup'. Do not edit by hand: change a range and rerun 'make lock'."; \
	   $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable | grep -Ev '^torch=='; } > $(LOCK)
	@echo "wrote $(LOCK) ($$(grep -cv '^#' $(LOCK)) packages); now run 'make setup test' before committing it"

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
