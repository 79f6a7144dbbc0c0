"""The token commands an operator uses: issue (prints only the token), list, revoke."""

import hashlib
import json
import re

from django.db import connection

from tenancy.models import ApiToken
from tests.api.conftest import ALPHA, make_client
from tests.support import manage

TOKEN_RE = re.compile(r"inv_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,100})")


def _issue(*args: str) -> str:
    result = manage("issue_token", "--tenant", "alpha", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") <= 1
    token = result.stdout.strip()
    assert TOKEN_RE.fullmatch(token), result.stdout
    return token


def test_issue_prints_only_a_working_token(server, tenant_a):
    token = _issue("--name", "cmd-issue", "--scope", "stock:read", "--expires-in", "90d")
    with make_client(server, ALPHA, token) as client:
        assert client.get("/items").status_code == 200
        assert client.post("/items", json={"sku": "CMD-1", "name": "x"}).status_code == 403


def test_the_database_never_holds_the_secret(tenant_a):
    token = _issue("--name", "cmd-secret", "--scope", "stock:read")
    prefix, secret = TOKEN_RE.fullmatch(token).groups()
    row = ApiToken.objects.get(prefix=prefix)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM public.tenancy_apitoken t")
        dump = " ".join(r[0] for r in cursor.fetchall())
    assert prefix in dump
    assert secret not in dump


def test_list_shows_metadata_never_secrets(tenant_a):
    token = _issue("--name", "cmd-list", "--scope", "stock:read", "--scope", "stock:write")
    prefix, secret = TOKEN_RE.fullmatch(token).groups()
    result = manage("list_tokens", "--tenant", "alpha")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    mine = next(r for r in rows if r["prefix"] == prefix)
    assert (mine["name"], mine["scopes"], mine["revoked"]) == (
        "cmd-list",
        ["stock:read", "stock:write"],
        None,
    )
    assert secret not in result.stdout
    assert ApiToken.objects.get(prefix=prefix).secret_hash not in result.stdout


def test_revoke_makes_the_token_a_401(server, tenant_a):
    token = _issue("--name", "cmd-revoke", "--scope", "stock:read")
    prefix = TOKEN_RE.fullmatch(token).group(1)
    result = manage("revoke_token", prefix)
    assert result.returncode == 0, result.stderr
    assert prefix in result.stdout
    with make_client(server, ALPHA, token) as client:
        assert client.get("/items").status_code == 401
    listed = [
        json.loads(line) for line in manage("list_tokens", "--tenant", "alpha").stdout.splitlines()
    ]
    assert next(r for r in listed if r["prefix"] == prefix)["revoked"] is not None


def test_commands_fail_with_one_clear_line(tenant_a):
    unknown = manage("issue_token", "--tenant", "nope", "--name", "x", "--scope", "stock:read")
    assert unknown.returncode != 0
    assert "unknown tenant" in unknown.stderr
    assert unknown.stdout == ""
    assert manage("revoke_token", "ffffffffffff").returncode != 0
