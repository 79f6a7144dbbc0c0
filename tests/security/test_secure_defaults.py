"""Secure by default: every deploy file runs production settings; production refuses known,
placeholder or short secrets and `*` hosts; HSTS, SSL redirect, secure cookies and the proxy SSL
header are on (and configurable); `check --deploy --fail-level WARNING` passes with the shipped
example environment, filled in as it says."""

from __future__ import annotations

import pytest
import yaml

from tests.security.conftest import example_env, production_setting
from tests.support import ROOT, python

SYSTEMD = sorted((ROOT / "docs" / "systemd").glob("*.service"))


def test_check_deploy_passes_with_the_example_environment(production_env):  # noqa: ANN001
    result = python(production_env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_example_as_shipped_is_refused_until_the_secret_is_filled_in(production_env):  # noqa: ANN001
    production_env["DJANGO_SECRET_KEY"] = example_env()["DJANGO_SECRET_KEY"]
    result = python(production_env, "manage.py", "check", "--deploy")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be a generated" in result.stderr


@pytest.mark.parametrize(
    "secret",
    [
        "django-insecure-dev-only-change-me",
        "change-me-to-64-random-characters",
        "change-me-to-64-random-characters-change-me-to-64-random-characters",
        "a" * 80,
        "short-but-random-Zq8",
        "placeholder-secret-key-for-production-use-0123456789abcdef",
    ],
)
def test_production_refuses_known_placeholder_and_short_secrets(production_env, secret):  # noqa: ANN001
    production_env["DJANGO_SECRET_KEY"] = secret
    result = python(production_env, "manage.py", "check")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_ALLOWED_HOSTS", "*"),
        ("DJANGO_ALLOWED_HOSTS", "inventory.example.com,*"),
        ("DJANGO_ALLOWED_HOSTS", ""),
        ("TRUSTED_PROXIES", "*"),
        ("MCP_ALLOWED_HOSTS", "*"),
        ("DJANGO_DEBUG", "1"),
    ],
)
def test_production_refuses_wildcards_and_debug(production_env, name, value):  # noqa: ANN001
    production_env[name] = value
    result = python(production_env, "manage.py", "check")
    assert result.returncode != 0 and "insecure production settings" in result.stderr


def test_https_settings_are_on_by_default_and_configurable(production_env):  # noqa: ANN001
    for key in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD"):
        production_env.pop(key, None)  # the code's defaults, not the example's values
    expected = {
        "SECURE_SSL_REDIRECT": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "SECURE_HSTS_PRELOAD": "True",
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
    }
    got = {name: production_setting(name, production_env) for name in expected}
    assert got == expected
    production_env.update(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    assert production_setting("SECURE_SSL_REDIRECT", production_env) == "False"
    assert production_setting("SECURE_HSTS_SECONDS", production_env) == "0"


def test_servers_default_to_production_settings(production_env):  # noqa: ANN001
    """The Procfile runs gunicorn (config.asgi) and celery (config.celery_app) bare."""
    production_env.pop("DJANGO_SETTINGS_MODULE")
    for module in ("config.asgi", "config.celery_app"):
        code = f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE)"
        result = python(production_env, "-c", code)
        assert result.returncode == 0, result.stderr[-1500:]
        assert result.stdout.strip().splitlines()[-1] == "config.settings.production", module
    production_env["DJANGO_SECRET_KEY"] = "django-insecure-dev-only-change-me"
    refused = python(production_env, "-c", "import config.asgi")
    assert refused.returncode != 0 and "insecure production settings" in refused.stderr


def test_every_deploy_file_runs_production_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_services = [
        s for s in compose["services"].values() if s.get("image") == "tenant-inventory:local"
    ]
    assert len(app_services) >= 5
    for service in app_services:
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in (ROOT / "Dockerfile").read_text()
    assert example_env()["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert len(SYSTEMD) == 6  # migrate, web, mcp, worker, beat, tunnel
    for unit in SYSTEMD:
        lines = unit.read_text().splitlines()
        assert "Environment=DJANGO_SETTINGS_MODULE=config.settings.production" in lines, unit.name
    procfile = (ROOT / "Procfile").read_text()
    assert "config.settings.dev" not in procfile and "config.settings.test" not in procfile
