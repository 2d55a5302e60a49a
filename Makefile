# The README's two commands: `make demo` and `make test`. Both create the virtual
# environment and install numaudit from this project's own files on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO := demo

.PHONY: install demo test lint bench clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(INSTALLED)
	$(BIN)/numaudit demo $(DEMO)

test: $(INSTALLED)
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy numaudit flows sources transforms schemas storage

bench: $(INSTALLED)
	$(BIN)/python -m bench.audit --numbers $(or $(NUMBERS),1000000) --customers $(or $(CUSTOMERS),20)

clean:
	rm -rf $(VENV) $(DEMO) warehouse .pytest_cache .mypy_cache .ruff_cache
