"""Read-only public admin for the tunnel status and its event log."""

from django.contrib import admin
from django.http import HttpRequest

from tenancy.admin_sites import public_admin_site
from tunnel_worker.models import TunnelEvent, TunnelStatus


class _ReadOnly(admin.ModelAdmin):
    """The tunnel belongs to the deployment, not to a tenant: public admin only, read-only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TunnelStatus, site=public_admin_site)
class TunnelStatusAdmin(_ReadOnly):
    list_display = (
        "name",
        "backend",
        "state",
        "since",
        "connect_count",
        "disconnect_count",
        "backoff_seconds",
        "holder_host",
        "holder_pid",
        "heartbeat_at",
        "url",
        "last_error",
    )
    list_filter = ("state", "backend")


@admin.register(TunnelEvent, site=public_admin_site)
class TunnelEventAdmin(_ReadOnly):
    list_display = ("at", "name", "kind", "attempt", "backoff_seconds", "holder_pid", "detail")
    list_filter = ("name", "kind")
    date_hierarchy = "at"
