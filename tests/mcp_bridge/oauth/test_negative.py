"""What the authorization server and /mcp refuse: other tenants, other resources, missing or
plain PKCE, redirect URI games, reused codes, expired, revoked and rotated-out tokens, consent
by the wrong people, and a revoked grant's next call."""

import hashlib
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from oauth2_provider.models import AccessToken, Application

from tests.mcp_bridge.oauth.conftest import call
from tests.mcp_bridge.oauth.flow import REDIRECT_URI, Flow, keeper, pkce, query_of, viewer


def _checksum(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _register(flow: Flow, redirect_uri: str, grant_types: list[str], auth: str) -> httpx.Response:
    """A raw RFC 7591 registration request (Flow.register asserts success)."""
    body = {
        "client_name": "refused client",
        "redirect_uris": [redirect_uri],
        "grant_types": grant_types,
        "token_endpoint_auth_method": auth,
    }
    return httpx.post(flow.url("register/"), json=body, timeout=30)


def _refused(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_token_of_a_is_refused_at_b_through_every_host_form(
    server,
    flow_a: Flow,
    flow_b: Flow,
    tenant_a,
    tenant_b,  # noqa: ANN001
) -> None:
    _, tokens = flow_a.grant(keeper(tenant_a))
    token = tokens["access_token"]
    assert call(flow_a.resource, token).status_code == 200
    for url, host in [
        (flow_b.resource, None),  # B's path on the shared host
        (f"{server.url}/mcp", "beta.localhost"),  # B's own domain
        (f"{server.url}/t/beta/mcp", "beta.localhost"),  # B's path on B's domain
        (f"{server.url}/t/alpha/mcp", "beta.localhost"),  # A's path on B's domain
        (f"{server.url}/mcp", None),  # the shared host's /mcp names no tenant
        (f"{server.url}/mcp", "alpha.localhost"),  # A's domain: another resource URL than issued
    ]:
        _refused(call(url, token, host=host))


def test_wrong_or_missing_resource_is_refused(flow_a: Flow, flow_b: Flow, tenant_a) -> None:  # noqa: ANN001
    username = keeper(tenant_a)
    client_id = flow_a.register()
    _, challenge = pkce()
    with flow_a.client() as http:
        assert flow_a.login(http, username).status_code == 302
        for resource in (None, flow_b.resource, "https://evil.example/mcp", flow_a.resource + "/x"):
            params = flow_a.authorize_params(client_id, challenge, resource=resource)
            answer = http.get(flow_a.url("authorize/"), params=params)
            assert answer.status_code == 302, answer.text[:300]
            query = query_of(answer.headers["location"])
            assert query["error"] == ["invalid_target"], query
            assert answer.headers["location"].startswith(REDIRECT_URI)
        two = flow_a.authorize_params(client_id, challenge)
        two["resource"] = [flow_a.resource, flow_b.resource]
        answer = http.get(flow_a.url("authorize/"), params=two)
        assert query_of(answer.headers["location"])["error"] == ["invalid_target"]
    # A token request cannot widen the grant's resource either.
    verifier, challenge = pkce()
    code = flow_a.code(username, client_id, challenge)
    answer = flow_a.exchange(client_id, code, verifier, resource=flow_b.resource)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_target"


def test_pkce_missing_or_plain_is_refused(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    username = keeper(tenant_a)
    client_id = flow_a.register()
    with flow_a.client() as http:
        assert flow_a.login(http, username).status_code == 302
        missing = flow_a.authorize_params(client_id, None)
        answer = http.get(flow_a.url("authorize/"), params=missing)
        assert answer.status_code == 302
        assert query_of(answer.headers["location"])["error"] == ["invalid_request"]
        plain = flow_a.authorize_params(
            client_id, None, code_challenge="x" * 50, code_challenge_method="plain"
        )
        implied = flow_a.authorize_params(client_id, None, code_challenge="x" * 50)
        for params in (plain, implied):  # no method means plain (RFC 7636 §4.3)
            answer = http.get(flow_a.url("authorize/"), params=params)
            assert answer.status_code == 302
            assert query_of(answer.headers["location"])["error"] == ["invalid_request"]
    # And the verifier must match the challenge.
    _verifier, challenge = pkce()
    code = flow_a.code(username, client_id, challenge)
    assert flow_a.exchange(client_id, code, pkce()[0]).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:9/callback/other",
        "http://127.0.0.1:9/callback?next=https://evil.example/",
        "https://evil.example/callback",
        "http://127.0.0.1:9/CALLBACK",
    ],
)
def test_redirect_uri_must_match_exactly(flow_a: Flow, tenant_a, redirect_uri: str) -> None:  # noqa: ANN001
    username = keeper(tenant_a)
    client_id = flow_a.register()
    _, challenge = pkce()
    with flow_a.client() as http:
        assert flow_a.login(http, username).status_code == 302
        params = flow_a.authorize_params(client_id, challenge, redirect_uri=redirect_uri)
        answer = http.get(flow_a.url("authorize/"), params=params)
    # Never a redirect to the unregistered URI: the error is shown here.
    assert answer.status_code == 400, (answer.status_code, answer.headers.get("location"))
    assert "evil.example" not in answer.headers.get("location", "")


def test_login_next_cannot_redirect_off_site(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    with flow_a.client() as http:
        answer = flow_a.login(http, keeper(tenant_a), next_="https://evil.example/")
    assert answer.status_code == 302
    assert "evil.example" not in answer.headers["location"]


def test_reused_code_is_refused(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    client_id = flow_a.register()
    verifier, challenge = pkce()
    code = flow_a.code(keeper(tenant_a), client_id, challenge)
    assert flow_a.exchange(client_id, code, verifier).status_code == 200
    again = flow_a.exchange(client_id, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_of_a_cannot_be_exchanged_at_b(flow_a: Flow, flow_b: Flow, tenant_a) -> None:  # noqa: ANN001
    client_id = flow_a.register()
    verifier, challenge = pkce()
    code = flow_a.code(keeper(tenant_a), client_id, challenge)
    answer = flow_b.exchange(client_id, code, verifier)
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] in ("invalid_client", "invalid_grant")


def test_refresh_rotates_and_the_old_one_is_refused(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    client_id, tokens = flow_a.grant(keeper(tenant_a))
    refresh = {"grant_type": "refresh_token", "client_id": client_id}
    first = flow_a.token(**refresh, refresh_token=tokens["refresh_token"])
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert call(flow_a.resource, rotated["access_token"]).status_code == 200
    # The rotated-out refresh token is refused, and its reuse revokes the family.
    reuse = flow_a.token(**refresh, refresh_token=tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert flow_a.token(**refresh, refresh_token=rotated["refresh_token"]).status_code == 400


def test_expired_access_token_is_refused(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    _, tokens = flow_a.grant(keeper(tenant_a))
    assert call(flow_a.resource, tokens["access_token"]).status_code == 200
    with schema_context(tenant_a.schema_name):
        AccessToken.objects.filter(token_checksum=_checksum(tokens["access_token"])).update(
            expires=timezone.now() - timedelta(seconds=1)
        )
    _refused(call(flow_a.resource, tokens["access_token"]))


def test_revoked_token_stops_the_next_call(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    client_id, tokens = flow_a.grant(keeper(tenant_a))
    assert call(flow_a.resource, tokens["access_token"]).status_code == 200
    with flow_a.client() as http:
        revoked = http.post(
            flow_a.url("revoke/"),
            data={"token": tokens["access_token"], "client_id": client_id},
        )
    assert revoked.status_code == 200
    _refused(call(flow_a.resource, tokens["access_token"]))


def test_consent_needs_this_tenants_keeper(flow_a: Flow, tenant_a, tenant_b) -> None:  # noqa: ANN001
    other = keeper(tenant_b)
    with flow_a.client() as http:
        answer = flow_a.login(http, other)
        assert answer.status_code == 200  # the form again: no such user in this tenant
        assert "sessionid" not in http.cookies
    # A viewer of this tenant can log in to the admin but cannot connect agents.
    client_id = flow_a.register()
    _, challenge = pkce()
    with flow_a.client() as http:
        assert flow_a.login(http, viewer(tenant_a)).status_code == 302
        answer = http.get(
            flow_a.url("authorize/"), params=flow_a.authorize_params(client_id, challenge)
        )
    assert answer.status_code == 403


def test_token_without_mcp_scope_gets_403_naming_it(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    _, tokens = flow_a.grant(keeper(tenant_a))
    with schema_context(tenant_a.schema_name):
        AccessToken.objects.filter(token_checksum=_checksum(tokens["access_token"])).update(
            scope="other"
        )
    answer = call(flow_a.resource, tokens["access_token"])
    assert answer.status_code == 403
    challenge = answer.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp"' in challenge
    assert "resource_metadata=" in challenge


@pytest.mark.parametrize("redirect_uri", ["http://client.example/cb", "custom-app://cb"])
def test_registration_needs_https_or_loopback_redirects(flow_a: Flow, redirect_uri: str) -> None:
    answer = _register(flow_a, redirect_uri, ["authorization_code"], "none")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


def test_no_token_without_a_keepers_consent(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    """client_credentials (a token with no user, no consent) can be neither registered, nor
    granted by the token endpoint, nor used at /mcp if one existed."""
    answer = _register(flow_a, REDIRECT_URI, ["client_credentials"], "client_secret_post")
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_client_metadata"

    secret = "machine-secret-0123456789"
    with schema_context(tenant_a.schema_name):
        machine = Application.objects.create(
            name="machine",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
        )
    form = {
        "grant_type": "client_credentials",
        "client_id": machine.client_id,
        "client_secret": secret,
        "scope": "mcp",
        "resource": flow_a.resource,
    }
    answer = flow_a.token(**form)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "unsupported_grant_type"

    _, tokens = flow_a.grant(keeper(tenant_a))
    raw = tokens["access_token"]
    assert call(flow_a.resource, raw).status_code == 200
    with schema_context(tenant_a.schema_name):
        granted = AccessToken.objects.filter(token_checksum=_checksum(raw))
        keeper_id = granted.get().user_id
        granted.update(user=None)  # as a client_credentials token would be
    _refused(call(flow_a.resource, raw))
    with schema_context(tenant_a.schema_name):
        granted.update(user=keeper_id)
        assert call(flow_a.resource, raw).status_code == 200
        Application.objects.filter(accesstoken__token_checksum=_checksum(raw)).update(
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS
        )
    _refused(call(flow_a.resource, raw))


def test_every_authorization_is_shown_to_the_keeper(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    """A client that already holds a live token cannot skip the consent page with
    approval_prompt=auto: the keeper sees the page again, and no code is issued without it."""
    username = keeper(tenant_a)
    client_id = flow_a.register()
    verifier, challenge = pkce()
    code = flow_a.code(username, client_id, challenge)
    assert flow_a.exchange(client_id, code, verifier).status_code == 200
    with flow_a.client() as http:
        assert flow_a.login(http, username).status_code == 302
        params = flow_a.authorize_params(client_id, pkce()[1], approval_prompt="auto")
        page = http.get(flow_a.url("authorize/"), params=params)
    assert page.status_code == 200, page.headers.get("location")
    assert 'name="allow"' in page.text
