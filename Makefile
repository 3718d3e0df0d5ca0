# Newcomers: `make demo` then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

demo: install
	$(BIN)/redact run samples --out out --overwrite

test: install
	$(BIN)/python -m pytest -q

# Everything but the real-model and dev-data tests (marked slow).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check redact tests bench tools cli.py
	$(BIN)/mypy redact

# Accuracy, video coverage and a short speed run (~15 min on 2 cores); see docs/performance.md.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,ray,bench]'
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/coverage.py
	$(BIN)/python bench/speed.py --sizes 1080p --seconds 2 --images 10
	$(BIN)/python bench/encoder.py

clean:
	rm -rf out .pytest_cache build *.egg-info
