# speech-anim-zoo. `make help` lists the targets. Everything runs inside .venv, which
# `make setup` creates from nothing but Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXTRAS := render,landmarks,dev
PYTEST := $(BIN)/pytest

.DEFAULT_GOAL := help
.PHONY: help setup test test-slow test-all lint bench corpus reproduce-audio2face export-audio2face pretrained pretrained-audio2face notebooks clean

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv and install the project with its extras (a second run is a no-op)

$(STAMP): setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version.split()[0]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "setuptools>=70.1,<81" wheel
	$(BIN)/python -m pip install --disable-pip-version-check --no-build-isolation -e ".[$(EXTRAS)]"
	touch $(STAMP)

test: setup ## the default test tier (fast + realdata where ../shared/data exists)
	$(PYTEST) -m "not slow"

test-slow: setup ## only the slow tier
	$(PYTEST) -m slow || [ $$? -eq 5 ]  # 5: no test is marked slow yet

test-all: setup ## every tier
	$(PYTEST)

lint: setup ## ruff over the project
	$(BIN)/ruff check .

A2F_OUT ?= $(if $(DATA),runs/audio2face-$(notdir $(abspath $(DATA))),runs/audio2face)
CORPUS_OUT ?= runs/corpus-small
corpus: setup ## generate the synthetic corpus (preset small, seed 0) into $(CORPUS_OUT)
	$(BIN)/zoo corpus --out $(CORPUS_OUT) --preset small --seed 0

bench: setup ## benchmarks side by side with a reference (<10 min) -> benchmarks/results.{md,json} (SUITES=audio2face QUICK=1)
	$(BIN)/zoo bench $(SUITES) $(if $(QUICK),--quick)

reproduce-audio2face: setup ## Audio2Face end to end: corpus, train (<=12 min), evaluate, export, preview, report (DATA=<facegood folder> NAMES=<name file> VAL=<clips> for real data)
	$(BIN)/python -m zoo.pipelines.audio2face --out $(A2F_OUT) $(if $(DATA),--data $(DATA)) $(if $(NAMES),--names-file $(NAMES)) $(if $(VAL),--val-clips $(VAL)) $(if $(BUDGET),--budget-minutes $(BUDGET)) $(if $(EPOCHS),--epochs $(EPOCHS))

FACEGOOD ?= ../shared/data/facegood

export-audio2face: setup ## SavedModel (TF-Serving) + TFLite + parity of pretrained/audio2face/$(PRESET) into exports/
	$(BIN)/zoo audio2face export --model pretrained/audio2face/$(or $(PRESET),synthetic) --dest exports --overwrite

pretrained: pretrained-audio2face ## retrain every committed pretrained preset

pretrained-audio2face: setup ## retrain pretrained/audio2face/{synthetic,facegood_real} (about 15 + 25 min)
	$(BIN)/python -m zoo.pipelines.audio2face --out runs/pretrained-a2f-synthetic --quiet \
		--publish pretrained/audio2face/synthetic
	$(BIN)/python -m zoo.pipelines.audio2face --out runs/pretrained-a2f-real --quiet --data $(FACEGOOD) \
		--names-file $(FACEGOOD)/shirley_1015_bs_name.npy --val-clips 1114_2_05 --budget-minutes 25 \
		--publish pretrained/audio2face/facegood_real

notebooks: setup ## execute every notebook (as the tests do)
	$(PYTEST) -q tests/test_notebooks.py

clean: ## remove caches and build leftovers (keeps .venv)
	rm -rf .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
