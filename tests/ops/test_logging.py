"""LOG_FORMAT=json: every request's lines carry a request id, the tenant and the token name;
no token, password or secret text reaches the log."""

from __future__ import annotations

import contextlib
import logging
import uuid

from tests.support import (
    database_proxy,
    database_url_via,
    get,
    json_lines,
    live_server,
    manage,
    mcp_check_stock,
    stock_on_hand,
)

DB_PASSWORD = "pg-pass-" + uuid.uuid4().hex[:12]  # trust auth: accepted and ignored
SECRET_KEY = "json-log-secret-key-" + uuid.uuid4().hex
METRICS_TOKEN = "metrics-" + uuid.uuid4().hex


def _issue(tenant: str, name: str, *scopes: str) -> str:
    args = ["issue_token", "--tenant", tenant, "--name", name]
    for scope in scopes:
        args += ["--scope", scope]
    result = manage(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_json_logs_carry_tenant_and_token_name_and_no_secrets(tenant_a, unique_sku):  # noqa: ANN001
    stock_on_hand(tenant_a.schema_name, unique_sku, on_hand=4)
    token_name = f"json-{uuid.uuid4().hex[:6]}"
    token = _issue(tenant_a.schema_name, token_name, "stock:read", "mcp")
    proxy = database_proxy()  # a TCP route, socket or not, so the URL can carry a password
    url = database_url_via(proxy.port).replace("@", f":{DB_PASSWORD}@", 1)
    bogus = f"inv_{uuid.uuid4().hex[:12]}_{uuid.uuid4().hex}{uuid.uuid4().hex}"
    env = {
        "LOG_FORMAT": "json",
        "DATABASE_URL": url,
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    with contextlib.closing(proxy), live_server(**env) as srv:
        auth = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-json-1"}
        rest = get(f"{srv.url}/api/v1/stock/{unique_sku}", "alpha.localhost", headers=auth)
        assert rest.status_code == 200 and rest.json()["quantity"] == 4
        bad = get(
            f"{srv.url}/api/v1/stock/{unique_sku}",
            "alpha.localhost",
            headers={"Authorization": f"Bearer {bogus}"},
        )
        assert bad.status_code == 401
        leaky = get(f"{srv.url}/api/v1/stock/{unique_sku}?token={bogus}", "alpha.localhost")
        assert leaky.status_code == 401
        mcp = mcp_check_stock(srv.url + "/mcp", token, unique_sku, host="alpha.localhost")
        assert mcp["quantity"] == 4
        metrics = get(srv.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert metrics.status_code == 200
        log = srv.log()

    for secret in (token, bogus, DB_PASSWORD, SECRET_KEY, METRICS_TOKEN, token.split("_")[2]):
        assert secret not in log, "a secret reached the log"
    records = json_lines(log)
    assert records, log[-2000:]
    rest_lines = [r for r in records if r.get("request_id") == "req-json-1"]
    assert rest_lines and all(r["tenant"] == tenant_a.schema_name for r in rest_lines)
    rest_line = next(r for r in rest_lines if r["name"] == "ops.access")
    assert rest_line["tenant"] == tenant_a.schema_name
    assert rest_line["token_name"] == token_name
    assert rest_line["http_route"] == "api/v1/stock/<str:sku>"
    mcp_audit = [r for r in records if r.get("mcp_tool") == "check_stock"]
    assert mcp_audit and mcp_audit[-1]["tenant"] == tenant_a.schema_name
    assert mcp_audit[-1]["token_name"] == token_name and mcp_audit[-1]["request_id"]
    mcp_access = [r for r in records if r.get("http_path") == "/mcp"]
    assert mcp_access and mcp_access[-1]["tenant"] == tenant_a.schema_name
    # Lines outside a request still parse: the server's own start-up lines went through JSON too.
    assert any(r.get("name", "").startswith("uvicorn") for r in records)


def test_redaction_covers_tracebacks_and_extras(caplog):  # noqa: ANN001
    from ops.logs import RedactSecretsFilter

    raw = f"inv_{uuid.uuid4().hex[:12]}_{uuid.uuid4().hex}"
    logger = logging.getLogger("tests.ops.redaction")
    logger.addFilter(RedactSecretsFilter())
    try:
        try:
            raise ValueError(f"refused {raw}")
        except ValueError:
            logger.exception("failed for redis://:hunter22secret@cache:6379/0", extra={"hint": raw})
    finally:
        logger.filters.clear()
    record = caplog.records[-1]
    rendered = record.getMessage() + (record.exc_text or "") + str(record.hint)
    assert raw not in rendered and "hunter22secret" not in rendered
    assert "[REDACTED]" in record.exc_text


def test_redaction_skips_no_secret_shaped_text_even_under_unicode_case_folding() -> None:
    """redact() skips its regexes for text without a marker; the markers are compared
    case-folded, as the case-insensitive patterns match ("ſ" is an "s", "K" the Kelvin sign)."""
    from ops.logs import redact

    assert redact("paſsword=hunter22") == "paſsword=[REDACTED]"
    assert redact("TO\u212aEN: abcdefgh") == "TO\u212aEN: [REDACTED]"
    assert redact("Authorization: BEARER abc.def") == "Authorization: BEARER [REDACTED]"
    assert redact("amqp://user:pw@broker/") == "amqp://user:[REDACTED]@broker/"
    assert redact("mcp call tenant=alpha tool='check_stock' outcome=found") == (
        "mcp call tenant=alpha tool='check_stock' outcome=found"
    )
