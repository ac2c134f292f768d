# speech-anim-zoo. `make help` lists the targets. Everything runs inside .venv, which
# `make setup` creates from nothing but Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXTRAS := render,landmarks,dev
PYTEST := $(BIN)/pytest

.DEFAULT_GOAL := help
.PHONY: help setup test test-slow test-all lint bench corpus pretrained notebooks clean

# the models with a reproduction recipe (pipelines/<model>.py) and their default preset for export-%
MODELS := $(basename $(notdir $(filter-out pipelines/__init__.py pipelines/stages.py,$(wildcard pipelines/*.py))))
PRESET_audio2face := synthetic
PRESET_evenet := synthetic
PRESET_voca_emotion := synthetic
PRESET_gesture_ae := synthetic
PRESET_landmark_dcgan := synthetic

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

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
	$(PYTEST) -m slow

test-all: setup ## every tier
	$(PYTEST)

lint: setup ## ruff over the project
	$(BIN)/ruff check .

CORPUS_OUT ?= runs/corpus-small
corpus: setup ## generate the synthetic corpus (preset small, seed 0) into $(CORPUS_OUT)
	$(BIN)/zoo corpus --out $(CORPUS_OUT) --preset small --seed 0

bench: setup ## benchmarks side by side with a reference (<10 min) -> benchmarks/results.{md,json} (SUITES=audio2face QUICK=1)
	$(BIN)/zoo bench $(SUITES) $(if $(QUICK),--quick)

reproduce-%: setup ## MODEL end to end: corpus, train, evaluate, export, preview, report -> runs/MODEL (DATA= BUDGET= EPOCHS= VAL=<validation clips> TEST=<test clips> ARGS=<more recipe flags>)
	$(BIN)/python -m zoo.pipelines.$* --out $(or $(OUT),runs/$*$(if $(DATA),-$(notdir $(abspath $(DATA))))) \
		$(if $(DATA),--data $(DATA)) $(if $(VAL),--val-clips $(VAL)) $(if $(TEST),--test-clips $(TEST)) \
		$(if $(BUDGET),--budget-minutes $(BUDGET)) \
		$(if $(EPOCHS),--epochs $(EPOCHS)) $(ARGS)

export-%: setup ## SavedModel (TF-Serving) + TFLite + parity of pretrained/MODEL/PRESET into exports/ (PRESET=)
	$(BIN)/zoo $* export --model pretrained/$*/$(or $(PRESET),$(PRESET_$*)) --dest exports --overwrite

pretrained: $(addprefix pretrained-,$(MODELS)) ## retrain every committed pretrained preset

pretrained-%: setup ## retrain the committed presets pretrained/MODEL/* (the recipe's --pretrained list)
	$(BIN)/python -m zoo.pipelines.$* --pretrained

notebooks: setup ## execute every notebook (as the tests do)
	$(PYTEST) -q tests/test_notebooks.py

clean: ## remove caches and build leftovers (keeps .venv)
	rm -rf .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
