"""An OAuth client for the tests, over plain HTTP: registration, the keeper's login and consent
through the real forms, code exchange, refresh and revocation."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from django_tenants.utils import schema_context

from inventory.keepers import keeper_create
from inventory.roles import STOCK_KEEPER, VIEWER

PASSWORD = "consent-pass-2026"  # noqa: S105 (a test login)
REDIRECT_URI = "http://127.0.0.1:9/callback"


def keeper(tenant: Any, *, role: str = STOCK_KEEPER) -> str:
    """A fresh staff login in `tenant` (password PASSWORD); its username."""
    username = f"k{uuid.uuid4().hex[:10]}"
    with schema_context(tenant.schema_name):
        keeper_create(username=username, password=PASSWORD, role=role)
    return username


def viewer(tenant: Any) -> str:
    return keeper(tenant, role=VIEWER)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Flow:
    """One tenant's authorization server reached at `origin` (http://127.0.0.1:port)."""

    origin: str
    schema: str
    host: str | None = None  # a Host header to send (tenant domains do not resolve here)

    @property
    def issuer(self) -> str:
        return f"{self.origin_seen}/t/{self.schema}/oauth"

    @property
    def origin_seen(self) -> str:
        return f"http://{self.host}" if self.host else self.origin

    @property
    def resource(self) -> str:
        return f"{self.origin_seen}/t/{self.schema}/mcp"

    def client(self) -> httpx.Client:
        headers = {"Host": self.host} if self.host else {}
        return httpx.Client(headers=headers, follow_redirects=False, timeout=30)

    def url(self, path: str) -> str:
        return f"{self.origin}/t/{self.schema}/oauth/{path}"

    def register(self, redirect_uri: str = REDIRECT_URI, **extra: Any) -> str:
        body = {
            "client_name": f"test agent {uuid.uuid4().hex[:6]}",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **extra,
        }
        with self.client() as http:
            answer = http.post(self.url("register/"), json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["client_id"])

    def authorize_params(
        self, client_id: str, challenge: str | None, **over: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "mcp",
            "state": "st-" + uuid.uuid4().hex[:8],
            "resource": self.resource,
        }
        if challenge is not None:
            params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        params |= over
        return {k: v for k, v in params.items() if v is not None}

    def login(
        self, http: httpx.Client, username: str, password: str = PASSWORD, next_: str = ""
    ) -> httpx.Response:
        page = http.get(self.url("login/"), params={"next": next_} if next_ else None)
        assert page.status_code == 200, page.text[:300]
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        return http.post(
            self.url("login/"),
            data={
                "csrfmiddlewaretoken": csrf[1],
                "username": username,
                "password": password,
                "next": next_,
            },
        )

    def consent(
        self, http: httpx.Client, params: dict[str, Any], allow: bool = True
    ) -> httpx.Response:
        """GET the authorize page as a logged-in keeper, then submit its form."""
        page = http.get(self.url("authorize/"), params=params)
        if page.status_code != 200:
            return page
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
        if allow:
            fields["allow"] = "Authorize"
        return http.post(self.url("authorize/"), data=fields)

    def code(self, username: str, client_id: str, challenge: str, **over: Any) -> str:
        with self.client() as http:
            assert self.login(http, username).status_code == 302
            answer = self.consent(http, self.authorize_params(client_id, challenge, **over))
        assert answer.status_code == 302, answer.text[:500]
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert "code" in query, answer.headers["location"]
        return query["code"][0]

    def token(self, **data: str) -> httpx.Response:
        with self.client() as http:
            return http.post(self.url("token/"), data=data)

    def exchange(self, client_id: str, code: str, verifier: str, **over: str) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI,
            "resource": self.resource,
        } | over
        return self.token(**{k: v for k, v in data.items() if v})

    def grant(self, username: str) -> tuple[str, dict[str, Any]]:
        """A registered client and its first token response."""
        client_id = self.register()
        verifier, challenge = pkce()
        answer = self.exchange(client_id, self.code(username, client_id, challenge), verifier)
        assert answer.status_code == 200, answer.text
        return client_id, answer.json()


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


__all__ = ["Flow", "keeper", "pkce", "query_of", "urlencode", "viewer"]
