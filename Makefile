# Two commands: `make run` opens the app on the simulated market, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench realism realcheck record clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run streamlit_app.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/engine.py

realism: $(STAMP)
	$(BIN)/python -m liqcore.analysis.realism

realcheck: $(STAMP)
	$(BIN)/python bench/realcheck.py --classic

# Record a venue's live liquidations: make record EXCHANGE=bybit SYMBOL=ETH [ARGS="--seconds 60"]
EXCHANGE ?= binance
SYMBOL   ?= BTC
record: $(STAMP)
	$(BIN)/python -m liqcore.record --exchange $(EXCHANGE) --symbol $(SYMBOL) $(ARGS)

clean:
	rm -rf $(VENV) artifacts .pytest_cache .hypothesis
