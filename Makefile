# mmookd: the two commands of the README, and their helpers.
#   make demo   the main job on the generated SynthVIS benchmark (CPU)
#   make test   the test suite
# Both first run `make setup` (idempotent: fast when nothing changed).

VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= data/synthvis
OUT ?= outputs/demo
SEED ?= 0
PYTEST_ARGS ?=

.PHONY: setup test demo lint clean help

help:
	@echo "make demo   run the main job on SynthVIS (installs first)"
	@echo "make test   run the test suite (installs first)"
	@echo "make setup  create/update $(VENV) with the pinned stack"
	@echo "make lint   flake8 + isort check"

setup:
	@bash tools/setup_env.sh $(VENV)

test: setup
	$(PY) -m pytest tests -q -ra --durations=15 $(PYTEST_ARGS)

demo: setup
	$(PY) tools/demo.py --data $(DATA) --out $(OUT) --seed $(SEED)

lint: setup
	$(PY) -m flake8 mmookd tools tests configs demo
	$(PY) -m isort --check-only --diff mmookd tools tests configs demo

clean:
	rm -rf $(OUT) build *.egg-info mmookd/.mim
