# Bootstrap and the two commands of the README. Everything the project needs
# is installed from here: a fresh machine has nothing else.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-base

.PHONY: setup test test-fast demo lint perf clean

setup: system-packages $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The edit-test loop: no real local model, no kill -9 suites, no type check (make lint runs it).
test-fast: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not local_model"

demo: setup
	$(BIN)/benchagent build "I want to evaluate whether a model can reason about causes and effects in everyday events" --size 12 --pool ../shared/datasets/general-bench-subset/data

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .benchagent

# Optional pieces (system packages, local model) add their own targets here.
-include mk/*.mk
