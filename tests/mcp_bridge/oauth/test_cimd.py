"""Client identification by a Client ID Metadata Document: the client_id is the https URL of a
JSON document that the authorization server fetches (django-oauth-toolkit's resolver), in the
tenant's schema; redirect URIs must match the document exactly; the default fetcher never
connects to a loopback address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mcp_bridge.oauth.cimd_support import DocumentHost, self_signed
from tests.mcp_bridge.oauth.conftest import call
from tests.mcp_bridge.oauth.flow import REDIRECT_URI, Flow, keeper, pkce
from tests.support import live_server


@pytest.fixture
def documents(tmp_path: Path) -> Iterator[tuple[DocumentHost, Path]]:
    cert, key = self_signed(tmp_path)
    host = DocumentHost(cert, key)
    yield host, cert
    host.close()


def _document(client_id: str) -> dict:
    return {
        "client_id": client_id,
        "client_name": "CIMD agent",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def test_cimd_client_gets_a_token_after_consent(documents, tenant_a) -> None:  # noqa: ANN001
    host, cert = documents
    client_id = host.url("/agents/inventory.json")
    host.documents["/agents/inventory.json"] = _document(client_id)
    with live_server(
        MCP_OAUTH_CIMD_FETCHER="tests.mcp_bridge.oauth.cimd_support.LoopbackFetcher",
        TEST_CIMD_CA_FILE=str(cert),
    ) as srv:
        flow = Flow(origin=srv.url, schema=tenant_a.schema_name)
        username = keeper(tenant_a)
        _, challenge = pkce()
        # A redirect URI the document does not list: refused, no redirect.
        with flow.client() as http:
            assert flow.login(http, username).status_code == 302
            other = flow.authorize_params(
                client_id, challenge, redirect_uri="http://127.0.0.1:9/elsewhere"
            )
            assert http.get(flow.url("authorize/"), params=other).status_code == 400
        verifier, challenge = pkce()
        code = flow.code(username, client_id, challenge)
        answer = flow.exchange(client_id, code, verifier)
        assert answer.status_code == 200, answer.text
        assert call(flow.resource, answer.json()["access_token"]).status_code == 200
    assert host.requests  # the document was fetched


def test_default_fetcher_never_fetches_from_loopback(documents, flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    host, _cert = documents
    client_id = host.url("/agents/probe.json")
    host.documents["/agents/probe.json"] = _document(client_id)
    _, challenge = pkce()
    with flow_a.client() as http:
        assert flow_a.login(http, keeper(tenant_a)).status_code == 302
        answer = http.get(
            flow_a.url("authorize/"), params=flow_a.authorize_params(client_id, challenge)
        )
    assert answer.status_code == 400  # an unknown client: the error page, no redirect
    assert host.requests == []
