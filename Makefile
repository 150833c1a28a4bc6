# Two commands (see README.md):
#   make demo   set everything up on a fresh machine and inspect the bundled demo day
#   make test   set up, start the test services, run the linters (ruff, mypy) and the whole test suite
#   make serve-demo   the workbench (qc serve) on the demo days, with demo accounts (README)
#   make demo and make test also compile the per-message hot path with mypyc into build/compiled
#   (about a quarter less CPU; used only while its sources are unchanged, see qc/compiled.py);
#   make compiled     build it again now; make pure removes it (QC_PURE=1 runs the sources)
# .ci/run runs exactly `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve-demo test setup lint services clean compiled pure

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,postgres,compile]'
	touch $(STAMP)

# The compiled hot path (scripts/compile.py): built again when a source is newer than its
# manifest; a machine that cannot compile runs qc as pure Python (the same results, slower).
COMPILED := build/compiled/manifest.json
$(COMPILED): $(STAMP) $(wildcard qc/*.py qc/*/*.py)
	$(BIN)/python scripts/compile.py --or-pure

setup: $(STAMP) $(COMPILED)

demo: $(STAMP) $(COMPILED)
	$(BIN)/qc inspect demo/day --out out/demo

serve-demo: $(STAMP)
	$(BIN)/qc serve --demo

compiled: $(STAMP)
	$(BIN)/python scripts/compile.py

pure:
	$(BIN)/python scripts/compile.py --clean

lint: $(STAMP)
	$(BIN)/ruff check qc tests bench annotated_samples demo scripts
	$(BIN)/ruff format --check qc tests bench annotated_samples demo scripts
	$(BIN)/mypy qc

services:
	bash scripts/test-services.sh

test: $(STAMP) $(COMPILED) lint services
	. ./.test-services.env 2>/dev/null; $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .test-services.env
	find qc -name '*.so' -delete; rm -f ./*__mypyc*; rm -rf build/compiled build/compiled-*
