"""RFC 7662 introspection is for operators (MCP_OAUTH_INTROSPECTION_TOKEN), never for clients:
registration is open, so a client's own credentials must not open it."""

import httpx

from tests.mcp_bridge.oauth.flow import Flow, keeper
from tests.support import live_server

OPERATOR = "operator-introspection-secret-0123456789"  # noqa: S105 (a test value)


def test_only_the_operator_token_introspects(tenant_a) -> None:  # noqa: ANN001
    with live_server(MCP_OAUTH_INTROSPECTION_TOKEN=OPERATOR) as srv:
        flow = Flow(origin=srv.url, schema=tenant_a.schema_name)
        client_id, tokens = flow.grant(keeper(tenant_a))
        url = flow.url("introspect/")
        data = {"token": tokens["access_token"]}
        assert httpx.post(url, data=data, timeout=30).status_code == 401
        as_client = httpx.post(url, data=data, auth=(client_id, ""), timeout=30)
        assert as_client.status_code == 401
        confidential = httpx.post(
            flow.url("register/"),
            json={
                "client_name": "would-be introspector",
                "redirect_uris": ["https://client.example/cb"],
                "grant_types": ["authorization_code"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=30,
        ).json()
        auth = (confidential["client_id"], confidential["client_secret"])
        assert httpx.post(url, data=data, auth=auth, timeout=30).status_code == 401
        headers = {"Authorization": f"Bearer {OPERATOR}"}
        answer = httpx.post(url, data=data, headers=headers, timeout=30).json()
        assert answer["active"] is True
        assert answer["aud"] == [flow.resource]
        assert answer["client_id"] == client_id
        httpx.post(flow.url("revoke/"), data={**data, "client_id": client_id}, timeout=30)
        after = httpx.post(url, data=data, headers=headers, timeout=30).json()
        assert after == {"active": False}


def test_introspection_is_off_without_the_setting(flow_a: Flow) -> None:
    answer = httpx.post(
        flow_a.url("introspect/"), data={"token": "x"}, headers={"Authorization": "Bearer x"}
    )
    assert answer.status_code == 404
