"""The URL conf of `/t/<schema>/oauth/` (mcp_bridge.oauth.middleware): the tenant's authorization server.

The namespace is the toolkit's own, because its views reverse their sibling endpoints by name.
"""

from django.urls import include, path
from oauth2_provider import views as oauth

from mcp_bridge.oauth.views import (
    ConsentLoginView,
    ConsentView,
    OperatorIntrospectView,
    RegistrationManagementView,
    RegistrationView,
)

endpoints = [
    path("oauth/authorize/", ConsentView.as_view(), name="authorize"),
    path("oauth/login/", ConsentLoginView.as_view(), name="login"),
    path("oauth/token/", oauth.TokenView.as_view(), name="token"),
    path("oauth/revoke/", oauth.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", OperatorIntrospectView.as_view(), name="introspect"),
    path("oauth/register/", RegistrationView.as_view(), name="dcr-register"),
    path(
        "oauth/register/<str:client_id>/",
        RegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
]

urlpatterns = [path("", include((endpoints, "oauth2_provider")))]
