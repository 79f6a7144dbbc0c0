"""The authorization code flow against a tenant's own authorization server, over HTTP."""

from tests.mcp_bridge.oauth.conftest import call
from tests.mcp_bridge.oauth.flow import Flow, keeper


def test_grant_calls_mcp_at_its_resource(flow_a: Flow, tenant_a) -> None:  # noqa: ANN001
    _client_id, tokens = flow_a.grant(keeper(tenant_a))
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "mcp"
    assert "refresh_token" in tokens
    answer = call(flow_a.resource, tokens["access_token"])
    assert answer.status_code == 200, answer.text
    assert "cannot be confirmed" not in answer.text
