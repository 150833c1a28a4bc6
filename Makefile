# Two commands (see README.md):
#   make demo   set everything up on a fresh machine and inspect the bundled demo day
#   make test   set up, start the test services, run the linters (ruff, mypy) and the whole test suite
#   make serve-demo   the workbench (qc serve) on the demo days, with demo accounts (README)
# .ci/run runs exactly `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve-demo test setup lint services clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,postgres]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/qc inspect demo/day --out out/demo

serve-demo: $(STAMP)
	$(BIN)/qc serve --demo

lint: $(STAMP)
	$(BIN)/ruff check qc tests bench annotated_samples demo
	$(BIN)/ruff format --check qc tests bench annotated_samples demo
	$(BIN)/mypy qc

services:
	bash scripts/test-services.sh

test: $(STAMP) lint services
	. ./.test-services.env 2>/dev/null; $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .test-services.env
