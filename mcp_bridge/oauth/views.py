"""The tenant's authorization server pages: the keeper's consent login and the consent step.

The toolkit's views do the protocol (PKCE, exact redirect URIs, codes, tokens, revocation,
registration). What is added here is the tenant: a `resource` must be exactly one of *this*
tenant's resource URLs, only this tenant's staff can log in and consent (django-axes counts
their failures like the admin's), and the page says which client wants which scope for which
tenant.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import LoginView
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import (
    AuthorizationView,
    DynamicClientRegistrationManagementView,
    DynamicClientRegistrationView,
    IntrospectTokenView,
)
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from mcp_bridge.oauth.admin import may_manage_agents
from mcp_bridge.oauth.resources import resource_from_url


def _resource_error(resources: list[str]) -> str | None:
    """Why `resources` is not exactly one resource URL of the current tenant, or None."""
    if len(resources) != 1:
        return "exactly one resource parameter naming this tenant's MCP endpoint is required"
    resource = resource_from_url(resources[0])
    if resource is None or resource.tenant.schema_name != connection.schema_name:  # type: ignore[attr-defined]
        return "the resource is not this tenant's MCP endpoint"
    return None


class ConsentLoginView(LoginView):
    """The tenant admin's login form (staff of this tenant only), for the consent step."""

    template_name = "mcp_oauth/login.html"
    authentication_form = AdminAuthenticationForm
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["tenant"] = getattr(self.request, "tenant", None)
        return context


class ConsentView(AuthorizationView):
    template_name = "mcp_oauth/consent.html"

    def get_login_url(self) -> str:
        return reverse("oauth2_provider:login")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET":
            # Every authorization is shown to the keeper: a client's `approval_prompt=auto`
            # would skip the page for a client that already holds a live token.
            query = request.GET.copy()
            query["approval_prompt"] = "force"
            request.GET = query  # type: ignore[assignment]
            refused = self._refuse_early(request)
            if refused is not None:
                return refused
        if request.user.is_authenticated and not may_manage_agents(request.user):
            return HttpResponseForbidden("only this tenant's stock keepers can connect agents")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]

    def _refuse_early(self, request: HttpRequest) -> HttpResponse | None:
        """Refuse before the keeper is asked to log in: a `plain` (or implied plain) PKCE method
        (invalid_request) or a resource that is not this tenant's (invalid_target, RFC 8707).
        Sent to the redirect URI only once the toolkit has checked the client and that redirect
        URI; an invalid client or redirect URI gets the error page instead."""
        code, reason = "invalid_target", _resource_error(request.GET.getlist("resource"))
        if "code_challenge" in request.GET and request.GET.get("code_challenge_method") != "S256":
            code, reason = "invalid_request", "PKCE code_challenge_method must be S256"
        if reason is None:
            return None
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)  # type: ignore[no-any-return]
        target_error = CustomOAuth2Error(
            error=code, description=reason, state=credentials.get("state")
        )
        wrapped = OAuthToolkitError(error=target_error, redirect_uri=credentials["redirect_uri"])
        return self.error_response(wrapped, application=None)  # type: ignore[no-any-return]

    def form_valid(self, form: Any) -> HttpResponse:
        # The hidden field can be tampered with: check it again before a grant is stored.
        resources = (form.cleaned_data.get("resource") or "").split()
        if _resource_error(resources) is not None:
            return HttpResponse("invalid resource", status=400)
        return super().form_valid(form)  # type: ignore[no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["tenant"] = getattr(self.request, "tenant", None)
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        # The consent form's answer redirects to the client: let the browser follow it
        # (CSP form-action covers redirects after a form submission).
        redirect_uri = context.get("redirect_uri") or ""
        parts = urlsplit(redirect_uri)
        if parts.scheme in ("http", "https") and parts.netloc:
            response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
        return response  # type: ignore[no-any-return]


@method_decorator(csrf_exempt, name="dispatch")
class OperatorIntrospectView(View):
    """RFC 7662 introspection for operators: `Authorization: Bearer <MCP_OAUTH_INTROSPECTION_TOKEN>`
    and a POSTed `token`; 404 while that setting is empty. Not for clients: the toolkit's own
    view would answer any registered confidential client, and registration is open."""

    def post(self, request: HttpRequest) -> HttpResponse:
        expected = getattr(settings, "MCP_OAUTH_INTROSPECTION_TOKEN", "")
        if not expected:
            raise Http404("introspection is off")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
            response = JsonResponse({"error": "invalid_token"}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="introspection"'
            return response
        return IntrospectTokenView.get_token_response(request.POST.get("token"))  # type: ignore[no-any-return]


def _client_metadata(body: bytes) -> dict[str, Any]:
    """The registration request's JSON object; {} when malformed (the toolkit answers that)."""
    try:
        metadata = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _redirect_uri_error(metadata: dict[str, Any]) -> str | None:
    """OAuth 2.1 §2.3.1 / RFC 9700 §2.6: https, or http on a loopback host (native apps)."""
    uris = metadata.get("redirect_uris")
    for uri in uris if isinstance(uris, list) else []:
        parts = urlsplit(uri) if isinstance(uri, str) else None
        if parts is None:
            continue  # the toolkit refuses non-strings
        loopback = (parts.hostname or "") in ("127.0.0.1", "::1", "localhost")
        if not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            return f"redirect URI {uri!r} must use https (http only on a loopback host)"
    return None


# Every token must come from a keeper's consent: a client may register for the authorization
# code grant and its refresh tokens only (client_credentials would mint a token with no user).
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


def _refuse_registration(request: HttpRequest) -> HttpResponse | None:
    """RFC 7591 §3.2.2 invalid_client_metadata / invalid_redirect_uri, before the toolkit."""
    metadata = _client_metadata(request.body)
    grant_error = _grant_types_error(metadata)
    if grant_error is not None:
        body = {"error": "invalid_client_metadata", "error_description": grant_error}
        return JsonResponse(body, status=400)
    reason = _redirect_uri_error(metadata)
    if reason is None:
        return None
    return JsonResponse({"error": "invalid_redirect_uri", "error_description": reason}, status=400)


def _grant_types_error(metadata: dict[str, Any]) -> str | None:
    grant_types = metadata.get("grant_types", ["authorization_code"])
    if not isinstance(grant_types, list) or not set(grant_types) <= ALLOWED_GRANT_TYPES:
        return "grant_types may only be authorization_code and refresh_token"
    return None


@method_decorator(csrf_exempt, name="dispatch")
class RegistrationView(DynamicClientRegistrationView):
    """RFC 7591 registration, with OAuth 2.1's redirect URI rule."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _refuse_registration(request)
        return refused or super().post(request, *args, **kwargs)  # type: ignore[no-any-return]


@method_decorator(csrf_exempt, name="dispatch")
class RegistrationManagementView(DynamicClientRegistrationManagementView):
    """RFC 7592 client management, with the same redirect URI rule on updates."""

    def put(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _refuse_registration(request)
        return refused or super().put(request, *args, **kwargs)  # type: ignore[no-any-return]
