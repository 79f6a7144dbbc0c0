"""Connected agents in the tenant admin: who may call /mcp with an OAuth grant, and revoking them.

The toolkit registers its raw models (tokens, grants, editable clients with skip_authorization)
on the tenant admin site; they are replaced by one read-only list of clients with the scopes
they hold, when they were last used, and a "Revoke access" action. Revoking deletes the client's
access and refresh tokens and pending codes in this schema: the agent's next call gets 401.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from inventory.roles import STOCK_KEEPER

Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()

for _model in (Application, AccessToken, Grant, get_id_token_model(), RefreshToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def may_manage_agents(user: Any) -> bool:
    """Superusers and stock keepers of this tenant: the people who can consent."""
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.groups.filter(name=STOCK_KEEPER).exists())


def revoke_agent(application: Any) -> int:
    """Delete every token and pending code of `application` in this schema; tokens deleted."""
    Grant.objects.filter(application=application).delete()
    RefreshToken.objects.filter(application=application).delete()
    deleted, _ = AccessToken.objects.filter(application=application).delete()
    return deleted


@admin.register(Application)
class ConnectedAgentAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id_short", "scopes", "granted_by", "last_used", "created")
    readonly_fields = ("name", "client_id", "redirect_uris", "client_type", "created")
    fields = readonly_fields
    actions = ("revoke_access",)
    search_fields = ("name", "client_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(last_token_use=Max("accesstoken__updated"))

    @admin.display(description="client id")
    def client_id_short(self, obj: Any) -> str:
        return obj.client_id if len(obj.client_id) <= 60 else obj.client_id[:57] + "..."

    @admin.display(description="scopes")
    def scopes(self, obj: Any) -> str:
        held = AccessToken.objects.filter(application=obj).values_list("scope", flat=True)
        return " ".join(sorted({s for scope in held for s in scope.split()})) or "(none: revoked)"

    @admin.display(description="granted by")
    def granted_by(self, obj: Any) -> str:
        token = AccessToken.objects.filter(application=obj).select_related("user").first()
        return token.user.get_username() if token and token.user else "-"

    @admin.display(description="last used", ordering="last_token_use")
    def last_used(self, obj: Any) -> Any:
        return obj.last_token_use or "-"

    @admin.action(description="Revoke access (the agent's next call is refused)")
    def revoke_access(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = sum(revoke_agent(application) for application in queryset)
        self.message_user(
            request, f"Revoked {queryset.count()} agent(s), {count} token(s).", messages.SUCCESS
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage_agents(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_agents(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_agents(request.user)  # the revoke action; every field is read-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_manage_agents(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
