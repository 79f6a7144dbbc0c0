"""OAuth 2.1 for agents: each tenant's MCP endpoint is a protected resource, and each tenant
has its own authorization server (django-oauth-toolkit, its tables in the tenant's schema).

Tenant-bound by construction: the authorization server for tenant `s` lives under
`/t/s/oauth/` and reads and writes only schema `s` (clients, grants, tokens, the keeper's login
and session), so a grant made in one tenant does not exist in another. See docs/agents.md#oauth
for the URLs and docs/security.md for the threat model.
"""
