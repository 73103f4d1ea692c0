# `make run` and `make test` work on a fresh machine: they create .venv, install, index and run.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INDEX := .qa-index
PORT ?= 7860
export HF_HUB_OFFLINE := 1

.PHONY: setup index run test bench eval clean browser

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build on this machine; any looser spec pulls gigabytes of CUDA packages.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(INSTALLED)

setup: $(INSTALLED)

index: setup
	$(BIN)/qa index seeds --index $(INDEX)

run: index
	$(BIN)/qa serve --index $(INDEX) --host 127.0.0.1 --port $(PORT)

# Browser tests drive Debian's chromium; install it where it is missing (root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: setup browser
	$(BIN)/python -m pytest -q

eval: index
	$(BIN)/qa eval eval/gold_qa.json --index $(INDEX)

bench: index
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) $(INDEX) .$(INDEX).* build *.egg-info
